/**
 * The agent end of the link: writes each scrape as one block into the durable buffer, and
 * streams unacked blocks to the hub over one WebSocket. After a (re)connect the hub's
 * welcome says which sequences it already holds; blocks of the last `liveWindowMs` and
 * everything written afterwards go on the live lane at once, older ones drain oldest-first
 * on the backfill lane at a bounded rate. Only acked blocks are released from the buffer.
 */
import path from 'node:path';
import WebSocket from 'ws';
import { Registry } from 'prom-client';
import {
  HEADER_AGENT_ID, HEADER_AGENT_VERSION, HEADER_DATACENTER, HEADER_PROTOCOL, LANE_BACKFILL, LANE_LIVE, LaneEncoder,
  PROTOCOL_VERSION, STREAM_PATH, decodeHubMessage, encodeMessage, silentLogger,
  type AgentMessage, type Group, type HubMessage, type Lane, type Logger, type MetricMetadata, type Sample,
} from '@vigil/common';
import type { BatchSink, SampleBatch } from '../sink.js';
import type { DiskBuffer } from '../buffer/index.js';
import { Backoff } from './backoff.js';
import { decodeBlock, encodeBlock, groupBatch } from './block.js';
import { SeriesRegistry } from './registry.js';
import { StreamMetrics } from './metrics.js';

export const HEADER_EPOCH = 'x-vigil-epoch';
export const HEADER_HEARTBEAT = 'x-vigil-heartbeat-ms';

export interface StreamerOptions {
  /** `ws(s)://host:port`; `/api/v1/agents/stream` is appended unless present. */
  hubUrl: string;
  token?: string;
  agentId: string;
  datacenter: string;
  buffer: DiskBuffer;
  logger?: Logger;
  tls?: { ca?: string | Buffer; cert?: string | Buffer; key?: string | Buffer; rejectUnauthorized?: boolean; servername?: string };
  /** Heartbeat period; a link silent for 2 periods is declared dead. Default 5000. */
  heartbeatMs?: number;
  /** Registry for the agent's self-metrics; a new one when absent (see `registry`). */
  registry?: Registry;
  version?: string;
  backoffMinMs?: number;
  backoffMaxMs?: number;
  /** Frames awaiting an ack, both lanes together. Default 16. */
  maxInFlight?: number;
  /** Samples per frame. Default 50,000. */
  maxFrameSamples?: number;
  /** Backfill lane rate bound, samples per second. Default 250,000. */
  backfillSamplesPerSec?: number;
  /** Backlog younger than this (by block time) goes on the live lane after a reconnect. Default 30 s. */
  liveWindowMs?: number;
  /** permessage-deflate on the socket (on by default: see docs/protocol.md for the numbers). */
  compression?: boolean;
  /** Where the series registry lives; default the buffer's directory. */
  registryDir?: string;
  /** Series ids unused this long (and in no unacked block) are dropped from the registry. Default 1 h. */
  seriesIdleMs?: number;
}

export interface StreamerStats {
  connected: boolean;
  reconnects: number;
  samplesScraped: number;
  samplesAcked: number;
  samplesRejected: number;
  wireBytes: number;
  bufferBytes: number;
  unackedBlocks: number;
  droppedSamples: number;
  series: number;
  inFlight: number;
  lastAckAt: number | null;
}

interface InFlight {
  lane: Lane;
  samples: number;
}

export class Streamer implements BatchSink {
  readonly registry: Registry;
  readonly metrics: StreamMetrics;
  private readonly opts: StreamerOptions;
  private readonly url: string;
  private readonly buffer: DiskBuffer;
  private readonly series: SeriesRegistry;
  private readonly log: Logger;
  private readonly heartbeatMs: number;
  private readonly backoff: Backoff;
  private readonly maxInFlight: number;
  private readonly maxFrameSamples: number;
  private readonly backfillRate: number;
  private readonly liveWindowMs: number;
  private readonly seriesIdleMs: number;
  private compactTimer: NodeJS.Timeout | null = null;

