#!/usr/bin/env node
// Soak (security issue 14; not run in CI): a real vigil-hub and vigil-agent (child processes, temp data dirs,
// loopback, ephemeral ports) under `targets.js --targets 50 --series 2000 --tick-ms 1000` (100k samples/s), with
// garbage mixed in the whole time: bad imports, bad pushes (to hub and agent), bad remote writes and bad stream
// messages from a fake agent. Every 10 s it samples the RSS of hub and agent (/proc/PID/status VmRSS) and checks that
// both still answer /-/healthy. At the end: whether memory stayed flat (median RSS of the 10 minutes after a 5-minute
// warm-up vs the last 10 minutes; for runs under 30 minutes a sixth and thirds of the run), whether a sample set imported at the start is intact, whether the
// hub kept ingesting, and how many garbage requests got a 5xx (must be none).
//
//   node scripts/soak.mjs
//   SOAK_SECONDS=3600        duration (default 1 h)
//   SOAK_TARGETS=50          targets.js targets (default 50)
//   SOAK_SERIES=2000         series per target (default 2000)
//   SOAK_GARBAGE_PER_S=20    garbage requests per second (default 20)
//   SOAK_FLAT_PCT=10         RSS growth (last vs first window) still called flat (default 10%)
//   VIGIL_BENCH_DIR=DIR      where targets.js lives (default ../shared/bench relative to the repo root)
// Exit code 0 when every check passed, 1 otherwise.
import { spawnChild as spawnChildIn } from './lib/children.mjs';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

const root = path.join(fileURLToPath(import.meta.url), '..', '..');
const BIN = { hub: path.join(root, 'packages/hub/bin/vigil-hub.js'), agent: path.join(root, 'packages/agent/bin/vigil-agent.js') };
const benchDir = process.env.VIGIL_BENCH_DIR ? path.resolve(process.env.VIGIL_BENCH_DIR) : path.join(root, '..', 'shared', 'bench');
const targetsJs = path.join(benchDir, 'targets.js');
const SECONDS = Number(process.env.SOAK_SECONDS ?? 3600);
const TARGETS = Number(process.env.SOAK_TARGETS ?? 50);
const SERIES = Number(process.env.SOAK_SERIES ?? 2000);
const GARBAGE_PER_S = Number(process.env.SOAK_GARBAGE_PER_S ?? 20);
const FLAT_PCT = Number(process.env.SOAK_FLAT_PCT ?? 10);
const SAMPLE_EVERY_MS = 10_000;

const { encodeMessage, STREAM_PATH, HEADER_AGENT_ID, HEADER_DATACENTER, HEADER_PROTOCOL, PROTOCOL_VERSION } =
  await import(path.join(root, 'packages/common/dist/index.js'));
const { WebSocket } = await import(path.join(root, 'node_modules/ws/wrapper.mjs'));

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const out = (line) => process.stdout.write(line + '\n');
if (!fs.existsSync(targetsJs)) {
  out(`# soak: skipped: ${targetsJs} not found (set VIGIL_BENCH_DIR to the directory holding targets.js)`);
  process.exit(0);
}

// ---------------------------------------------------------------- children, cleaned up on every exit

const children = new Set();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-soak-'));
const spawnChild = (name, args) => spawnChildIn(children, name, process.execPath, args, { cwd: dir, stopTimeoutMs: 30_000 });
function cleanupSync() {
  for (const p of children) { try { p.child.kill('SIGKILL'); } catch {} }
  try { fs.rmSync(dir, { recursive: true, force: true }); } catch {}
}
process.on('exit', cleanupSync);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { cleanupSync(); process.exit(130); });

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
function portFree(port) {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}
const fetchT = (url, init = {}, timeoutMs = 10_000) => fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
function rssMiB(pid) {
  try { return Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024; } catch { return NaN; }
}
async function counter(base, name) {
  try {
    let sum = 0;
    for (const l of (await (await fetchT(`${base}/metrics`, {}, 60_000)).text()).split('\n')) if (l.startsWith(name)) sum += Number(l.split(' ').at(-1));
    return sum;
  } catch { return NaN; }
}

