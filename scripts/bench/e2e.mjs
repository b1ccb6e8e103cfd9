#!/usr/bin/env node
// End-to-end fleet load (issue 9): the path a user runs, at load. `../shared/bench/targets.js` serves T synthetic
// node-exporter-like targets × 2,000 series (values advance every second); a real vigil-agent scrapes all of them every
// second and streams to a real vigil-hub (both child processes, temp data dirs, loopback, ephemeral ports, host
// exporter off). After a warm-up, a measured window: samples the hub ingested vs nominal, CPU seconds (/proc/PID/stat)
// and peak RSS (VmHWM) of each process, scrape duration, targets up, event-loop delay p99 (prom-client's
// nodejs_eventloop_lag_p99_seconds, or a vigil_*event_loop*p99* self-metric when there is one), then the agent is
// stopped, the hub flushed (`POST /api/v1/admin/tsdb/flush`, timed) and its data dir measured per stored sample.
// In the same run, one after the other (never concurrently), when Debian's binaries are installed: Prometheus
// scraping the same targets itself, and vmagent -> victoria-metrics, with the same figures from their own counters.
//
//   npm run bench -- e2e
//   E2E_SECONDS=60          measured window per system (default 60)
//   E2E_WARMUP_SECONDS=15   warm-up after every target was scraped once (default 15)
//   E2E_POINTS=50,200       target counts (default 50; 200 adds the 400k samples/s point)
//   E2E_SERIES=2000         series per target (default 2000)
//   E2E_SYSTEMS=vigil,prometheus,vm   which systems to run (default all; peers only when installed)
//   E2E_CPU_PROF=DIR        run hub and agent with --cpu-prof, profiles written to DIR on exit
//   E2E_FLUSH_TIMEOUT_SECONDS=600     give up on a flush after this long
//   E2E_KEEP=1              keep the temp dirs (printed) for inspection
//   VIGIL_BENCH_DIR=DIR     where targets.js lives (default ../shared/bench relative to the repo root)
import { execFileSync } from 'node:child_process';
import { spawnChild as spawnChildIn } from '../lib/children.mjs';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(fileURLToPath(import.meta.url), '..', '..', '..');
const BIN = { hub: path.join(root, 'packages/hub/bin/vigil-hub.js'), agent: path.join(root, 'packages/agent/bin/vigil-agent.js') };
const PEERS = { prometheus: '/usr/bin/prometheus', vmagent: '/usr/bin/vmagent', vm: '/usr/bin/victoria-metrics' };

const benchDir = process.env.VIGIL_BENCH_DIR ? path.resolve(process.env.VIGIL_BENCH_DIR) : path.join(root, '..', 'shared', 'bench');
const targetsJs = path.join(benchDir, 'targets.js');
const SECONDS = Number(process.env.E2E_SECONDS ?? 60);
const WARMUP = Number(process.env.E2E_WARMUP_SECONDS ?? 15);
const SERIES = Number(process.env.E2E_SERIES ?? 2000);
const TICK_MS = 1000;
const POINTS = (process.env.E2E_POINTS ?? '50').split(',').map((s) => Number(s.trim())).filter((n) => n > 0);
const SYSTEMS = new Set((process.env.E2E_SYSTEMS ?? 'vigil,prometheus,vm').split(',').map((s) => s.trim()));
const FLUSH_TIMEOUT_MS = Number(process.env.E2E_FLUSH_TIMEOUT_SECONDS ?? 600) * 1000;
const PROF = process.env.E2E_CPU_PROF ? path.resolve(process.env.E2E_CPU_PROF) : null;
const KEEP = process.env.E2E_KEEP === '1';
const JOB = 'bench';

if (!fs.existsSync(targetsJs)) {
  process.stdout.write(`# e2e: skipped: ${targetsJs} not found (set VIGIL_BENCH_DIR to the directory holding targets.js)\n`);
  process.exit(0);
}

const CLK_TCK = (() => { try { return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100; } catch { return 100; } })();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const out = (line) => process.stdout.write(line + '\n');
const info = (line) => process.stdout.write(`# info: ${line}\n`);
const fmt = (v, d = 2) => (v === null || v === undefined || !Number.isFinite(v) ? 'n/a' : v.toFixed(d));