  private ws: WebSocket | null = null;
  private ready = false;
  private running = false;
  private attempts = 0;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private hbTimer: NodeJS.Timeout | null = null;
  private pumpTimer: NodeJS.Timeout | null = null;
  private lastRecv = 0;
  private socketBytes = 0;
  private readonly encoders: [LaneEncoder, LaneEncoder] = [new LaneEncoder(), new LaneEncoder()];
  private readonly inFlight = new Map<number, InFlight>();
  private inFlightFrames = 0;
  private seriesSent = 0;
  private liveStart = 0;
  private liveNext = 0;
  private backNext = 0;
  private tokens = 0;
  private tokensAt = 0;
  private newestTime: number | null = null;
  private metadata = new Map<string, MetricMetadata>();
  private metadataDirty = false;
  private targets: unknown = undefined;
  private targetsDirty = false;
  private counters = { scraped: 0, acked: 0, rejected: 0, wire: 0, reconnects: 0, dropped: 0 };
  private lastAckAt: number | null = null;
  private maxFrameBytes = 16 << 20;

  constructor(opts: StreamerOptions) {
    this.opts = opts;
    const base = opts.hubUrl.replace(/\/+$/, '');
    this.url = base.endsWith(STREAM_PATH) ? base : base + STREAM_PATH;
    this.buffer = opts.buffer;
    this.log = (opts.logger ?? silentLogger).child({ component: 'streamer' });
    this.heartbeatMs = opts.heartbeatMs ?? 5000;
    this.backoff = new Backoff(opts.backoffMinMs ?? 100, opts.backoffMaxMs ?? 1500);
    this.maxInFlight = opts.maxInFlight ?? 16;
    this.maxFrameSamples = opts.maxFrameSamples ?? 50_000;
    this.backfillRate = opts.backfillSamplesPerSec ?? 250_000;
    this.liveWindowMs = opts.liveWindowMs ?? 30_000;
    this.seriesIdleMs = opts.seriesIdleMs ?? 3_600_000;
    this.series = new SeriesRegistry(path.join(opts.registryDir ?? this.buffer.dir, 'series.log'), this.buffer.epoch);
    this.registry = opts.registry ?? new Registry();
    this.metrics = new StreamMetrics(this.registry, () => ({
      bufferBytes: this.buffer.bytes,
      backlogBlocks: this.buffer.unackedBlocks,
      connected: this.ready,
    }));
    this.buffer.onDrop((samples) => {
      this.counters.dropped += samples;
      this.metrics.droppedSamples.inc(samples);
    });
  }

  // ---- SampleSink -------------------------------------------------------------------------

  /** Stores one scrape's samples as a block in the buffer (durable on return) and sends it when it can. */
  write(samples: readonly Sample[], metadata?: readonly MetricMetadata[]): void {
    if (metadata) this.noteMetadata(metadata);
    if (samples.length === 0) return;
    this.series.currentSeq = this.buffer.nextSeq;
    this.series.currentTime = Date.now();
    const groups = this.group(samples);
    this.store(groups, samples.length);
  }

  /** A scrape as columns with stable series handles (the scrape loops' path): same contract as `write`. */
  writeBatch(batch: SampleBatch, metadata?: readonly MetricMetadata[]): void {
    if (metadata) this.noteMetadata(metadata);
    const n = batch.length;
    if (n === 0) return;
    this.series.currentSeq = this.buffer.nextSeq;
    this.series.currentTime = Date.now();
    this.store(groupBatch(batch, this.series), n);
  }

  private store(groups: Group[], samples: number): void {
    let minT = Infinity;
    for (const g of groups) if (g.t < minT) minT = g.t;
    this.series.flush(); // definitions before the block that uses them
    this.buffer.append(encodeBlock(groups), { samples, time: minT });
    if (this.newestTime === null || minT > this.newestTime) this.newestTime = minT;
    this.counters.scraped += samples;
    this.metrics.samplesScraped.inc(samples);
    this.pump();
  }

  private noteMetadata(metadata: readonly MetricMetadata[]): void {
    for (const m of metadata) {
      const old = this.metadata.get(m.metric);
      if (!old || old.type !== m.type || old.help !== m.help || old.unit !== m.unit) {
        this.metadata.set(m.metric, m);
        this.metadataDirty = true;
      }
    }
  }

