#!/usr/bin/env node
// Captures the exposition fixtures and measures how many samples Prometheus itself ingests
// from each one. Needs the Debian packages prometheus, prometheus-node-exporter and
// prometheus-pushgateway (binaries in /usr/bin). Run from anywhere:
//
//   node packages/common/testdata/capture.mjs
//
// 1. starts node-exporter, prometheus and pushgateway on 127.0.0.1 with temp data dirs and a
//    small prom-client app, and saves each /metrics (text, and OpenMetrics where offered);
// 2. serves every fixture from a local HTTP server with its content type, lets the Debian
//    prometheus scrape each one as its own job, and records `scrape_samples_scraped` (and
//    that `up` is 1) in fixtures.json.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const TEXT = 'text/plain; version=0.0.4; charset=utf-8';
const OM = 'application/openmetrics-text; version=1.0.0; charset=utf-8';
const OM_ACCEPT = 'application/openmetrics-text; version=1.0.0';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-capture-'));
const children = [];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const freePort = () => new Promise((resolve) => {
  const s = http.createServer().listen(0, '127.0.0.1', () => {
    const { port } = s.address();
    s.close(() => resolve(port));
  });
});

function start(cmd, args) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => { err += d; });
  child.on('exit', (code) => { if (code && code !== 0 && !child.stopping) process.stderr.write(`${cmd} exited ${code}: ${err.slice(-2000)}\n`); });
  children.push(child);
  return child;
}

async function fetchUntil(url, headers = {}) {
  for (let i = 0; i < 100; i++) {
    try {
      const res = await fetch(url, { headers });
      if (res.ok) return { body: await res.text(), contentType: res.headers.get('content-type') ?? '' };
    } catch { /* not up yet */ }
    await sleep(200);
  }
  throw new Error(`cannot fetch ${url}`);
}

/** Saves the text exposition of `url`, and the OpenMetrics one when the server offers it. */
async function capture(name, url) {
  const text = await fetchUntil(url);
  fs.writeFileSync(path.join(here, `${name}.prom`), text.body);
  const out = [{ file: `${name}.prom`, contentType: TEXT }];
  const om = await fetchUntil(url, { accept: OM_ACCEPT });
  if (om.contentType.startsWith('application/openmetrics-text')) {
    fs.writeFileSync(path.join(here, `${name}.om`), om.body);
    out.push({ file: `${name}.om`, contentType: OM });
  }
  return out;
}

