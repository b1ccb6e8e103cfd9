import type { SelectHints, SeriesData } from './types.js';
import type { ChunkMeta, MemSeries } from './series.js';
import type { ChunkSamples } from './chunk.js';
import { lowerBound, type SampleBuf } from './samplebuf.js';

/** What `selectSeries` needs from the store. */
export interface ChunkReader {
  /**
   * The decoded chunks of `metas` (shared arrays: read only), from the cache or one batched
   * read; null for a chunk that a concurrent flush rewrote or deleted.
   */
  decodedChunks(metas: readonly ChunkMeta[]): Promise<(ChunkSamples | null)[]>;
}

interface Run {
  t: Float64Array;
  v: Float64Array;
  f: Uint8Array | null;
  i: number;
  end: number;
  /** Immutable arrays (a cached chunk): a lone run can be handed out as views. */
  shared: boolean;
}

/** What a series holds for the window, captured in one synchronous step. */
interface Snapshot {
  metas: ChunkMeta[];
  bufs: SampleBuf[];
}

const EMPTY_F64 = new Float64Array(0);

/**
 * The chunks and in-memory parts of a series that overlap the window. Taken synchronously: a
 * flush swaps the catalog and drops the frozen parts in one step, and frozen or replaced heads
 * are never written again, so the snapshot stays consistent across the read that follows.
 */
function snapshot(s: MemSeries, mint: number, maxt: number): Snapshot {
  const metas: ChunkMeta[] = [];
  for (const c of s.chunks) if (c.maxT >= mint && c.minT <= maxt) metas.push(c);
  const bufs: SampleBuf[] = [];
  if (s.frozen !== null) for (const b of s.frozen) if (b.n > 0) bufs.push(b);
  if (s.head.n > 0) bufs.push(s.head);
  if (s.ooo !== null && s.ooo.n > 0) bufs.push(s.ooo);
  return { metas, bufs };
}

/**
 * Merges chunks, frozen and head data of each series into one time-ordered run per series,
 * one sample per timestamp (the earlier source wins: chunks, then frozen, head, out-of-order).
 * The chunks of all series are read with one batched read. A series whose window lies in one
 * chunk gets views of the cached decoded arrays (no copy); otherwise its runs are concatenated
 * when they do not overlap in time, and merged when they do.
 */
export async function selectSeries(
  reader: ChunkReader, series: MemSeries[], mint: number, maxt: number, hints?: SelectHints,
): Promise<SeriesData[]> {
  const limit = hints?.limit !== undefined && hints.limit > 0 ? hints.limit : Infinity;
  if (series.length > limit) series = series.slice(0, limit);
  if (hints?.labelsOnly) return series.map((s) => ({ labels: s.labels, t: EMPTY_F64, v: EMPTY_F64, stale: null }));
  const snaps = series.map((s) => snapshot(s, mint, maxt));
  const all: ChunkMeta[] = [];
  for (const sn of snaps) for (const m of sn.metas) all.push(m);
  const decoded = all.length > 0 ? await reader.decodedChunks(all) : [];
  const out: SeriesData[] = [];
  let k = 0;
  for (let i = 0; i < series.length; i++) {
    const s = series[i]!;
    let sn = snaps[i]!;
    let chunks = decoded.slice(k, k + sn.metas.length);
    k += sn.metas.length;
    // A flush rewrote some of these chunks meanwhile: take a new snapshot of this series.
    for (let tries = 0; chunks.includes(null) && tries < 5; tries++) {
      sn = snapshot(s, mint, maxt);
      chunks = await reader.decodedChunks(sn.metas);
    }
    const d = assemble(chunks, sn.bufs, mint, maxt);
    if (d !== null) out.push({ labels: s.labels, t: d.t, v: d.v, stale: d.stale });
  }
  return out;
}

function assemble(
  chunks: readonly (ChunkSamples | null)[], bufs: readonly SampleBuf[], mint: number, maxt: number,
): { t: Float64Array; v: Float64Array; stale: Uint8Array | null } | null {
  const runs: Run[] = [];
  for (const c of chunks) {
    if (c === null) continue;
    const a = lowerBound(c.t, c.n, mint);
    const b = lowerBound(c.t, c.n, maxt + 1);
    if (b > a) runs.push({ t: c.t, v: c.v, f: c.stale, i: a, end: b, shared: true });
  }
  for (const buf of bufs) {
    const a = lowerBound(buf.t, buf.n, mint);
    const b = lowerBound(buf.t, buf.n, maxt + 1);
    if (b > a) runs.push({ t: buf.t, v: buf.v, f: buf.f, i: a, end: b, shared: false });
  }
  if (runs.length === 0) return null;
  if (runs.length === 1 && runs[0]!.shared) {
    const r = runs[0]!;
    return { t: r.t.subarray(r.i, r.end), v: r.v.subarray(r.i, r.end), stale: staleView(r) };
  }
  // Runs that follow each other in time (chunks never overlap; the head is usually newer)
  // concatenate; only out-of-order data overlapping another run needs the merge.
  const ordered = runs.slice().sort((x, y) => x.t[x.i]! - y.t[y.i]!);
  let disjoint = true;
  for (let k = 1; k < ordered.length && disjoint; k++) {
    const p = ordered[k - 1]!;
    if (p.t[p.end - 1]! >= ordered[k]!.t[ordered[k]!.i]!) disjoint = false;
  }
  return disjoint ? concatRuns(ordered) : mergeRuns(runs);
}

function staleView(r: Run): Uint8Array | null {
  if (r.f === null) return null;
  for (let i = r.i; i < r.end; i++) if (r.f[i] === 1) return r.f.subarray(r.i, r.end);
  return null;
}

function anyStale(runs: readonly Run[]): boolean {
  for (const r of runs) if (r.f !== null) for (let i = r.i; i < r.end; i++) if (r.f[i] === 1) return true;
  return false;
}

function concatRuns(runs: readonly Run[]): { t: Float64Array; v: Float64Array; stale: Uint8Array | null } {
  let total = 0;
  for (const r of runs) total += r.end - r.i;
  const t = new Float64Array(total);
  const v = new Float64Array(total);
  const f = anyStale(runs) ? new Uint8Array(total) : null;
  let n = 0;
  for (const r of runs) {
    t.set(r.t.subarray(r.i, r.end), n);
    v.set(r.v.subarray(r.i, r.end), n);
    if (f !== null && r.f !== null) f.set(r.f.subarray(r.i, r.end), n);
    n += r.end - r.i;
  }
  return { t, v, stale: f };
}

/** Merges overlapping runs; on equal timestamps the run listed first (by source order) wins. */
function mergeRuns(runs: Run[]): { t: Float64Array; v: Float64Array; stale: Uint8Array | null } {
  let total = 0;
  for (const r of runs) total += r.end - r.i;
  let t = new Float64Array(total);
  let v = new Float64Array(total);
  let f: Uint8Array | null = anyStale(runs) ? new Uint8Array(total) : null;
  let n = 0;
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
