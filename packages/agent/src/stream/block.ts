/**
 * The streamer's block format (what it stores in the opaque buffer): the groups of one
 * `write()`, with agent-local series ids and raw float64 values.
 *
 *   block := u8 version(1) · uvarint groups · group*
 *   group := f64 t · uvarint n · uvarint id × n · f64 value × n · u8 hasStale · (u8 stale × n)?
 */
import { ByteReader, ByteWriter, type Group } from '@vigil/common';
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