// ---------------------------------------------------------------- children and temp dirs, cleaned up on every exit

const children = new Set();
const tempDirs = new Set();

const spawnChild = (name, cmd, args, opts = {}) => spawnChildIn(children, name, cmd, args, opts);

function mkTemp(prefix) {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `vigil-bench-e2e-${prefix}-`));
  tempDirs.add(d);
  return d;
}

function removeTemp(d) {
  if (KEEP) { info(`kept ${d}`); return; }
  fs.rmSync(d, { recursive: true, force: true });
  tempDirs.delete(d);
}

function cleanupSync() {
  for (const p of children) { try { p.child.kill('SIGKILL'); } catch {} }
  if (!KEEP) for (const d of tempDirs) { try { fs.rmSync(d, { recursive: true, force: true }); } catch {} }
}
process.on('exit', cleanupSync);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, async () => {
    process.stderr.write(`e2e: ${sig}, stopping children\n`);
    await Promise.race([Promise.all([...children].map((p) => p.stop(3000))), sleep(4000)]);
    process.exit(130);
  });
}

/** Waits for `re` in the child's output (returns the match), failing if the child exits or the time is up. */
async function waitLog(p, re, timeoutMs) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const m = re.exec(p.log());
    if (m) return m;
    if (p.exited) throw new Error(`${p.name} exited (${p.exit}) before ready:\n${p.log().slice(-3000)}`);
    if (Date.now() > end) throw new Error(`${p.name} not ready within ${timeoutMs} ms:\n${p.log().slice(-3000)}`);
    await sleep(50);
  }
}

async function waitHttp(p, url, timeoutMs) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try { if ((await fetchT(url, {}, 2000)).ok) return; } catch {}
    if (p.exited) throw new Error(`${p.name} exited (${p.exit}) before ready:\n${p.log().slice(-3000)}`);
    if (Date.now() > end) throw new Error(`${p.name} not ready at ${url} within ${timeoutMs} ms:\n${p.log().slice(-3000)}`);
    await sleep(200);
  }
}

/** The warnings and errors a Vigil program logged (JSON lines, level >= 40), grouped by message, as # log: lines. */
function dumpWarnings(p, max = 12) {
  const seen = new Map();
  for (const line of p.log().split('\n')) {
    let j;
    try { j = JSON.parse(line); } catch { if (/error|warn/i.test(line)) j = { level: 40, msg: line.slice(0, 300) }; else continue; }
    if (!j || (j.level ?? 0) < 40) continue;
    const key = `${j.level >= 50 ? 'error' : 'warn'}: ${j.msg}${j.err ? ` (${String(j.err.message ?? j.err).slice(0, 200)})` : ''}${j.reason ? ` reason=${j.reason}` : ''}`;
    const e = seen.get(key) ?? { n: 0, first: j.time };
    e.n++;
    seen.set(key, e);
  }
  for (const [k, e] of [...seen].slice(0, max)) out(`# log: ${p.name}: ${k} x${e.n}${e.first ? ` (first ${e.first})` : ''}`);
  if (seen.size > max) out(`# log: ${p.name}: ${seen.size - max} more kinds of warnings`);
}

// ---------------------------------------------------------------- small helpers: ports, HTTP, /proc, du, metrics

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

function portFree(port) {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

async function fetchT(url, init = {}, timeoutMs = 10_000) {
  return fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
}

async function text(url, timeoutMs = 10_000) {
  const r = await fetchT(url, {}, timeoutMs);
  if (!r.ok) throw new Error(`GET ${url}: ${r.status}`);
  return r.text();
}

/** Prometheus text -> Map(name -> sum over label sets), plus the raw lines for label-aware lookups. */
function parseMetrics(body) {
  const sums = new Map();
  for (const line of body.split('\n')) {
    if (!line || line[0] === '#') continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const v = Number(m[3]);
    if (!Number.isFinite(v)) continue;
    sums.set(m[1], (sums.get(m[1]) ?? 0) + v);
  }
  return sums;
}

async function metrics(base) {
  try { return parseMetrics(await text(`${base}/metrics`, 120_000)); } catch { return new Map(); }
}

async function promQuery(base, q, timeS) {
  const params = new URLSearchParams({ query: q });
  if (timeS !== undefined) params.set('time', timeS.toFixed(3));
  try {
    const r = await fetchT(`${base}/api/v1/query?${params}`, {}, 60_000);
    const b = await r.json();
    if (b.status !== 'success') return null;
    const res = b.data.result;
    if (!Array.isArray(res) || res.length === 0) return null;
    return Number(res[0].value[1]);
  } catch { return null; }
}

function cpuSec(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLK_TCK; // fields 14 and 15 of stat: utime, stime
  } catch { return NaN; }
}

