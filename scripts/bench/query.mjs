#!/usr/bin/env node
// Query speed: the 1-day node dataset (1,000 series, 5.76M samples) in the LevelDB store, the fixed query set of
// ../shared/bench/README.md run as query_range (step 60 s) through the HTTP API in-process.
// Prints `bench: query_range_p50_ms <median of the per-query medians> ms (<workload>)` and one line per query.
//   node scripts/bench/query.mjs [--runs 7] [--mem] [--reuse]
//     --mem    MemStorage instead of LevelDB
//     --prometheus URL  also time the same requests against a Prometheus serving the same data (e.g. blocks made
//              with `promtool tsdb create-blocks-from openmetrics .bench/node1d/dataset.om DIR`), interleaved
//     --prometheus-pid PID  also read that Prometheus' CPU time per request from /proc (10 ms ticks)
//     --cached-select  answer each distinct select from memory after its first time, so that the figures are the
//              engine's and the API's alone (not a Prometheus-comparable figure)
//     --ab DIR  also answer every request with the hub built in DIR (e.g. an older commit's packages/hub/dist,
//              over the same store), interleaved, to compare two versions of the engine and API on one run
//     --only SUBSTR  run only the queries whose "<query> <hours>h" contains SUBSTR
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
const promPid = args.includes('--prometheus-pid') ? args[args.indexOf('--prometheus-pid') + 1] : null;
const cachedSelect = args.includes('--cached-select');
const abDir = args.includes('--ab') ? path.resolve(args[args.indexOf('--ab') + 1]) : null;
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : null;
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

/** A queryable that remembers each select's answer by window and matchers. */
function memoized(q) {
  const cache = new Map();
  return {
    async querier(mint, maxt) {
      const inner = await q.querier(mint, maxt);
      return {
        async select(matchers, hints) {
          const key = `${mint} ${maxt} ${matchers.map((m) => `${m.name}${m.type}${m.value}`).join(',')} ${JSON.stringify(hints ?? {})}`;
          if (!cache.has(key)) cache.set(key, await inner.select(matchers, hints));
          return cache.get(key);
        },
        labelNames: (m) => inner.labelNames(m),
        labelValues: (n, m) => inner.labelValues(n, m),
        close: () => inner.close(),
      };
    },
  };
}

const engine = new hub.Engine();
const queryable = cachedSelect ? memoized(storage) : storage;
const app = hub.queryRoutes({ queryable, storage, engine });
let appB = null;
if (abDir) {
  const other = await import(path.join(abDir, 'index.js'));
  appB = other.queryRoutes({ queryable, storage, engine: new other.Engine() });
}
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

// Wall time of each request, and for in-process requests also this process' CPU time (user + system) spent on
// it, which the other work on a shared machine does not inflate as much as the wall time.
function procCpuMs(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10; // utime + stime, in 100 Hz ticks
}

async function runOnce(query, window, base = null, via = app) {
  const qs = new URLSearchParams({ query, start: String(end - window), end: String(end), step: '60' });
  const p0 = base && promPid ? procCpuMs(promPid) : 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const res = base ? await fetch(`${base}/api/v1/query_range?${qs}`) : await via.request(`/api/v1/query_range?${qs}`);
  const body = await res.text();
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  if (res.status !== 200) throw new Error(`query ${query} failed: ${body.slice(0, 200)}`);
  // count the series without building the whole answer as objects: parsing megabytes of JSON here would leave
  // garbage that the next timed request pays for
  if (!body.startsWith('{"status":"success"')) throw new Error(`query ${query}: unexpected answer ${body.slice(0, 200)}`);
  let series = 0;
  for (let i = body.indexOf('{"metric":'); i >= 0; i = body.indexOf('{"metric":', i + 10)) series++;
  const cpuMs = base ? (promPid ? procCpuMs(promPid) - p0 : NaN) : (c.user + c.system) / 1000;
  return { ms, cpuMs, series };
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const medians = [];
const cpuMedians = [];
const lines = [];
let faster = 0;
const promMedians = [];
for (const [query, window, prom] of QUERIES) {
  if (only && !`${query} ${window / H}h`.includes(only)) continue;
  await runOnce(query, window); // warm-up
  if (promUrl) await runOnce(query, window, promUrl);
  const times = [];
  const cpuTimes = [];
  const promTimes = [];
  const promCpu = [];
  const abTimes = [];
  const abCpu = [];
  if (appB) await runOnce(query, window, null, appB);
  let series = 0;
  for (let i = 0; i < runs; i++) {
    const r = await runOnce(query, window);
    times.push(r.ms);
    cpuTimes.push(r.cpuMs);
    series = r.series;
    if (appB) {
      const b = await runOnce(query, window, null, appB);
      abTimes.push(b.ms);
      abCpu.push(b.cpuMs);
    }
    if (promUrl) {
      const p = await runOnce(query, window, promUrl);
      promTimes.push(p.ms);
      promCpu.push(p.cpuMs);
    }
  }
  const m = median(times);
  const cm = median(cpuTimes);
  medians.push(m);
  cpuMedians.push(cm);
  if (m <= prom) faster++;
  let here = '';
  if (appB) here += `; --ab build ${median(abTimes).toFixed(1)} ms, cpu ${median(abCpu).toFixed(1)} ms`;
  if (promUrl) {
    const pm = median(promTimes);
    promMedians.push(pm);
    here += `; Prometheus here now ${pm.toFixed(1)} ms${promPid ? `, cpu ${median(promCpu).toFixed(0)} ms` : ''}`;
  }
  lines.push(`query: ${m.toFixed(1)} ms p50, cpu ${cm.toFixed(1)} ms (${window / H}h, ${series} series out; Prometheus ${prom} ms in the README${here}) ${query}`);
}
await storage.close();
const p50 = median(medians);
const workload = `${meta.series} series x 24h @ ${meta.params.intervalS}s (${meta.samples} samples), ${medians.length} query_range at step 60s, ${runs} runs each, ${useMem ? 'MemStorage' : 'LevelDB'}${cachedSelect ? ' (selects cached: engine and API only)' : ''}; ${loadNote}`;
process.stdout.write(`bench: query_range_p50_ms ${p50.toFixed(1)} ms (${workload})\n`);
for (const l of lines) process.stdout.write(`${l}\n`);
process.stdout.write(`query: cpu p50 of medians ${median(cpuMedians).toFixed(1)} ms\n`);
process.stdout.write(`query: ${faster}/${medians.length} queries at least as fast as Prometheus 2.42's README figures\n`);
if (promUrl) process.stdout.write(`query: Prometheus at ${promUrl}, same requests interleaved: p50 of medians ${median(promMedians).toFixed(1)} ms\n`);
