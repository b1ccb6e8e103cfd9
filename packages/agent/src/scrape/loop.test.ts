import t from 'tap';
import type { Labels, MetricMetadata, RelabelConfig, Sample } from '@vigil/common';
import { ScrapeLoop, type LoopSettings, type RawSample, type ScrapeResult } from './loop.js';

/** A sink that records every write. */
class MemorySink {
  writes: { samples: Sample[]; metadata?: readonly MetricMetadata[] }[] = [];
  write(samples: readonly Sample[], metadata?: readonly MetricMetadata[]): void {
    this.writes.push({ samples: [...samples], metadata });
  }
  last(): Sample[] { return this.writes[this.writes.length - 1]!.samples; }
}

/** A source whose next answer the test sets. */
class FakeSource {
  next: ScrapeResult | Error = { samples: [], metadata: [] };
  async scrape(): Promise<ScrapeResult> {
    if (this.next instanceof Error) throw this.next;
    return this.next;
  }
}

const defaults: LoopSettings = {
  honorLabels: false, honorTimestamps: true, sampleLimit: 0, labelLimit: 0,
  labelNameLengthLimit: 0, labelValueLengthLimit: 0, metricRelabelConfigs: [],
};

function mkLoop(settings: Partial<LoopSettings> = {}, ext: Labels = {}) {
  const sink = new MemorySink();
  const source = new FakeSource();
  let now = 1_000_000;
  const loop = new ScrapeLoop({
    pool: 'job1',
    labels: { __address__: 'h:1', __scheme__: 'http', __metrics_path__: '/metrics', job: 'job1', instance: 'h:1' },
    discovered: { __address__: 'h:1' },
    url: 'http://h:1/metrics',
    hash: 1,
    intervalMs: 1000,
    timeoutMs: 500,
    settings: { ...defaults, ...settings },
    source,
    sink,
    externalLabels: ext,
    now: () => now,
  });
  return { loop, sink, source, advance: (ms: number) => { now += ms; }, time: () => now };
}

function raw(name: string, labels: Record<string, string> = {}, value = 1, timestamp?: number): RawSample {
  return timestamp === undefined ? { labels: { __name__: name, ...labels }, value } : { labels: { __name__: name, ...labels }, value, timestamp };
}

function find(samples: Sample[], name: string, extra: Record<string, string> = {}): Sample | undefined {
  return samples.find((s) => s.labels.__name__ === name && Object.entries(extra).every(([k, v]) => s.labels[k] === v));
}

t.test('a scrape adds target labels, external labels and the five report series', async (t) => {
  const { loop, sink, source, time } = mkLoop({}, { datacenter: 'dc1' });
  const meta: MetricMetadata[] = [{ metric: 'a', type: 'gauge', help: 'A.', unit: '' }];
  source.next = { samples: [raw('a', { x: '1' }, 5), raw('b', {}, 7)], metadata: meta };
  await loop.scrapeAndReport();
  const out = sink.last();
  t.same(find(out, 'a')!.labels, { __name__: 'a', x: '1', job: 'job1', instance: 'h:1', datacenter: 'dc1' });
  t.equal(find(out, 'a')!.t, time());
  t.equal(find(out, 'up')!.v, 1);
  t.same(find(out, 'up')!.labels, { __name__: 'up', job: 'job1', instance: 'h:1', datacenter: 'dc1' });
  t.equal(find(out, 'scrape_samples_scraped')!.v, 2);
  t.equal(find(out, 'scrape_samples_post_metric_relabeling')!.v, 2);
  t.equal(find(out, 'scrape_series_added')!.v, 2);
  t.ok(find(out, 'scrape_duration_seconds')!.v >= 0);
  t.same(sink.writes[0]!.metadata, meta);
  t.equal(loop.health, 'up');
  // Same metadata again is not re-sent; series are no longer new.
  await loop.scrapeAndReport();
  t.equal(sink.writes[1]!.metadata, undefined);
  t.equal(find(sink.last(), 'scrape_series_added')!.v, 0);
});

t.test('a series missing from the next scrape gets one staleness marker', async (t) => {
  const { loop, sink, source, advance, time } = mkLoop();
  source.next = { samples: [raw('a'), raw('b')], metadata: [] };
  await loop.scrapeAndReport();
  advance(1000);
  source.next = { samples: [raw('a')], metadata: [] };
  await loop.scrapeAndReport();
  const stale = sink.last().filter((s) => s.stale);
  t.equal(stale.length, 1);
  t.equal(stale[0]!.labels.__name__, 'b');
  t.equal(stale[0]!.t, time());
  advance(1000);
  await loop.scrapeAndReport();
  t.equal(sink.last().filter((s) => s.stale).length, 0, 'only once');
});

