/**
 * The agent end of the link: writes each scrape as one block into the durable buffer (sink.ts)
 * and streams unacked blocks to the hub (lanes.ts) over one WebSocket (connection.ts). After a
 * (re)connect the hub's welcome says which sequences it already holds; blocks of the last
 * `liveWindowMs` and everything written afterwards go on the live lane at once, older ones drain
 * oldest-first on the backfill lane at a bounded rate. Only acked blocks are released from the buffer.
 */
import path from 'node:path';
import { Registry } from 'prom-client';
import {
  LANE_BACKFILL, LANE_LIVE, STREAM_PATH, silentLogger,
  type AgentMessage, type HubMessage, type Logger, type MetricMetadata, type Sample,
} from '@vigil/common';
import type { BatchSink, SampleBatch } from '../sink.js';
import type { DiskBuffer } from '../buffer/index.js';
import { Connection, type TlsOptions } from './connection.js';
import { Lanes, type LaneSocket } from './lanes.js';
import { SeriesRegistry } from './registry.js';
import { BlockSink } from './sink.js';
import { StreamMetrics } from './metrics.js';

export { HEADER_EPOCH, HEADER_HEARTBEAT } from './connection.js';


export interface StreamerOptions {
  /** `ws(s)://host:port`; `/api/v1/agents/stream` is appended unless present. */
  hubUrl: string;
  token?: string;
  agentId: string;
  datacenter: string;
  buffer: DiskBuffer;
  logger?: Logger;
  tls?: TlsOptions;
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

export class Streamer implements BatchSink {
  readonly registry: Registry;
  readonly metrics: StreamMetrics;
  private readonly buffer: DiskBuffer;
  private readonly series: SeriesRegistry;
  private readonly log: Logger;
  private readonly seriesIdleMs: number;
  private readonly lanes: Lanes;
  private readonly sink: BlockSink;
  private readonly connection: Connection;
  private compactTimer: NodeJS.Timeout | null = null;
  private counters = { wire: 0, reconnects: 0, dropped: 0 };

  constructor(opts: StreamerOptions) {
    const base = opts.hubUrl.replace(/\/+$/, '');
    const url = base.endsWith(STREAM_PATH) ? base : base + STREAM_PATH;
    this.buffer = opts.buffer;
    this.log = (opts.logger ?? silentLogger).child({ component: 'streamer' });
    const heartbeatMs = opts.heartbeatMs ?? 5000;
    this.seriesIdleMs = opts.seriesIdleMs ?? 3_600_000;
    this.series = new SeriesRegistry(path.join(opts.registryDir ?? this.buffer.dir, 'series.log'), this.buffer.epoch);
    this.registry = opts.registry ?? new Registry();
    this.metrics = new StreamMetrics(this.registry, () => ({
      bufferBytes: this.buffer.bytes,
      backlogBlocks: this.buffer.unackedBlocks,
      connected: this.lanes.ready,
    }));
    this.buffer.onWritten(() => this.lanes.pump());
    this.buffer.onDrop((samples) => {
      this.counters.dropped += samples;
      this.metrics.droppedSamples.inc(samples);
    });
    this.lanes = new Lanes({
      buffer: this.buffer, series: this.series, metrics: this.metrics, logger: this.log,
      maxInFlight: opts.maxInFlight, maxFrameSamples: opts.maxFrameSamples,
      backfillSamplesPerSec: opts.backfillSamplesPerSec, liveWindowMs: opts.liveWindowMs,
    });
    this.sink = new BlockSink(this.buffer, this.series, this.metrics, {
      metadata: (m) => this.lanes.noteMetadata(m),
      appended: () => this.lanes.pump(),
    });
    this.connection = new Connection({
      url, token: opts.token, agentId: opts.agentId, datacenter: opts.datacenter, version: opts.version ?? '0.1.0',
      epoch: this.buffer.epoch, heartbeatMs, backoffMinMs: opts.backoffMinMs ?? 100, backoffMaxMs: opts.backoffMaxMs ?? 1500,
      compression: opts.compression !== false, tls: opts.tls, logger: this.log,
    }, {
      onMessage: (msg, socket) => this.onMessage(msg, socket),
      onDrop: () => this.lanes.detach(),
      established: () => this.lanes.ready,
      heartbeat: (now) => this.heartbeat(now),
      onWireBytes: (n) => {
        this.counters.wire += n;
        this.metrics.wireBytes.inc(n);
      },
      onReconnect: () => {
        this.counters.reconnects++;
        this.metrics.reconnects.inc();
      },
    });
  }

  /** Stores one write's samples as a block in the buffer (durable on return) and sends it when it can. */
  write(samples: readonly Sample[], metadata?: readonly MetricMetadata[]): void {
    this.sink.write(samples, metadata);
  }

  /** A scrape as columns with stable series handles (the scrape loops' path): same contract as `write`. */
  writeBatch(batch: SampleBatch, metadata?: readonly MetricMetadata[]): void {
    this.sink.writeBatch(batch, metadata);
  }

  /** The agent's scrape targets summary, forwarded to the hub as is. */
  setTargets(targets: unknown): void {
    this.lanes.setTargets(targets);
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

  start(): void {
    if (this.compactTimer) return;
    this.connection.start();
    this.compactTimer = setInterval(() => {
      // a scan of the ids; the file is rewritten only when some were dropped
      this.compactSeries();
    }, Math.max(60_000, Math.floor(this.seriesIdleMs / 4)));
    this.compactTimer.unref();
  }

  /** Stops streaming: waits up to `graceMs` for in-flight acks, closes the socket, syncs the buffer. */
  async stop(graceMs = 1000): Promise<void> {
    if (this.compactTimer) clearInterval(this.compactTimer);
    this.compactTimer = null;
    const deadline = Date.now() + graceMs;
    while (this.lanes.ready && this.lanes.inFlightBlocks > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await this.connection.stop();
    await this.buffer.flush();
    this.series.sync();
    this.series.close();
  }

  stats(): StreamerStats {
    return {
      connected: this.lanes.ready,
      reconnects: this.counters.reconnects,
      samplesScraped: this.sink.scraped,
      samplesAcked: this.lanes.counters.acked,
      samplesRejected: this.lanes.counters.rejected,
      wireBytes: this.counters.wire,
      bufferBytes: this.buffer.bytes,
      unackedBlocks: this.buffer.unackedBlocks,
      droppedSamples: this.counters.dropped,
      series: this.series.liveCount,
      inFlight: this.lanes.inFlightBlocks,
      lastAckAt: this.lanes.lastAckAt,
    };
  }

  private onMessage(msg: HubMessage, socket: LaneSocket): void {
    switch (msg.type) {
      case 'welcome':
        this.connection.resetBackoff();
        return this.lanes.attach(socket, msg);
      case 'ack':
        return this.lanes.onAck(msg.seqs, msg.refused, msg.reasons);
      case 'nack':
        return this.lanes.onNack(msg.seqs, msg.code, msg.reason);
      case 'hb':
        return;
    }
  }

  private heartbeat(now: number): AgentMessage {
    return {
      type: 'hb', t: now, oldest: this.buffer.oldestUnackedTime(), newest: this.sink.newestTime,
      bufferedBytes: this.buffer.bytes, backlogBlocks: this.buffer.unackedBlocks,
    };
  }
}

export { LANE_LIVE, LANE_BACKFILL };
