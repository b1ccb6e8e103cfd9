/**
 * The agent's durable buffer: a directory of append-only segment files holding opaque
 * blocks with consecutive sequence numbers, plus `state.json` with the acked sequences.
 * Bounded by bytes (and optionally age): when full, the oldest segment goes first and its
 * unacked samples are counted and logged. See docs/protocol.md, "Agent buffer".
 *
 * Durability: blocks are written with write(2) in the thread pool, in order; `writtenSeq` is the
 * first block not yet in the kernel, and only blocks below it may be sent (so an acked block
 * always survives kill -9 of the agent). The active segment is fdatasync'd every `syncIntervalMs`
 * (default 1 s), bounding what a power loss can take; periodic and rotation fdatasyncs also run
 * in the thread pool. `flush()` (stop) waits for both; `syncIntervalMs: 0` writes and syncs
 * every append synchronously. The ack state is rewritten (tmp + rename, in the
 * thread pool) shortly after acks; losing it only means resending blocks the hub then drops as
 * duplicates. The newest blocks are also kept in memory (up to 8 MiB) so that sending them does
 * not read them back from disk.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { RangeSet, silentLogger, type Logger } from '@vigil/common';
import { Segment } from './segment.js';

export interface DiskBufferOptions {
  dir: string;
  maxBytes: number;
  maxAgeMs?: number;
  logger?: Logger;
  /** fdatasync period of the active segment; 0 syncs every append. Default 1000. */
  syncIntervalMs?: number;
  /** Segment size; default maxBytes / 16 within [64 KiB, 32 MiB]. */
  segmentBytes?: number;
}

export interface BlockInfo {
  samples: number;
  /** The writer's timestamp for the block (ms), opaque to the buffer except for max_age. */
  time: number;
  bytes: number;
}

export interface BufferStats {
  bytes: number;
  blocks: number;
  unackedBlocks: number;
  firstSeq: number;
  nextSeq: number;
  droppedBlocks: number;
  droppedSamples: number;
  syncs: number;
}

interface StateFile {
  epoch: string;
  nextSeq: number;
  acked: number[];
}

const SEG_RE = /^(\d{16})\.seg$/;
/** Recent payloads kept in memory for sending. */
const RECENT_MAX_BYTES = 8 << 20;
const segName = (seq: number): string => `${String(seq).padStart(16, '0')}.seg`;

export class DiskBuffer {
  readonly dir: string;
  /** Random id of this buffer's sequence space; a new directory starts a new epoch. */
  readonly epoch: string;
  private segs: Segment[];
  private acked: RangeSet;
  private _nextSeq: number;
  private totalBytes = 0;
  private droppedBlocks = 0;
  private droppedSamples = 0;
  private syncs = 0;
  private readonly maxBytes: number;
  private readonly maxAgeMs: number;
  private readonly segmentBytes: number;
  private readonly syncIntervalMs: number;
  private readonly log: Logger;
  private syncTimer: NodeJS.Timeout | null = null;
  private stateTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private dropListeners: ((samples: number, blocks: number) => void)[] = [];
  /** Payloads of recent unacked blocks, oldest first, within RECENT_MAX_BYTES. */
  private recent = new Map<number, Uint8Array>();
  private recentBytes = 0;
  private stateWriting: Promise<void> | null = null;
  private stateAgain = false;

  /** Use `openBuffer`. */
  constructor(opts: DiskBufferOptions, epoch: string, segs: Segment[], acked: RangeSet, nextSeq: number) {
    this.dir = opts.dir;
    this.epoch = epoch;
    this.segs = segs;
    this.acked = acked;
    this._nextSeq = nextSeq;
    this.maxBytes = opts.maxBytes;
    this.maxAgeMs = opts.maxAgeMs ?? 0;
    this.segmentBytes = opts.segmentBytes ?? Math.min(32 << 20, Math.max(64 << 10, Math.floor(opts.maxBytes / 16)));
    this.syncIntervalMs = opts.syncIntervalMs ?? 1000;
    this.log = (opts.logger ?? silentLogger).child({ component: 'buffer' });
    for (const s of segs) {
      this.totalBytes += s.size;
      this.setUp(s);
    }
    if (this.syncIntervalMs > 0) {
      this.syncTimer = setInterval(() => this.tick(), this.syncIntervalMs);
      this.syncTimer.unref();
    }
  }