t.test('a failed scrape gives up=0, the error, and stale markers for every previous series', async (t) => {
  const { loop, sink, source, advance } = mkLoop();
  source.next = { samples: [raw('a'), raw('b')], metadata: [] };
  await loop.scrapeAndReport();
  advance(1000);
  source.next = new Error('server returned HTTP status 500 Internal Server Error');
  await loop.scrapeAndReport();
  const out = sink.last();
  t.equal(find(out, 'up')!.v, 0);
  t.equal(find(out, 'scrape_samples_scraped')!.v, 0);
  t.same(out.filter((s) => s.stale).map((s) => s.labels.__name__).sort(), ['a', 'b']);
  t.equal(find(out, 'up')!.stale, undefined, 'report series are never stale while the target lives');
  t.equal(loop.health, 'down');
  t.equal(loop.lastError, 'server returned HTTP status 500 Internal Server Error');
  // Recovery.
  advance(1000);
  source.next = { samples: [raw('a')], metadata: [] };
  await loop.scrapeAndReport();
  t.equal(find(sink.last(), 'up')!.v, 1);
  t.equal(loop.lastError, '');
});

t.test('sample_limit fails the whole scrape', async (t) => {
  const { loop, sink, source, advance } = mkLoop({ sampleLimit: 2 });
  source.next = { samples: [raw('a'), raw('b')], metadata: [] };
  await loop.scrapeAndReport();
  t.equal(find(sink.last(), 'up')!.v, 1);
  advance(1000);
  source.next = { samples: [raw('a'), raw('b'), raw('c')], metadata: [] };
  await loop.scrapeAndReport();
  const out = sink.last();
  t.equal(find(out, 'up')!.v, 0);
  t.equal(loop.lastError, 'sample limit exceeded');
  t.notOk(out.some((s) => !s.stale && ['a', 'b', 'c'].includes(s.labels.__name__!)), 'no sample of the failed scrape is kept');
  t.equal(out.filter((s) => s.stale).length, 2);
  t.equal(find(out, 'scrape_samples_scraped')!.v, 3);
});

t.test('the sample limit counts samples after metric relabeling', async (t) => {
  const drop: RelabelConfig = { source_labels: ['__name__'], separator: ';', target_label: '', regex: 'c', modulus: 0, replacement: '$1', action: 'drop' };
  const { loop, sink, source } = mkLoop({ sampleLimit: 2, metricRelabelConfigs: [drop] });
  source.next = { samples: [raw('a'), raw('b'), raw('c')], metadata: [] };
  await loop.scrapeAndReport();
  const out = sink.last();
  t.equal(find(out, 'up')!.v, 1);
  t.equal(find(out, 'scrape_samples_scraped')!.v, 3);
  t.equal(find(out, 'scrape_samples_post_metric_relabeling')!.v, 2);
  t.notOk(find(out, 'c'));
});

t.test('label limits fail the scrape with Prometheus messages', async (t) => {
  const a = mkLoop({ labelLimit: 3 });
  a.source.next = { samples: [raw('m', { x: '1', y: '2' })], metadata: [] };
  await a.loop.scrapeAndReport();
  t.equal(find(a.sink.last(), 'up')!.v, 0);
  t.match(a.loop.lastError, /^label_limit exceeded \(metric: m, number of labels: 5, limit: 3\)$/);
  const b = mkLoop({ labelNameLengthLimit: 4 });
  b.source.next = { samples: [raw('m', { toolong: '1' })], metadata: [] };
  await b.loop.scrapeAndReport();
  t.match(b.loop.lastError, /^label_name_length_limit exceeded/);
  const c = mkLoop({ labelValueLengthLimit: 4 });
  c.source.next = { samples: [raw('m', { v: '12345' })], metadata: [] };
  await c.loop.scrapeAndReport();
  t.match(c.loop.lastError, /^label_value_length_limit exceeded/);
});

t.test('conflicting exposed labels become exported_* unless honor_labels', async (t) => {
  const a = mkLoop();
  a.source.next = { samples: [raw('m', { job: 'theirs', instance: 'x', exported_instance: 'y' })], metadata: [] };
  await a.loop.scrapeAndReport();
  t.same(find(a.sink.last(), 'm')!.labels, {
    __name__: 'm', job: 'job1', instance: 'h:1', exported_job: 'theirs', exported_exported_instance: 'x', exported_instance: 'y',
  });
  const b = mkLoop({ honorLabels: true });
  b.source.next = { samples: [raw('m', { job: 'theirs' })], metadata: [] };
  await b.loop.scrapeAndReport();
  t.same(find(b.sink.last(), 'm')!.labels, { __name__: 'm', job: 'theirs', instance: 'h:1' });
});