// ---------------------------------------------------------------- start targets, hub, agent

let targets;
for (let attempt = 0; attempt < 20 && !targets; attempt++) {
  const base = 20000 + Math.floor(Math.random() * (30000 - TARGETS));
  let free = true;
  for (let p = base; p < base + TARGETS && free; p++) free = await portFree(p);
  if (!free) continue;
  const p = spawnChild('targets', [targetsJs, '--targets', String(TARGETS), '--series', String(SERIES), '--base-port', String(base), '--tick-ms', '1000']);
  try { await waitLog(p, /^READY /m, 60_000); targets = { p, addrs: Array.from({ length: TARGETS }, (_, i) => `127.0.0.1:${base + i}`) }; } catch { await p.stop(); }
}
if (!targets) throw new Error('no free port range for the targets');
const hub = spawnChild('vigil-hub', [BIN.hub, '--listen', '127.0.0.1:0', '--data-dir', path.join(dir, 'hub')]);
const hubUrl = (await waitLog(hub, /"url":"(http:\/\/127\.0\.0\.1:\d+)"/, 30_000))[1];
const cfg = path.join(dir, 'agent.yml');
fs.writeFileSync(cfg, ['host_exporter:', '  enabled: false', 'global:', '  scrape_interval: 1s', '  scrape_timeout: 1s', 'scrape_configs:', '  - job_name: soak',
  '    static_configs:', '      - targets:', ...targets.addrs.map((a) => `          - '${a}'`), ''].join('\n'));
const agent = spawnChild('vigil-agent', [BIN.agent, '--config', cfg, '--hub', hubUrl.replace(/^http/, 'ws'), '--listen', '127.0.0.1:0',
  '--data-dir', path.join(dir, 'agent'), '--datacenter', 'soak']);
const agentUrl = (await waitLog(agent, /"url":"(http:\/\/127\.0\.0\.1:\d+)"/, 30_000))[1];
out(`# soak: ${SECONDS} s, ${TARGETS} targets x ${SERIES} series @ 1 s, ${GARBAGE_PER_S} garbage requests/s; hub ${hubUrl} (pid ${hub.pid}), agent ${agentUrl} (pid ${agent.pid})`);

// a sample set that must stay intact: imported once, checked at the end
const keepT = Date.now() - 300_000;
const KEEP = Array.from({ length: 100 }, (_, i) => `soak_keep{i="${i}"} ${i * 1.5} ${keepT}`).join('\n') + '\n';
const keepRes = await fetchT(`${hubUrl}/api/v1/import/prometheus`, { method: 'POST', body: KEEP });
if (keepRes.status !== 204) throw new Error(`cannot import the keep set: ${keepRes.status} ${await keepRes.text()}`);
async function keepIntact() {
  const r = await fetchT(`${hubUrl}/api/v1/query?${new URLSearchParams({ query: 'soak_keep', time: String((keepT + 1000) / 1000) })}`, {}, 60_000);
  const b = await r.json();
  const got = new Map((b.data?.result ?? []).map((s) => [s.metric.i, Number(s.value[1])]));
  let bad = 0;
  for (let i = 0; i < 100; i++) if (got.get(String(i)) !== i * 1.5) bad++;
  return bad;
}

// ---------------------------------------------------------------- garbage

