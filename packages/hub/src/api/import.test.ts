import zlib from 'node:zlib';
import t from 'tap';
import { Matcher, silentLogger } from '@vigil/common';
import { MemStorage } from '../storage/mem.js';
import { importRoutes } from './import.js';

async function series(storage: MemStorage, name: string): Promise<{ labels: Record<string, string>; t: number[]; v: number[] }[]> {
  const q = await storage.querier(0, 1e15);
  return (await q.select([new Matcher('=', '__name__', name)])).map((d) => ({ labels: { ...d.labels }, t: [...d.t], v: [...d.v] }));
}

t.test('imports text lines with and without timestamps', async (t) => {
  const storage = new MemStorage();
  const app = importRoutes({ storage, logger: silentLogger });
  const before = Date.now();
  const body = '# HELP x help\n# TYPE x counter\nx{a="1"} 1 1700000000000\nx{a="1"} 2 1700000015000\r\nx{a="2"} 3.5 1700000000000\n\ny 7\n';
  const res = await app.request('/api/v1/import/prometheus', { method: 'POST', body });
  t.equal(res.status, 204);
  t.same(await series(storage, 'x'), [
    { labels: { __name__: 'x', a: '1' }, t: [1700000000000, 1700000015000], v: [1, 2] },
    { labels: { __name__: 'x', a: '2' }, t: [1700000000000], v: [3.5] },
  ]);
  const y = await series(storage, 'y');
  t.equal(y.length, 1);
  t.ok(y[0]!.t[0]! >= before && y[0]!.t[0]! <= Date.now(), 'no timestamp means now');
});

t.test('accepts gzip bodies and extra_label parameters', async (t) => {
  const storage = new MemStorage();
  const app = importRoutes({ storage, logger: silentLogger });
  let text = '';
  for (let i = 0; i < 50_000; i++) text += `g{i="${i % 10}"} ${i} ${1700000000000 + i * 1000}\n`;
  const res = await app.request('/api/v1/import/prometheus?extra_label=job=imp&extra_label=dc=eu', {
    method: 'POST', body: zlib.gzipSync(text), headers: { 'content-encoding': 'gzip' },
  });
  t.equal(res.status, 204);
  const got = await series(storage, 'g');
  t.equal(got.length, 10);
  t.same(got[0]!.labels, { __name__: 'g', i: '0', job: 'imp', dc: 'eu' });
  t.equal(got.reduce((n, s) => n + s.t.length, 0), 50_000);
  const again = await app.request('/api/v1/import/prometheus?extra_label=job=imp&extra_label=dc=eu', {
    method: 'POST', body: zlib.gzipSync(text), headers: { 'content-encoding': 'gzip' },
  });
  t.equal(again.status, 204);
  t.equal(storage.stats().duplicates, 50_000, 'a second import only adds duplicates');
});

t.test('answers 400 with the line of a parse error', async (t) => {
  const storage = new MemStorage();
  const app = importRoutes({ storage, logger: silentLogger });
  const res = await app.request('/api/v1/import/prometheus', { method: 'POST', body: 'ok 1 1000\nok 2 2000\nbad{a="1" 3\n' });
  t.equal(res.status, 400);
  const j = await res.json() as { status: string; errorType: string; error: string };
  t.equal(j.status, 'error');
  t.equal(j.errorType, 'bad_data');
  t.match(j.error, /line 3/);
});

t.test('UTF-8 text split anywhere across body chunks', async (t) => {
  const storage = new MemStorage();
  const app = importRoutes({ storage, logger: silentLogger });
  const bytes = Buffer.from('u{city="Zürich",note="東京"} 1 1000\nu{city="Zürich",note="東京"} 2 2000\nu{city="Mālie"} 3 1000', 'utf8');
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let i = 0; i < bytes.length; i += 5) controller.enqueue(new Uint8Array(bytes.subarray(i, i + 5)));
      controller.close();
    },
  });
  const res = await app.request('/api/v1/import/prometheus', { method: 'POST', body, duplex: 'half' } as RequestInit);
  t.equal(res.status, 204);
  const got = await series(storage, 'u');
  t.same(got.map((s) => [s.labels.city, s.labels.note, s.v]), [['Zürich', '東京', [1, 2]], ['Mālie', undefined, [3]]]);
});

