import type { Test } from 'tap';
import { Matcher, type Labels } from '@vigil/common';
import type { Storage } from './types.js';
import type { StorageLimits } from './head.js';

type ConformanceTest = Test;
type ConformanceAssert = Test;

export type StorageFactory = (opts: { retentionMs?: number; limits?: StorageLimits; now?: () => number; maxFutureMs?: number }) => Promise<Storage>;

const m = (type: '=' | '!=' | '=~' | '!~', name: string, value: string): Matcher => new Matcher(type, name, value);

async function open(t: ConformanceAssert, factory: StorageFactory, opts: Parameters<StorageFactory>[0] = {}): Promise<Storage> {
  const s = await factory(opts);
  t.teardown(() => s.close());
  return s;
}

async function load(s: Storage, series: Labels, samples: [number, number, boolean?][]): Promise<void> {
  const app = s.appender();
  let ref = 0;
  for (const [t, v, stale] of samples) ref = app.append(ref, series, t, v, stale);
  await app.commit();
}

async function read(s: Storage, matchers: Matcher[], mint = 0, maxt = 1e15): Promise<{ labels: Labels; t: number[]; v: number[]; stale: number[] }[]> {
  const q = await s.querier(mint, maxt);
  const out = await q.select(matchers);
  q.close();
  return out
    .map((d) => ({ labels: d.labels, t: [...d.t], v: [...d.v], stale: d.stale === null ? [] : [...d.stale] }))
    .sort((a, b) => (JSON.stringify(a.labels) < JSON.stringify(b.labels) ? -1 : 1));
}