const rnd = (n) => crypto.randomInt(n);
const bytes = (n) => crypto.randomBytes(rnd(n) + 1);
function flip(buf) {
  const b = Buffer.from(buf);
  for (let i = 0, n = rnd(4) + 1; i < n && b.length; i++) b[rnd(b.length)] ^= 1 << rnd(8);
  return b;
}
const GOOD_LINE = 'soak_garbage{a="1"} 1\n';
const garbage = {
  import: () => [`${hubUrl}/api/v1/import/prometheus`, { method: 'POST', body: [bytes(2000), flip(GOOD_LINE.repeat(20)), 'x 1 9999999999999999\n', 'x{a="1" 3\n', `x{${'l'.repeat(5000)}="v"} 1\n`][rnd(5)] }],
  importGzip: () => [`${hubUrl}/api/v1/import/prometheus`, { method: 'POST', body: flip(zlib.gzipSync(GOOD_LINE.repeat(50))), headers: { 'content-encoding': 'gzip' } }],
  push: () => [`${[hubUrl, agentUrl][rnd(2)]}/metrics/job/soak_${rnd(20)}`, { method: ['PUT', 'POST'][rnd(2)], body: [bytes(500), flip('# TYPE x gauge\nx{a="1"} 1\n'), 'x 1 1700000000000\n'][rnd(3)] }],
  pushPath: () => [`${[hubUrl, agentUrl][rnd(2)]}/metrics/job/${['', 'a/b', '__x/1', 'j/1bad/v', 'j@base64/%%%'][rnd(5)]}`, { method: 'PUT', body: 'x 1\n' }],
  remoteWrite: () => [`${hubUrl}/api/v1/write`, { method: 'POST', body: bytes(1000), headers: { 'content-encoding': 'snappy' } }],
};
const KINDS = Object.keys(garbage);
const answers = new Map();
let fiveXX = 0, failedRequests = 0;
async function sendGarbage() {
  const kind = KINDS[rnd(KINDS.length)];
  const [url, init] = garbage[kind]();
  try {
    const r = await fetchT(url, init, 30_000);
    await r.arrayBuffer();
    const key = `${kind} ${r.status}`;
    answers.set(key, (answers.get(key) ?? 0) + 1);
    if (r.status >= 500) { fiveXX++; if (fiveXX <= 5) out(`# soak: ${kind} answered ${r.status}`); }
  } catch (err) {
    failedRequests++;
    if (failedRequests <= 5) out(`# soak: ${kind} failed: ${err.message}`);
  }
}

/** A fake agent that connects, sends garbage stream messages and goes away, over and over. */
let streamFrames = 0;
function badStreamSession() {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${hubUrl.replace(/^http/, 'ws')}${STREAM_PATH}`, {
      headers: { [HEADER_PROTOCOL]: String(PROTOCOL_VERSION), [HEADER_AGENT_ID]: `soak-bad-${rnd(5)}`, [HEADER_DATACENTER]: 'soak-bad' },
    });
    const done = () => { try { ws.terminate(); } catch {} resolve(); };
    const timer = setTimeout(done, 5000);
    ws.on('error', () => { clearTimeout(timer); done(); });
    ws.on('close', () => { clearTimeout(timer); resolve(); });
    ws.on('open', () => {
      const frames = [
        () => bytes(200),
        () => encodeMessage({ type: 'hb', t: [1e20, -1e17, 'x', NaN][rnd(4)], oldest: 'x' }),
        () => encodeMessage({ type: 'batch', lane: rnd(3), reset: true, seqs: [rnd(1000)], samples: rnd(100), body: bytes(100) }),
        () => encodeMessage({ type: 'series', first: rnd(10), labels: [['__name__', 'soak_bad', 'x']] }),
        () => encodeMessage({ type: 'meta', metadata: [{ metric: 1 }] }),
        () => flip(encodeMessage({ type: 'hb', t: Date.now(), oldest: null, newest: null, bufferedBytes: 0, backlogBlocks: 0 })),
      ];
      for (let i = 0; i < 20; i++) { ws.send(frames[rnd(frames.length)]()); streamFrames++; }
      setTimeout(done, 200);
    });
  });
}

// ---------------------------------------------------------------- the run

const rss = []; // { t, hub, agent }
let unhealthy = 0;
const start = Date.now();
const end = start + SECONDS * 1000;
let garbageSent = 0;
const ingested0 = await counter(hubUrl, 'vigil_hub_samples_ingested_total');
const sampler = setInterval(async () => {
  const s = { t: (Date.now() - start) / 1000, hub: rssMiB(hub.pid), agent: rssMiB(agent.pid) };
  rss.push(s);
  for (const base of [hubUrl, agentUrl]) {
    try { if (!(await fetchT(`${base}/-/healthy`, {}, 5000)).ok) unhealthy++; } catch { unhealthy++; }
  }
  out(`# soak: t=${s.t.toFixed(0)} s hub ${s.hub.toFixed(0)} MiB agent ${s.agent.toFixed(0)} MiB garbage ${garbageSent} stream frames ${streamFrames}`);
}, SAMPLE_EVERY_MS);
const streamLoop = (async () => { while (Date.now() < end) { await badStreamSession(); await sleep(1000); } })();
while (Date.now() < end && !hub.exited && !agent.exited) {
  const t0 = Date.now();
  await Promise.all(Array.from({ length: GARBAGE_PER_S }, () => sendGarbage()));
  garbageSent += GARBAGE_PER_S;
  await sleep(Math.max(0, 1000 - (Date.now() - t0)));
}
clearInterval(sampler);
await streamLoop;