function statusKb(pid, key) {
  try {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : NaN;
  } catch { return NaN; }
}

/** Allocated bytes under dir (what du reports), and apparent bytes. */
function du(dir) {
  let alloc = 0, apparent = 0;
  const walk = (d) => {
    let entries;
    try { entries = fs.readdirSync(d, { withFileTypes: true }); } catch { return; }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else { try { const st = fs.statSync(p); alloc += st.blocks * 512; apparent += st.size; } catch {} }
    }
  };
  walk(dir);
  return { alloc, apparent };
}

/** Health and scrape duration of every target from a scraper's Prometheus-style /api/v1/targets. */
async function targetsApi(base) {
  try {
    const b = JSON.parse(await text(`${base}/api/v1/targets`, 30_000));
    const ts = (b.data?.activeTargets ?? []).filter((t) => (t.labels?.job ?? t.scrapePool) === JOB);
    const durs = ts.map((t) => Number(t.lastScrapeDuration)).filter(Number.isFinite);
    return {
      total: ts.length,
      up: ts.filter((t) => t.health === 'up').length,
      scraped: ts.filter((t) => t.health && t.health !== 'unknown').length,
      avgDurMs: durs.length ? (durs.reduce((a, b) => a + b, 0) / durs.length) * 1000 : null,
    };
  } catch { return null; }
}

async function waitScraped(base, n, timeoutMs) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const t = await targetsApi(base);
    if (t && t.total >= n && t.scraped >= n) return true;
    await sleep(500);
  }
  return false;
}

/** Polls GET url every intervalMs until stop(), keeping the slowest answer (ms). */
function latencyProbe(url, intervalMs = 250) {
  let max = 0, n = 0, failed = 0, stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const t0 = performance.now();
      try { await (await fetchT(url, {}, 30_000)).arrayBuffer(); } catch { failed++; }
      max = Math.max(max, performance.now() - t0);
      n++;
      await sleep(intervalMs);
    }
  })();
  return { async stop() { stopped = true; await loop; return { max, n, failed }; } };
}

/** Samples VmRSS of pids every second (peak within the window; VmHWM covers the whole life). */
function rssSampler(pids) {
  const peak = Object.fromEntries(Object.keys(pids).map((k) => [k, 0]));
  const timer = setInterval(() => { for (const [k, pid] of Object.entries(pids)) peak[k] = Math.max(peak[k], statusKb(pid, 'VmRSS') || 0); }, 1000);
  return { stop() { clearInterval(timer); return peak; } };
}

function eventLoopP99Ms(m) {
  for (const [name, v] of m) if (/^vigil_.*event_?loop.*p99/.test(name)) return name.endsWith('_seconds') ? v * 1000 : v;
  const v = m.get('nodejs_eventloop_lag_p99_seconds');
  return v === undefined ? null : v * 1000;
}

// ---------------------------------------------------------------- the targets server

async function startTargets(n) {
  for (let attempt = 0; attempt < 20; attempt++) {
    const base = 20000 + Math.floor(Math.random() * (30000 - n));
    let free = true;
    for (let p = base; p < base + n && free; p++) free = await portFree(p);
    if (!free) continue;
    const p = spawnChild('targets', process.execPath, [targetsJs, '--targets', String(n), '--series', String(SERIES), '--base-port', String(base), '--tick-ms', String(TICK_MS)]);
    try {
      await waitLog(p, /^READY /m, 60_000);
    } catch (err) {
      await p.stop();
      if (attempt < 19 && /port \d+:/.test(String(err.message))) continue; // raced with another user of the port
      throw err;
    }
    const addrs = Array.from({ length: n }, (_, i) => `127.0.0.1:${base + i}`);
    // samples per scrape as exposed (every non-comment line)
    const body = await text(`http://${addrs[0]}/metrics`);
    const exposed = body.split('\n').filter((l) => l && l[0] !== '#').length;
    return { p, base, addrs, exposed };
  }
  throw new Error('no free port range for the targets');
}