t.test('honor_timestamps keeps exposed timestamps, which are not tracked for staleness', async (t) => {
  const a = mkLoop();
  a.source.next = { samples: [raw('m', {}, 1, 12345)], metadata: [] };
  await a.loop.scrapeAndReport();
  t.equal(find(a.sink.last(), 'm')!.t, 12345);
  a.source.next = { samples: [], metadata: [] };
  await a.loop.scrapeAndReport();
  t.equal(a.sink.last().filter((s) => s.stale).length, 0);
  const b = mkLoop({ honorTimestamps: false });
  b.source.next = { samples: [raw('m', {}, 1, 12345)], metadata: [] };
  await b.loop.scrapeAndReport();
  t.equal(find(b.sink.last(), 'm')!.t, b.time());
});

t.test('metric_relabel_configs rewrite and drop series', async (t) => {
  const cfgs: RelabelConfig[] = [
    { source_labels: ['__name__'], separator: ';', target_label: '', regex: 'go_.*', modulus: 0, replacement: '$1', action: 'drop' },
    { source_labels: ['x'], separator: ';', target_label: 'y', regex: '(.*)', modulus: 0, replacement: 'v-$1', action: 'replace' },
  ];
  const { loop, sink, source } = mkLoop({ metricRelabelConfigs: cfgs });
  source.next = { samples: [raw('go_gc'), raw('m', { x: '1' })], metadata: [] };
  await loop.scrapeAndReport();
  t.notOk(find(sink.last(), 'go_gc'));
  t.equal(find(sink.last(), 'm')!.labels.y, 'v-1');
});

t.test('a stopped target writes staleness markers for all its series after two intervals', async (t) => {
  const sink = new MemorySink();
  const source = new FakeSource();
  source.next = { samples: [raw('a')], metadata: [] };
  const loop = new ScrapeLoop({
    pool: 'j', labels: { job: 'j', instance: 'i', __address__: 'i' }, discovered: {}, url: 'http://i/metrics', hash: 7,
    intervalMs: 100, timeoutMs: 50, settings: defaults, source, sink, externalLabels: {},
  });
  loop.start();
  await new Promise((r) => setTimeout(r, 250));
  const before = sink.writes.length;
  t.ok(before >= 1, 'scraped');
  const stopAt = Date.now();
  await loop.stop(true);
  const elapsed = Date.now() - stopAt;
  t.ok(elapsed >= 110, `waited ${elapsed}ms (the next scrape time, one more interval and 10%)`);
  const last = sink.last();
  t.same(last.map((s) => s.labels.__name__).sort(), ['a', 'scrape_duration_seconds', 'scrape_samples_post_metric_relabeling', 'scrape_samples_scraped', 'scrape_series_added', 'up']);
  t.ok(last.every((s) => s.stale));
  t.ok(last[0]!.t > loop.lastScrape, 'stamped at the first missed scrape');
});

t.test('cancelling end-of-run staleness writes nothing', async (t) => {
  const { loop, sink, source } = mkLoop();
  source.next = { samples: [raw('a')], metadata: [] };
  await loop.scrapeAndReport();
  const n = sink.writes.length;
  const p = loop.stop(true);
  loop.cancelStaleness();
  await p;
  t.equal(sink.writes.length, n);
});

t.test('series identity survives reordering, and duplicates after relabeling are written once', async (t) => {
  const collapse: RelabelConfig = { source_labels: [], separator: ';', target_label: '', regex: 'x', modulus: 0, replacement: '$1', action: 'labeldrop' };
  const { loop, sink, source, advance } = mkLoop({ metricRelabelConfigs: [collapse] });
  source.next = { samples: [raw('a', { x: '1' }, 1), raw('a', { x: '2' }, 2), raw('b', {}, 3)], metadata: [] };
  await loop.scrapeAndReport();
  t.equal(sink.last().filter((s) => s.labels.__name__ === 'a').length, 1, 'a{x} collapses to one series');
  t.equal(find(sink.last(), 'a')!.v, 1, 'the first one wins');
  t.equal(find(sink.last(), 'scrape_series_added')!.v, 2);
  advance(1000);
  source.next = { samples: [raw('b', {}, 4), raw('a', { x: '2' }, 5)], metadata: [] };
  await loop.scrapeAndReport();
  t.equal(sink.last().filter((s) => s.stale).length, 0, 'same series in another order: nothing stale');
  t.equal(find(sink.last(), 'a')!.v, 5);
  t.equal(find(sink.last(), 'b')!.v, 4);
  t.equal(find(sink.last(), 'scrape_series_added')!.v, 0);
});

t.test('changed external labels apply to the next scrape', async (t) => {
  const ext: Record<string, string> = { dc: 'a' };
  const { loop, sink, source } = mkLoop({}, ext);
  source.next = { samples: [raw('m')], metadata: [] };
  await loop.scrapeAndReport();
  t.equal(find(sink.last(), 'm')!.labels.dc, 'a');
  ext.dc = 'b';
  await loop.scrapeAndReport();
  t.equal(find(sink.last(), 'm')!.labels.dc, 'b');
});

