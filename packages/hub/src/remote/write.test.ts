import t from 'tap';
import { compress } from 'snappyjs';
import { Matcher, silentLogger, type Labels } from '@vigil/common';
import { MemStorage } from '../storage/mem.js';
import type { Appender, AppendStats, Storage } from '../storage/types.js';
import { remoteWriteRoutes } from './write.js';

// A minimal protobuf writer for the test's WriteRequests.
function varint(n: number | bigint): number[] {
  const out: number[] = [];
  let v = BigInt.asUintN(64, BigInt(n));
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return out;
}
const field = (num: number, bytes: number[]) => [...varint(num * 8 + 2), ...varint(bytes.length), ...bytes];
const str = (s: string) => [...Buffer.from(s, 'utf8')];
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