  /** One group per timestamp, in first-seen order; a scrape usually has one timestamp (no map then). */
  private group(samples: readonly Sample[]): Group[] {
    const n = samples.length;
    const t0 = samples[0]!.t;
    let single = true;
    let anyStale = false;
    for (let i = 0; i < n; i++) {
      const s = samples[i]!;
      if (s.t !== t0) single = false;
      if (s.stale) anyStale = true;
    }
    if (single) {
      const ids = new Int32Array(n);
      const values = new Float64Array(n);
      const stale = anyStale ? new Uint8Array(n) : null;
      for (let i = 0; i < n; i++) {
        const s = samples[i]!;
        ids[i] = this.series.idFor(s.labels);
        if (s.stale) stale![i] = 1;
        else values[i] = s.v;
      }
      return [{ t: t0, ids, values, stale }];
    }
    const byT = new Map<number, { ids: number[]; values: number[]; stale: number[] | null }>();
    for (const s of samples) {
      let g = byT.get(s.t);
      if (!g) {
        g = { ids: [], values: [], stale: null };
        byT.set(s.t, g);
      }
      g.ids.push(this.series.idFor(s.labels));
      g.values.push(s.stale ? 0 : s.v);
      if (s.stale) {
        if (!g.stale) g.stale = new Array<number>(g.ids.length - 1).fill(0);
        g.stale.push(1);
      } else if (g.stale) g.stale.push(0);
    }
    const groups: Group[] = [];
    for (const [t, g] of byT) {
      groups.push({ t, ids: Int32Array.from(g.ids), values: Float64Array.from(g.values), stale: g.stale ? Uint8Array.from(g.stale) : null });
    }
    return groups;
  }

  /**
   * Drops series ids that no unacked block references and that were not used for `idleMs`
   * (default 1 h), so the registry does not grow forever under series churn. Returns the number dropped.
   */
  compactSeries(idleMs = this.seriesIdleMs): number {
    const oldest = this.buffer.nextUnacked(this.buffer.firstSeq) ?? this.buffer.nextSeq;
    const dropped = this.series.compact(oldest, Date.now() - idleMs);
    if (dropped > 0) this.log.info({ dropped, live: this.series.liveCount }, 'series registry compacted');
    return dropped;
  }

  /** The agent's scrape targets summary, forwarded to the hub as is. */
  setTargets(targets: unknown): void {
    this.targets = targets;
    this.targetsDirty = true;
    this.pump();
  }

  // ---- lifecycle --------------------------------------------------------------------------

  start(): void {
    if (this.running) return;
    this.running = true;
    this.connect();
    this.hbTimer = setInterval(() => this.heartbeat(), Math.max(10, Math.floor(this.heartbeatMs / 4)));
    this.hbTimer.unref();
    this.compactTimer = setInterval(() => {
      // a scan of the ids; the file is rewritten only when some were dropped
      this.compactSeries();
    }, Math.max(60_000, Math.floor(this.seriesIdleMs / 4)));
    this.compactTimer.unref();
  }

  /** Stops streaming: waits up to `graceMs` for in-flight acks, closes the socket, syncs the buffer. */
  async stop(graceMs = 1000): Promise<void> {
    this.running = false;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.hbTimer) clearInterval(this.hbTimer);
    if (this.pumpTimer) clearTimeout(this.pumpTimer);
    if (this.compactTimer) clearInterval(this.compactTimer);
    this.reconnectTimer = this.hbTimer = this.pumpTimer = this.compactTimer = null;
    const deadline = Date.now() + graceMs;
    while (this.ready && this.inFlight.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const ws = this.ws;
    if (ws) {
      await new Promise<void>((resolve) => {
        if (ws.readyState === WebSocket.CLOSED) return resolve();
        const timer = setTimeout(() => { ws.terminate(); resolve(); }, 500);
        ws.once('close', () => { clearTimeout(timer); resolve(); });
        ws.close(1001, 'agent stopping');
      });
    }
    this.dropConnection();
    this.buffer.sync();
    this.series.sync();
    this.series.close();
  }

  stats(): StreamerStats {
    return {
      connected: this.ready,
      reconnects: this.counters.reconnects,
      samplesScraped: this.counters.scraped,
      samplesAcked: this.counters.acked,
      samplesRejected: this.counters.rejected,
      wireBytes: this.counters.wire,
      bufferBytes: this.buffer.bytes,
      unackedBlocks: this.buffer.unackedBlocks,
      droppedSamples: this.counters.dropped,
      series: this.series.liveCount,
      inFlight: this.inFlight.size,
      lastAckAt: this.lastAckAt,
    };
  }

  // ---- connection -------------------------------------------------------------------------

