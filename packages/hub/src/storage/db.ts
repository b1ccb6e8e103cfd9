import fs from 'node:fs';
import path from 'node:path';
import { Level } from 'level';
import type { Labels } from '@vigil/common';
import { Engine, type EngineOptions } from './head.js';
import { encodeChunk, type ChunkSamples } from './chunk.js';
import { labelsKey } from '@vigil/common';
import type { ChunkMeta, MemSeries } from './series.js';
import { SampleBuf, lowerBound } from './samplebuf.js';
import { listSegments, replaySegment, segmentPath, WalWriter } from './wal.js';
import {
  chunkKey, KIND_CHUNK, KIND_META, KIND_SERIES, kindRange, metaKey, parseChunkKey, postingKey, seriesKey,
} from './keys.js';
import type { AppendStats } from './types.js';

export interface OpenStorageOptions extends EngineOptions {
  dir: string;
  /** Flush the head to chunks when the log passes this size (default 128 MiB). */
  walMaxBytes?: number;
  /**
   * Flush the head when it holds this many samples (default 4M, about 100 MB of memory): at fleet
   * rates this, not the time span, bounds the hub's memory.
   */
  headMaxSamples?: number;
  /** Flush the head when it spans this long (default 2 h of sample time). */
  headMaxSpanMs?: number;
  /** Brotli quality of chunks (default 6). */
  brotliQuality?: number;
}

const DAY_MS = 86_400_000;
/** Chunks hold at most this many samples and never cross a UTC day. */
const MAX_CHUNK_SAMPLES = 16384;
/**
 * Brotli quality of chunks of a day not complete yet: none, since the day's compaction decodes
 * and rewrites them (measured: 8-15% less CPU for ingest + background flushes, the same final bytes).
 */
const PROVISIONAL_QUALITY = 0;

/** Longest stretch a flush keeps the event loop before yielding. */
const SLICE_MS = 10;
const yieldToLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

type Db = Level<Buffer, Buffer>;
interface BatchOp { type: 'put' | 'del'; key: Buffer; value?: Buffer }

