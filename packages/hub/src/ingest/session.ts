/**
 * One agent connection at the hub: decodes frames in arrival order (lane state), queues
 * them, commits queued frames together (group commit) and acks each frame only after
 * `commit()` resolved. Malformed or oversized frames are nacked with a reason; the
 * connection stays up and the lane refuses frames until one arrives with `reset`.
 */
import type WebSocket from 'ws';
import {
  LaneDecoder, WireError, decodeAgentMessage, encodeMessage,
  type AckMsg, type AgentMessage, type BatchMsg, type DecodedFrame, type HubMessage, type Logger, type NackCode,
} from '@vigil/common';
import type { Storage } from '../storage/types.js';
import type { AgentState } from './state.js';
import type { IngestMetrics } from './metrics.js';

interface Pending {
  seqs: number[];
  frame: DecodedFrame;
  /** Per block: 1 when the hub already holds that sequence (skip its samples). */
  skip: Uint8Array;
}

/** Samples per commit group: one log write + fdatasync amortised, and one synchronous apply kept to ~20 ms. */
const MAX_COMMIT_SAMPLES = 100_000;

function toRanges(seqs: readonly number[]): number[] {
  const sorted = [...seqs].sort((a, b) => a - b);
  const out: number[] = [];
  for (const s of sorted) {
    if (out.length && out[out.length - 1] === s - 1) out[out.length - 1] = s;
    else if (!(out.length && out[out.length - 1]! >= s)) out.push(s, s);
  }
  return out;
}

export class Session {
  private readonly decoders = [new LaneDecoder(), new LaneDecoder()];
  private readonly outOfSync = [false, false];
  private readonly queue: Pending[] = [];
  private readonly pendingSeqs = new Set<number>();
  private busy = false;
  private closedFlag = false;
  private lastRecv = Date.now();
  private lastNackWarn = 0;
  private hbTimer: NodeJS.Timeout;
  private idle: Promise<void> = Promise.resolve();
  private idleResolve: (() => void) | null = null;
  readonly done: Promise<void>;
  /** sha256 of the token the connection authenticated with (null: anonymous). */
  tokenHash: Buffer | null = null;
  private doneResolve!: () => void;

  constructor(
    private readonly ws: WebSocket,
    readonly state: AgentState,
    private readonly storage: Storage,
    private readonly metrics: IngestMetrics,
    private readonly log: Logger,
    private readonly maxFrameBytes: number,
    private readonly onMetadata: (m: AgentMessage & { type: 'meta' }) => void,
  ) {
    this.done = new Promise((r) => (this.doneResolve = r));
    const hb = state.heartbeatMs;
    this.hbTimer = setInterval(() => {
      if (Date.now() - this.lastRecv > 1.75 * hb) {
        this.log.warn({ silentMs: Date.now() - this.lastRecv }, 'agent silent for 2 heartbeats: link declared dead');
        this.ws.terminate();
      }
    }, Math.max(10, hb / 4));
    this.hbTimer.unref();
  }

  /** Starts the exchange: welcome, then messages. */
  start(): void {
    this.ws.on('message', (data: Buffer, isBinary: boolean) => this.onFrame(data, isBinary));
    this.ws.on('close', () => this.onClose());
    this.ws.on('error', (err) => this.log.debug({ err: err.message }, 'agent connection error'));
    this.send({
      type: 'welcome', v: 1, acked: this.state.acked.toFlat(), seriesKnown: this.state.seriesKnown,
      heartbeatMs: this.state.heartbeatMs, maxFrameBytes: this.maxFrameBytes,
    });
  }

  private send(msg: HubMessage): void {
    if (this.ws.readyState === 1) this.ws.send(encodeMessage(msg), { binary: true });
  }

  private nack(seqs: readonly number[], code: NackCode, reason: string): void {
    this.metrics.nacks.inc({ code });
    // A misbehaving agent may send thousands of bad frames: one warning per minute, the rest at debug.
    const now = Date.now();
    const level = now - this.lastNackWarn >= 60_000 ? 'warn' : 'debug';
    if (level === 'warn') this.lastNackWarn = now;
    this.log[level]({ agent: this.state.id, seqs: toRanges(seqs), code, reason }, 'refused a frame from the agent');
    this.send({ type: 'nack', seqs: toRanges(seqs), code, reason });
  }

