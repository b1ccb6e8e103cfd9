/**
 * Fuzz tests of remote write (`POST /api/v1/write`, snappy protobuf): generated WriteRequests with
 * exemplars and native histograms, random bytes and mutated valid requests are answered 204 or
 * 400 (413 for an oversized body), never 5xx, within a second; samples stored before stay intact.
 *
 * FUZZ_RUNS scales the number of cases (default 10,000), FUZZ_SEED replays a failure.
 */
import fc from 'fast-check';
import t, { type Test } from 'tap';
import { compress } from 'snappyjs';
import { Matcher, silentLogger } from '@vigil/common';
import { MemStorage } from '../storage/mem.js';
import { byteMutation, mutateBytes } from '@vigil/common/testing';
import { bytesField, doubleField, label, str, varint, varintField, zigzag } from '../testing/protobuf.js';
import { remoteWriteRoutes } from './write.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 10_000);
// tap's default of 30 s per file is too short for 10,000 cases on a loaded CI machine
t.setTimeout(300_000);
const SEED = Number(process.env.FUZZ_SEED ?? 20261204);
const CASE_LIMIT_MS = 1000;

// prompb's WriteRequest, TimeSeries, Label, Sample, Exemplar and Histogram, written field by field.

interface GenSeries {
  labels: Record<string, string>;
  samples: [number, number][];
  exemplars: { labels: Record<string, string>; value: number; ts: number }[];
  histograms: { count: number; sum: number; schema: number; zeroThreshold: number; spans: [number, number][]; deltas: number[]; counts: number[]; ts: number; float: boolean }[];
}

function encodeSeries(s: GenSeries): number[] {
  const out: number[] = [];
  for (const [k, v] of Object.entries(s.labels)) out.push(...label(k, v));
  for (const [v, ts] of s.samples) out.push(...bytesField(2, [...doubleField(1, v), ...varintField(2, ts)]));
  for (const e of s.exemplars) {
    const ex: number[] = [];
    for (const [k, v] of Object.entries(e.labels)) ex.push(...label(k, v));
    ex.push(...doubleField(2, e.value), ...varintField(3, e.ts));
    out.push(...bytesField(3, ex));
  }
  for (const h of s.histograms) {
    const spans = h.spans.flatMap(([off, len]) => bytesField(h.float ? 8 : 11, [...varintField(1, zigzag(off)), ...varintField(2, len)]));
    const hist = [
      ...(h.float ? doubleField(2, h.count) : varintField(1, h.count)),
      ...doubleField(3, h.sum), ...varintField(4, zigzag(h.schema)), ...doubleField(5, h.zeroThreshold),
      ...(h.float ? doubleField(7, 0) : varintField(6, 0)),
      ...spans,
      ...(h.float
        ? bytesField(13, h.counts.flatMap((c) => doubleField(0, c).slice(1)))
        : bytesField(12, h.deltas.flatMap((d) => varint(zigzag(d))))),
      ...varintField(14, 1), ...varintField(15, h.ts),
    ];
    out.push(...bytesField(4, hist));
  }
  return out;
}

const encodeRequest = (series: readonly GenSeries[]) => Uint8Array.from(series.flatMap((s) => bytesField(1, encodeSeries(s))));

const NOW = Date.now();
const ts = fc.oneof(fc.integer({ min: NOW - 3_600_000, max: NOW }), fc.constantFrom(0, -1, 2 ** 53, Number.MAX_SAFE_INTEGER, -(2 ** 62)), fc.integer());
const labelName = fc.oneof(fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,6}$/), fc.constantFrom('constructor', '__proto__', 'toString', '', '1x', 'a-b', 'é'));
const genSeries: fc.Arbitrary<GenSeries> = fc.record({
  labels: fc.record({ __name__: fc.oneof(fc.stringMatching(/^fuzz_[a-z_:]{1,6}$/), fc.constantFrom('', 'fuzz keep', '1fuzz')) })
    .chain((base) => fc.dictionary(labelName, fc.string({ maxLength: 8 }), { maxKeys: 3 }).map((l) => ({ ...l, ...base }))),
  samples: fc.array(fc.tuple(fc.oneof(fc.double(), fc.integer()), ts), { maxLength: 4 }),
  exemplars: fc.array(fc.record({ labels: fc.dictionary(labelName, fc.string({ maxLength: 8 }), { maxKeys: 2 }), value: fc.double(), ts }), { maxLength: 2 }),
  histograms: fc.array(fc.record({
    count: fc.nat(1000), sum: fc.double(), schema: fc.integer({ min: -4, max: 8 }), zeroThreshold: fc.double({ min: 0, max: 1, noNaN: true }),
    spans: fc.array(fc.tuple(fc.integer({ min: -5, max: 5 }), fc.nat(3)), { maxLength: 3 }),
    deltas: fc.array(fc.integer({ min: -100, max: 100 }), { maxLength: 6 }), counts: fc.array(fc.double({ min: 0, max: 1e6, noNaN: true }), { maxLength: 6 }),
    ts, float: fc.boolean(),
  }), { maxLength: 2 }),
});