function scrapeConfigYaml(addrs) {
  return [
    'global:',
    '  scrape_interval: 1s',
    '  scrape_timeout: 1s',
    'scrape_configs:',
    `  - job_name: ${JOB}`,
    '    static_configs:',
    '      - targets:',
    ...addrs.map((a) => `          - '${a}'`),
    '',
  ].join('\n');
}

// ---------------------------------------------------------------- one system under load

/**
 * The common measurement. sys: { name, store (query base), scraper (targets API base), pids: {hub, agent?},
 * bases: {hub, agent?} (/metrics of each process), ingested(maps) -> number (center's counter), scraped?(maps),
 * eventLoop (Node processes: read the event-loop delay from the same /metrics), healthyUrl? }.
 * Each window edge reads every process' /metrics once, in parallel: prom-client resets its event-loop histogram on
 * every read, and a stalled hub may take long to answer, so the counters' window runs from answer to answer.
 */
async function measure(sys, tg, n) {
  if (!(await waitScraped(sys.scraper, n, 120_000))) info(`${sys.name}: not every target was scraped within 120 s of start`);
  await sleep(WARMUP * 1000);
  const readAll = async () => {
    const maps = {};
    let tHub = 0;
    await Promise.all(Object.entries(sys.bases).map(async ([k, b]) => {
      maps[k] = await metrics(b);
      if (k === 'hub') tHub = performance.now();
    }));
    return { maps, tHub };
  };

  const cpu0 = Object.fromEntries(Object.entries(sys.pids).map(([k, pid]) => [k, cpuSec(pid)]));
  const tc0 = performance.now();
  const a = await readAll();
  const rss = rssSampler(sys.pids);
  const healthy = sys.healthyUrl ? latencyProbe(sys.healthyUrl, 500) : null;

  await sleep(Math.max(0, SECONDS * 1000 - (performance.now() - tc0)));

  const cpu1 = Object.fromEntries(Object.entries(sys.pids).map(([k, pid]) => [k, cpuSec(pid)]));
  const cpuWall = (performance.now() - tc0) / 1000;
  const b = await readAll();
  const wall = (b.tHub - a.tHub) / 1000; // the counters' window
  const readSec = (b.tHub - tc0) / 1000 - cpuWall;
  if (readSec > 2) info(`${sys.name}: /metrics took ${readSec.toFixed(1)} s to answer at the window end`);
  const elP99 = {};
  const elMax = {};
  if (sys.eventLoop) {
    for (const [k, m] of Object.entries(b.maps)) {
      elP99[k] = m.size ? eventLoopP99Ms(m) : null;
      elMax[k] = (m.get('nodejs_eventloop_lag_max_seconds') ?? NaN) * 1000;
    }
  }
  const rssPeakKb = rss.stop();
  const hwmKb = Object.fromEntries(Object.entries(sys.pids).map(([k, pid]) => [k, statusKb(pid, 'VmHWM')]));
  const tEnd = Date.now() / 1000;
  const c0 = sys.ingested(a.maps), c1 = sys.ingested(b.maps);
  const s0 = sys.scraped?.(a.maps) ?? null, s1 = sys.scraped?.(b.maps) ?? null;

  // synthetic per-scrape series (up, scrape_*) as the store has them, so nominal counts what a scrape produces
  const synth = (await promQuery(sys.store, `count({__name__=~"up|scrape_.+",instance="${tg.addrs[0]}"})`, tEnd)) ?? 5;
  const nominal = n * (tg.exposed + synth) * (wall / (TICK_MS / 1000));
  const ingested = c1 - c0;
  const tApi = await targetsApi(sys.scraper);
  const durStore = await promQuery(sys.store, `avg(avg_over_time(scrape_duration_seconds{job="${JOB}"}[${Math.max(1, Math.round(cpuWall))}s]))`, tEnd);
  const upStore = await promQuery(sys.store, `sum(up{job="${JOB}"})`, tEnd);
  const healthyRes = healthy ? await healthy.stop() : null;
  return {
    synth, nominal, ingested, wall,
    ratio: ingested / nominal,
    scrapedRatio: s0 !== null && s1 !== null ? (s1 - s0) / nominal : null,
    cpu: Object.fromEntries(Object.keys(sys.pids).map((k) => [k, cpu1[k] - cpu0[k]])),
    cpuWall,
    hwmMb: Object.fromEntries(Object.entries(hwmKb).map(([k, v]) => [k, v / 1024])),
    rssPeakMb: Object.fromEntries(Object.entries(rssPeakKb).map(([k, v]) => [k, v / 1024])),
    up: tApi?.up ?? upStore, upTotal: n,
    scrapeMs: durStore !== null ? durStore * 1000 : null,
    scrapeMsLast: tApi?.avgDurMs ?? null,
    elP99, elMax, healthy: healthyRes,
  };
}

