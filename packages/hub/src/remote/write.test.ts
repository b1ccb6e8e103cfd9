import t from 'tap';
import { compress } from 'snappyjs';
import { Matcher, silentLogger, type Labels } from '@vigil/common';
import { MemStorage } from '../storage/mem.js';
import type { Appender, AppendStats, Storage } from '../storage/types.js';
import { remoteWriteRoutes } from './write.js';

import { bytesField as field, str, varint } from '../testing/protobuf.js';

function sample(value: number | 'stale', ts: number | bigint): number[] {
  const d = Buffer.alloc(8);
  if (value === 'stale') { d.writeUInt32LE(0x00000002, 0); d.writeUInt32LE(0x7ff00000, 4); } else d.writeDoubleLE(value, 0);
  return [...varint(1 * 8 + 1), ...d, ...varint(2 * 8 + 0), ...varint(ts)];
}
function writeRequest(series: { labels: Record<string, string>; samples: [number | 'stale', number | bigint][] }[]): Uint8Array {
  const out: number[] = [];
  for (const s of series) {
    const ts: number[] = [];
    for (const [k, v] of Object.entries(s.labels)) ts.push(...field(1, [...field(1, str(k)), ...field(2, str(v))]));
    for (const [v, t] of s.samples) ts.push(...field(2, sample(v, t)));
    out.push(...field(1, ts));
  }
  return Uint8Array.from(out);
}

function fakeStorage() {
  const got: { labels: Labels; t: number; v: number; stale: boolean }[] = [];
  const storage = {
    appender(): Appender {
      const pending: typeof got = [];
      return {
        append(ref, labels, t, v, stale) { pending.push({ labels, t, v, stale: !!stale }); return ref || 1; },
        async commit(): Promise<AppendStats> { got.push(...pending); return { appended: pending.length, duplicates: 0, conflicts: 0, rejected: 0, newSeries: 0 }; },
        rollback() { pending.length = 0; },
      };
    },
    setMetadata() {},
  } as unknown as Storage;
  return { storage, got };
}

t.test('stores remote-write samples, keeping stale markers as flags', async (t) => {
  const { storage, got } = fakeStorage();
  const app = remoteWriteRoutes({ storage, logger: silentLogger });
  const body = compress(writeRequest([
    { labels: { __name__: 'up', job: 'a' }, samples: [[1, 1000], [0, 2000], ['stale', 3000]] },
    { labels: { __name__: 'old', job: 'b' }, samples: [[NaN, -1000]] },
  ]));
  const res = await app.request('/api/v1/write', { method: 'POST', body, headers: { 'Content-Encoding': 'snappy', 'Content-Type': 'application/x-protobuf' } });
  t.equal(res.status, 204);
  t.equal(got.length, 4);
  t.same(got[0], { labels: { __name__: 'up', job: 'a' }, t: 1000, v: 1, stale: false });
  t.equal(got[2]!.stale, true, 'the stale NaN is a flag');
  t.equal(got[3]!.stale, false, 'an ordinary NaN is a value');
  t.ok(Number.isNaN(got[3]!.v));
  t.equal(got[3]!.t, -1000, 'negative timestamps decode');
});

t.test('rejects undecodable bodies and invalid labels with 400', async (t) => {
  const { storage, got } = fakeStorage();
  const app = remoteWriteRoutes({ storage, logger: silentLogger });
  let res = await app.request('/api/v1/write', { method: 'POST', body: Uint8Array.from([1, 2, 3, 4]) });
  t.equal(res.status, 400);
  t.match(await res.text(), /snappy/);
  res = await app.request('/api/v1/write', { method: 'POST', body: compress(writeRequest([{ labels: { __name__: 'x', 'bad-name': '1' }, samples: [[1, 1]] }])) });
  t.equal(res.status, 400);
  t.match(await res.text(), /invalid label name "bad-name"/);
  t.equal(got.length, 0);
});

t.test('a timestamp of int64 max is refused with 400 and moves nothing (security issue, defect 1)', async (t) => {
  const storage = new MemStorage({ retentionMs: 86_400_000 });
  const app = remoteWriteRoutes({ storage, logger: silentLogger });
  const now = Date.now();
  const post = (samples: [number, number | bigint][]) => app.request('/api/v1/write', {
    method: 'POST', body: compress(writeRequest([{ labels: { __name__: 'rw', job: 'a' }, samples }])), headers: { 'Content-Encoding': 'snappy' },
  });
  t.equal((await post([[1, now - 3_600_000]])).status, 204);
  const res = await post([[2, 2n ** 63n - 1n], [3, now]]);
  t.equal(res.status, 400);
  t.match(await res.text(), /cannot store 1 of 2 samples \(too_far_in_future: 1\)/);
  await storage.flush();
  const q = await storage.querier(0, 1e16);
  const got = await q.select([new Matcher('=', '__name__', 'rw')]);
  t.same([...got[0]!.v], [1, 3], 'the earlier sample survives; the good one of the request is stored');
});

t.test('malformed snappy is a 400 in bounded time (fuzz seed 20261204: snappyjs looped for good on these 6 bytes)', async (t) => {
  const { storage } = fakeStorage();
  const app = remoteWriteRoutes({ storage, logger: silentLogger });
  for (const bytes of [[0x00, 0xfc, 0xa0, 0x5c, 0x4a, 0xb6], [0x05, 0x01, 0x00], [0x04, 0x0c, 1, 2], [0x80, 0x80, 0x80, 0x80, 0x80, 0x01]]) {
    const res = await app.request('/api/v1/write', { method: 'POST', body: Uint8Array.from(bytes), headers: { 'Content-Encoding': 'snappy' } });
    t.equal(res.status, 400, bytes.join(' '));
    t.match(await res.text(), /cannot decompress snappy body/);
  }
  const ok = compress(writeRequest([{ labels: { __name__: 'snap', job: 'a' }, samples: [[1, 1000]] }]));
  t.equal((await app.request('/api/v1/write', { method: 'POST', body: ok })).status, 204, 'what snappyjs compresses still decodes');
});

t.test('a series with an exemplar (field 3) or a native histogram (field 4) keeps its float samples', async (t) => {
  const { storage, got } = fakeStorage();
  const app = remoteWriteRoutes({ storage, logger: silentLogger });
  const base = [...field(1, [...field(1, str('__name__')), ...field(2, str('ex'))]), ...field(2, sample(7, 1000))];
  const exemplar = field(3, [...field(1, [...field(1, str('trace_id')), ...field(2, str('abc'))]), ...sample(1, 1000)]);
  const histogram = field(4, [...varint(1 * 8), ...varint(3), ...varint(4 * 8), ...varint(2), ...field(11, [...varint(8), ...varint(0), ...varint(16), ...varint(2)]), ...field(12, [2, 1])]);
  const res = await app.request('/api/v1/write', { method: 'POST', body: compress(Uint8Array.from(field(1, [...base, ...exemplar, ...histogram]))) });
  t.equal(res.status, 204, await res.text());
  t.same(got.map((s) => [s.labels.__name__, s.t, s.v]), [['ex', 1000, 7]]);
});
