import { MAX_TIME_MS, dropEmpty, labelsKey, silentLogger, VigilError, type Labels, type Logger, type Matcher, type MetricMetadata } from '@vigil/common';
import type { AppendStats, Appender, Querier, Storage, StorageStats, TsdbStatus } from './types.js';
import { MemSeries, SeriesIndex, type ChunkMeta } from './series.js';
import { SampleBuf } from './samplebuf.js';
import { BatchPool, type Batch } from './head_batch.js';
import { EngineAppender } from './head_append.js';
import { FOUND_STALE, NOT_FOUND, SampleLookup } from './head_lookup.js';
import { WalEncoder } from './wal.js';
import { decodeChunk, newChunkSamples, type ChunkSamples } from './chunk.js';
import { headQuerier } from './head_read.js';
import { ChunkCache } from './cache.js';
import { tsdbStatus } from './status.js';

export interface StorageLimits {
  maxLabelsPerSeries?: number;
  maxLabelNameLength?: number;
  maxLabelValueLength?: number;
}

export interface EngineOptions {
  /** Samples older than the newest sample minus this are rejected and deleted (default 15 days). */
  retentionMs?: number;
  retentionBytes?: number;
  /**
   * Samples more than this ahead of the wall clock are refused (default 10 minutes): a skewed
   * clock or a corrupt timestamp must never move retention, which is measured from the newest sample.
   */
  maxFutureMs?: number;
  /** Wall clock (ms); tests pass a fake one. */
  now?: () => number;
  /** Bound of the decoded-chunk cache in bytes (default 256 MiB; 0 disables it). */
  chunkCacheBytes?: number;
  logger?: Logger;
  limits?: StorageLimits;
}

export const DEFAULT_RETENTION_MS = 15 * 24 * 3600 * 1000;
export const DEFAULT_MAX_FUTURE_MS = 10 * 60 * 1000;

export const DEFAULT_CHUNK_CACHE_BYTES = 256 * 1024 * 1024;

/** A series that breaks a configured limit. */
export class StorageLimitError extends VigilError {
  constructor(readonly reason: string, message: string) {
    super('ERR_STORAGE_LIMIT', message);
  }
}

interface MetadataEntry { type: string; help: string; unit: string }

interface Pending { batch: Batch; resolve: (s: AppendStats) => void; reject: (e: unknown) => void }

/**
 * The storage semantics shared by the in-memory and the LevelDB store: series registry, head,
 * duplicate and out-of-order handling, group commit, queries, status. Subclasses add durability.
 */
export abstract class Engine implements Storage {
  readonly index = new SeriesIndex();
  private readonly lookup = new SampleLookup(this.index, (metas) => this.decodedChunks(metas));
  protected readonly logger: Logger;
  protected readonly retentionMs: number;
  protected readonly retentionBytes: number;
  protected readonly maxFutureMs: number;
  protected readonly now: () => number;
  protected readonly limits: Required<StorageLimits>;
  protected readonly chunkCache: ChunkCache;
  protected nextId = 1;
  /** Samples in head and out-of-order buffers since the last flush froze them (bounds memory). */
  protected headSamples = 0;
  /** Newest sample in the store: retention is measured back from it. */
  protected maxT = -Infinity;
  protected readonly counters = { samplesAppended: 0, duplicates: 0, conflicts: 0, rejected: 0, commits: 0, flushes: 0 };
  protected readonly metadataMap = new Map<string, MetadataEntry[]>();
  protected metadataDirty = new Set<string>();
  protected closed = false;
  private queue: Pending[] = [];
  private running = false;
  private lockTail: Promise<unknown> = Promise.resolve();
  private readonly enc = new WalEncoder();
  private readonly batches = new BatchPool();