  get nextSeq(): number {
    return this._nextSeq;
  }

  /**
   * The first sequence whose block is not yet in the kernel (its write(2) runs in the thread
   * pool): blocks below it survive kill -9 and may be sent.
   */
  get writtenSeq(): number {
    for (const s of this.segs) if (s.written < s.count) return s.firstSeq + s.written;
    return this._nextSeq;
  }

  /** Called when background writes complete (more blocks may be sent). */
  onWritten(fn: () => void): void {
    this.writtenListeners.push(fn);
  }

  private writtenListeners: (() => void)[] = [];

  private setUp(seg: Segment): void {
    seg.syncWrites = this.syncIntervalMs === 0;
    seg.onWritten = () => {
      if (seg.error) this.log.error({ err: seg.error, segment: seg.path }, `cannot write to buffer segment ${seg.path}: ${seg.error.message}; retrying with the next block`);
      for (const fn of this.writtenListeners) fn();
    };
  }

  /** Waits for queued writes, then fdatasyncs the active segment. */
  async flush(): Promise<void> {
    const a = this.segs[this.segs.length - 1];
    if (a) await a.idle();
    this.syncActive();
  }

  /** Oldest sequence number still held. */
  get firstSeq(): number {
    return this.segs[0]?.firstSeq ?? this._nextSeq;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  /** Called with the unacked samples and blocks of every drop (full buffer or max_age). */
  onDrop(fn: (samples: number, blocks: number) => void): void {
    this.dropListeners.push(fn);
  }

  /** Appends a block; returns its sequence number. Never throws for a full buffer. */
  append(data: Uint8Array, info: { samples: number; time: number }): number {
    if (this.closed) throw new Error(`cannot append to buffer ${this.dir}: closed`);
    let active = this.segs[this.segs.length - 1];
    if (!active || active.lastSeq + 1 !== this._nextSeq || (active.size >= this.segmentBytes && active.count > 0)) active = this.rotate();
    const seq = this._nextSeq++;
    const before = active.size;
    const payload = active.append(data, info.samples, info.time);
    this.totalBytes += active.size - before;
    this.remember(seq, payload);
    if (this.syncIntervalMs === 0) this.syncActive();
    this.enforceLimits(info.time);
    return seq;
  }

  private remember(seq: number, payload: Uint8Array): void {
    this.recent.set(seq, payload);
    this.recentBytes += payload.length;
    for (const [s, p] of this.recent) {
      if (this.recentBytes <= RECENT_MAX_BYTES) break;
      this.recent.delete(s);
      this.recentBytes -= p.length;
    }
  }

  private forget(acked: (seq: number) => boolean): void {
    for (const [s, p] of this.recent) {
      if (!acked(s)) continue;
      this.recent.delete(s);
      this.recentBytes -= p.length;
    }
  }

  private rotate(): Segment {
    const prev = this.segs[this.segs.length - 1];
    if (prev) this.syncInBackground(prev);
    const seg = Segment.create(path.join(this.dir, segName(this._nextSeq)), this._nextSeq);
    this.setUp(seg);
    this.segs.push(seg);
    this.scheduleState();
    return seg;
  }

  private segmentOf(seq: number): Segment | undefined {
    let lo = 0;
    let hi = this.segs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const s = this.segs[mid]!;
      if (seq < s.firstSeq) hi = mid - 1;
      else if (seq > s.lastSeq) lo = mid + 1;
      else return s;
    }
    return undefined;
  }

  /** The block's bytes, or undefined when it was dropped or never written. */
  read(seq: number): Uint8Array | undefined {
    const mem = this.recent.get(seq);
    if (mem) return mem;
    const s = this.segmentOf(seq);
    return s ? s.read(seq) : undefined;
  }

  info(seq: number): BlockInfo | undefined {
    const s = this.segmentOf(seq);
    const b = s?.blocks[seq - s.firstSeq];
    return b ? { samples: b.samples, time: b.time, bytes: b.length } : undefined;
  }

  isAcked(seq: number): boolean {
    return seq < this.firstSeq || this.acked.has(seq);
  }