/** Opens (creating if needed) the LevelDB store in `dir`, replaying its log. */
export async function openStorage(opts: OpenStorageOptions): Promise<LevelStorage> {
  fs.mkdirSync(path.join(opts.dir, 'wal'), { recursive: true });
  const db: Db = new Level<Buffer, Buffer>(path.join(opts.dir, 'index'), { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  await db.open();
  const s = new LevelStorage(db, opts);
  await s.load();
  return s;
}

/**
 * The LevelDB store: series, postings and compressed chunks in LevelDB, recent samples in the
 * head, made durable by the write-ahead log before a commit resolves (docs/storage.md).
 */
export class LevelStorage extends Engine {
  private wal: WalWriter | null = null;
  private readonly walDir: string;
  private flushing: Promise<void> = Promise.resolve();
  private flushPending = false;
  private lastFlushMaxT = -Infinity;
  private timer: NodeJS.Timeout | null = null;
  private readonly walMaxBytes: number;
  private readonly headMaxSamples: number;
  private readonly headMaxSpanMs: number;
  private readonly brotliQuality: number;

  constructor(private readonly db: Db, opts: OpenStorageOptions) {
    super(opts);
    this.walDir = path.join(opts.dir, 'wal');
    this.walMaxBytes = opts.walMaxBytes ?? 128 * 1024 * 1024;
    this.headMaxSamples = opts.headMaxSamples ?? 4_000_000;
    this.headMaxSpanMs = opts.headMaxSpanMs ?? 2 * 3600 * 1000;
    this.brotliQuality = opts.brotliQuality ?? 6;
  }

  /** Loads series, chunk catalog and metadata, replays the log and checkpoints it. */
  async load(): Promise<void> {
    for await (const [k, v] of this.db.iterator(kindRange(KIND_SERIES))) {
      const id = k.readUInt32BE(1);
      const labels = JSON.parse(v.toString('utf8')) as Labels;
      const s = this.index.create(id, labels, labelsKey(labels));
      s.unpersisted = false;
      this.index.commit(s);
      if (id >= this.nextId) this.nextId = id + 1;
    }
    for await (const k of this.db.keys(kindRange(KIND_CHUNK))) {
      const c = parseChunkKey(k);
      const s = this.index.get(c.id);
      if (s === undefined) continue;
      s.chunks.push({ minT: c.minT, maxT: c.maxT, count: c.count, key: Buffer.from(k), bytes: 0 });
    }
    for (const s of this.index.all()) {
      s.recomputeRange();
      if (s.lastT > this.maxT) this.maxT = s.lastT;
    }
    for await (const [k, v] of this.db.iterator(kindRange(KIND_META))) {
      this.metadataMap.set(k.toString('utf8', 1), JSON.parse(v.toString('utf8')));
    }
    const segments = listSegments(this.walDir);
    const stats: AppendStats = { appended: 0, duplicates: 0, conflicts: 0, rejected: 0, newSeries: 0 };
    for (const seq of segments) {
      await replaySegment(segmentPath(this.walDir, seq), {
        series: (id, labels) => {
          if (this.index.get(id) === undefined) this.index.create(id, labels, labelsKey(labels));
          if (id >= this.nextId) this.nextId = id + 1;
        },
        samples: (ids, t, v, f, n) => this.applySamples(ids, t, v, f, n, stats, null),
      });
    }
    const last = segments.length > 0 ? segments[segments.length - 1]! : 0;
    this.wal = new WalWriter(this.walDir, last + 1);
    if (segments.length > 0) {
      this.logger.info({ segments: segments.length, samples: stats.appended, duplicates: stats.duplicates }, 'replayed write-ahead log');
      await this.doFlush(false);
    }
    this.lastFlushMaxT = this.maxT;
    this.timer = setInterval(() => this.maybeFlush(), 10_000);
    this.timer.unref();
  }

  protected async durable(data: Uint8Array): Promise<void> {
    await this.wal!.append(data);
    if (this.wal!.bytes > this.walMaxBytes || this.headSamples > this.headMaxSamples) this.maybeFlush(true);
  }

  protected override walBytes(): number {
    return this.wal?.bytes ?? 0;
  }

  private maybeFlush(force = false): void {
    if (this.closed || this.flushPending) return;
    if (!force && this.maxT - this.lastFlushMaxT < this.headMaxSpanMs) return;
    this.flushPending = true;
    this.flushing = this.flushing.then(() => this.doFlush(false)).catch((err: unknown) => {
      this.logger.error({ err }, 'cannot flush head to chunks');
    }).finally(() => { this.flushPending = false; });
  }

  protected async readChunkValues(metas: readonly ChunkMeta[]): Promise<(Uint8Array | undefined)[]> {
    if (metas.length === 0) return [];
    return this.db.getMany(metas.map((m) => m.key));
  }

  /** Writes the head into chunks, compacts each day into few chunks and applies retention. */
  async flush(): Promise<void> {
    const run = this.flushing.then(() => this.doFlush(true));
    this.flushing = run.catch(() => undefined);
    await run;
  }

  private async doFlush(compact: boolean): Promise<void> {
    // Explicit flushes compact every day; background ones only days that ended a head span ago.
    const compactBefore = compact ? Infinity : this.maxT - this.headMaxSpanMs;
    const started = Date.now();
    const frozen: MemSeries[] = [];
    let oldSeq = 0;
    await this.exclusive(() => {
      for (const s of this.index.all()) {
        if (!s.committed) continue;
        const parts: SampleBuf[] = [];
        if (s.head.n > 0) parts.push(s.head);
        if (s.ooo !== null && s.ooo.n > 0) parts.push(s.ooo);
        if (parts.length > 0 || s.unpersisted || s.chunks.length > 1 || s.chunks[0]?.provisional === true) {
          if (parts.length > 0) {
            s.frozen = parts;
            // The next period of a flush by sample count holds about as many samples as this
            // one: sized once, the head does not grow (and copy) 8 → 16 → 32 → 64 per series.
            s.head = new SampleBuf(Math.min(4096, Math.max(8, s.head.n)));
            s.ooo = null;
          }
          frozen.push(s);
        }
      }
      oldSeq = this.wal!.rotate();
      this.headSamples = 0;
    });
    const cutoff = this.cutoff();
    let ops: BatchOp[] = [];
    let opBytes = 0;
    let done: (() => void)[] = [];
    let written = 0;
    const writeOps = async (sync: boolean): Promise<void> => {
      if (ops.length > 0) await this.writeBatch(ops, sync);
      for (const f of done) f();
      ops = [];
      done = [];
      opBytes = 0;
    };
    let slice = performance.now();
    for (const s of frozen) {
      // The flush runs in slices so that ingest, queries and /-/healthy keep answering.
      if (performance.now() - slice > SLICE_MS) {
        await yieldToLoop();
        slice = performance.now();
      }
      if (s.unpersisted) {
        // Postings are not written: the index is rebuilt in memory from the series at open, and
        // writing them was six LevelDB ops per new series (stores written before still delete them).
        ops.push({ type: 'put', key: seriesKey(s.id), value: Buffer.from(JSON.stringify(s.labels), 'utf8') });
        s.unpersisted = false;
      }
      const dropped: ChunkMeta[] = [];
      const next = await this.rewriteSeries(s, cutoff, compactBefore, ops, dropped);
      for (let i = written; i < ops.length; i++) opBytes += ops[i]!.value?.length ?? 0;
      written = ops.length;
      done.push(() => {
        if (next !== null) s.chunks = next;
        for (const c of dropped) this.chunkCache.drop(c);
        s.frozen = null;
        s.recomputeRange();
      });
      if (opBytes > 2 << 20 || ops.length > 4000) {
        await writeOps(false);
        written = 0;
      }
    }
    for (const metric of this.metadataDirty) {
      ops.push({ type: 'put', key: metaKey(metric), value: Buffer.from(JSON.stringify(this.metadataMap.get(metric) ?? []), 'utf8') });
    }
    this.metadataDirty.clear();
    const removed = this.retentionOps(cutoff, ops, done);
    await writeOps(true);
    await this.removeEmptySeries();
    for (const seq of listSegments(this.walDir)) if (seq <= oldSeq) fs.rmSync(segmentPath(this.walDir, seq), { force: true });
    if (removed > 0 || compact) await (this.db as unknown as { compactRange(a: Buffer, b: Buffer): Promise<void> }).compactRange(Buffer.from([0]), Buffer.from([0xff]));
    this.lastFlushMaxT = this.maxT;
    this.counters.flushes++;
    this.logger.debug({ series: frozen.length, removedChunks: removed, ms: Date.now() - started }, 'flushed head');
  }

  /**
   * Puts the chunk writes of one series into `ops` and returns its next chunk catalog (null if
   * unchanged). New samples of a UTC day are merged with that day's chunks when they overlap,
   * and a day that ended before `compactBefore` with several small chunks is rewritten as few large ones.
   */
  private async rewriteSeries(
    s: MemSeries, cutoff: number, compactBefore: number, ops: BatchOp[], dropped: ChunkMeta[],
  ): Promise<ChunkMeta[] | null> {
    const fresh = mergeBufs(s.frozen ?? [], cutoff);
    const days = new Set<number>();
    for (let i = 0; i < fresh.n; i++) days.add(Math.floor(fresh.t[i]! / DAY_MS));
    {
      const counts = new Map<number, number>();
      for (const c of s.chunks) {
        const d = Math.floor(c.minT / DAY_MS);
        if ((d + 1) * DAY_MS - 1 > compactBefore) continue;
        if (c.provisional === true) { days.add(d); continue; }
        if (c.count >= MAX_CHUNK_SAMPLES / 2) continue;
        counts.set(d, (counts.get(d) ?? 0) + 1);
      }
      for (const [d, n] of counts) if (n > 1) days.add(d);
    }
    if (days.size === 0) return null;
    let next = s.chunks.slice();
    for (const day of [...days].sort((a, b) => a - b)) {
      const lo = day * DAY_MS;
      const hi = lo + DAY_MS - 1;
      const a = lowerBound(fresh.t, fresh.n, lo);
      const b = lowerBound(fresh.t, fresh.n, hi + 1);
      const inDay = next.filter((c) => c.minT >= lo && c.minT <= hi);
      const overlap = b > a && inDay.some((c) => c.maxT >= fresh.t[a]! && c.minT <= fresh.t[b - 1]!);
      const smallOnes = inDay.filter((c) => c.count < MAX_CHUNK_SAMPLES / 2).length;
      const complete = hi <= compactBefore;
      const merge = overlap || (complete && smallOnes > 1) || (complete && smallOnes === 1 && b > a)
        || (complete && inDay.some((c) => c.provisional === true));
      const old = merge ? inDay : [];
      let t = fresh.t.subarray(a, b);
      let v = fresh.v.subarray(a, b);
      let f = fresh.stale === null ? null : fresh.stale.subarray(a, b);
      if (old.length > 0) {
        const decoded = await this.readChunks(s, old, false);
        const m = mergeSorted(decoded, { n: b - a, t, v, stale: f });
        t = m.t.subarray(0, m.n);
        v = m.v.subarray(0, m.n);
        f = m.stale === null ? null : m.stale.subarray(0, m.n);
        for (const c of old) { ops.push({ type: 'del', key: c.key }); dropped.push(c); }
        next = next.filter((c) => !old.includes(c));
      }
      for (let i = 0; i < t.length; i += MAX_CHUNK_SAMPLES) {
        const n = Math.min(MAX_CHUNK_SAMPLES, t.length - i);
        // A day still being written is compressed cheaply: its compaction rewrites it.
        const value = encodeChunk(t, v, f, i, n, { brotliQuality: complete ? this.brotliQuality : PROVISIONAL_QUALITY });
        const meta: ChunkMeta = { minT: t[i]!, maxT: t[i + n - 1]!, count: n, key: chunkKey(s.id, t[i]!, t[i + n - 1]!, n), bytes: value.length };
        if (!complete) meta.provisional = true;
        ops.push({ type: 'put', key: meta.key, value });
        next.push(meta);
      }
    }
    next.sort((x, y) => x.maxT - y.maxT);
    return next;
  }

  /** Deletes chunks past retention (time, then size) and series left without data. */
  private retentionOps(cutoff: number, ops: BatchOp[], done: (() => void)[]): number {
    let removed = 0;
    const drop = new Map<MemSeries, Set<ChunkMeta>>();
    const mark = (s: MemSeries, c: ChunkMeta): void => {
      let set = drop.get(s);
      if (set === undefined) drop.set(s, (set = new Set()));
      if (!set.has(c)) { set.add(c); removed++; ops.push({ type: 'del', key: c.key }); }
    };
    for (const s of this.index.all()) for (const c of s.chunks) if (c.maxT < cutoff) mark(s, c);
    if (this.retentionBytes > 0) {
      const all: [MemSeries, ChunkMeta][] = [];
      let total = 0;
      for (const s of this.index.all()) for (const c of s.chunks) {
        if (drop.get(s)?.has(c)) continue;
        all.push([s, c]);
        total += c.bytes > 0 ? c.bytes : c.count;
      }
      all.sort((x, y) => x[1].maxT - y[1].maxT);
      for (const [s, c] of all) {
        if (total <= this.retentionBytes) break;
        total -= c.bytes > 0 ? c.bytes : c.count;
        mark(s, c);
      }
    }
    done.push(() => {
      for (const [s, set] of drop) {
        s.chunks = s.chunks.filter((c) => !set.has(c));
        for (const c of set) this.chunkCache.drop(c);
        s.recomputeRange();
      }
    });
    return removed;
  }

  /**
   * Writes ops through a chained batch: each op goes to LevelDB's native batch at once, without
   * the array batch's per-op object copies (measured: 100k chunk puts 0.66-0.78 -> 0.45 CPU-s).
   */
  private async writeBatch(ops: readonly BatchOp[], sync: boolean): Promise<void> {
    const b = this.db.batch();
    for (const op of ops) {
      if (op.type === 'put') b.put(op.key, op.value!);
      else b.del(op.key);
    }
    await b.write({ sync } as never);
  }

  /** Deletes series left without any sample (after retention). */
  private async removeEmptySeries(): Promise<void> {
    const ops: BatchOp[] = [];
    for (const s of [...this.index.all()]) {
      if (!s.committed || s.hasData()) continue;
      ops.push({ type: 'del', key: seriesKey(s.id) });
      for (const name in s.labels) ops.push({ type: 'del', key: postingKey(name, s.labels[name]!, s.id) });
      this.index.remove(s);
    }
    if (ops.length > 0) await this.writeBatch(ops, true);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.timer !== null) clearInterval(this.timer);
    await this.exclusive(() => undefined);
    this.closed = true;
    await this.flushing;
    await this.doFlush(true);
    this.wal?.close();
    const last = this.wal?.seq;
    if (last !== undefined) fs.rmSync(segmentPath(this.walDir, last), { force: true });
    await this.db.close();
  }
}

/** Frozen head parts (each sorted) merged into one run, dropping samples before `cutoff`. */
function mergeBufs(parts: readonly SampleBuf[], cutoff: number): ChunkSamples {
  const runs: ChunkSamples[] = parts.map((p) => ({ n: p.n, t: p.t, v: p.v, stale: p.f }));
  const m = mergeSorted(runs, null);
  const i = lowerBound(m.t, m.n, cutoff);
  if (i === 0) return m;
  return { n: m.n - i, t: m.t.subarray(i), v: m.v.subarray(i), stale: m.stale === null ? null : m.stale.subarray(i) };
}

/**
 * Merges sorted runs; on equal timestamps the earlier run wins. A lone run is returned as it
 * is (frozen parts and decoded chunks are not written again); runs that follow each other in
 * time are concatenated.
 */
function mergeSorted(runs: readonly ChunkSamples[], last: ChunkSamples | null): ChunkSamples {
  const all = (last === null ? runs : [...runs, last]).filter((r) => r.n > 0);
  if (all.length === 1) return all[0]!;
  let total = 0;
  let anyStale = false;
  for (const r of all) { total += r.n; if (r.stale !== null) anyStale = true; }
  const ordered = all.slice().sort((x, y) => x.t[0]! - y.t[0]!);
  let disjoint = true;
  for (let k = 1; k < ordered.length && disjoint; k++) if (ordered[k - 1]!.t[ordered[k - 1]!.n - 1]! >= ordered[k]!.t[0]!) disjoint = false;
  if (disjoint) {
    const out: ChunkSamples = { n: total, t: new Float64Array(total), v: new Float64Array(total), stale: anyStale ? new Uint8Array(total) : null };
    let o = 0;
    for (const r of ordered) {
      out.t.set(r.t.subarray(0, r.n), o);
      out.v.set(r.v.subarray(0, r.n), o);
      if (out.stale !== null && r.stale !== null) out.stale.set(r.stale.subarray(0, r.n), o);
      o += r.n;
    }
    return out;
  }
  const out: ChunkSamples = { n: 0, t: new Float64Array(total), v: new Float64Array(total), stale: anyStale ? new Uint8Array(total) : null };
  const pos = all.map(() => 0);
  for (;;) {
    let best = -1;
    let bt = Infinity;
    for (let k = 0; k < all.length; k++) {
      const r = all[k]!;
      const p = pos[k]!;
      if (p < r.n && r.t[p]! < bt) { bt = r.t[p]!; best = k; }
    }
    if (best < 0) break;
    const r = all[best]!;
    const p = pos[best]!;
    out.t[out.n] = bt;
    out.v[out.n] = r.v[p]!;
    if (out.stale !== null) out.stale[out.n] = r.stale !== null ? r.stale[p]! : 0;
    out.n++;
    for (let k = 0; k < all.length; k++) {
      const o = all[k]!;
      if (pos[k]! < o.n && o.t[pos[k]!] === bt) pos[k] = pos[k]! + 1;
    }
  }
  return out;
}
