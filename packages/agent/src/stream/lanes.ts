/**
 * The two lanes of the link, on one established connection: which buffered blocks go out in which
 * frame, what is in flight, and what acks and nacks do to them. After the hub's welcome (which names
 * the sequences it already holds), blocks of the last `liveWindowMs` and everything written
 * afterwards go on the live lane at once; older ones drain oldest-first on the backfill lane at a
 * bounded rate, within half the in-flight window. Only acked blocks are released from the buffer:
 * a block is acked at most once, and a block not acked is sent again after a reconnect.
 *
 * The lanes see the connection only as a `LaneSocket`, so they are tested with a fake one.
 */
import {
  LANE_BACKFILL, LANE_LIVE, LaneEncoder, silentLogger,
  type AgentMessage, type Group, type Lane, type Logger, type MetricMetadata,
} from '@vigil/common';
import type { DiskBuffer } from '../buffer/index.js';
import { decodeBlock } from './block.js';
import type { StreamMetrics } from './metrics.js';
import type { SeriesRegistry } from './registry.js';

/** What the lanes need of a connection. */
export interface LaneSocket {
  send(msg: AgentMessage): void;
  /** Bytes queued and not yet written to the network. */
  readonly bufferedAmount: number;
  /** Drops the connection to start over with a new handshake (a nack the lanes cannot place). */
  resync(why: string): void;
}

export interface LaneOptions {
  buffer: DiskBuffer;
  series: SeriesRegistry;
  metrics: StreamMetrics;
  logger?: Logger;
  /** Frames awaiting an ack, both lanes together. Default 16. */
  maxInFlight?: number;
  /** Samples per frame. Default 50,000. */
  maxFrameSamples?: number;
  /** Backfill lane rate bound, samples per second. Default 250,000. */
  backfillSamplesPerSec?: number;
  /** Backlog younger than this (by block time) goes on the live lane after a reconnect. Default 30 s. */
  liveWindowMs?: number;
  now?: () => number;
}

export interface Welcome {
  acked: number[];
  seriesKnown: number;
  maxFrameBytes: number;
}

export interface LaneCounters {
  acked: number;
  rejected: number;
}

interface InFlight {
  lane: Lane;
  samples: number;
}

export class Lanes {
  readonly counters: LaneCounters = { acked: 0, rejected: 0 };
  lastAckAt: number | null = null;
  private readonly buffer: DiskBuffer;
  private readonly series: SeriesRegistry;
  private readonly metrics: StreamMetrics;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly maxInFlight: number;
  private readonly maxFrameSamples: number;
  private readonly backfillRate: number;
  private readonly liveWindowMs: number;

  private socket: LaneSocket | null = null;
  private readonly encoders: [LaneEncoder, LaneEncoder] = [new LaneEncoder(), new LaneEncoder()];
  private readonly inFlight = new Map<number, InFlight>();
  private inFlightFrames = 0;
  private seriesSent = 0;
  private liveStart = 0;
  private liveNext = 0;
  private backNext = 0;
  private tokens = 0;
  private tokensAt = 0;
  private maxFrameBytes = 16 << 20;
  private pumpTimer: NodeJS.Timeout | null = null;
  private metadata = new Map<string, MetricMetadata>();
  private metadataDirty = false;
  private targets: unknown = undefined;
  private targetsDirty = false;

  constructor(opts: LaneOptions) {
    this.buffer = opts.buffer;
    this.series = opts.series;
    this.metrics = opts.metrics;
    this.log = (opts.logger ?? silentLogger).child({ component: 'lanes' });
    this.now = opts.now ?? Date.now;
    this.maxInFlight = opts.maxInFlight ?? 16;
    this.maxFrameSamples = opts.maxFrameSamples ?? 50_000;
    this.backfillRate = opts.backfillSamplesPerSec ?? 250_000;
    this.liveWindowMs = opts.liveWindowMs ?? 30_000;
  }

  /** Established (the welcome was taken) and not dropped since. */
  get ready(): boolean {
    return this.socket !== null;
  }

  /** Blocks sent and not yet acked or nacked. */
  get inFlightBlocks(): number {
    return this.inFlight.size;
  }

  /** Metadata to send (changes only); sent before the next frame, and again after every welcome. */
  noteMetadata(metadata: readonly MetricMetadata[]): void {
    for (const m of metadata) {
      const old = this.metadata.get(m.metric);
      if (!old || old.type !== m.type || old.help !== m.help || old.unit !== m.unit) {
        this.metadata.set(m.metric, m);
        this.metadataDirty = true;
      }
    }
  }

  /** The agent's targets summary, forwarded to the hub as is. */
  setTargets(targets: unknown): void {
    this.targets = targets;
    this.targetsDirty = true;
    this.pump();
  }