  /** Marks sequences as delivered; flat closed ranges [a0, b0, ...]. */
  ack(flat: readonly number[]): void {
    const first = this.firstSeq;
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const a = Math.max(flat[i]!, first);
      const b = Math.min(flat[i + 1]!, this._nextSeq - 1);
      if (a <= b) this.acked.addRange(a, b);
    }
    this.removeAcked();
    if (this.recent.size > 0) this.forget((s) => this.isAcked(s));
    this.scheduleState();
  }

  /** Smallest retained unacked sequence >= from, or undefined. */
  nextUnacked(from: number): number | undefined {
    let s = Math.max(from, this.firstSeq);
    while (s < this._nextSeq) {
      if (!this.acked.has(s)) return s;
      s = this.acked.contiguousFrom(s) + 1;
    }
    return undefined;
  }

  get unackedBlocks(): number {
    return this._nextSeq - this.firstSeq - this.acked.size;
  }

  /** Time of the oldest unacked block, or null when everything is acked. */
  oldestUnackedTime(): number | null {
    const s = this.nextUnacked(this.firstSeq);
    return s === undefined ? null : (this.info(s)?.time ?? null);
  }

  /**
   * Moves the next sequence number forward (never back), e.g. when the hub already holds
   * higher sequences of this epoch than the buffer remembers.
   */
  advanceTo(seq: number): void {
    if (seq <= this._nextSeq) return;
    this.acked.addRange(this._nextSeq, seq - 1);
    this._nextSeq = seq;
    this.removeAcked();
    this.scheduleState();
  }

  stats(): BufferStats {
    return {
      bytes: this.totalBytes,
      blocks: this._nextSeq - this.firstSeq,
      unackedBlocks: this.unackedBlocks,
      firstSeq: this.firstSeq,
      nextSeq: this._nextSeq,
      droppedBlocks: this.droppedBlocks,
      droppedSamples: this.droppedSamples,
      syncs: this.syncs,
    };
  }

  private removeAcked(): void {
    while (this.segs.length > 1) {
      const s = this.segs[0]!;
      if (s.count > 0 && this.acked.contiguousFrom(s.firstSeq) < s.lastSeq) break;
      this.dropSegment(false);
    }
    this.acked.dropBelow(this.firstSeq);
  }

  private dropSegment(count: boolean): void {
    const s = this.segs.shift()!;
    if (this.recent.size > 0) this.forget((seq) => seq <= s.lastSeq);
    this.totalBytes -= s.size;
    if (count) {
      let samples = 0;
      let blocks = 0;
      for (let i = 0; i < s.blocks.length; i++) {
        if (!this.acked.has(s.firstSeq + i)) {
          samples += s.blocks[i]!.samples;
          blocks++;
        }
      }
      if (blocks > 0) {
        this.droppedBlocks += blocks;
        this.droppedSamples += samples;
        this.log.warn({ samples, blocks, firstSeq: s.firstSeq, lastSeq: s.lastSeq, bufferBytes: this.totalBytes, maxBytes: this.maxBytes },
          'buffer full or data too old: dropped the oldest unsent samples');
        for (const fn of this.dropListeners) fn(samples, blocks);
      }
    }
    s.remove();
    this.acked.dropBelow(this.firstSeq);
  }

  private enforceLimits(now: number): void {
    while (this.totalBytes > this.maxBytes && this.segs.length > 0) {
      if (this.segs.length === 1) {
        if (this.segs[0]!.count === 0) break;
        this.rotate();
      }
      this.dropSegment(true);
    }
    if (this.maxAgeMs > 0) {
      while (this.segs.length > 1) {
        const s = this.segs[0]!;
        const newest = s.blocks[s.blocks.length - 1]?.time ?? now;
        if (newest >= now - this.maxAgeMs) break;
        this.dropSegment(true);
      }
    }
  }

  private tick(): void {
    const a = this.segs[this.segs.length - 1];
    if (a) this.syncInBackground(a);
    if (this.maxAgeMs > 0) this.enforceLimits(Date.now());
  }

  private syncActive(): void {
    const a = this.segs[this.segs.length - 1];
    if (a?.dirty) {
      a.sync();
      this.syncs++;
    }
  }

  /** fdatasync the active segment now. */
  sync(): void {
    this.syncActive();
  }

  private syncInBackground(seg: Segment): void {
    seg.syncAsync((err) => {
      if (err) this.log.error({ err, segment: seg.path }, `cannot fdatasync buffer segment ${seg.path}: ${err.message}; retrying at the next tick`);
      else this.syncs++;
    });
  }

  private scheduleState(): void {
    if (this.stateTimer || this.closed) return;
    this.stateTimer = setTimeout(() => {
      this.stateTimer = null;
      this.writeStateInBackground();
    }, 200);
    this.stateTimer.unref();
  }

  private stateJson(): string {
    const st: StateFile = { epoch: this.epoch, nextSeq: this._nextSeq, acked: this.acked.toFlat() };
    return JSON.stringify(st);
  }

  /** One rewrite at a time; a request during one runs after it, with the state of then. */
  private writeStateInBackground(): void {
    if (this.stateWriting) {
      this.stateAgain = true;
      return;
    }
    const file = path.join(this.dir, 'state.json');
    this.stateWriting = fs.promises.writeFile(file + '.tmp', this.stateJson())
      .then(() => fs.promises.rename(file + '.tmp', file))
      .catch((err: Error) => this.log.error({ err }, `cannot write buffer state ${file}: ${err.message}`))
      .finally(() => {
        this.stateWriting = null;
        if (this.stateAgain && !this.closed) {
          this.stateAgain = false;
          this.writeStateInBackground();
        }
      });
  }

  private writeState(): void {
    const file = path.join(this.dir, 'state.json');
    fs.writeFileSync(file + '.tmp', this.stateJson());
    fs.renameSync(file + '.tmp', file);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.syncTimer) clearInterval(this.syncTimer);
    if (this.stateTimer) clearTimeout(this.stateTimer);
    this.stateTimer = null;
    this.stateAgain = false;
    await this.stateWriting;
    await Promise.all(this.segs.map((s) => s.idle()));
    if (this.stateTimer) clearTimeout(this.stateTimer); // an ack while waiting
    this.stateTimer = null;
    this.writeState();
    this.closed = true;
    for (const s of this.segs) s.close();
  }
}