const KEEP_T = NOW - 600_000;
async function keptSeries(storage: MemStorage): Promise<string> {
  const q = await storage.querier(0, NOW + 3_600_000);
  const got = await q.select([new Matcher('=', '__name__', 'kept_set')]);
  return JSON.stringify(got.map((d) => [d.labels, [...d.t], [...d.v]]));
}

async function post(app: ReturnType<typeof remoteWriteRoutes>, body: Uint8Array): Promise<number> {
  const start = performance.now();
  const res = await app.request('/api/v1/write', { method: 'POST', body: Buffer.from(body), headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' } });
  const text = await res.text();
  const ms = performance.now() - start;
  if (ms > CASE_LIMIT_MS) throw new Error(`one request took ${ms.toFixed(0)} ms`);
  if (![204, 400, 413].includes(res.status)) throw new Error(`answered ${res.status}: ${text}`);
  return res.status;
}

function setup() {
  const storage = new MemStorage();
  const app = remoteWriteRoutes({ storage, logger: silentLogger, maxBodyBytes: 1 << 20 });
  return { storage, app };
}

async function writeKeep(t: Test, s: ReturnType<typeof setup>): Promise<string> {
  const keep = encodeRequest([{ labels: { __name__: 'kept_set', job: 'k' }, samples: [[1, KEEP_T], [2, KEEP_T + 1000], [3, KEEP_T + 2000]], exemplars: [], histograms: [] }]);
  t.equal(await post(s.app, compress(keep)), 204);
  const kept = await keptSeries(s.storage);
  t.match(kept, /\[1,2,3\]/);
  return kept;
}

t.test('exemplars and native histograms are skipped, the float samples of their series stored', async (t) => {
  const { storage, app } = setup();
  const body = encodeRequest([{
    labels: { __name__: 'fuzz_mixed', job: 'x' }, samples: [[5, KEEP_T]],
    exemplars: [{ labels: { trace_id: 'abc' }, value: 1, ts: KEEP_T }],
    histograms: [{ count: 3, sum: 1.5, schema: 0, zeroThreshold: 1e-128, spans: [[0, 2], [-2, 1]], deltas: [1, 0, -1], counts: [], ts: KEEP_T, float: false },
      { count: 3, sum: 1.5, schema: 3, zeroThreshold: 0, spans: [[1, 2]], deltas: [], counts: [1, 2], ts: KEEP_T, float: true }],
  }]);
  t.equal(await post(app, compress(body)), 204);
  const q = await storage.querier(0, NOW + 1);
  t.same((await q.select([new Matcher('=', '__name__', 'fuzz_mixed')])).map((d) => [...d.v]), [[5]]);
});

t.test('generated WriteRequests: 204 or 400, stored data intact', async (t) => {
  const s = setup();
  const kept = await writeKeep(t, s);
  const statuses = new Map<number, number>();
  await fc.assert(fc.asyncProperty(fc.array(genSeries, { maxLength: 4 }), async (series) => {
    const status = await post(s.app, compress(encodeRequest(series)));
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
    if (await keptSeries(s.storage) !== kept) throw new Error('kept_set changed');
  }), { numRuns: RUNS, seed: SEED, includeErrorInReport: true });
  await s.storage.flush();
  t.equal(await keptSeries(s.storage), kept, 'intact after retention');
  t.ok((statuses.get(204) ?? 0) > RUNS / 10, `answers ${JSON.stringify([...statuses])}`);
});

t.test('mutated WriteRequests and random bytes: 204 or 400, stored data intact', async (t) => {
  const s = setup();
  const kept = await writeKeep(t, s);
  const statuses = new Map<number, number>();
  const body = fc.oneof(
    fc.tuple(fc.array(genSeries, { minLength: 1, maxLength: 3 }), fc.array(byteMutation, { minLength: 1, maxLength: 4 })).map(([ss, ms]) => compress(mutateBytes(encodeRequest(ss), ms))),
    fc.tuple(fc.array(genSeries, { minLength: 1, maxLength: 3 }), fc.array(byteMutation, { minLength: 1, maxLength: 3 })).map(([ss, ms]) => mutateBytes(compress(encodeRequest(ss)), ms)),
    fc.uint8Array({ maxLength: 300 }).map((b) => compress(b)),
    fc.uint8Array({ maxLength: 300 }),
  );
  await fc.assert(fc.asyncProperty(body, async (b) => {
    const status = await post(s.app, b);
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
    if (await keptSeries(s.storage) !== kept) throw new Error('kept_set changed');
  }), { numRuns: RUNS, seed: SEED, includeErrorInReport: true });
  await s.storage.flush();
  t.equal(await keptSeries(s.storage), kept, 'intact after retention');
  t.pass(`answers ${JSON.stringify([...statuses])}`);
});
