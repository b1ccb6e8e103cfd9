import type { SelectHints, SeriesData } from './types.js';
import type { MemSeries } from './series.js';
import { decodeChunk, newChunkSamples, type ChunkSamples } from './chunk.js';
import type { ChunkMeta } from './series.js';
import type { SampleBuf } from './samplebuf.js';

/** What `selectSeries` needs from the store. */
export interface ChunkReader {
  readChunkBytes(s: MemSeries, metas: readonly ChunkMeta[]): Promise<Uint8Array[]>;
}

/** Chunks are decoded one at a time into these reused arrays, then only the window is copied. */
const scratch: ChunkSamples = newChunkSamples(4096);

interface Run {
  t: Float64Array;
  v: Float64Array;
  f: Uint8Array | null;
  i: number;
  end: number;
}

const EMPTY_F64 = new Float64Array(0);

function lowerBound(t: Float64Array, n: number, x: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (t[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function runOf(t: Float64Array, v: Float64Array, f: Uint8Array | null, n: number, mint: number, maxt: number): Run | null {
  const i = lowerBound(t, n, mint);
  const end = lowerBound(t, n, maxt + 1);
  return end > i ? { t, v, f, i, end } : null;
}

/**
 * Merges chunks, frozen and head data of each series into one time-ordered run per series,
 * one sample per timestamp (the earlier source wins: chunks, then frozen, head, out-of-order).
 */
export async function selectSeries(
  reader: ChunkReader, series: MemSeries[], mint: number, maxt: number, hints?: SelectHints,
): Promise<SeriesData[]> {
  const out: SeriesData[] = [];
  const limit = hints?.limit !== undefined && hints.limit > 0 ? hints.limit : Infinity;
  for (const s of series) {
    if (out.length >= limit) break;
    if (hints?.labelsOnly) {
      out.push({ labels: s.labels, t: EMPTY_F64, v: EMPTY_F64, stale: null });
      continue;
    }
    const runs: Run[] = [];
    const metas = s.chunks.filter((c) => c.maxT >= mint && c.minT <= maxt);
    if (metas.length > 0) {
      // Chunks of a series never overlap: their windows concatenate into one run.
      let cap = 0;
      for (const c of metas) cap += c.count;
      const run: Run = { t: new Float64Array(cap), v: new Float64Array(cap), f: null, i: 0, end: 0 };
      for (const bytes of await reader.readChunkBytes(s, metas)) {
        const c = decodeChunk(bytes, scratch);
        const a = lowerBound(c.t, c.n, mint);
        const b = lowerBound(c.t, c.n, maxt + 1);
        if (b <= a) continue;
        if (run.end + (b - a) > run.t.length) {
          // The catalog changed under a concurrent flush: grow.
          cap = (run.end + (b - a)) * 2;
          const t = new Float64Array(cap); t.set(run.t.subarray(0, run.end)); run.t = t;
          const v = new Float64Array(cap); v.set(run.v.subarray(0, run.end)); run.v = v;
          if (run.f !== null) { const f = new Uint8Array(cap); f.set(run.f.subarray(0, run.end)); run.f = f; }
        }
        run.t.set(c.t.subarray(a, b), run.end);
        run.v.set(c.v.subarray(a, b), run.end);
        if (c.stale !== null) {
          run.f ??= new Uint8Array(cap);
          run.f.set(c.stale.subarray(a, b), run.end);
        }
        run.end += b - a;
      }
      if (run.end > 0) runs.push(run);
    }
    const bufs: (SampleBuf | null)[] = [...(s.frozen ?? []), s.head, s.ooo];
    for (const b of bufs) {
      if (b === null || b.n === 0) continue;
      const r = runOf(b.t, b.v, b.f, b.n, mint, maxt);
      if (r !== null) runs.push(r);
    }
    const d = mergeRuns(runs);
    if (d.t.length > 0) out.push({ labels: s.labels, t: d.t, v: d.v, stale: d.stale });
  }
  return out;
}

function mergeRuns(runs: Run[]): { t: Float64Array; v: Float64Array; stale: Uint8Array | null } {
  let total = 0;
  let anyStale = false;
  for (const r of runs) {
    total += r.end - r.i;
    if (r.f !== null) for (let i = r.i; i < r.end; i++) if (r.f[i] === 1) { anyStale = true; break; }
  }
  let t = new Float64Array(total);
  let v = new Float64Array(total);
  let f: Uint8Array | null = anyStale ? new Uint8Array(total) : null;
  let n = 0;
  if (runs.length === 1) {
    const r = runs[0]!;
    t.set(r.t.subarray(r.i, r.end));
    v.set(r.v.subarray(r.i, r.end));
    if (f !== null) f.set(r.f!.subarray(r.i, r.end));
    return { t, v, stale: f };
  }
  for (;;) {
    let best = -1;
    let bt = Infinity;
    for (let k = 0; k < runs.length; k++) {
      const r = runs[k]!;
      if (r.i < r.end && r.t[r.i]! < bt) { bt = r.t[r.i]!; best = k; }
    }
    if (best < 0) break;
    const r = runs[best]!;
    t[n] = bt;
    v[n] = r.v[r.i]!;
    if (f !== null) f[n] = r.f !== null ? r.f[r.i]! : 0;
    n++;
    for (const o of runs) if (o.i < o.end && o.t[o.i] === bt) o.i++;
  }
  if (n < total) {
    t = t.slice(0, n);
    v = v.slice(0, n);
    if (f !== null) f = f.slice(0, n);
  }
  return { t, v, stale: f };
}