async function main() {
  const fixtures = [];

  const nePort = await freePort();
  start('/usr/bin/prometheus-node-exporter', [`--web.listen-address=127.0.0.1:${nePort}`]);
  fixtures.push(...await capture('node-exporter', `http://127.0.0.1:${nePort}/metrics`));

  const pgPort = await freePort();
  start('/usr/bin/prometheus-pushgateway', [`--web.listen-address=127.0.0.1:${pgPort}`]);
  await fetchUntil(`http://127.0.0.1:${pgPort}/-/ready`);
  const pushed = '# TYPE batch_duration_seconds histogram\nbatch_duration_seconds_bucket{le="1"} 3\nbatch_duration_seconds_bucket{le="+Inf"} 5\nbatch_duration_seconds_sum 7.5\nbatch_duration_seconds_count 5\n# TYPE batch_records_total counter\n# HELP batch_records_total Records processed.\nbatch_records_total{kind="a b"} 1234\n';
  await fetch(`http://127.0.0.1:${pgPort}/metrics/job/batch/instance/worker-1`, { method: 'PUT', body: pushed });
  fixtures.push(...await capture('pushgateway', `http://127.0.0.1:${pgPort}/metrics`));

  const promPort = await freePort();
  const selfCfg = path.join(tmp, 'self.yml');
  fs.writeFileSync(selfCfg, `global: { scrape_interval: 1s }\nscrape_configs:\n  - job_name: self\n    static_configs: [{ targets: ['127.0.0.1:${promPort}'] }]\n`);
  const selfProm = start('/usr/bin/prometheus', [`--config.file=${selfCfg}`, `--storage.tsdb.path=${path.join(tmp, 'self-data')}`, `--web.listen-address=127.0.0.1:${promPort}`]);
  await fetchUntil(`http://127.0.0.1:${promPort}/-/ready`);
  await sleep(3000); // let it scrape itself so its metrics have values
  fixtures.push(...await capture('prometheus', `http://127.0.0.1:${promPort}/metrics`));
  selfProm.stopping = true;
  selfProm.kill('SIGTERM');

  // prom-client with default metrics, in both formats
  const client = await import(path.join(here, '../../../node_modules/prom-client/index.js'));
  const promClient = client.default ?? client;
  for (const [format, file, ct] of [['text', 'prom-client.prom', TEXT], ['om', 'prom-client.om', OM]]) {
    const reg = new promClient.Registry();
    if (format === 'om') reg.setContentType(promClient.openMetricsContentType);
    promClient.collectDefaultMetrics({ register: reg });
    const c = new promClient.Counter({ name: 'app_requests_total', help: 'Requests handled, by "route".', labelNames: ['route', 'code'], registers: [reg] });
    c.inc({ route: '/a', code: '200' }, 3);
    c.inc({ route: '/b\\c\n', code: '500' });
    const h = new promClient.Histogram({ name: 'app_latency_seconds', help: 'Latency.', buckets: [0.1, 1], registers: [reg] });
    h.observe(0.05);
    h.observe(3);
    new promClient.Summary({ name: 'app_size_bytes', help: 'Sizes.', percentiles: [0.5, 0.9], registers: [reg] }).observe(10);
    new promClient.Gauge({ name: 'app_temperature_celsius', help: 'Temperature.', registers: [reg] }).set(-3.25);
    await sleep(50);
    fs.writeFileSync(path.join(here, file), await reg.metrics());
    fixtures.push({ file, contentType: ct });
  }

  // hand-written fixtures kept in the repository
  fixtures.push({ file: 'openmetrics-features.om', contentType: OM });

  // serve the fixtures and let Prometheus count what it ingests
  const byPath = new Map(fixtures.map((f) => [`/${f.file}`, f]));
  const server = http.createServer((req, res) => {
    const f = byPath.get(req.url ?? '');
    if (!f) { res.writeHead(404).end(); return; }
    res.writeHead(200, { 'content-type': f.contentType }).end(fs.readFileSync(path.join(here, f.file)));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const fsPort = server.address().port;
  const countPort = await freePort();
  const cfg = path.join(tmp, 'count.yml');
  fs.writeFileSync(cfg, 'global: { scrape_interval: 1s, scrape_timeout: 1s }\nscrape_configs:\n' + fixtures.map((f, i) =>
    `  - job_name: f${i}\n    metrics_path: /${f.file}\n    static_configs: [{ targets: ['127.0.0.1:${fsPort}'] }]\n`).join(''));
  start('/usr/bin/prometheus', [`--config.file=${cfg}`, `--storage.tsdb.path=${path.join(tmp, 'count-data')}`, `--web.listen-address=127.0.0.1:${countPort}`]);
  await fetchUntil(`http://127.0.0.1:${countPort}/-/ready`);
  const result = {};
  for (let attempt = 0; attempt < 60; attempt++) {
    await sleep(1000);
    const q = async (expr) => JSON.parse((await fetchUntil(`http://127.0.0.1:${countPort}/api/v1/query?query=${encodeURIComponent(expr)}`)).body).data.result;
    const scraped = await q('scrape_samples_scraped');
    const up = await q('up');
    if (scraped.length < fixtures.length) continue;
    for (const r of scraped) {
      const i = Number(r.metric.job.slice(1));
      const u = up.find((x) => x.metric.job === r.metric.job);
      result[fixtures[i].file] = { contentType: fixtures[i].contentType, samples: Number(r.value[1]), up: Number(u?.value[1] ?? 0) };
    }
    break;
  }
  server.close();
  const ordered = Object.fromEntries(fixtures.map((f) => [f.file, result[f.file]]));
  fs.writeFileSync(path.join(here, 'fixtures.json'), JSON.stringify({
    source: 'scrape_samples_scraped and up reported by Debian prometheus 2.42 scraping each fixture served with its content type (capture.mjs)',
    fixtures: ordered,
  }, null, 2) + '\n');
  process.stdout.write(JSON.stringify(ordered, null, 2) + '\n');
}

try {
  await main();
} finally {
  for (const c of children) { c.stopping = true; c.kill('SIGTERM'); }
  await sleep(1000);
  fs.rmSync(tmp, { recursive: true, force: true });
}