  constructor(opts: EngineOptions) {
    this.logger = (opts.logger ?? silentLogger).child({ component: 'storage' });
    this.retentionMs = opts.retentionMs ?? DEFAULT_RETENTION_MS;
    this.retentionBytes = opts.retentionBytes ?? 0;
    this.maxFutureMs = opts.maxFutureMs ?? DEFAULT_MAX_FUTURE_MS;
    this.now = opts.now ?? Date.now;
    this.chunkCache = new ChunkCache(opts.chunkCacheBytes ?? DEFAULT_CHUNK_CACHE_BYTES);
    this.limits = {
      maxLabelsPerSeries: opts.limits?.maxLabelsPerSeries ?? 64,
      maxLabelNameLength: opts.limits?.maxLabelNameLength ?? 1024,
      maxLabelValueLength: opts.limits?.maxLabelValueLength ?? 4096,
    };
  }

  /** Makes the samples of a commit group durable (WAL write + fsync); no-op in memory. */
  protected abstract durable(data: Uint8Array): Promise<void>;
  /** The encoded chunks (one batched read), undefined for a chunk no longer stored; the in-memory store has none. */
  protected abstract readChunkValues(metas: readonly ChunkMeta[]): Promise<(Uint8Array | undefined)[]>;

  /**
   * Decoded chunks (shared arrays: read only) from the cache, the others read with one batched
   * read, decoded and cached; null for a chunk that a concurrent flush rewrote or deleted.
   */
  async decodedChunks(metas: readonly ChunkMeta[], cache = true): Promise<(ChunkSamples | null)[]> {
    const out: (ChunkSamples | null)[] = new Array(metas.length);
    let miss: ChunkMeta[] | null = null;
    let missAt: number[] | null = null;
    for (let i = 0; i < metas.length; i++) {
      const m = metas[i]!;
      const c = this.chunkCache.get(m);
      if (c !== undefined) out[i] = c;
      else { (miss ??= []).push(m); (missAt ??= []).push(i); }
    }
    if (miss === null || missAt === null) return out;
    const values = await this.readChunkValues(miss);
    for (let k = 0; k < miss.length; k++) {
      const b = values[k];
      const m = miss[k]!;
      if (b === undefined) { out[missAt[k]!] = null; continue; }
      const c = decodeChunk(b, newChunkSamples(m.count));
      if (cache) this.chunkCache.put(m, c);
      out[missAt[k]!] = c;
    }
    return out;
  }

  /**
   * Decoded chunks of a series that are in its catalog and not being rewritten (shared arrays:
   * read only); `cache` false for chunks about to be replaced (a flush merging into them).
   */
  async readChunks(s: MemSeries, metas: readonly ChunkMeta[], cache = true): Promise<ChunkSamples[]> {
    const out = await this.decodedChunks(metas, cache);
    if (out.includes(null)) throw new VigilError('ERR_STORAGE_CHUNK', `cannot read chunks of series ${s.id}: a chunk of the catalog is missing`);
    return out as ChunkSamples[];
  }
  abstract flush(): Promise<void>;
  abstract close(): Promise<void>;

  /** Runs `fn` exclusively with commit groups and other exclusive sections. */
  protected exclusive<T>(fn: () => Promise<T> | T): Promise<T> {
    const run = this.lockTail.then(fn, fn);
    this.lockTail = run.catch(() => undefined);
    return run;
  }

  appender(): Appender {
    return new EngineAppender(this);
  }

  /** The series of a label set, created (invisible until committed) when new; or a reject reason. */
  seriesFor(input: Labels): MemSeries | string {
    const labels = dropEmpty(input);
    const key = labelsKey(labels);
    const s = this.index.byKey.get(key);
    if (s !== undefined) return s;
    const err = this.checkLimits(labels);
    if (err !== null) return err.reason;
    return this.index.create(this.nextId++, { ...labels }, key);
  }

  /** The limit a label set breaks, or null. */
  checkLimits(labels: Labels): StorageLimitError | null {
    let n = 0;
    for (const name in labels) {
      n++;
      if (name.length > this.limits.maxLabelNameLength) {
        return new StorageLimitError('label_name_too_long', `cannot store series (label name length ${name.length} > ${this.limits.maxLabelNameLength}): label name too long`);
      }
      if (labels[name]!.length > this.limits.maxLabelValueLength) {
        return new StorageLimitError('label_value_too_long', `cannot store series (label ${name} value length ${labels[name]!.length} > ${this.limits.maxLabelValueLength}): label value too long`);
      }
    }
    if (n > this.limits.maxLabelsPerSeries) {
      return new StorageLimitError('too_many_labels', `cannot store series (${n} labels > ${this.limits.maxLabelsPerSeries}): too many labels`);
    }
    return null;
  }

