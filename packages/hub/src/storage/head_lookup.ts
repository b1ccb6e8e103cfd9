/**
 * Duplicate checks of the head: whether a series already holds a sample at a time, in memory
 * (head, out-of-order buffer, frozen parts) or on disk (the chunks a commit's times fall into).
 */
import type { ChunkMeta, MemSeries, SeriesIndex } from './series.js';
import type { ChunkSamples } from './chunk.js';
import type { SampleBuf } from './samplebuf.js';

export const NOT_FOUND = 0;
export const FOUND = 1;
export const FOUND_STALE = 2;

/** Decoded chunks of a set of chunk metas; null for a chunk a concurrent flush replaced. */
export type DecodeChunks = (metas: readonly ChunkMeta[]) => Promise<(ChunkSamples | null)[]>;

/** Finds stored samples; `value` holds the value of the sample the last lookup found. */
export class SampleLookup {
  /** Value of the sample the last `find` found (valid when it returned FOUND or FOUND_STALE). */
  value = 0;

  constructor(private readonly index: SeriesIndex, private readonly decodedChunks: DecodeChunks) {}

  /** Loads the persisted samples of the series that `t` values fall into (duplicate checks). */
  async diskSamples(ids: Uint32Array, t: Float64Array, n: number): Promise<Map<MemSeries, ChunkSamples[]> | null> {
    let need: Map<MemSeries, [number, number]> | null = null;
    for (let i = 0; i < n; i++) {
      const s = this.index.get(ids[i]!);
      if (s === undefined || s.chunks.length === 0) continue;
      const x = t[i]!;
      if (x > s.diskMaxT || x < s.diskMinT) continue;
      need ??= new Map();
      const r = need.get(s);
      if (r === undefined) need.set(s, [x, x]);
      else { if (x < r[0]) r[0] = x; if (x > r[1]) r[1] = x; }
    }
    if (need === null) return null;
    const out = new Map<MemSeries, ChunkSamples[]>();
    for (const [s, [lo, hi]] of need) {
      // Retried when a background flush swaps the catalog during the read.
      for (let tries = 0; ; tries++) {
        const metas = s.chunks.filter((c) => c.maxT >= lo && c.minT <= hi);
        const chunks = await this.decodedChunks(metas);
        if (!chunks.includes(null) || tries >= 5) {
          out.set(s, chunks.filter((c): c is ChunkSamples => c !== null));
          break;
        }
      }
    }
    return out;
  }

  /** Looks `t` up in a sorted buffer (range check first). */
  private findIn(b: SampleBuf, t: number): number {
    const i = b.find(t);
    if (i < 0) return NOT_FOUND;
    this.value = b.v[i]!;
    return b.isStale(i) ? FOUND_STALE : FOUND;
  }

  /**
   * Whether the series holds a sample at `t` (head, out-of-order buffer, frozen parts, or the
   * decoded chunks in `disk`): NOT_FOUND, FOUND or FOUND_STALE, with its value in `value`.
   * Each source is skipped by its time range first, so a backfilled sample that is older than
   * the head and newer than the out-of-order buffer costs a few comparisons.
   */
  find(s: MemSeries, t: number, disk: Map<MemSeries, ChunkSamples[]> | null): number {
    const bufs = s.frozen;
    let r = this.findIn(s.head, t);
    if (r === NOT_FOUND && s.ooo !== null) r = this.findIn(s.ooo, t);
    if (r === NOT_FOUND && bufs !== null) for (let k = 0; k < bufs.length && r === NOT_FOUND; k++) r = this.findIn(bufs[k]!, t);
    if (r !== NOT_FOUND) return r;
    if (disk === null) return NOT_FOUND;
    const chunks = disk.get(s);
    if (chunks === undefined) return NOT_FOUND;
    for (const c of chunks) {
      let lo = 0;
      let hi = c.n - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >>> 1;
        const x = c.t[mid]!;
        if (x === t) {
          this.value = c.v[mid]!;
          return c.stale !== null && c.stale[mid] === 1 ? FOUND_STALE : FOUND;
        }
        if (x < t) lo = mid + 1;
        else hi = mid - 1;
      }
    }
    return NOT_FOUND;
  }
}
