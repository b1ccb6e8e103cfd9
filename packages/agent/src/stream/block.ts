/**
 * The streamer's block format (what it stores in the opaque buffer): the groups of one
 * `write()`, with agent-local series ids and raw float64 values.
 *
 *   block := u8 version(1) · uvarint groups · group*
 *   group := f64 t · uvarint n · uvarint id × n · f64 value × n · u8 hasStale · (u8 stale × n)?
 */
import { ByteReader, ByteWriter, type Group } from '@vigil/common';

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