t.test('a far-future timestamp is refused with 400 and destroys nothing (security issue, defect 1)', async (t) => {
  const storage = new MemStorage({ retentionMs: 86_400_000 });
  const app = importRoutes({ storage, logger: silentLogger });
  const now = Date.now();
  let res = await app.request('/api/v1/import/prometheus', { method: 'POST', body: `kept 1 ${now - 3_600_000}\n` });
  t.equal(res.status, 204);
  res = await app.request('/api/v1/import/prometheus', { method: 'POST', body: `x 1 9999999999999999\nok 2 ${now}\n` });
  t.equal(res.status, 400, 'the answer tells the truth');
  const body = await res.json() as { errorType: string; error: string };
  t.equal(body.errorType, 'bad_data');
  t.match(body.error, /cannot store 1 of 2 samples \(too_far_in_future: 1\); the other 1 samples were stored/);
  await storage.flush();
  t.same((await series(storage, 'kept'))[0]?.v, [1], 'earlier data survives retention');
  t.same(await series(storage, 'x'), [], 'the future sample is not stored');
  t.equal((await series(storage, 'ok')).length, 1, 'the good sample of the same request is stored');
  res = await app.request('/api/v1/import/prometheus', { method: 'POST', body: `later 3 ${now}\n` });
  t.equal(res.status, 204, 'new samples are still accepted');
  t.equal((await series(storage, 'later')).length, 1);
});

t.test('a corrupt gzip body is a 400, not a 500 (import fuzz seed 20261204)', async (t) => {
  const storage = new MemStorage();
  const app = importRoutes({ storage, logger: silentLogger });
  const corrupt = Buffer.from([31, 139, 8, 0, 0, 0, 0, 0, 0, 3, 0, 2, 0, 147, 6, 215, 50, 1, 0, 0, 0]);
  const res = await app.request('/api/v1/import/prometheus', { method: 'POST', body: corrupt, headers: { 'content-encoding': 'gzip' } });
  t.equal(res.status, 400);
  t.match(((await res.json()) as { error: string }).error, /cannot decompress request body: invalid stored block lengths/);
});

t.test('long lines, gzip bombs and corrupt gzip get a clear 4xx in bounded time (security issue, defect 10)', async (t) => {
  const storage = new MemStorage();
  const app = importRoutes({ storage, logger: silentLogger });
  const long = Buffer.alloc(40 << 20, 0x61);
  let started = Date.now();
  let res = await app.request('/api/v1/import/prometheus', {
    method: 'POST',
    body: new ReadableStream({ start(c) { for (let i = 0; i < long.length; i += 64 << 10) c.enqueue(new Uint8Array(long.subarray(i, i + (64 << 10)))); c.close(); } }),
    duplex: 'half',
  } as RequestInit);
  t.equal(res.status, 413);
  t.match(((await res.json()) as { error: string }).error, /line 1 is longer than 10485760 bytes/);
  t.ok(Date.now() - started < 5000, `40 MB without a newline refused in ${Date.now() - started} ms`);
  const bomb = zlib.gzipSync(Buffer.alloc(64 << 20));
  started = Date.now();
  res = await app.request('/api/v1/import/prometheus', { method: 'POST', body: bomb, headers: { 'content-encoding': 'gzip' } });
  t.equal(res.status, 413, `a ${bomb.length}-byte gzip of 64 MiB of zeros`);
  t.ok(Date.now() - started < 5000);
  const good = zlib.gzipSync('ok_metric 1\n');
  const corrupt = Buffer.from(good);
  corrupt[good.length - 6] = corrupt[good.length - 6]! ^ 0xff;
  res = await app.request('/api/v1/import/prometheus', { method: 'POST', body: corrupt, headers: { 'content-encoding': 'gzip' } });
  t.equal(res.status, 400, 'a corrupt gzip body is the client\'s mistake');
  res = await app.request('/api/v1/import/prometheus', { method: 'POST', body: Buffer.from('not gzip at all'), headers: { 'content-encoding': 'gzip' } });
  t.equal(res.status, 400);
});

t.test('a series over the label limits is refused by name, not answered 204 and dropped (security issue, defect 8)', async (t) => {
  const storage = new MemStorage();
  const app = importRoutes({ storage, logger: silentLogger });
  const many = Array.from({ length: 65 }, (_, i) => `l${i}="v"`).join(',');
  const res = await app.request('/api/v1/import/prometheus', {
    method: 'POST', body: `wide{${many}} 1 ${Date.now()}\nlong{v="${'x'.repeat(4097)}"} 1 ${Date.now()}\nfine 1 ${Date.now()}\n`,
  });
  t.equal(res.status, 400);
  t.match(((await res.json()) as { error: string }).error, /cannot store 2 of 3 samples \((too_many_labels: 1, label_value_too_long: 1|label_value_too_long: 1, too_many_labels: 1)\)/);
  t.equal((await series(storage, 'fine')).length, 1);
});