/** The behaviour every `Storage` implementation must show (DESIGN.md §7). */
export function storageConformance(tap: ConformanceTest, factory: StorageFactory): void {
  tap.test('stores and reads back samples in time order', async (t) => {
    const s = await open(t, factory);
    const app = s.appender();
    const ref = app.append(0, { __name__: 'up', job: 'a' }, 1000, 1);
    t.ok(ref > 0, 'append returns a reference');
    t.equal(app.append(ref, { __name__: 'up', job: 'a' }, 2000, 0), ref, 'the reference is stable');
    app.append(0, { __name__: 'up', job: 'b' }, 1000, 5);
    const stats = await app.commit();
    t.same({ appended: stats.appended, newSeries: stats.newSeries, duplicates: stats.duplicates }, { appended: 3, newSeries: 2, duplicates: 0 });
    const got = await read(s, [m('=', '__name__', 'up')]);
    t.same(got.map((g) => [g.labels, g.t, g.v]), [
      [{ __name__: 'up', job: 'a' }, [1000, 2000], [1, 0]],
      [{ __name__: 'up', job: 'b' }, [1000], [5]],
    ]);
    t.same((await read(s, [m('=', 'job', 'a')], 1500, 3000))[0]?.t, [2000], 'only the window is returned');
  });

  tap.test('a rolled back appender stores nothing', async (t) => {
    const s = await open(t, factory);
    const app = s.appender();
    app.append(0, { __name__: 'x' }, 1, 1);
    app.rollback();
    await app.commit();
    t.same(await read(s, [m('=', '__name__', 'x')]), []);
  });

  tap.test('duplicates are dropped and conflicts keep the first value', async (t) => {
    const s = await open(t, factory);
    const ls = { __name__: 'c', i: '1' };
    await load(s, ls, [[1000, 1], [2000, 2], [3000, 3]]);
    const app = s.appender();
    app.append(0, ls, 2000, 2);
    app.append(0, ls, 3000, 99);
    app.append(0, ls, 3000, 3);
    app.append(0, ls, 4000, 4);
    app.append(0, ls, 4000, 5);
    const stats = await app.commit();
    t.same([stats.appended, stats.duplicates, stats.conflicts], [1, 2, 2]);
    const got = await read(s, [m('=', '__name__', 'c')]);
    t.same([got[0]?.t, got[0]?.v], [[1000, 2000, 3000, 4000], [1, 2, 3, 4]]);
    const st = s.stats?.();
    if (st !== undefined) t.same([st.duplicates, st.conflicts], [2, 2], 'counters');
  });

  tap.test('out-of-order samples are merged in time order', async (t) => {
    const s = await open(t, factory);
    const ls = { __name__: 'o' };
    await load(s, ls, [[10_000, 10], [30_000, 30]]);
    await load(s, ls, [[20_000, 20], [5_000, 5], [25_000, 25]]);
    await load(s, ls, [[20_000, 21]]);
    const got = await read(s, [m('=', '__name__', 'o')]);
    t.same([got[0]?.t, got[0]?.v], [[5000, 10000, 20000, 25000, 30000], [5, 10, 20, 25, 30]]);
  });

  tap.test('flush keeps data, duplicates and out-of-order merging across chunks', async (t) => {
    const s = await open(t, factory);
    const ls = { __name__: 'f', k: 'v' };
    const samples: [number, number][] = [];
    for (let i = 0; i < 500; i++) samples.push([1_700_000_000_000 + i * 15_000, i * 0.25]);
    await load(s, ls, samples);
    await s.flush();
    const app = s.appender();
    app.append(0, ls, samples[10]![0], samples[10]![1]);
    app.append(0, ls, samples[11]![0], 1234);
    app.append(0, ls, samples[0]![0] - 15_000, -1);
    app.append(0, ls, samples[499]![0] + 15_000, 500);
    const stats = await app.commit();
    t.same([stats.appended, stats.duplicates, stats.conflicts], [2, 1, 1]);
    await s.flush();
    const got = (await read(s, [m('=', 'k', 'v')]))[0]!;
    t.equal(got.t.length, 502);
    t.equal(got.v[0], -1);
    t.equal(got.v[12], samples[11]![1], 'conflict kept the first value');
    t.equal(got.v[501], 500);
    for (let i = 1; i < got.t.length; i++) if (got.t[i]! <= got.t[i - 1]!) { t.ok(false, 'time order'); break; }
  });

  tap.test('staleness is a flag and NaN and infinities are stored exactly', async (t) => {
    const s = await open(t, factory);
    const ls = { __name__: 'n' };
    await load(s, ls, [[1000, NaN], [2000, Infinity], [3000, -Infinity], [4000, 0, true], [5000, -0], [6000, 0.1 + 0.2]]);
    await s.flush();
    const got = (await read(s, [m('=', '__name__', 'n')]))[0]!;
    t.ok(Number.isNaN(got.v[0]));
    t.same(got.v.slice(1, 3), [Infinity, -Infinity]);
    t.same(got.stale, [0, 0, 0, 1, 0, 0]);
    t.ok(Object.is(got.v[4], -0), 'negative zero');
    t.equal(got.v[5], 0.1 + 0.2);
  });

  tap.test('matchers select series by equality, regex and negation', async (t) => {
    const s = await open(t, factory);
    const app = s.appender();
    app.append(0, { __name__: 'http_requests_total', code: '200', job: 'api' }, 1000, 1);
    app.append(0, { __name__: 'http_requests_total', code: '500', job: 'api' }, 1000, 1);
    app.append(0, { __name__: 'http_errors_total', job: 'web' }, 1000, 1);
    app.append(0, { __name__: 'node_load1', job: 'node' }, 5000, 1);
    await app.commit();
    const names = async (ms: Matcher[]): Promise<string[]> =>
      (await read(s, ms)).map((d) => `${d.labels.__name__}/${d.labels.code ?? ''}`);
    t.same(await names([m('=~', '__name__', 'http_.*')]), ['http_errors_total/', 'http_requests_total/200', 'http_requests_total/500']);
    t.same(await names([m('=', '__name__', 'http_requests_total'), m('!=', 'code', '200')]), ['http_requests_total/500']);
    t.same(await names([m('=~', '__name__', 'http_.*'), m('!~', 'code', '5..')]), ['http_errors_total/', 'http_requests_total/200']);
    t.same(await names([m('=', 'code', '')]), ['http_errors_total/', 'node_load1/']);
    t.same(await names([m('=~', 'job', 'api|node'), m('!~', '__name__', 'http_.*')]), ['node_load1/']);
    t.same(await names([m('=', '__name__', 'missing')]), []);
    const q = await s.querier(0, 2000);
    t.same(await q.labelNames(), ['__name__', 'code', 'job'], 'label names honour time');
    t.same(await q.labelValues('job'), ['api', 'web']);
    t.same(await q.labelValues('code', [m('=', 'job', 'web')]), []);
    t.same(await q.labelNames([m('=', 'job', 'web')]), ['__name__', 'job']);
    const all = await (await s.querier(0, 10_000)).labelValues('__name__');
    t.same(all, ['http_errors_total', 'http_requests_total', 'node_load1']);
    const only = await q.select([m('=~', '__name__', '.+')], { labelsOnly: true });
    t.equal(only.length, 3);
  });

  tap.test('retention is measured from the newest sample and rejects older samples', async (t) => {
    const s = await open(t, factory, { retentionMs: 3_600_000 });
    const base = Date.UTC(2024, 0, 1);
    await load(s, { __name__: 'old' }, [[base, 1], [base + 60_000, 2]]);
    t.equal((await read(s, [m('=', '__name__', 'old')])).length, 1, '2024 data imports into an empty store');
    await load(s, { __name__: 'new' }, [[base + 2 * 3_600_000, 3]]);
    const app = s.appender();
    app.append(0, { __name__: 'new' }, base, 9);
    const stats = await app.commit();
    t.same([stats.rejected, stats.rejectReasons], [1, { too_old: 1 }]);
    await s.flush();
    t.same(await read(s, [m('=', '__name__', 'old')]), [], 'old series deleted');
    t.equal((await read(s, [m('=', '__name__', 'new')])).length, 1);
  });

  tap.test('a sample far in the future is refused and never moves retention', async (t) => {
    const now = Date.UTC(2026, 0, 10);
    const s = await open(t, factory, { retentionMs: 86_400_000, now: () => now });
    await load(s, { __name__: 'kept' }, [[now - 3_600_000, 1], [now - 60_000, 2]]);
    const app = s.appender();
    app.append(0, { __name__: 'x' }, 9_999_999_999_999_999, 1);
    app.append(0, { __name__: 'x' }, now + 11 * 60_000, 1);
    app.append(0, { __name__: 'x' }, Number.NaN, 1);
    app.append(0, { __name__: 'x' }, now + 5 * 60_000, 1);
    const stats = await app.commit();
    t.same([stats.appended, stats.rejected, stats.rejectReasons], [1, 3, { too_far_in_future: 2, invalid_timestamp: 1 }]);
    await s.flush();
    t.same((await read(s, [m('=', '__name__', 'kept')]))[0]?.v, [1, 2], 'earlier data survives a flush (retention)');
    await load(s, { __name__: 'kept' }, [[now, 3]]);
    t.same((await read(s, [m('=', '__name__', 'kept')]))[0]?.v, [1, 2, 3], 'new samples are still accepted');
  });

  tap.test('a time before any a Date can hold is refused, also by an empty store', async (t) => {
    const s = await open(t, factory);
    const app = s.appender();
    app.append(0, { __name__: 'x' }, -1e17, 1);
    const stats = await app.commit();
    t.same([stats.appended, stats.rejectReasons], [0, { invalid_timestamp: 1 }]);
  });

  tap.test('retention never deletes data newer than the wall clock minus retention', async (t) => {
    let now = Date.UTC(2026, 0, 10);
    const s = await open(t, factory, { retentionMs: 3_600_000, now: () => now, maxFutureMs: 86_400_000 });
    await load(s, { __name__: 'a' }, [[now - 600_000, 1]]);
    await load(s, { __name__: 'b' }, [[now + 12 * 3_600_000, 2]]);
    await s.flush();
    t.equal((await read(s, [m('=', '__name__', 'a')])).length, 1, 'a sample ahead of the clock does not age the present');
    now += 2 * 3_600_000;
    await s.flush();
    t.same(await read(s, [m('=', '__name__', 'a')]), [], 'once the clock passed retention, the sample goes');
  });

  tap.test('label limits reject series with a reason', async (t) => {
    const s = await open(t, factory, { limits: { maxLabelsPerSeries: 3, maxLabelNameLength: 10, maxLabelValueLength: 5 } });
    const app = s.appender();
    t.equal(app.append(0, { __name__: 'a', b: '1', c: '2', d: '3' }, 1, 1), 0);
    app.append(0, { __name__: 'a', averyverylongname: '1' }, 1, 1);
    app.append(0, { __name__: 'a', b: 'toolongvalue' }, 1, 1);
    app.append(0, { __name__: 'a', b: 'ok' }, 1, 1);
    const stats = await app.commit();
    t.same([stats.appended, stats.rejected], [1, 3]);
    t.same(stats.rejectReasons, { too_many_labels: 1, label_name_too_long: 1, label_value_too_long: 1 });
  });

  tap.test('status reports head series and top metrics', async (t) => {
    const s = await open(t, factory);
    const app = s.appender();
    for (let i = 0; i < 5; i++) app.append(0, { __name__: 'many', i: String(i) }, 1000, i);
    app.append(0, { __name__: 'one' }, 2000, 1);
    await app.commit();
    const st = await s.status(1);
    t.equal(st.headStats.numSeries, 6);
    t.equal(st.headStats.minTime, 1000);
    t.equal(st.headStats.maxTime, 2000);
    t.same(st.seriesCountByMetricName, [{ name: 'many', value: 5 }]);
    t.same(st.labelValueCountByLabelName, [{ name: 'i', value: 5 }]);
    t.equal(st.seriesCountByLabelValuePair.length, 1);
  });

  tap.test('metadata is kept per metric', async (t) => {
    const s = await open(t, factory);
    s.setMetadata([{ metric: 'up', type: 'gauge', help: 'Up.', unit: '' }, { metric: 'x_total', type: 'counter', help: 'X.', unit: '' }]);
    s.setMetadata([{ metric: 'up', type: 'gauge', help: 'Up.', unit: '' }]);
    t.same(await s.metadata('up'), { up: [{ type: 'gauge', help: 'Up.', unit: '' }] });
    t.equal(Object.keys(await s.metadata(undefined, 1)).length, 1);
  });

  tap.test('concurrent commits are all applied', async (t) => {
    const s = await open(t, factory);
    const commits: Promise<unknown>[] = [];
    for (let a = 0; a < 10; a++) {
      const app = s.appender();
      for (let i = 0; i < 100; i++) app.append(0, { __name__: 'cc', a: String(a) }, i * 1000, i);
      commits.push(app.commit());
    }
    await Promise.all(commits);
    const got = await read(s, [m('=', '__name__', 'cc')]);
    t.equal(got.length, 10);
    t.equal(got.reduce((n, g) => n + g.t.length, 0), 1000);
  });
}
