#!/usr/bin/env node
// Link benchmarks: the agent's wire protocol over a real WebSocket on loopback into a hub
// child process (IngestServer + LevelDB storage, acks after durable commits).
//   bench: wire_bytes_per_sample, agent_rss_mb, agent_cpu_ms_per_1k_samples   (live streaming, 1 h @ 15 s)
//   bench: ingest_samples_per_sec, hub_cpu_sec_per_million_samples           (backlog drain, unbounded lane)
//   bench: backfill_samples_per_sec                                           (backlog drain, default lane bound)
import { fork } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(import.meta.url);
const require = createRequire(import.meta.url);
const sharedLib = path.join(path.dirname(here), '..', '..', '..', 'shared', 'bench', 'lib', 'series-model.js');

if (process.argv[2] === '--hub') {
  // hub child: real storage in argv[3], reports its CPU on request
  const { IngestServer, openStorage } = await import('@vigil/hub');
  const storage = await openStorage({ dir: process.argv[3] });
  const ingest = new IngestServer({ storage, tokens: [], allowAnonymous: true, dataDir: process.argv[3] });
  const server = http.createServer((_q, r) => r.writeHead(404).end());
  server.on('upgrade', (req, sock, head) => { if (!ingest.handleUpgrade(req, sock, head)) sock.destroy(); });
  server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
  process.on('message', async (m) => {
    if (m === 'cpu') {
      const u = process.cpuUsage();
      process.send({ cpu: (u.user + u.system) / 1e6, rss: process.memoryUsage().rss });
    } else if (m === 'stop') {
      await ingest.close();
      await storage.close();
      server.closeAllConnections();
      server.close();
      process.send({ stopped: true });
      process.exit(0);
    }
  });
}