function report(prefix, r, n, extra) {
  const wl = `${n} targets x ${SERIES} series @ 1s = ${(n * SERIES / (TICK_MS / 1000)).toLocaleString('en-US')} samples/s nominal, ${Math.round(r.cpuWall)} s window after ${WARMUP} s warm-up${extra ? ', ' + extra : ''}`;
  // CPU over its own window, samples over the counters' window (they differ when a stalled hub answers late)
  const perM = (cpu) => (cpu / r.cpuWall) / (r.ingested / r.wall / 1e6);
  out(`bench: ${prefix}_ingest_ratio ${fmt(r.ratio, 3)} ratio (${wl}; ${r.ingested} of ${Math.round(r.nominal)} samples incl. ${r.synth} synthetic per scrape, counters ${r.wall.toFixed(1)} s apart)`);
  if (r.scrapedRatio !== null) info(`${prefix}: scraped by the agent in the window: ${fmt(r.scrapedRatio, 3)} of nominal`);
  if ('agent' in r.cpu) out(`bench: ${prefix}_agent_cpu_sec_per_million_samples ${fmt(perM(r.cpu.agent))} s (${wl}; ${fmt(r.cpu.agent, 1)} CPU-s in ${fmt(r.cpuWall, 1)} s, per sample ingested by the center, incl. scraping)`);
  out(`bench: ${prefix}_hub_cpu_sec_per_million_samples ${fmt(perM(r.cpu.hub))} s (${wl}; ${fmt(r.cpu.hub, 1)} CPU-s in ${fmt(r.cpuWall, 1)} s${extra?.includes('scrapes itself') ? ', scrape + parse + store' : ''})`);
  out(`bench: ${prefix}_hub_rss_mb ${fmt(r.hwmMb.hub, 1)} MB (${wl}; peak RSS VmHWM, window peak ${fmt(r.rssPeakMb.hub, 1)})`);
  if ('agent' in r.hwmMb) out(`bench: ${prefix}_agent_rss_mb ${fmt(r.hwmMb.agent, 1)} MB (${wl}; peak RSS VmHWM, window peak ${fmt(r.rssPeakMb.agent, 1)})`);
  out(`bench: ${prefix}_scrape_duration_ms ${fmt(r.scrapeMs ?? r.scrapeMsLast, 1)} ms (${wl}; ${r.scrapeMs !== null ? 'avg of scrape_duration_seconds over the window, from the store' : 'no answer or no data from the store: avg of the last scrapes from the scraper\'s /api/v1/targets'}; last scrapes avg ${fmt(r.scrapeMsLast, 1)} ms; ${r.up ?? 'n/a'} of ${r.upTotal} targets up)`);
  out(`bench: ${prefix}_targets_up ${r.up ?? 'n/a'} targets (${wl}; of ${r.upTotal})`);
  for (const k of Object.keys(r.elP99)) {
    out(`bench: ${prefix}_${k}_event_loop_p99_ms ${fmt(r.elP99[k], 1)} ms (${wl}; ${k}, over the window, prom-client's 10 ms resolution included; max ${fmt(r.elMax[k], 1)} ms${r.elP99[k] === null ? '; /metrics did not answer in time' : ''})`);
  }
  if (r.healthy) out(`bench: ${prefix}_hub_healthy_max_ms ${fmt(r.healthy.max, 1)} ms (${wl}; slowest GET /-/healthy of ${r.healthy.n}, every 0.5 s over the window${r.healthy.failed ? `, ${r.healthy.failed} failed` : ''})`);
  return wl;
}