  private connect(): void {
    if (!this.running) return;
    if (this.attempts++ > 0) {
      this.counters.reconnects++;
      this.metrics.reconnects.inc();
    }
    const headers: Record<string, string> = {
      [HEADER_PROTOCOL]: String(PROTOCOL_VERSION),
      [HEADER_AGENT_ID]: this.opts.agentId,
      [HEADER_DATACENTER]: this.opts.datacenter,
      [HEADER_AGENT_VERSION]: this.opts.version ?? '0.1.0',
      [HEADER_EPOCH]: this.buffer.epoch,
      [HEADER_HEARTBEAT]: String(this.heartbeatMs),
    };
    if (this.opts.token) headers.authorization = `Bearer ${this.opts.token}`;
    const tls = this.opts.tls ?? {};
    const ws = new WebSocket(this.url, {
      headers,
      perMessageDeflate: this.opts.compression === false ? false : { threshold: 0, zlibDeflateOptions: { level: 6, memLevel: 9 } },
      maxPayload: 64 << 20,
      handshakeTimeout: Math.max(1000, 2 * this.heartbeatMs),
      ca: tls.ca,
      cert: tls.cert,
      key: tls.key,
      rejectUnauthorized: tls.rejectUnauthorized,
      ...(tls.servername ? { servername: tls.servername } : {}),
    } as WebSocket.ClientOptions);
    this.ws = ws;
    this.lastRecv = Date.now();
    this.socketBytes = 0;
    ws.binaryType = 'nodebuffer';
    ws.on('unexpected-response', (_req, res) => {
      this.log.error({ url: this.url, status: res.statusCode }, `hub refused the connection: HTTP ${res.statusCode}`);
      res.resume();
      ws.terminate();
    });
    ws.on('open', () => {
      this.lastRecv = Date.now();
      this.log.debug({ url: this.url }, 'connected, waiting for welcome');
    });
    ws.on('message', (data: Buffer) => {
      if (ws !== this.ws) return;
      this.lastRecv = Date.now();
      let msg: HubMessage;
      try {
        msg = decodeHubMessage(data);
      } catch (err) {
        this.log.error({ err }, 'cannot decode a message from the hub; reconnecting');
        ws.terminate();
        return;
      }
      this.onMessage(msg);
    });
    ws.on('error', (err) => {
      if (ws === this.ws) this.log.debug({ err: err.message }, 'hub connection error');
    });
    ws.on('close', (code, reason) => {
      if (ws !== this.ws) return;
      if (this.ready) this.log.warn({ code, reason: reason.toString() }, 'link to hub lost');
      this.dropConnection();
      this.scheduleReconnect();
    });
  }

  private dropConnection(): void {
    this.countWire();
    if (this.ws) this.ws.removeAllListeners('message');
    this.ws = null;
    this.ready = false;
    this.inFlight.clear();
    this.inFlightFrames = 0;
  }

