/**
 * Fuzz tests of bulk import (`POST /api/v1/import/prometheus`): random bytes, mutated valid bodies,
 * gzip (whole, cut or corrupted) and odd `extra_label` parameters are answered 204, 400 or 413,
 * never 5xx, within a second; a sample set imported before is intact afterwards.
 *
 * FUZZ_RUNS scales the number of cases (default 10,000), FUZZ_SEED replays a failure.
 */
import zlib from 'node:zlib';
import fc from 'fast-check';
import t from 'tap';
import { Matcher, silentLogger } from '@vigil/common';
import { MemStorage } from '../storage/mem.js';
import { byteMutation, mutateBytes } from '@vigil/common/testing';
import { importRoutes } from './import.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 10_000);
// tap's default of 30 s per file is too short for 10,000 cases on a loaded CI machine
t.setTimeout(300_000);
const SEED = Number(process.env.FUZZ_SEED ?? 20261204);
const CASE_LIMIT_MS = 1000;
const NOW = Date.now();
const KEEP_T = NOW - 600_000;
const KEEP_BODY = `kept_set{job="k"} 1 ${KEEP_T}\nkept_set{job="k"} 2 ${KEEP_T + 1000}\nkept_set{job="k",i="2"} 3 ${KEEP_T}\n`;

async function keptSeries(storage: MemStorage): Promise<string> {
  const q = await storage.querier(0, NOW + 3_600_000);
  const got = await q.select([new Matcher('=', '__name__', 'kept_set')]);
  return JSON.stringify(got.map((d) => [d.labels, [...d.t], [...d.v]]));
}

const ts = fc.oneof(fc.constant(''), fc.integer({ min: NOW - 3_600_000, max: NOW }).map(String),
  fc.constantFrom('9999999999999999', '-1', '0', '1e3', '99999999999999999999', String(KEEP_T), '-9223372036854775808'));
const line = fc.oneof(
  fc.tuple(fc.stringMatching(/^fuzz_[a-z_:]{1,6}$/), fc.dictionary(fc.stringMatching(/^[a-z_]{1,4}$/), fc.string({ maxLength: 6 }), { maxKeys: 3 }),
    fc.oneof(fc.double().map(String), fc.constantFrom('NaN', '+Inf', '-Inf', '0x1p3', '1_000', '')), ts)
    .map(([n, l, v, x]) => `${n}{${Object.entries(l).map(([k, s]) => `${k}=${JSON.stringify(s)}`).join(',')}} ${v} ${x}`.trimEnd()),
  fc.constantFrom('# HELP x y', '# TYPE x counter', '', '\r', 'x{a="1"} 1\r', 'x{a="\\u"} 1', 'x{a="1",a="2"} 1', `x{${'a'.repeat(300)}="1"} 1`,
    `x{l="${'v'.repeat(5000)}"} 1`, Array.from({ length: 70 }, (_, i) => `x{${Array.from({ length: 70 }, (_, j) => `l${j}="${i}"`).join(',')}} 1`)[0]!),
  fc.string({ maxLength: 30 }),
);
const textBody = fc.array(line, { maxLength: 10 }).map((ls) => ls.join('\n') + '\n');
const body = fc.oneof(
  textBody.map((s) => ({ body: Buffer.from(s), gzip: false })),
  fc.tuple(textBody, fc.array(byteMutation, { minLength: 1, maxLength: 4 })).map(([s, ms]) => ({ body: mutateBytes(Buffer.from(s), ms), gzip: false })),
  fc.record({ body: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)), gzip: fc.boolean() }),
  textBody.map((s) => ({ body: zlib.gzipSync(s), gzip: true })),
  fc.tuple(textBody, fc.array(byteMutation, { minLength: 1, maxLength: 3 })).map(([s, ms]) => ({ body: mutateBytes(zlib.gzipSync(s), ms), gzip: true })),
  fc.tuple(textBody, fc.nat()).map(([s, n]) => { const z = zlib.gzipSync(s); return { body: z.subarray(0, n % z.length), gzip: true }; }),
);
const query = fc.oneof(fc.constant(''),
  fc.array(fc.oneof(fc.constantFrom('job=x', '=x', 'x', '', 'a=b=c', '__name__=other', '1a=b', 'job=', '%ZZ'), fc.string({ maxLength: 6 }).map(encodeURIComponent)), { maxLength: 3 })
    .map((ls) => '?' + ls.map((l) => `extra_label=${l}`).join('&')));

t.test('garbage imports: 204, 400 or 413, never 5xx; the samples imported before intact', async (t) => {
  const storage = new MemStorage();
  const app = importRoutes({ storage, logger: silentLogger });
  t.equal((await app.request('/api/v1/import/prometheus', { method: 'POST', body: KEEP_BODY })).status, 204);
  const kept = await keptSeries(storage);
  t.match(kept, /\[1,2\]/);
  const statuses = new Map<number, number>();
  await fc.assert(fc.asyncProperty(body, query, async (b, q) => {
    const start = performance.now();
    const res = await app.request(`/api/v1/import/prometheus${q}`, { method: 'POST', body: b.body, headers: b.gzip ? { 'content-encoding': 'gzip' } : {} });
    const text = await res.text();
    const ms = performance.now() - start;
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    if (ms > CASE_LIMIT_MS) throw new Error(`one import took ${ms.toFixed(0)} ms`);
    if (![204, 400, 413].includes(res.status)) throw new Error(`answered ${res.status}: ${text}`);
    if (await keptSeries(storage) !== kept) throw new Error('kept_set changed');
  }), { numRuns: RUNS, seed: SEED, includeErrorInReport: true });
  await storage.flush();
  t.equal(await keptSeries(storage), kept, 'intact after retention');
  t.ok((statuses.get(204) ?? 0) > RUNS / 20, `answers ${JSON.stringify([...statuses])}`);
});