function reportDisk(prefix, wl, d) {
  if (!d) return;
  out(`bench: ${prefix}_bytes_per_sample ${fmt(d.alloc / d.samples, 2)} bytes (${wl}; ${d.what}, ${(d.alloc / 2 ** 20).toFixed(1)} MiB allocated (${(d.apparent / 2 ** 20).toFixed(1)} MiB apparent) / ${d.samples} samples stored in the whole run)`);
  out(`bench: ${prefix}_flush_sec ${fmt(d.sec, 2)} s (${wl}; ${d.flushWhat}${d.healthy ? `, slowest /-/healthy during it ${fmt(d.healthy.max, 0)} ms of ${d.healthy.n}` : ''})`);
}

// ---------------------------------------------------------------- Vigil

async function runVigil(tg, n) {
  const dir = mkTemp('vigil');
  try {
    const prof = PROF ? ['--cpu-prof', `--cpu-prof-dir=${PROF}`] : [];
    const hub = spawnChild('vigil-hub', process.execPath, [...prof, BIN.hub, '--listen', '127.0.0.1:0', '--data-dir', path.join(dir, 'hub')]);
    const hubUrl = await waitHubUrl(hub);
    const cfg = path.join(dir, 'agent.yml');
    fs.writeFileSync(cfg, scrapeConfigYaml(tg.addrs).replace('scrape_configs:', 'host_exporter:\n  enabled: false\nscrape_configs:'));
    const agent = spawnChild('vigil-agent', process.execPath, [...prof, BIN.agent, '--config', cfg, '--hub', hubUrl.replace(/^http/, 'ws'), '--listen', '127.0.0.1:0',
      '--data-dir', path.join(dir, 'agent'), '--datacenter', JOB]);
    const agentUrl = (await waitLog(agent, /"url":"(http:\/\/127\.0\.0\.1:\d+)"/, 30_000))[1];
    const sys = {
      name: 'vigil', store: hubUrl, scraper: agentUrl, pids: { hub: hub.pid, agent: agent.pid },
      bases: { hub: hubUrl, agent: agentUrl },
      ingested: (m) => m.hub.get('vigil_hub_samples_ingested_total') ?? NaN,
      scraped: (m) => m.agent.get('vigil_agent_samples_scraped_total') ?? null,
      eventLoop: true,
      healthyUrl: `${hubUrl}/-/healthy`,
    };
    const r = await measure(sys, tg, n);
    const am = await metrics(agentUrl);
    info(`vigil: agent at window end: unacked blocks ${am.get('vigil_agent_buffer_unacked_blocks') ?? 'n/a'}, buffer ${fmt((am.get('vigil_agent_buffer_bytes') ?? NaN) / 2 ** 20, 1)} MiB, reconnects ${am.get('vigil_agent_reconnects_total') ?? 'n/a'}, dropped ${am.get('vigil_agent_buffer_dropped_samples_total') ?? 'n/a'}`);
    const wl = report('e2e', r, n);

    // stop the agent, then flush the hub and measure its data dir per stored sample
    await agent.stop(30_000);
    const samples = (await metrics(hubUrl)).get('vigil_hub_samples_ingested_total') ?? NaN;
    const probe = latencyProbe(`${hubUrl}/-/healthy`, 100);
    const f0 = performance.now();
    let flushErr = null;
    try {
      const res = await fetchT(`${hubUrl}/api/v1/admin/tsdb/flush`, { method: 'POST' }, FLUSH_TIMEOUT_MS);
      if (!res.ok) flushErr = `HTTP ${res.status}`;
    } catch (err) { flushErr = err.message; }
    const sec = (performance.now() - f0) / 1000;
    const healthy = await probe.stop();
    if (flushErr) info(`vigil: flush failed: ${flushErr}`);
    const d = du(path.join(dir, 'hub'));
    reportDisk('e2e', wl, { ...d, samples, sec, healthy, what: 'hub data dir after the agent stopped and POST /api/v1/admin/tsdb/flush', flushWhat: 'POST /api/v1/admin/tsdb/flush after the run, agent stopped' });
    await hub.stop(30_000);
    dumpWarnings(agent);
    dumpWarnings(hub);
  } finally {
    removeTemp(dir);
  }
}

