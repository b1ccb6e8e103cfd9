#!/usr/bin/env node
// Query speed: the 1-day node dataset (1,000 series, 5.76M samples) in the LevelDB store, the fixed query set of
// ../shared/bench/README.md run as query_range (step 60 s) through the HTTP API in-process.
// Prints `bench: query_range_p50_ms <median of the per-query medians> ms (<workload>)` and one line per query.
//   node scripts/bench/query.mjs [--runs 7] [--mem] [--reuse]
//     --mem    MemStorage instead of LevelDB
//     --prometheus URL  also time the same requests against a Prometheus serving the same data (e.g. blocks made
//              with `promtool tsdb create-blocks-from openmetrics .bench/node1d/dataset.om DIR`), interleaved
//     --reuse  keep the imported LevelDB store in .bench/query-store and reuse it (only while the storage
//              format does not change); by default the data is imported into a fresh temporary store
import { spawnSync } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = path.join(fileURLToPath(import.meta.url), '..', '..', '..');
const hub = await import(path.join(root, 'packages/hub/dist/index.js'));
const { parseImportLine } = await import(path.join(root, 'packages/hub/dist/promql/testing/dataset.js'));

const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1] || 7) || 7;
const useMem = args.includes('--mem');
const reuse = args.includes('--reuse');
const promUrl = args.includes('--prometheus') ? args[args.indexOf('--prometheus') + 1] : null;
const sharedBench = [path.join(root, '..', 'shared', 'bench'), '/work/shared/bench'].find((d) => existsSync(path.join(d, 'gen-node-dataset.js')));
const dataDir = path.join(root, '.bench', 'node1d');
const dataFile = path.join(dataDir, 'dataset.prom');

if (!existsSync(dataFile)) {
  if (!sharedBench) { console.error('bench: query: ../shared/bench not found'); process.exit(1); }
  mkdirSync(dataDir, { recursive: true });
  const r = spawnSync(process.execPath, [path.join(sharedBench, 'gen-node-dataset.js'), '--out', dataDir], { stdio: 'ignore' });
  if (r.status !== 0) { console.error('bench: query: cannot generate the dataset'); process.exit(1); }
}
const meta = JSON.parse(readFileSync(path.join(dataDir, 'meta.json'), 'utf8'));

async function load(storage) {
  const rl = readline.createInterface({ input: createReadStream(dataFile, { highWaterMark: 1 << 20 }), crlfDelay: Infinity });
  let app = storage.appender();
  let n = 0;
  const refs = new Map();
  for await (const line of rl) {
    const s = parseImportLine(line);
    if (!s || s.t === null) continue;
    const key = line.slice(0, line.lastIndexOf('}') + 1);
    refs.set(key, app.append(refs.get(key) ?? 0, s.labels, s.t, s.v));
    if (++n % 100_000 === 0) {
      await app.commit();
      app = storage.appender();
    }
  }
  await app.commit();
  await storage.flush();
  return n;
}

let storage;
let loadNote = '';
if (useMem) {
  storage = new hub.MemStorage();
  const t0 = performance.now();
  const n = await load(storage);
  loadNote = `loaded ${n} samples in ${((performance.now() - t0) / 1000).toFixed(1)} s`;
} else {
  const dir = reuse ? path.join(root, '.bench', 'query-store') : mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-query-'));
  const marker = path.join(dir, 'loaded.json');
  const sha = meta.files.prom.sha256;
  const cached = reuse && existsSync(marker) && JSON.parse(readFileSync(marker, 'utf8')).sha256 === sha;
  if (reuse && !cached) rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  if (!reuse) process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  storage = await hub.openStorage({ dir });
  if (!cached) {
    const t0 = performance.now();
    const n = await load(storage);
    writeFileSync(marker, JSON.stringify({ sha256: sha, samples: n }));
    loadNote = `imported ${n} samples in ${((performance.now() - t0) / 1000).toFixed(1)} s`;
  } else loadNote = 'store reused from .bench/query-store';
}

const engine = new hub.Engine();
const app = hub.queryRoutes({ queryable: storage, storage, engine });
const end = meta.lastTs - (meta.lastTs % 60);
const H = 3600;
// Prometheus 2.42 medians from ../shared/bench/README.md (same data, same machine kind).
const QUERIES = [
  ['rate(node_cpu_seconds_total[5m])', 1 * H, 11.8],
  ['rate(node_cpu_seconds_total[5m])', 24 * H, 144.5],
  ['sum by (instance) (rate(node_network_receive_bytes_total[5m]))', 24 * H, 12.4],
  ['sum by (job) (rate(http_requests_total[5m]))', 24 * H, 59.8],
  ['histogram_quantile(0.9, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))', 24 * H, 53.8],
  ['topk(5, rate(http_requests_total[5m]))', 24 * H, 66.7],
  ['avg_over_time(node_hwmon_temp_celsius[10m])', 24 * H, 61.1],
  ['max_over_time(node_load1[1h])', 24 * H, 4.2],
  ['increase(http_requests_total{code=~"5.."}[1h])', 24 * H, 27.5],
];

async function runOnce(query, window, base = null) {
  const qs = new URLSearchParams({ query, start: String(end - window), end: String(end), step: '60' });
  const t0 = performance.now();
  const res = base ? await fetch(`${base}/api/v1/query_range?${qs}`) : await app.request(`/api/v1/query_range?${qs}`);
  const body = await res.text();
  const ms = performance.now() - t0;
  if (res.status !== 200) throw new Error(`query ${query} failed: ${body.slice(0, 200)}`);
  const parsed = JSON.parse(body);
  return { ms, series: parsed.data.result.length };
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const medians = [];
const lines = [];
let faster = 0;
const promMedians = [];
for (const [query, window, prom] of QUERIES) {
  await runOnce(query, window); // warm-up
  if (promUrl) await runOnce(query, window, promUrl);
  const times = [];
  const promTimes = [];
  let series = 0;
  for (let i = 0; i < runs; i++) {
    const r = await runOnce(query, window);
    times.push(r.ms);
    series = r.series;
    if (promUrl) promTimes.push((await runOnce(query, window, promUrl)).ms);
  }
  const m = median(times);
  medians.push(m);
  if (m <= prom) faster++;
  let here = '';
  if (promUrl) {
    const pm = median(promTimes);
    promMedians.push(pm);
    here = `; Prometheus here now ${pm.toFixed(1)} ms`;
  }
  lines.push(`query: ${m.toFixed(1)} ms p50 (${window / H}h, ${series} series out; Prometheus ${prom} ms in the README${here}) ${query}`);
}
await storage.close();
const p50 = median(medians);
const workload = `${meta.series} series x 24h @ ${meta.params.intervalS}s (${meta.samples} samples), ${QUERIES.length} query_range at step 60s, ${runs} runs each, ${useMem ? 'MemStorage' : 'LevelDB'}; ${loadNote}`;
process.stdout.write(`bench: query_range_p50_ms ${p50.toFixed(1)} ms (${workload})\n`);
for (const l of lines) process.stdout.write(`${l}\n`);
process.stdout.write(`query: ${faster}/${QUERIES.length} queries at least as fast as Prometheus 2.42's README figures\n`);
if (promUrl) process.stdout.write(`query: Prometheus at ${promUrl}, same requests interleaved: p50 of medians ${median(promMedians).toFixed(1)} ms\n`);