// ---------------------------------------------------------------- verdict

const ingested = (await counter(hubUrl, 'vigil_hub_samples_ingested_total')) - ingested0;
const elapsed = (Date.now() - start) / 1000;
const bad = hub.exited || agent.exited ? 100 : await keepIntact();
const median = (xs) => { const s = xs.filter(Number.isFinite).sort((a, b) => a - b); return s.length ? s[Math.floor(s.length / 2)] : NaN; };
// the first window starts after a warm-up (head and buffers filling up: 5 min, or a sixth of a short run)
const warm = SECONDS >= 1800 ? 300 : SECONDS / 6;
const win = SECONDS >= 1800 ? 600 : SECONDS / 3;
const first = rss.filter((s) => s.t >= warm && s.t <= warm + win);
const last = rss.filter((s) => s.t >= elapsed - win);
const flat = {};
for (const who of ['hub', 'agent']) {
  const a = median(first.map((s) => s[who])), b = median(last.map((s) => s[who]));
  flat[who] = { first: a, last: b, growthPct: ((b - a) / a) * 100 };
}
out(`soak_seconds ${elapsed.toFixed(0)}`);
out(`soak_ingested_samples_per_second ${(ingested / elapsed).toFixed(0)} (nominal ${TARGETS * SERIES})`);
out(`soak_garbage_requests ${garbageSent} (${[...answers].sort().map(([k, n]) => `${k}: ${n}`).join(', ')}); stream frames ${streamFrames}`);
for (const who of ['hub', 'agent']) {
  const f = flat[who];
  out(`soak_rss_mib{process="${who}"} ${win.toFixed(0)} s after a ${warm.toFixed(0)}-s warm-up median ${f.first.toFixed(0)}, last ${win.toFixed(0)} s median ${f.last.toFixed(0)}: ${f.growthPct >= 0 ? '+' : ''}${f.growthPct.toFixed(1)}% (${f.growthPct <= FLAT_PCT ? 'flat' : 'GROWING'})`);
}
const checks = {
  'hub and agent alive': !hub.exited && !agent.exited,
  'no 5xx to garbage': fiveXX === 0,
  'healthy at every sample': unhealthy === 0,
  'keep set intact': bad === 0,
  'hub ingested': ingested > 0,
  'memory flat': flat.hub.growthPct <= FLAT_PCT && flat.agent.growthPct <= FLAT_PCT,
};
for (const [k, ok] of Object.entries(checks)) out(`soak_check{check="${k}"} ${ok ? 'ok' : 'FAILED'}`);
if (hub.exited) out(`# hub exited (${hub.exit}):\n${hub.log().slice(-3000)}`);
if (agent.exited) out(`# agent exited (${agent.exit}):\n${agent.log().slice(-3000)}`);
await agent.stop();
await hub.stop();
await targets.p.stop();
process.exit(Object.values(checks).every(Boolean) ? 0 : 1);
