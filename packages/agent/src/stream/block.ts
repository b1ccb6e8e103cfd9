/**
 * The streamer's block format (what it stores in the opaque buffer): the groups of one
 * `write()`, with agent-local series ids and raw float64 values.
 *
 *   block := u8 version(1) · uvarint groups · group*
 *   group := f64 t · uvarint n · uvarint id × n · f64 value × n · u8 hasStale · (u8 stale × n)?
 */
import { ByteReader, ByteWriter, type Group, type Sample } from '@vigil/common';
import type { SampleBatch } from '../sink.js';
import type { SeriesRegistry } from './registry.js';

const w = new ByteWriter(64 * 1024);

export function encodeBlock(groups: readonly Group[]): Uint8Array {
  w.reset();
  w.u8(1);
  w.uvarint(groups.length);
  for (const g of groups) {
    w.f64(g.t);
    w.uvarint(g.ids.length);
    for (let i = 0; i < g.ids.length; i++) w.uvarint(g.ids[i]!);
    w.ensure(g.values.length * 8);
    for (let i = 0; i < g.values.length; i++) w.f64(g.values[i]!);
    if (g.stale) {
      w.u8(1);
      w.bytes(g.stale);
    } else w.u8(0);
  }
  return w.finish();
}

export function decodeBlock(data: Uint8Array): Group[] {
  const r = new ByteReader(data);
  const version = r.u8();
  if (version !== 1) throw new Error(`cannot decode buffer block: unknown version ${version}`);
  const n = r.uvarint();
  const out: Group[] = [];
  for (let gi = 0; gi < n; gi++) {
    const t = r.f64();
    const len = r.uvarint();
    const ids = new Int32Array(len);
    for (let i = 0; i < len; i++) ids[i] = r.uvarint();
    const values = new Float64Array(len);
    for (let i = 0; i < len; i++) values[i] = r.f64();
    const stale = r.u8() === 1 ? r.bytes(len).slice() : null;
    out.push({ t, ids, values, stale });
  }
  return out;
}

/**
 * A batch's samples as groups, one per timestamp in first-seen order, with the registry's ids of
 * its series handles. A scrape usually has one timestamp: then the columns are copied as they are.
 */
export function groupBatch(batch: SampleBatch, series: SeriesRegistry): Group[] {
  const n = batch.length;
  const ts = batch.t;
  const t0 = ts[0]!;
  let single = true;
  for (let i = 1; i < n; i++) if (ts[i] !== t0) { single = false; break; }
  if (single) {
    const ids = new Int32Array(n);
    for (let i = 0; i < n; i++) ids[i] = series.idOf(batch.refs[i]!);
    const values = batch.v.slice(0, n);
    let stale: Uint8Array | null = null;
    if (batch.staleCount > 0) {
      stale = batch.stale.slice(0, n);
      for (let i = 0; i < n; i++) if (stale[i]) values[i] = 0;
    }
    return [{ t: t0, ids, values, stale }];
  }
  const byT = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    let idx = byT.get(ts[i]!);
    if (!idx) byT.set(ts[i]!, idx = []);
    idx.push(i);
  }
  const groups: Group[] = [];
  for (const [t, idx] of byT) {
    const m = idx.length;
    const ids = new Int32Array(m);
    const values = new Float64Array(m);
    let stale: Uint8Array | null = null;
    for (let j = 0; j < m; j++) {
      const i = idx[j]!;
      ids[j] = series.idOf(batch.refs[i]!);
      if (batch.stale[i]) (stale ??= new Uint8Array(m))[j] = 1;
      else values[j] = batch.v[i]!;
    }
    groups.push({ t, ids, values, stale });
  }
  return groups;
}

/** One group per timestamp, in first-seen order; a scrape usually has one timestamp (no map then). */
export function groupSamples(samples: readonly Sample[], series: SeriesRegistry): Group[] {
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
      ids[i] = series.idFor(s.labels);
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
    g.ids.push(series.idFor(s.labels));
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
