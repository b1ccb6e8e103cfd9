import t from 'tap';
import { decodeChunk, encodeChunk, newChunkSamples } from './chunk.js';

function roundtrip(ts: number[], vs: number[], stale: number[] | null): { t: number[]; v: number[]; stale: number[] | null; bytes: number } {
  const buf = encodeChunk(Float64Array.from(ts), Float64Array.from(vs), stale === null ? null : Uint8Array.from(stale), 0, ts.length);
  const out = decodeChunk(buf, newChunkSamples(1));
  return { t: [...out.t.subarray(0, out.n)], v: [...out.v.subarray(0, out.n)], stale: out.stale === null ? null : [...out.stale.subarray(0, out.n)], bytes: buf.length };
}

t.test('regular timestamps and decimal values round-trip exactly and compactly', async (t) => {
  const ts: number[] = [];
  const vs: number[] = [];
  let c = 1000.25;
  for (let i = 0; i < 5760; i++) { ts.push(1_735_689_600_000 + i * 15_000); c += ((i * 7919) % 13) / 100; vs.push(Math.round(c * 100) / 100); }
  const r = roundtrip(ts, vs, null);
  t.same(r.t, ts);
  t.same(r.v, vs);
  t.ok(r.bytes < 5760 * 0.6, `${r.bytes} bytes for 5760 samples`);
});

t.test('irregular timestamps, page-sized integers, negatives, huge values', async (t) => {
  const cases: number[][] = [
    [4096 * 1000, 4096 * 1003, 4096 * 990, 0, -4096],
    [-1.5, 2.25, -3.125, 1e15, -1e15],
    [0.1, 0.2, 0.30000000000000004, 1 / 3, Math.PI],
    [Number.MAX_VALUE, Number.MIN_VALUE, 5e-324, 1.7976931348623157e308, 0],
    [7, 7, 7, 7, 7],
  ];
  for (const vs of cases) {
    const ts = [0, 1000, 1001, 5000, 5000 + 2 ** 40];
    const r = roundtrip(ts, vs, null);
    t.same(r.t, ts);
    t.ok(r.v.every((x, i) => Object.is(x, vs[i])), `values ${vs.join(',')}`);
  }
});

t.test('NaN, infinities, negative zero and staleness flags', async (t) => {
  const r = roundtrip([1, 2, 3, 4, 5], [NaN, Infinity, -Infinity, -0, 42], [0, 0, 0, 0, 0]);
  t.ok(Number.isNaN(r.v[0]));
  t.same(r.v.slice(1, 3), [Infinity, -Infinity]);
  t.ok(Object.is(r.v[3], -0));
  t.equal(r.stale, null);
  const s = roundtrip([1, 2, 3], [1.5, 0, 2.5], [0, 1, 0]);
  t.same(s.stale, [0, 1, 0]);
  t.same([s.v[0], s.v[2]], [1.5, 2.5]);
  t.ok(Number.isNaN(s.v[1]), 'a stale sample reads back as NaN');
  t.same(roundtrip([], [], null).t, []);
  t.same(roundtrip([5], [1.25], null).v, [1.25]);
});

t.test('jittered scrape timestamps round-trip through the grid coding', async (t) => {
  const ts: number[] = [];
  const vs: number[] = [];
  let seed = 7;
  for (let i = 0; i < 1440; i++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    ts.push(1_704_067_200_000 + i * 15_000 + (seed % 300) - 150);
    vs.push(i);
  }
  const r = roundtrip(ts, vs, null);
  t.same(r.t, ts);
  t.ok(r.bytes < 1440 * 1.5, `${r.bytes} bytes for 1440 jittered samples`);
  const drifting = ts.map((x, i) => x + i * i);
  t.same(roundtrip(drifting, vs, null).t, drifting, 'drifting timestamps use run-length coding');
});

t.test('every byte-plane width and both delta modes round-trip', async (t) => {
  let seed = 11;
  const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let width = 1; width <= 7; width++) {
    const span = 2 ** (8 * width - 2);
    const ts: number[] = [];
    const walk: number[] = [];
    const accel: number[] = [];
    let x = 0;
    let d = 0;
    for (let i = 0; i < 300; i++) {
      ts.push(i * 1000);
      walk.push(Math.round((rnd() - 0.5) * span));
      d += Math.round((rnd() - 0.5) * 8);
      x += d * 1000 + 3;
      accel.push(x);
    }
    t.same(roundtrip(ts, walk, null).v, walk, `random values within ±2^${8 * width - 3}`);
    t.same(roundtrip(ts, accel, null).v, accel, `steady slope (delta-of-delta), width ${width}`);
  }
});
