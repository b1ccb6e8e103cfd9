import t from 'tap';
import { LaneDecoder, LaneEncoder, type Group } from './columns.js';
import { decodeAgentMessage, decodeHubMessage, encodeMessage } from './codec.js';
import { RangeSet } from './ranges.js';
import { ByteReader, ByteWriter, WireError } from './bytes.js';

function group(t: number, ids: number[], values: number[], stale?: number[]): Group {
  return { t, ids: Int32Array.from(ids), values: Float64Array.from(values), stale: stale ? Uint8Array.from(stale) : null };
}

t.test('varints round-trip up to 2^53', async (t) => {
  const w = new ByteWriter(4);
  const xs = [0, 1, 127, 128, 300, 2 ** 31 - 1, 2 ** 31, 2 ** 40 + 5, 2 ** 53];
  for (const x of xs) w.uvarint(x);
  const sx = [0, -1, 1, -(2 ** 40), 2 ** 45 + 3, -(2 ** 52)];
  for (const x of sx) w.svarint(x);
  const r = new ByteReader(w.finish());
  for (const x of xs) t.equal(r.uvarint(), x);
  for (const x of sx) t.equal(r.svarint(), x);
  t.throws(() => r.u8(), WireError);
});

t.test('lane codec round-trips values, staleness and id lists exactly', async (t) => {
  const enc = new LaneEncoder();
  const dec = new LaneDecoder();
  const specials = [0, 1.5, -3.25, 1e-9, 123456789.123, NaN, Infinity, -Infinity, 0.1 + 0.2, Math.PI, 2 ** 60, -0, 1e300];
  for (let round = 0; round < 5; round++) {
    const groups = [
      group(1000 + round * 15000, [1, 2, 3, 4], [round, round * 0.5, 100 - round, specials[round]!], [0, 0, round === 2 ? 1 : 0, 0]),
      group(1000 + round * 15000, [7, 5, 9], [specials[round + 5]!, specials[round + 8]!, round * 1e6]),
    ];
    const { body, reset, samples } = enc.encode([groups, [group(5, [2], [42])]]);
    t.equal(reset, round === 0);
    t.equal(samples, 8);
    const d = dec.decode(body, samples, 100);
    t.same(Array.from(d.blockEnds), [7, 8]);
    const all = [...groups, group(5, [2], [42])];
    let k = 0;
    for (const g of all) {
      for (let i = 0; i < g.ids.length; i++, k++) {
        t.equal(d.ids[k], g.ids[i]);
        t.equal(d.t[k], g.t);
        if (g.stale?.[i]) t.equal(d.stale[k], 1);
        else t.ok(Object.is(d.v[k], g.values[i]), `value ${g.values[i]} round ${round}`);
      }
    }
  }
});

t.test('repeated scrapes cost about one byte per sample before compression', async (t) => {
  const enc = new LaneEncoder();
  const ids = Int32Array.from({ length: 1000 }, (_, i) => i);
  let bytes = 0;
  for (let s = 0; s < 10; s++) {
    const values = Float64Array.from(ids, (i) => (i % 2 ? 500 : i * 10 + s * (i % 7)));
    const { body } = enc.encode([[{ t: s * 15000, ids, values, stale: null }]]);
    if (s > 0) bytes += body.length;
  }
  t.ok(bytes / 9000 < 1.6, `${bytes / 9000} bytes/sample`);
});

t.test('decoder rejects unknown ids, bad tags and truncation', async (t) => {
  const enc = new LaneEncoder();
  const { body } = enc.encode([[group(1, [1, 2], [1, 2])]]);
  t.throws(() => new LaneDecoder().decode(body, 2, 2), /series id 2 is not defined/);
  t.throws(() => new LaneDecoder().decode(body.subarray(0, body.length - 1), 2, 10), WireError);
  t.throws(() => new LaneDecoder().decode(body, 3, 10), /announced/);
  const bad = body.slice();
  bad[bad.length - 6] = 99; // first tag (payload is 2 × [scale, value])
  t.throws(() => new LaneDecoder().decode(bad, 2, 10), WireError);
});

t.test('messages round-trip and are validated', async (t) => {
  const b = encodeMessage({ type: 'batch', lane: 1, reset: true, seqs: [3, 4], samples: 2, body: new Uint8Array([1, 2]) });
  const m = decodeAgentMessage(b);
  t.equal(m.type, 'batch');
  if (m.type === 'batch') t.same(Array.from(m.body), [1, 2]);
  t.throws(() => decodeAgentMessage(encodeMessage({ type: 'ack', seqs: [1], samples: 1, duplicates: 0 })), /unknown type/);
  t.throws(() => decodeAgentMessage(new Uint8Array([0xc1])), WireError);
  t.throws(() => decodeAgentMessage(encodeMessage({ type: 'batch', lane: 3 } as never)), /lane/);
  const w = decodeHubMessage(encodeMessage({ type: 'welcome', v: 1, acked: [1, 5], seriesKnown: 3, heartbeatMs: 10, maxFrameBytes: 5 }));
  t.equal(w.type, 'welcome');
});

t.test('range sets merge, test membership and report contiguity', async (t) => {
  const s = new RangeSet();
  for (const x of [5, 1, 2, 3, 9, 4, 11, 10]) s.add(x);
  t.same(s.toFlat(), [1, 5, 9, 11]);
  t.ok(s.has(3));
  t.notOk(s.has(7));
  t.equal(s.contiguousFrom(1), 5);
  t.equal(s.contiguousFrom(6), 5);
  s.addRange(6, 8);
  t.same(s.toFlat(), [1, 11]);
  s.dropBelow(4);
  t.same(s.toFlat(), [4, 11]);
  t.equal(s.size, 8);
  t.same(RangeSet.fromFlat([20, 22, 1, 2]).toFlat(), [1, 2, 20, 22]);
});
