#!/usr/bin/env node
// Storage benchmarks (issue 3). Prints `bench: <name> <value> <unit> (<workload>)` lines:
//   bytes_per_sample   1-day node dataset (and the oracle dataset) imported, flushed, whole data dir
//   import_seconds     the 1-day dataset through POST /api/v1/import/prometheus (in-process)
//   append_samples_per_sec  Appender with durable commits of 10,000 samples
//   hub_rss_mb_per_100k_series  RSS growth for 100k active series in the head
// Datasets are generated into .bench/ when absent. Needs the compiled workspace (npm run build).
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import { serve } from '@hono/node-server';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { importRoutes, openStorage } from '@vigil/hub';
import { silentLogger } from '@vigil/common';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const benchDir = path.join(root, '.bench');
const shared = [path.join(root, '..', 'shared'), '/work/shared'].find((d) => fs.existsSync(d));
const only = process.argv.slice(2);
const want = (name) => only.length === 0 || only.includes(name);

function dataset(name, script, args = []) {
  const dir = path.join(benchDir, name);
  if (!fs.existsSync(path.join(dir, 'dataset.prom'))) {
    fs.mkdirSync(dir, { recursive: true });
    const r = spawnSync(process.execPath, [path.join(shared, script), '--out', dir, ...args], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`cannot generate dataset ${name}`);
  }
  return path.join(dir, 'dataset.prom');
}

function dirBytes(dir) {
  let n = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    n += e.isDirectory() ? dirBytes(p) : fs.statSync(p).size;
  }
  return n;
}

function tmp() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-'));
}

async function importFile(file, label) {
  const dir = tmp();
  const storage = await openStorage({ dir, logger: silentLogger });
  const app = importRoutes({ storage, logger: silentLogger });
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await once(server, 'listening');
  const { port } = server.address();
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  const status = await new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/api/v1/import/prometheus' }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => (res.statusCode === 204 ? resolve(204) : reject(new Error(`import of ${label} failed: ${res.statusCode} ${text}`))));
    });
    req.on('error', reject);
    fs.createReadStream(file, { highWaterMark: 1 << 20 }).pipe(req);
  });
  server.close();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const stats = storage.stats();
  await storage.flush();
  const flushSeconds = Number(process.hrtime.bigint() - t0) / 1e9 - seconds;
  const cpu = process.cpuUsage(cpu0);
  await storage.close();
  const bytes = dirBytes(dir);
  fs.rmSync(dir, { recursive: true, force: true });
  return { seconds, flushSeconds, samples: stats.samplesAppended, bytes, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

if (want('bytes') || want('import')) {
  const node = await importFile(dataset('node-1d', 'bench/gen-node-dataset.js'), 'node dataset');
  console.log(`bench: import_seconds ${node.seconds.toFixed(2)} s (1-day node dataset, ${node.samples} samples, POST /api/v1/import/prometheus over loopback HTTP, then flush ${node.flushSeconds.toFixed(2)} s, ${(node.cpuSeconds / node.samples * 1e6).toFixed(2)} CPU-s per million)`);
  console.log(`bench: bytes_per_sample ${(node.bytes / node.samples).toFixed(3)} bytes (1-day node dataset, ${node.samples} samples, data dir after flush)`);
  try {
    const oracle = await importFile(dataset('oracle', 'promql-oracle/gen-dataset.mjs'), 'oracle dataset');
    console.log(`bench: bytes_per_sample_oracle ${(oracle.bytes / oracle.samples).toFixed(3)} bytes (oracle dataset, ${oracle.samples} samples, data dir after flush)`);
  } catch (err) {
    console.log(`bench: bytes_per_sample_oracle skipped (${err.message})`);
  }
}

if (want('append')) {
  const dir = tmp();
  const storage = await openStorage({ dir, logger: silentLogger });
  const SERIES = 10_000;
  const PER_COMMIT = 10_000;
  const refs = new Array(SERIES).fill(0);
  const labels = Array.from({ length: SERIES }, (_, i) => ({ __name__: `m${i % 100}`, instance: `host-${i % 50}`, i: String(i) }));
  const base = 1_700_000_000_000;
  // warm up: create the series
  let app = storage.appender();
  for (let s = 0; s < SERIES; s++) refs[s] = app.append(refs[s], labels[s], base, s);
  await app.commit();
  const total = 2_000_000;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  let n = 0;
  let step = 1;
  while (n < total) {
    app = storage.appender();
    for (let k = 0; k < PER_COMMIT; k++, n++) {
      const s = n % SERIES;
      if (s === 0) step++;
      refs[s] = app.append(refs[s], labels[s], base + step * 15_000, (step * 7 + s) % 1000);
    }
    await app.commit();
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  console.log(`bench: append_samples_per_sec ${Math.round(total / seconds)} samples/s (Appender, ${SERIES} series, ${PER_COMMIT} samples per durable commit, ${total} samples, ${((cpu.user + cpu.system) / 1e6 / total * 1e6).toFixed(2)} CPU-s per million)`);
  await storage.close();
  fs.rmSync(dir, { recursive: true, force: true });
}

if (want('rss')) {
  const dir = tmp();
  const storage = await openStorage({ dir, logger: silentLogger });
  globalThis.gc?.();
  const rss0 = process.memoryUsage().rss;
  const SERIES = 100_000;
  const refs = new Array(SERIES).fill(0);
  const base = 1_700_000_000_000;
  for (let round = 0; round < 4; round++) {
    const app = storage.appender();
    for (let s = 0; s < SERIES; s++) {
      refs[s] = app.append(refs[s], { __name__: `metric_${s % 500}`, instance: `host-${s % 200}:9100`, job: 'node', series: String(s) }, base + round * 15_000, s);
    }
    await app.commit();
  }
  globalThis.gc?.();
  const rss = process.memoryUsage().rss - rss0;
  console.log(`bench: hub_rss_mb_per_100k_series ${(rss / 1024 / 1024).toFixed(1)} MB (RSS growth, 100k series × 4 samples in the head, 4 labels each)`);
  await storage.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