  /** One incoming message; whatever goes wrong with it is a nack, never an exception that ends the hub. */
  private onFrame(data: Buffer, isBinary: boolean): void {
    try {
      this.handleFrame(data, isBinary);
    } catch (err) {
      this.nack([], 'malformed', `cannot handle message: ${(err as Error).message}`);
    }
  }

  private handleFrame(data: Buffer, isBinary: boolean): void {
    this.lastRecv = Date.now();
    this.state.lastSeen = this.lastRecv;
    if (!isBinary) return this.nack([], 'malformed', 'text frames are not part of the protocol; send binary msgpack');
    let msg: AgentMessage;
    try {
      msg = decodeAgentMessage(data);
    } catch (err) {
      this.outOfSync[0] = this.outOfSync[1] = true;
      return this.nack([], 'malformed', (err as Error).message);
    }
    if (data.length > this.maxFrameBytes) {
      if (msg.type === 'batch') this.outOfSync[msg.lane] = true;
      return this.nack(msg.type === 'batch' ? msg.seqs : [], 'too_large', `frame of ${data.length} bytes exceeds the limit of ${this.maxFrameBytes}`);
    }
    switch (msg.type) {
      case 'batch':
        return this.onBatch(msg);
      case 'series':
        try {
          const before = this.state.overrides;
          const refused = this.state.addSeries(msg.first, msg.labels);
          if (this.state.overrides > before) this.metrics.identityOverrides.inc({ field: 'datacenter' }, this.state.overrides - before);
          if (refused > 0) {
            this.log.warn({ agent: this.state.id, refused }, 'series over the per-agent limit refused');
          }
        } catch (err) {
          this.nack([], 'unknown_series', (err as Error).message);
        }
        return;
      case 'hb':
        // The agent's clock may be skewed: its report never claims completeness beyond the hub's own clock.
        this.state.oldest = msg.oldest ?? null;
        this.state.newest = msg.newest ?? null;
        this.state.reportedAt = Math.min(msg.t, this.lastRecv);
        this.state.bufferedBytes = msg.bufferedBytes ?? 0;
        this.state.backlogBlocks = msg.backlogBlocks ?? 0;
        this.send({ type: 'hb', t: Date.now() });
        return;
      case 'meta':
        return this.onMetadata(msg);
      case 'targets':
        this.state.targets = msg.targets;
        return;
    }
  }

  private onBatch(msg: BatchMsg): void {
    const lane = msg.lane;
    if (msg.reset) {
      this.decoders[lane]!.reset();
      this.outOfSync[lane] = false;
    } else if (this.outOfSync[lane]) {
      return this.nack(msg.seqs, 'out_of_sync', `lane ${lane} was reset after a refused frame; resend with reset`);
    }
    if (msg.samples > 10_000_000) {
      this.outOfSync[lane] = true;
      return this.nack(msg.seqs, 'too_large', `${msg.samples} samples in one frame`);
    }
    let frame: DecodedFrame;
    try {
      frame = this.decoders[lane]!.decode(msg.body, msg.samples, this.state.seriesKnown);
      if (frame.blockEnds.length !== msg.seqs.length) {
        throw new WireError(`cannot decode batch: ${frame.blockEnds.length} blocks for ${msg.seqs.length} sequence numbers`);
      }
    } catch (err) {
      this.decoders[lane]!.reset();
      this.outOfSync[lane] = true;
      const code: NackCode = /series id .* is not defined/.test((err as Error).message) ? 'unknown_series' : 'malformed';
      return this.nack(msg.seqs, code, (err as Error).message);
    }
    const skip = new Uint8Array(msg.seqs.length);
    for (let b = 0; b < msg.seqs.length; b++) {
      const s = msg.seqs[b]!;
      if (this.state.acked.has(s) || this.pendingSeqs.has(s)) skip[b] = 1;
      else this.pendingSeqs.add(s);
    }
    this.queue.push({ seqs: msg.seqs, frame, skip });
    void this.drain();
  }