async function waitHubUrl(hub) {
  return (await waitLog(hub, /"url":"(http:\/\/127\.0\.0\.1:\d+)"/, 30_000))[1];
}

// ---------------------------------------------------------------- Prometheus

async function runPrometheus(tg, n) {
  const dir = mkTemp('prometheus');
  try {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    fs.writeFileSync(path.join(dir, 'prometheus.yml'), scrapeConfigYaml(tg.addrs));
    const prom = spawnChild('prometheus', PEERS.prometheus, [`--config.file=${path.join(dir, 'prometheus.yml')}`, `--web.listen-address=127.0.0.1:${port}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`, '--web.enable-admin-api', '--log.level=warn'], { cwd: dir });
    await waitHttp(prom, `${base}/-/ready`, 60_000);
    const sys = {
      name: 'prometheus', store: base, scraper: base, pids: { hub: prom.pid },
      bases: { hub: base },
      ingested: (m) => m.hub.get('prometheus_tsdb_head_samples_appended_total') ?? NaN,
    };
    const r = await measure(sys, tg, n);
    const wl = report('e2e_prometheus', r, n, 'Prometheus scrapes itself, one process');
    // "flush": a snapshot writes the head as a block (Prometheus cuts blocks every 2 h on its own)
    const samples = (await metrics(base)).get('prometheus_tsdb_head_samples_appended_total') ?? NaN;
    const f0 = performance.now();
    let snapDir = null;
    try {
      const res = await fetchT(`${base}/api/v1/admin/tsdb/snapshot`, { method: 'POST' }, FLUSH_TIMEOUT_MS);
      const b = await res.json();
      if (b.status === 'success') snapDir = path.join(dir, 'data', 'snapshots', b.data.name);
      else info(`prometheus: snapshot failed: ${JSON.stringify(b)}`);
    } catch (err) { info(`prometheus: snapshot failed: ${err.message}`); }
    const sec = (performance.now() - f0) / 1000;
    if (snapDir) reportDisk('e2e_prometheus', wl, { ...du(snapDir), samples, sec, what: 'the head written as a block by POST /api/v1/admin/tsdb/snapshot (the WAL is not counted)', flushWhat: 'POST /api/v1/admin/tsdb/snapshot while scraping' });
    const w = du(path.join(dir, 'data', 'wal'));
    info(`prometheus: WAL ${(w.alloc / 2 ** 20).toFixed(1)} MiB = ${fmt(w.alloc / samples, 2)} bytes/sample`);
    await prom.stop(30_000);
  } finally {
    removeTemp(dir);
  }
}

// ---------------------------------------------------------------- vmagent -> victoria-metrics