  takeBatch(): Batch {
    return this.batches.take();
  }

  releaseBatch(b: Batch): void {
    this.batches.release(b);
  }

  enqueue(batch: Batch): Promise<AppendStats> {
    if (this.closed) return Promise.reject(new VigilError('ERR_STORAGE_CLOSED', 'cannot commit samples: storage is closed'));
    return new Promise<AppendStats>((resolve, reject) => {
      this.queue.push({ batch, resolve, reject });
      if (!this.running) void this.runQueue();
    });
  }

  private async runQueue(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0) {
        const group = this.queue.splice(0);
        try {
          const stats = await this.exclusive(() => this.commitGroup(group));
          for (let i = 0; i < group.length; i++) group[i]!.resolve(stats[i]!);
        } catch (err) {
          for (const p of group) p.reject(err);
        }
      }
    } finally {
      this.running = false;
    }
  }

  private async commitGroup(group: Pending[]): Promise<AppendStats[]> {
    const enc = this.enc;
    enc.reset();
    const out: AppendStats[] = [];
    for (const p of group) {
      const b = p.batch;
      const stats: AppendStats = { appended: 0, duplicates: 0, conflicts: 0, rejected: b.rejected, newSeries: 0 };
      if (b.reasons !== null) stats.rejectReasons = { ...b.reasons };
      this.counters.rejected += b.rejected;
      await this.applySamples(b.ids, b.t, b.v, b.f, b.n, stats, enc);
      out.push(stats);
      this.releaseBatch(b);
    }
    if (!enc.empty) await this.durable(enc.finish());
    this.counters.commits++;
    return out;
  }

  /**
   * Applies samples to the head with duplicate/conflict/retention checks and logs the accepted
   * ones to `enc` as one columnar record: accepted samples are compacted to the front of the
   * arrays in place (they are the caller's batch or replay buffers), so logging is four copies.
   */
  protected async applySamples(
    ids: Uint32Array, ts: Float64Array, vs: Float64Array, fl: Uint8Array, n: number, stats: AppendStats, enc: WalEncoder | null,
  ): Promise<void> {
    const disk = await this.lookup.diskSamples(ids, ts, n);
    const index = this.index;
    const wall = this.now();
    // Retention is measured back from the newest sample, but never from a time ahead of the wall clock.
    const horizon = Math.min(MAX_TIME_MS, wall + this.maxFutureMs);
    let maxT = this.maxT;
    let minT = Math.min(maxT, wall) - this.retentionMs;
    let j = 0;
    let duplicates = 0;
    let conflicts = 0;
    for (let i = 0; i < n; i++) {
      const id = ids[i]!;
      const s = index.get(id);
      if (s === undefined) { this.rejectSample(stats, 'series_removed'); continue; }
      const t = ts[i]!;
      const v = vs[i]!;
      const flag = fl[i]!;
      if (!(t <= horizon)) { this.rejectSample(stats, t !== t ? 'invalid_timestamp' : 'too_far_in_future'); continue; }
      // Checked on its own: an empty store has no retention bound (minT is -Infinity).
      if (t < -MAX_TIME_MS) { this.rejectSample(stats, 'invalid_timestamp'); continue; }
      if (t < minT) { this.rejectSample(stats, 'too_old'); continue; }
      if (!s.committed) {
        index.commit(s);
        enc?.series(s.id, s.labels);
        stats.newSeries++;
      }
      if (t > s.lastT) {
        s.head.add(t, v, flag === 1);
        s.lastT = t;
        if (t < s.minT) s.minT = t;
      } else {
        const k = this.lookup.find(s, t, disk);
        if (k !== NOT_FOUND) {
          if ((k === FOUND_STALE) === (flag === 1) && (flag === 1 || Object.is(this.lookup.value, v))) duplicates++;
          else conflicts++;
          continue;
        }
        (s.ooo ??= new SampleBuf(8)).add(t, v, flag === 1);
        if (t < s.minT) s.minT = t;
      }
      if (t > maxT) { maxT = t; minT = Math.min(t, wall) - this.retentionMs; }
      if (j !== i) { ids[j] = id; ts[j] = t; vs[j] = v; fl[j] = flag; }
      j++;
    }
    this.maxT = maxT;
    this.headSamples += j;
    stats.appended += j;
    stats.duplicates += duplicates;
    stats.conflicts += conflicts;
    this.counters.samplesAppended += j;
    this.counters.duplicates += duplicates;
    this.counters.conflicts += conflicts;
    enc?.columns(ids, ts, vs, fl, j);
  }

  private rejectSample(stats: AppendStats, reason: string): void {
    stats.rejected++;
    this.counters.rejected++;
    (stats.rejectReasons ??= {})[reason] = (stats.rejectReasons[reason] ?? 0) + 1;
  }

  async querier(mint: number, maxt: number): Promise<Querier> {
    return headQuerier(this, mint, maxt);
  }

  setMetadata(items: readonly MetricMetadata[]): void {
    for (const m of items) {
      const list = this.metadataMap.get(m.metric);
      const entry = { type: m.type, help: m.help, unit: m.unit };
      if (list === undefined) this.metadataMap.set(m.metric, [entry]);
      else if (list.some((e) => e.type === m.type && e.help === m.help && e.unit === m.unit)) continue;
      else if (list.length < 10) list.push(entry);
      else continue;
      this.metadataDirty.add(m.metric);
    }
  }

  async metadata(metric?: string, limit?: number): Promise<Record<string, { type: string; help: string; unit: string }[]>> {
    const out: Record<string, MetadataEntry[]> = {};
    let n = 0;
    for (const [name, list] of this.metadataMap) {
      if (metric !== undefined && metric !== '' && name !== metric) continue;
      if (limit !== undefined && limit >= 0 && n >= limit) break;
      out[name] = list.map((e) => ({ ...e }));
      n++;
    }
    return out;
  }

  async status(limit = 10): Promise<TsdbStatus> {
    return tsdbStatus(this.index, limit, this.storeMinT(), this.maxT, this.chunkCount());
  }

  protected storeMinT(): number {
    let min = Infinity;
    for (const s of this.index.all()) if (s.committed && s.minT < min) min = s.minT;
    return min;
  }

  protected chunkCount(): number {
    let n = 0;
    for (const s of this.index.all()) n += s.chunks.length + (s.head.n > 0 ? 1 : 0);
    return n;
  }

  stats(): StorageStats {
    let headSeries = 0;
    let headSamples = 0;
    let chunks = 0;
    let chunkBytes = 0;
    for (const s of this.index.all()) {
      if (!s.committed) continue;
      const hn = s.head.n + (s.ooo?.n ?? 0);
      if (hn > 0) { headSeries++; headSamples += hn; }
      chunks += s.chunks.length;
      for (const c of s.chunks) chunkBytes += c.bytes;
    }
    return {
      samplesAppended: this.counters.samplesAppended,
      duplicates: this.counters.duplicates,
      conflicts: this.counters.conflicts,
      rejected: this.counters.rejected,
      seriesActive: this.index.count,
      headSeries,
      headSamples,
      commits: this.counters.commits,
      walBytes: this.walBytes(),
      flushes: this.counters.flushes,
      chunks,
      chunkBytes,
      minTime: this.storeMinT(),
      maxTime: this.maxT,
      chunkCacheBytes: this.chunkCache.bytes,
      chunkCacheHits: this.chunkCache.hits,
      chunkCacheMisses: this.chunkCache.misses,
    };
  }

  protected walBytes(): number {
    return 0;
  }

  /** Retention cut-off: samples before it are dropped. */
  protected cutoff(): number {
    return Math.min(this.maxT, this.now()) - this.retentionMs;
  }
}