function startHub(dir) {
  // LINK_BENCH_PROF=<dir>: the hub child writes a CPU profile there (node --cpu-prof)
  const execArgv = process.env.LINK_BENCH_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.LINK_BENCH_PROF}`] : [];
  const p = fork(here, ['--hub', dir], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], execArgv });
  const ask = (msg, key) => new Promise((resolve) => {
    const on = (m) => { if (m && key in m) { p.off('message', on); resolve(m); } };
    p.on('message', on);
    if (msg) p.send(msg);
  });
  return ask(null, 'port').then(({ port }) => ({ port, cpu: () => ask('cpu', 'cpu'), stop: () => ask('stop', 'stopped') }));
}

function dataset(instances, seriesPerInstance) {
  const { buildCatalog, makeStepper, hashSeed } = require(sharedLib);
  const insts = [];
  for (let i = 0; i < instances; i++) {
    const cat = buildCatalog(seriesPerInstance, { seed: 1, instance: i });
    const step = makeStepper(cat, hashSeed('steps', 1, i));
    const labels = [];
    for (let s = 0; s < cat.n; s++) {
      const l = { __name__: cat.names[s], instance: `host-${String(i).padStart(3, '0')}:9100`, job: 'node', datacenter: 'dc1' };
      for (const m of (cat.labelStrs[s] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) if (m[2] !== '') l[m[1]] = m[2];
      labels.push(l);
    }
    insts.push({ cat, step, labels });
  }
  return insts;
}

function scrapeOf(inst, t) {
  const out = new Array(inst.cat.n);
  for (let s = 0; s < inst.cat.n; s++) out[s] = { labels: inst.labels[s], t, v: inst.cat.val[s] };
  return out;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(cond, timeoutMs) {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await sleep(2);
  }
}

async function main() {
  const { openBuffer, Streamer } = await import('@vigil/agent');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-link-'));
  const INTERVAL = 15_000;
  const t0 = Date.now() - 30 * 86_400_000;
  try {
    // ---- live streaming: 1,000 node-exporter-like series @ 15 s for 1 h, one frame per scrape
    const live = async (compression) => {
      const hub = await startHub(path.join(tmp, `hub-live-${compression}`));
      const buffer = await openBuffer({ dir: path.join(tmp, `agent-live-${compression}`), maxBytes: 1 << 30 });
      const streamer = new Streamer({ hubUrl: `ws://127.0.0.1:${hub.port}`, agentId: 'bench', datacenter: 'dc1', buffer, compression });
      streamer.start();
      await until(() => streamer.stats().connected, 5000);
      const insts = dataset(4, 250);
      const steps = 240;
      let samples = 0;
      const cpu0 = process.cpuUsage();
      for (let k = 0; k < steps; k++) {
        const t = t0 + k * INTERVAL;
        for (const inst of insts) {
          if (k > 0) inst.step(INTERVAL / 1000);
          const sc = scrapeOf(inst, t);
          streamer.write(sc);
          samples += sc.length;
        }
        await until(() => buffer.unackedBlocks === 0, 10_000);
      }
      const cpu = process.cpuUsage(cpu0);
      const st = streamer.stats();
      const rss = process.memoryUsage().rss;
      await streamer.stop();
      await buffer.close();
      await hub.stop();
      return { samples, wire: st.wireBytes / samples, cpuMsPer1k: (cpu.user + cpu.system) / 1000 / (samples / 1000), rss };
    };
    // LINK_BENCH_ONLY=ingest: only the backlog drain into LevelDB (hub CPU, ingest rate)
    const only = process.env.LINK_BENCH_ONLY;
    if (!only || only === 'live') {
    const raw = await live(false);
    process.stdout.write(`# info: wire without permessage-deflate (columnar coding only): ${raw.wire.toFixed(2)} bytes/sample\n`);
    const r = await live(true);
    const wl = `node-exporter-like, 1000 series @ 15s, 1h = ${r.samples} samples, live lane, one frame per scrape, acked`;
    process.stdout.write(`bench: wire_bytes_per_sample ${r.wire.toFixed(2)} bytes (${wl}, columnar + permessage-deflate)\n`);
    process.stdout.write(`bench: agent_cpu_ms_per_1k_samples ${r.cpuMsPer1k.toFixed(3)} ms (${wl}, encode + buffer + send, excluding scraping)\n`);
    process.stdout.write(`bench: agent_rss_mb ${(r.rss / 2 ** 20).toFixed(1)} MB (${wl}, agent process with buffer and streamer)\n`);
    }
    if (only === 'live') return;

    // ---- backlog drains into LevelDB storage
    const drain = async (name, opts, steps) => {
      const dir = path.join(tmp, `agent-${name}`);
      const buffer = await openBuffer({ dir, maxBytes: 4 * 2 ** 30 });
      const insts = dataset(8, 250);
      let samples = 0;
      // the backlog: written while the hub was away
      const { Streamer: S } = await import('@vigil/agent');
      const writer = new S({ hubUrl: 'ws://127.0.0.1:1', agentId: 'bench', datacenter: 'dc1', buffer });
      for (let k = 0; k < steps; k++) {
        for (const inst of insts) {
          if (k > 0) inst.step(INTERVAL / 1000);
          const sc = scrapeOf(inst, t0 + k * INTERVAL);
          writer.write(sc);
          samples += sc.length;
        }
      }
      await writer.stop();
      const hub = await startHub(path.join(tmp, `hub-${name}`));
      const c0 = (await hub.cpu()).cpu;
      const streamer = new Streamer({ hubUrl: `ws://127.0.0.1:${hub.port}`, agentId: 'bench', datacenter: 'dc1', buffer, ...opts });
      const w0 = Date.now();
      streamer.start();
      await until(() => buffer.unackedBlocks === 0, 600_000);
      const wall = (Date.now() - w0) / 1000;
      const c1 = (await hub.cpu()).cpu;
      await streamer.stop();
      await buffer.close();
      await hub.stop();
      return { samples, rate: samples / wall, hubCpuPerM: (c1 - c0) / (samples / 1e6) };
    };
    const ing = await drain('ingest', { backfillSamplesPerSec: 1e12, maxFrameSamples: 100_000, maxInFlight: 16, liveWindowMs: Number(process.env.LINK_BENCH_LIVE_WINDOW ?? 30_000) }, 500);
    const iw = `${ing.samples} samples, 2000 node-exporter-like series, one agent over WebSocket on loopback into LevelDB, durable acks`;
    process.stdout.write(`bench: ingest_samples_per_sec ${Math.round(ing.rate)} samples/s (${iw})\n`);
    process.stdout.write(`bench: hub_cpu_sec_per_million_samples ${ing.hubCpuPerM.toFixed(2)} s (${iw}, hub process: inflate + decode + dedup + storage)\n`);
    if (only === 'ingest') return;
    const bf = await drain('backfill', {}, 250);
    process.stdout.write(`bench: backfill_samples_per_sec ${Math.round(bf.rate)} samples/s (${bf.samples}-sample backlog drained with the default backfill bound of 250k/s, into LevelDB)\n`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[2] !== '--hub') await main();