t.test('exposition bodies go through the scrape cache with the same semantics', async (t) => {
  const drop: RelabelConfig = { source_labels: ['__name__'], separator: ';', target_label: '', regex: 'dropped', modulus: 0, replacement: '$1', action: 'drop' };
  const { loop, sink, source, advance, time } = mkLoop({ metricRelabelConfigs: [drop] }, { datacenter: 'dc1' });
  const body = (v: number, extra = '') => `# TYPE a gauge\na{x="1"} ${v}\na{x="2"} 2.5e3\nb 7 123\ndropped 1\n${extra}`;
  source.next = { text: body(1), format: 'text' };
  await loop.scrapeAndReport();
  let out = sink.last();
  t.same(find(out, 'a', { x: '1' })!.labels, { __name__: 'a', x: '1', job: 'job1', instance: 'h:1', datacenter: 'dc1' });
  t.equal(find(out, 'a', { x: '2' })!.v, 2500);
  t.equal(find(out, 'b')!.t, 123, 'honor_timestamps');
  t.notOk(find(out, 'dropped'));
  t.equal(find(out, 'scrape_samples_scraped')!.v, 4);
  t.equal(find(out, 'scrape_samples_post_metric_relabeling')!.v, 3);
  t.equal(find(out, 'scrape_series_added')!.v, 3);
  t.same(sink.writes[0]!.metadata, [{ metric: 'a', type: 'gauge', help: '', unit: '' }]);
  const labelsBefore = find(out, 'a', { x: '1' })!.labels;

  // steady state: the same series (one written differently), new values, one line moved
  advance(1000);
  source.next = { text: `a{x="2"} 3\na{ x="1" } 42\nb 8 124\ndropped 2\na{x="1"} 43\n`, format: 'text' };
  await loop.scrapeAndReport();
  out = sink.last();
  t.equal(find(out, 'a', { x: '1' })!.v, 42, 'the first of two lines of one series wins');
  t.equal(out.filter((s) => s.labels.__name__ === 'a' && s.labels.x === '1').length, 1);
  t.equal(find(out, 'a', { x: '1' })!.labels, labelsBefore, 'one labels object per series across scrapes');
  t.equal(find(out, 'a', { x: '2' })!.v, 3);
  t.equal(find(out, 'scrape_series_added')!.v, 0);
  t.equal(out.filter((s) => s.stale).length, 0);

  // a malformed line after known ones fails the whole scrape, and marks the previous series stale
  advance(1000);
  source.next = { text: `a{x="1"} 5\na{x="2"} nope\n`, format: 'text' };
  await loop.scrapeAndReport();
  out = sink.last();
  t.equal(find(out, 'up')!.v, 0);
  t.match(loop.lastError, /line 2/);
  t.equal(find(out, 'scrape_samples_scraped')!.v, 0);
  t.notOk(out.some((s) => s.labels.__name__ === 'a' && !s.stale), 'nothing of a malformed body is kept');
  t.same(out.filter((s) => s.stale).map((s) => s.labels.x ?? '').sort(), ['1', '2'], 'b had an explicit timestamp: no marker');

  // a label error in a series the cache has not seen
  advance(1000);
  source.next = { text: `a{x="1"} 5\na{x="1",y=2} 1\n`, format: 'text' };
  await loop.scrapeAndReport();
  t.equal(find(sink.last(), 'up')!.v, 0);
  t.match(loop.lastError, /expected quoted value for label "y"/);

  // recovery; then OpenMetrics with a timestamp in seconds
  advance(1000);
  source.next = { text: `a{x="1"} 6 1.5\n# EOF\n`, format: 'openmetrics' };
  await loop.scrapeAndReport();
  out = sink.last();
  t.equal(find(out, 'up')!.v, 1);
  t.equal(find(out, 'a', { x: '1' })!.t, 1500);
  t.equal(find(out, 'a', { x: '1' })!.v, 6);
  source.next = { text: `a{x="1"} 6\n`, format: 'openmetrics' };
  await loop.scrapeAndReport();
  t.match(loop.lastError, /# EOF/);
  t.equal(time() > 0, true);
});

t.test('sample_limit on an exposition body counts every line', async (t) => {
  const { loop, sink, source } = mkLoop({ sampleLimit: 2 });
  source.next = { text: 'a 1\nb 2\nc 3\nd 4\n', format: 'text' };
  await loop.scrapeAndReport();
  t.equal(find(sink.last(), 'up')!.v, 0);
  t.equal(loop.lastError, 'sample limit exceeded');
  t.equal(find(sink.last(), 'scrape_samples_scraped')!.v, 4);
});
