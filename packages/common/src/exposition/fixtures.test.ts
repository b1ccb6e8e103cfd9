import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { labelsKey } from '../model/labels.js';
import type { MetricFamily } from '../model/sample.js';
import { toFamilies } from './families.js';
import { ImportParser } from './import.js';
import { parseExposition, type ExpositionSample } from './parser.js';
import { OPENMETRICS_CONTENT_TYPE, SCRAPE_ACCEPT_HEADER, TEXT_CONTENT_TYPE, negotiate, writeOpenMetrics, writeText } from './writer.js';

// Fixtures captured from real exporters by testdata/capture.mjs, with the number of samples
// the Debian prometheus 2.42 ingested from each (scrape_samples_scraped).
const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../testdata');
const { fixtures } = JSON.parse(fs.readFileSync(path.join(dir, 'fixtures.json'), 'utf8')) as {
  fixtures: Record<string, { contentType: string; samples: number; up: number }>;
};

/** Samples as comparable strings (NaN-aware, order-independent). */
function canon(samples: ExpositionSample[]): string[] {
  return samples.map((s) => `${labelsKey(s.labels)} ${Object.is(s.value, -0) ? '-0' : String(s.value)} ${s.timestamp ?? ''}`).sort();
}

t.test('fixture list covers the exporters named in the issue', async (t) => {
  for (const f of ['node-exporter.prom', 'prometheus.prom', 'pushgateway.prom', 'prom-client.prom', 'prom-client.om', 'openmetrics-features.om']) {
    t.ok(fixtures[f], f);
    t.equal(fixtures[f]?.up, 1, `Prometheus scraped ${f} successfully`);
  }
});

for (const [file, info] of Object.entries(fixtures)) {
  t.test(`${file}: as many samples as Prometheus ingests, and a lossless round trip`, async (t) => {
    const text = fs.readFileSync(path.join(dir, file), 'utf8');
    const exp = parseExposition(text, { contentType: info.contentType });
    t.equal(exp.samples.length, info.samples, 'sample count equals scrape_samples_scraped');
    t.ok(exp.metadata.length > 0, 'metadata found');
    const om = info.contentType.startsWith('application/openmetrics-text');
    const families = toFamilies(exp);
    const written = om ? writeOpenMetrics(families) : writeText(families);
    const again = parseExposition(written, { format: om ? 'openmetrics' : 'text' });
    t.same(canon(again.samples), canon(exp.samples), 'samples survive parse -> write -> parse');
    t.same(again.metadata, exp.metadata, 'metadata survives');
    // and across formats
    const other = om ? writeText(families) : writeOpenMetrics(families);
    t.same(canon(parseExposition(other, { format: om ? 'text' : 'openmetrics' }).samples), canon(exp.samples), 'samples survive the other format');
    if (!om) {
      let n = 0;
      const p = new ImportParser(() => { n++; });
      p.push(text);
      p.end();
      t.equal(n, info.samples, 'the import parser reads the same samples');
    }
  });
}

t.test('node-exporter fixture: known series parse exactly', async (t) => {
  const exp = parseExposition(fs.readFileSync(path.join(dir, 'node-exporter.prom'), 'utf8'));
  const cpu = exp.samples.find((s) => s.name === 'node_cpu_seconds_total');
  t.ok(cpu, 'node_cpu_seconds_total present');
  t.ok(cpu!.labels.cpu !== undefined && cpu!.labels.mode !== undefined);
  t.same(exp.metadata.find((m) => m.metric === 'node_cpu_seconds_total'), { metric: 'node_cpu_seconds_total', type: 'counter', help: 'Seconds the CPUs spent in each mode.', unit: '' });
});

t.test('openmetrics features fixture: units, info, stateset, gaugehistogram, escapes', async (t) => {
  const exp = parseExposition(fs.readFileSync(path.join(dir, 'openmetrics-features.om'), 'utf8'), { format: 'openmetrics' });
  const meta = Object.fromEntries(exp.metadata.map((m) => [m.metric, m]));
  t.equal(meta.process_cpu_seconds?.unit, 'seconds');
  t.equal(meta.request_latency?.help, 'Request latency with "quotes" \\ and a \n newline.');
  t.same(exp.metadata.map((m) => m.type), ['summary', 'gauge', 'counter', 'histogram', 'gaugehistogram', 'info', 'stateset', 'unknown']);
  const info = exp.samples.find((s) => s.name === 'build_info')!;
  t.equal(info.labels.escaped, 'a\\b "c" \nd');
  const withTs = exp.samples.filter((s) => s.timestamp !== undefined).map((s) => s.timestamp);
  t.same(withTs, [1700000000500, 1700000001000]);
  const families = toFamilies(exp);
  t.same(families.find((f) => f.name === 'process_cpu_seconds')!.samples.map((s) => s.name), ['process_cpu_seconds_total', 'process_cpu_seconds_created']);
});

t.test('content negotiation', async (t) => {
  t.same(negotiate(SCRAPE_ACCEPT_HEADER), { format: 'openmetrics', contentType: OPENMETRICS_CONTENT_TYPE });
  t.same(negotiate(undefined), { format: 'text', contentType: TEXT_CONTENT_TYPE });
  t.same(negotiate('*/*'), { format: 'text', contentType: TEXT_CONTENT_TYPE });
  t.equal(negotiate('text/plain;version=0.0.4;q=0.9,application/openmetrics-text;version=1.0.0;q=0.5').format, 'text');
  t.equal(negotiate('application/openmetrics-text; version=2.0.0, text/plain').format, 'text');
  t.equal(negotiate('application/openmetrics-text').format, 'openmetrics');
});

t.test('writers: escaping, timestamps and OpenMetrics family names', async (t) => {
  const fam: MetricFamily[] = [{ name: 'jobs_total', type: 'counter', help: 'Jobs "done"\\\nnow', samples: [
    { name: 'jobs_total', labels: { path: 'a\\b "c"\nd' }, value: 1e6, timestamp: 1735689600123 },
    { name: 'jobs_total', labels: {}, value: NaN },
  ] }];
  t.equal(writeText(fam), '# HELP jobs_total Jobs "done"\\\\\\nnow\n# TYPE jobs_total counter\njobs_total{path="a\\\\b \\"c\\"\\nd"} 1e+06 1735689600123\njobs_total NaN\n');
  t.equal(writeOpenMetrics(fam), '# TYPE jobs counter\n# HELP jobs Jobs \\"done\\"\\\\\\nnow\njobs_total{path="a\\\\b \\"c\\"\\nd"} 1e+06 1735689600.123\njobs_total NaN\n# EOF\n');
  const back = parseExposition(writeOpenMetrics(fam), { format: 'openmetrics' });
  t.equal(back.samples[0]!.timestamp, 1735689600123);
  t.equal(back.metadata[0]!.help, 'Jobs "done"\\\nnow');
});