  private scheduleReconnect(): void {
    if (!this.running || this.reconnectTimer) return;
    const delay = this.backoff.next();
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.connect();
    }, delay);
  }

  private heartbeat(): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    const now = Date.now();
    if (now - this.lastRecv > 1.75 * this.heartbeatMs) {
      this.log.warn({ silentMs: now - this.lastRecv }, 'hub silent for 2 heartbeats: link declared dead');
      ws.terminate();
      this.dropConnection();
      this.scheduleReconnect();
      return;
    }
    if (!this.ready) return;
    if (now - this.lastHbSent >= this.heartbeatMs) {
      this.lastHbSent = now;
      this.send({
        type: 'hb', t: now, oldest: this.buffer.oldestUnackedTime(), newest: this.newestTime,
        bufferedBytes: this.buffer.bytes, backlogBlocks: this.buffer.unackedBlocks,
      });
    }
  }
  private lastHbSent = 0;

  private send(msg: AgentMessage): void {
    const ws = this.ws!;
    ws.send(encodeMessage(msg), { binary: true }, () => this.countWire());
  }

  private countWire(): void {
    const sock = (this.ws as unknown as { _socket?: { bytesWritten: number } } | null)?._socket;
    if (!sock) return;
    const delta = sock.bytesWritten - this.socketBytes;
    if (delta > 0) {
      this.socketBytes = sock.bytesWritten;
      this.counters.wire += delta;
      this.metrics.wireBytes.inc(delta);
    }
  }

  private onMessage(msg: HubMessage): void {
    switch (msg.type) {
      case 'welcome':
        return this.onWelcome(msg.acked, msg.seriesKnown, msg.maxFrameBytes);
      case 'ack': {
        this.buffer.ack(msg.seqs);
        let samples = 0;
        for (let i = 0; i + 1 < msg.seqs.length; i += 2) {
          for (let s = msg.seqs[i]!; s <= msg.seqs[i + 1]!; s++) {
            const f = this.inFlight.get(s);
            if (f) {
              samples += f.samples;
              this.inFlight.delete(s);
            }
          }
        }
        this.inFlightFrames = Math.max(0, this.inFlightFrames - 1);
        this.counters.acked += samples;
        this.metrics.samplesAcked.inc(samples);
        if (msg.refused !== undefined && msg.refused > 0) {
          // Samples the hub will never store (e.g. timestamps too far ahead of its clock): counted, not resent.
          this.counters.rejected += msg.refused;
          this.metrics.samplesRejected.inc(msg.refused);
          this.log.debug({ refused: msg.refused, reasons: msg.reasons }, 'hub refused samples of acked blocks');
        }
        this.lastAckAt = Date.now();
        this.pump();
        return;
      }
      case 'nack':
        return this.onNack(msg.seqs, msg.code, msg.reason);
      case 'hb':
        return;
    }
  }

  /**
   * A refused frame. When the nack names the frame's blocks, the connection stays: refused blocks
   * (`malformed`, `too_large`) are released, counted and logged; `out_of_sync` ones are sent again;
   * either way that lane's coding state starts over (the next frame carries `reset`). A nack without
   * blocks (an undecodable message) or for `unknown_series` resynchronises through a new handshake.
   */
  private onNack(seqs: number[], code: string, reason: string): void {
    let lane: Lane | undefined;
    for (let i = 0; i + 1 < seqs.length && lane === undefined; i += 2) {
      for (let s = seqs[i]!; s <= seqs[i + 1]!; s++) {
        const f = this.inFlight.get(s);
        if (f) {
          lane = f.lane;
          break;
        }
      }
    }
    if (lane === undefined || code === 'unknown_series') {
      this.log.warn({ seqs, code, reason }, 'hub refused a message: reconnecting to resynchronise');
      this.ws?.terminate();
      this.dropConnection();
      this.scheduleReconnect();
      return;
    }
    let first = Infinity;
    let samples = 0;
    for (let i = 0; i + 1 < seqs.length; i += 2) {
      for (let s = seqs[i]!; s <= seqs[i + 1]!; s++) {
        if (this.inFlight.delete(s) && s < first) first = s;
        if (code !== 'out_of_sync') samples += this.buffer.info(s)?.samples ?? 0;
      }
    }
    this.inFlightFrames = Math.max(0, this.inFlightFrames - 1);
    this.encoders[lane].reset();
    this.metrics.nacks.inc({ code });
    if (code === 'out_of_sync') {
      // send them again, in order, after a reset frame
      if (lane === LANE_LIVE) this.liveNext = Math.min(this.liveNext, first);
      else this.backNext = Math.min(this.backNext, first);
      this.log.debug({ seqs, lane }, 'frames refused after a reset lane: sending them again');
    } else {
      // the hub will never take these blocks: release them, counted and logged
      this.buffer.ack(seqs);
      this.counters.rejected += samples;
      this.metrics.samplesRejected.inc(samples);
      this.log.error({ seqs, code, reason, samples }, 'hub refused a batch: its samples are dropped');
    }
    this.pump();
  }

  private onWelcome(acked: number[], seriesKnown: number, maxFrameBytes: number): void {
    this.buffer.ack(acked);
    this.maxFrameBytes = maxFrameBytes > 0 ? maxFrameBytes : this.maxFrameBytes;
    this.seriesSent = Math.min(seriesKnown, this.series.count);
    this.encoders[0].reset();
    this.encoders[1].reset();
    // the newest backlog (last liveWindowMs by block time) goes first, on the live lane
    const next = this.buffer.nextSeq;
    let liveStart = next;
    const newest = next > this.buffer.firstSeq ? this.buffer.info(next - 1)?.time : undefined;
    if (newest !== undefined) {
      const from = newest - this.liveWindowMs;
      for (let s = next - 1; s >= this.buffer.firstSeq; s--) {
        const info = this.buffer.info(s);
        if (!info || info.time < from) break;
        liveStart = s;
      }
    }
    this.liveStart = this.liveNext = liveStart;
    this.backNext = this.buffer.firstSeq;
    this.tokens = 0;
    this.tokensAt = Date.now();
    this.ready = true;
    this.backoff.reset();
    this.metadataDirty = this.metadata.size > 0;
    this.targetsDirty = this.targets !== undefined;
    this.log.info({ url: this.url, backlog: this.buffer.unackedBlocks, liveStart, seriesKnown }, 'link to hub established');
    this.pump();
  }

  // ---- sending ----------------------------------------------------------------------------

  private pump(): void {
    if (!this.ready || !this.ws || this.pumpTimer) return;
    const ws = this.ws;
    if (this.metadataDirty) {
      this.metadataDirty = false;
      this.send({ type: 'meta', metadata: [...this.metadata.values()] });
    }
    if (this.targetsDirty) {
      this.targetsDirty = false;
      this.send({ type: 'targets', targets: this.targets });
    }
    while (this.ready && this.inFlightFrames < this.maxInFlight) {
      if (ws.bufferedAmount > 8 << 20) return this.pumpLater(20);
      // live lane: everything from liveStart on, in order
      const live = this.collect(LANE_LIVE, this.liveNext, this.buffer.nextSeq, this.maxFrameSamples);
      if (live) {
        this.liveNext = live.next;
        this.sendBatch(LANE_LIVE, live.seqs, live.blocks);
        continue;
      }
      this.liveNext = this.buffer.nextSeq;
      // backfill lane: older backlog, oldest first, bounded rate, at most half the window
      if (this.backNext >= this.liveStart || this.inFlightFrames >= Math.max(1, this.maxInFlight >> 1)) return;
      const now = Date.now();
      this.tokens = Math.min(this.backfillRate, this.tokens + ((now - this.tokensAt) / 1000) * this.backfillRate);
      this.tokensAt = now;
      if (this.tokens <= 0) return this.pumpLater(Math.ceil((-this.tokens / this.backfillRate) * 1000) + 5);
      const back = this.collect(LANE_BACKFILL, this.backNext, this.liveStart, Math.min(this.maxFrameSamples, Math.max(1000, this.tokens)));
      if (!back) {
        this.backNext = this.liveStart;
        return;
      }
      this.backNext = back.next;
      this.tokens -= back.samples;
      this.sendBatch(LANE_BACKFILL, back.seqs, back.blocks);
    }
  }

  private pumpLater(ms: number): void {
    if (this.pumpTimer) return;
    this.pumpTimer = setTimeout(() => {
      this.pumpTimer = null;
      this.pump();
    }, ms);
  }

  /** Unacked, not in-flight blocks in [from, to), up to a sample budget (at least one block). */
  private collect(lane: Lane, from: number, to: number, budget: number):
    { seqs: number[]; blocks: Group[][]; samples: number; next: number } | null {
    const seqs: number[] = [];
    const blocks: Group[][] = [];
    let samples = 0;
    let bytes = 0;
    let s = from;
    while (s < to) {
      const u = this.buffer.nextUnacked(s);
      if (u === undefined || u >= to) {
        s = to;
        break;
      }
      s = u;
      if (this.inFlight.has(s)) {
        s++;
        continue;
      }
      const info = this.buffer.info(s);
      const data = this.buffer.read(s);
      if (!info || !data) {
        s++;
        continue;
      }
      if (seqs.length > 0 && (samples + info.samples > budget || bytes + data.length > this.maxFrameBytes / 4)) break;
      let groups: Group[];
      try {
        groups = decodeBlock(data);
      } catch (err) {
        this.log.error({ err, seq: s }, 'cannot decode a buffered block: dropping it');
        this.buffer.ack([s, s]);
        s++;
        continue;
      }
      seqs.push(s);
      blocks.push(groups);
      samples += info.samples;
      bytes += data.length;
      this.inFlight.set(s, { lane, samples: info.samples });
      s++;
    }
    return seqs.length ? { seqs, blocks, samples, next: s } : null;
  }

  private sendBatch(lane: Lane, seqs: number[], blocks: Group[][]): void {
    // series definitions first: every id < series.count is known to the hub before the batch
    while (this.seriesSent < this.series.count) {
      const first = this.seriesSent;
      const end = Math.min(this.series.count, first + 5000);
      const labels: string[][] = [];
      for (let id = first; id < end; id++) labels.push(this.series.labels(id));
      this.send({ type: 'series', first, labels });
      this.seriesSent = end;
    }
    const { body, reset, samples } = this.encoders[lane].encode(blocks);
    this.inFlightFrames++;
    this.send({ type: 'batch', lane, reset, seqs, samples, body });
  }
}

export { LANE_LIVE, LANE_BACKFILL };