  /** A new connection's welcome: release what the hub holds, place the backlog on the lanes, send. */
  attach(socket: LaneSocket, w: Welcome): void {
    this.buffer.ack(w.acked);
    this.maxFrameBytes = w.maxFrameBytes > 0 ? w.maxFrameBytes : this.maxFrameBytes;
    this.seriesSent = Math.min(w.seriesKnown, this.series.count);
    this.encoders[0].reset();
    this.encoders[1].reset();
    this.inFlight.clear();
    this.inFlightFrames = 0;
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
    this.tokensAt = this.now();
    this.socket = socket;
    this.metadataDirty = this.metadata.size > 0;
    this.targetsDirty = this.targets !== undefined;
    this.log.info({ backlog: this.buffer.unackedBlocks, liveStart, seriesKnown: w.seriesKnown }, 'link to hub established');
    this.pump();
  }

  /** The connection is gone: nothing is in flight any more (unacked blocks go again after the next welcome). */
  detach(): void {
    this.socket = null;
    this.inFlight.clear();
    this.inFlightFrames = 0;
    if (this.pumpTimer) clearTimeout(this.pumpTimer);
    this.pumpTimer = null;
  }

  /** The hub holds these sequences durably (flat closed ranges). */
  onAck(seqs: number[], refused?: number, reasons?: unknown): void {
    this.buffer.ack(seqs);
    let samples = 0;
    for (let i = 0; i + 1 < seqs.length; i += 2) {
      for (let s = seqs[i]!; s <= seqs[i + 1]!; s++) {
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
    if (refused !== undefined && refused > 0) {
      // Samples the hub will never store (e.g. timestamps too far ahead of its clock): counted, not resent.
      this.counters.rejected += refused;
      this.metrics.samplesRejected.inc(refused);
      this.log.debug({ refused, reasons }, 'hub refused samples of acked blocks');
    }
    this.lastAckAt = this.now();
    this.pump();
  }

  /**
   * A refused frame. When the nack names the frame's blocks, the connection stays: refused blocks
   * (`malformed`, `too_large`) are released, counted and logged; `out_of_sync` ones are sent again;
   * either way that lane's coding state starts over (the next frame carries `reset`). A nack without
   * blocks (an undecodable message) or for `unknown_series` resynchronises through a new handshake.
   */
  onNack(seqs: number[], code: string, reason: string): void {
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
      const socket = this.socket;
      this.detach();
      socket?.resync(`nack ${code}`);
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

  /** Sends what the window allows: metadata and targets when changed, then live frames, then backfill. */
  pump(): void {
    const socket = this.socket;
    if (!socket || this.pumpTimer) return;
    if (this.metadataDirty) {
      this.metadataDirty = false;
      socket.send({ type: 'meta', metadata: [...this.metadata.values()] });
    }
    if (this.targetsDirty) {
      this.targetsDirty = false;
      socket.send({ type: 'targets', targets: this.targets });
    }
    while (this.socket === socket && this.inFlightFrames < this.maxInFlight) {
      if (socket.bufferedAmount > 8 << 20) return this.pumpLater(20);
      // live lane: everything from liveStart on, in order
      // (only blocks already in the kernel: a block is durable before it may be acked)
      const written = this.buffer.writtenSeq;
      const live = this.collect(LANE_LIVE, this.liveNext, written, this.maxFrameSamples);
      if (live) {
        this.liveNext = live.next;
        this.sendBatch(socket, LANE_LIVE, live.seqs, live.blocks);
        continue;
      }
      this.liveNext = Math.max(this.liveNext, written);
      // backfill lane: older backlog, oldest first, bounded rate, at most half the window
      if (this.backNext >= this.liveStart || this.inFlightFrames >= Math.max(1, this.maxInFlight >> 1)) return;
      const now = this.now();
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
      this.sendBatch(socket, LANE_BACKFILL, back.seqs, back.blocks);
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

  private sendBatch(socket: LaneSocket, lane: Lane, seqs: number[], blocks: Group[][]): void {
    // series definitions first: every id < series.count is known to the hub before the batch
    while (this.seriesSent < this.series.count) {
      const first = this.seriesSent;
      const end = Math.min(this.series.count, first + 5000);
      const labels: string[][] = [];
      for (let id = first; id < end; id++) labels.push(this.series.labels(id));
      socket.send({ type: 'series', first, labels });
      this.seriesSent = end;
    }
    const { body, reset, samples } = this.encoders[lane].encode(blocks);
    this.inFlightFrames++;
    socket.send({ type: 'batch', lane, reset, seqs, samples, body });
  }
}