/** Opens (or creates) the buffer in `dir`, recovering from a crash: torn tails are cut. */
export async function openBuffer(opts: DiskBufferOptions): Promise<DiskBuffer> {
  const log = (opts.logger ?? silentLogger).child({ component: 'buffer' });
  fs.mkdirSync(opts.dir, { recursive: true });
  let state: StateFile | null = null;
  try {
    state = JSON.parse(fs.readFileSync(path.join(opts.dir, 'state.json'), 'utf8')) as StateFile;
  } catch {
    state = null;
  }
  const files = fs.readdirSync(opts.dir).filter((f) => SEG_RE.test(f)).sort();
  const segs: Segment[] = [];
  const gaps: number[] = [];
  for (const f of files) {
    const first = Number(SEG_RE.exec(f)![1]);
    const prev = segs[segs.length - 1];
    if (prev && prev.lastSeq + 1 !== first) {
      // a gap means the previous segment lost its tail in a crash: its missing blocks are gone
      log.warn({ segment: f, expected: prev.lastSeq + 1 }, 'buffer segment does not follow the previous one; continuing at its sequence');
      gaps.push(prev.lastSeq + 1, first - 1);
    }
    const { seg, cut } = Segment.open(path.join(opts.dir, f), first);
    if (cut > 0) log.warn({ segment: f, bytes: cut }, 'cut a torn tail off a buffer segment after a crash');
    segs.push(seg);
  }
  const epoch = state?.epoch ?? randomBytes(8).toString('hex');
  let nextSeq = Math.max(state?.nextSeq ?? 1, 1);
  const last = segs[segs.length - 1];
  if (last) nextSeq = Math.max(nextSeq, last.lastSeq + 1);
  const acked = RangeSet.fromFlat([...(state?.acked ?? []), ...gaps]);
  const buf = new DiskBuffer(opts, epoch, segs, acked, nextSeq);
  if (last && last.lastSeq + 1 < nextSeq) {
    // state.json knew of blocks that never reached the disk (cannot happen with write-before-ack); keep seqs unique
    buf.advanceTo(nextSeq);
  }
  buf.ack([]);
  if (!state) fs.writeFileSync(path.join(opts.dir, 'state.json'), JSON.stringify({ epoch, nextSeq, acked: [] }));
  log.info({ dir: opts.dir, segments: segs.length, firstSeq: buf.firstSeq, nextSeq: buf.nextSeq, unacked: buf.unackedBlocks }, 'buffer opened');
  return buf;
}