  private async drain(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    this.idle = new Promise((r) => (this.idleResolve = r));
    try {
      while (this.queue.length > 0) {
        let n = 0;
        let samples = 0;
        while (n < this.queue.length && (n === 0 || samples + this.queue[n]!.frame.samples <= MAX_COMMIT_SAMPLES)) {
          samples += this.queue[n]!.frame.samples;
          n++;
        }
        const batch = this.queue.splice(0, n);
        await this.commit(batch);
      }
    } catch (err) {
      this.log.error({ err, agent: this.state.id }, 'cannot store samples from the agent: closing the link, it will resend');
      this.queue.length = 0;
      this.ws.terminate();
    } finally {
      this.busy = false;
      this.idleResolve?.();
    }
  }

  private async commit(batch: Pending[]): Promise<void> {
    const st = this.state;
    const labels = st.labels;
    const refs = st.refs;
    const app = this.storage.appender();
    let seqDuplicates = 0;
    /** Samples of series over the per-agent limit. */
    let refused = 0;
    let errors = 0;
    for (const p of batch) {
      const { frame, skip } = p;
      const { t, ids, v, stale, blockEnds } = frame;
      let k = 0;
      for (let b = 0; b < blockEnds.length; b++) {
        const end = blockEnds[b]!;
        if (skip[b] === 1) {
          seqDuplicates += end - k;
          k = end;
          continue;
        }
        for (; k < end; k++) {
          const id = ids[k]!;
          const ref = refs[id]!;
          if (ref === -1) {
            refused++;
            continue;
          }
          try {
            const r = app.append(ref, labels[id]!, t[k]!, v[k]!, stale[k] === 1);
            if (ref === 0) refs[id] = r;
          } catch (err) {
            if (errors++ === 0) this.log.warn({ err, agent: st.id }, 'storage refused a sample');
          }
        }
      }
    }
    const [, stats] = await Promise.all([st.syncSeries(), app.commit()]);
    const perFrameDup: number[] = [];
    for (const p of batch) {
      let d = 0;
      let prev = 0;
      for (let b = 0; b < p.skip.length; b++) {
        if (p.skip[b] === 1) d += p.frame.blockEnds[b]! - prev;
        prev = p.frame.blockEnds[b]!;
      }
      perFrameDup.push(d);
    }
    this.metrics.ingested.inc(stats.appended);
    this.metrics.duplicates.inc(stats.duplicates + stats.conflicts + seqDuplicates);
    const refusedAll = refused + stats.rejected + errors;
    let reasons: Record<string, number> | undefined;
    if (refusedAll > 0) {
      reasons = { ...stats.rejectReasons };
      if (refused > 0) reasons.series_limit = (reasons.series_limit ?? 0) + refused;
      if (errors > 0) reasons.storage_error = (reasons.storage_error ?? 0) + errors;
      for (const r in reasons) this.metrics.rejected.inc({ reason: r }, reasons[r]!);
      this.log.debug({ agent: st.id, reasons }, 'samples refused');
    }
    st.countSamples(stats.appended);
    for (let i = 0; i < batch.length; i++) {
      const p = batch[i]!;
      const fresh = p.seqs.filter((_, b) => p.skip[b] !== 1);
      st.markAcked(fresh);
      for (const s of fresh) this.pendingSeqs.delete(s);
      // Refusals of a commit group are reported once, on its first frame's ack.
      const ack: AckMsg = { type: 'ack', seqs: toRanges(p.seqs), samples: p.frame.samples, duplicates: perFrameDup[i]! };
      if (i === 0 && reasons !== undefined) { ack.refused = refusedAll; ack.reasons = reasons; }
      this.send(ack);
    }
  }

  private onClose(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    clearInterval(this.hbTimer);
    void this.idleOrNow().then(() => this.doneResolve());
  }

  private async idleOrNow(): Promise<void> {
    if (this.busy) await this.idle;
  }

  /** Closes the connection; resolves once queued commits finished. */
  async close(code = 1001, reason = 'hub closing'): Promise<void> {
    if (this.ws.readyState === 0 || this.ws.readyState === 1) this.ws.close(code, reason);
    const t = setTimeout(() => this.ws.terminate(), 1000);
    t.unref();
    if (this.closedFlag) {
      await this.done;
      clearTimeout(t);
      return;
    }
    await new Promise<void>((r) => this.ws.once('close', () => r()));
    clearTimeout(t);
    await this.done;
  }

  terminate(): void {
    this.ws.terminate();
  }
}