async function runVm(tg, n) {
  const dir = mkTemp('vm');
  try {
    const vmPort = await freePort();
    const vmBase = `http://127.0.0.1:${vmPort}`;
    const vm = spawnChild('victoria-metrics', PEERS.vm, [`-storageDataPath=${path.join(dir, 'vm')}`, `-httpListenAddr=127.0.0.1:${vmPort}`, '-retentionPeriod=100y', '-search.latencyOffset=0s', '-search.disableCache',
      '-loggerLevel=WARN'], { cwd: dir });
    await waitHttp(vm, `${vmBase}/health`, 60_000);
    const agPort = await freePort();
    const agBase = `http://127.0.0.1:${agPort}`;
    fs.writeFileSync(path.join(dir, 'scrape.yml'), scrapeConfigYaml(tg.addrs));
    const vmagent = spawnChild('vmagent', PEERS.vmagent, [`-promscrape.config=${path.join(dir, 'scrape.yml')}`, `-remoteWrite.url=${vmBase}/api/v1/write`,
      `-remoteWrite.tmpDataPath=${path.join(dir, 'vmagent')}`, `-httpListenAddr=127.0.0.1:${agPort}`, '-loggerLevel=WARN'], { cwd: dir });
    await waitHttp(vmagent, `${agBase}/health`, 60_000);
    const vmRows = async () => (await metrics(vmBase)).get('vm_rows_inserted_total') ?? NaN;
    const sys = {
      name: 'vm', store: vmBase, scraper: agBase, pids: { hub: vm.pid, agent: vmagent.pid },
      bases: { hub: vmBase, agent: agBase },
      ingested: (m) => m.hub.get('vm_rows_inserted_total') ?? NaN,
      scraped: (m) => m.agent.get('vm_promscrape_scraped_samples_sum') ?? null,
    };
    const r = await measure(sys, tg, n);
    const wl = report('e2e_vm', r, n, 'vmagent scrapes, remote-writes to victoria-metrics');
    await vmagent.stop(30_000);
    await sleep(1000);
    const samples = await vmRows();
    const f0 = performance.now();
    try { await (await fetchT(`${vmBase}/internal/force_flush`, {}, FLUSH_TIMEOUT_MS)).arrayBuffer(); } catch (err) { info(`vm: force_flush failed: ${err.message}`); }
    const sec = (performance.now() - f0) / 1000;
    await sleep(1000); // force_flush returns before the parts are fully written on some versions
    reportDisk('e2e_vm', wl, { ...du(path.join(dir, 'vm')), samples, sec, what: 'victoria-metrics storage dir after vmagent stopped and /internal/force_flush', flushWhat: 'GET /internal/force_flush, vmagent stopped' });
    await vm.stop(30_000);
  } finally {
    removeTemp(dir);
  }
}

// ---------------------------------------------------------------- main

async function main() {
  const missing = [];
  const runPeers = [];
  if (SYSTEMS.has('prometheus')) {
    if (fs.existsSync(PEERS.prometheus)) runPeers.push(['prometheus', runPrometheus]); else missing.push(`Prometheus (${PEERS.prometheus})`);
  }
  if (SYSTEMS.has('vm')) {
    const m = [PEERS.vmagent, PEERS.vm].filter((p) => !fs.existsSync(p));
    if (m.length === 0) runPeers.push(['vm', runVm]); else missing.push(`vmagent -> VictoriaMetrics (${m.join(', ')})`);
  }
  for (const m of missing) out(`# e2e: peer not run, not installed: ${m}`);
  const versions = [];
  try { if (runPeers.some(([k]) => k === 'prometheus')) versions.push(execFileSync(PEERS.prometheus, ['--version'], { encoding: 'utf8' }).split('\n')[0]); } catch {}
  info(`targets ${targetsJs}; ${os.cpus().length} CPUs, load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}${versions.length ? '; ' + versions.join('; ') : ''}`);

  for (const n of POINTS) {
    const tg = await startTargets(n);
    info(`${n} targets on 127.0.0.1:${tg.base}-${tg.base + n - 1}, ${tg.exposed} samples per scrape`);
    try {
      const runs = [...(SYSTEMS.has('vigil') ? [['vigil', runVigil]] : []), ...runPeers];
      for (const [name, run] of runs) {
        const c0 = cpuSec(tg.p.pid);
        const t0 = performance.now();
        try {
          await run(tg, n);
        } catch (err) {
          process.stdout.write(`# e2e: ${name} at ${n} targets failed: ${err.stack ?? err}\n`);
          process.exitCode = 1;
          await Promise.all([...children].filter((p) => p !== tg.p).map((p) => p.stop(5000)));
        }
        info(`${name}: targets server used ${fmt(cpuSec(tg.p.pid) - c0, 1)} CPU-s over ${fmt((performance.now() - t0) / 1000, 0)} s (shares the 2 cores); load average ${os.loadavg()[0].toFixed(2)}`);
      }
    } finally {
      await tg.p.stop();
    }
  }
}

try {
  await main();
} finally {
  await Promise.all([...children].map((p) => p.stop(5000)));
  cleanupSync();
}
