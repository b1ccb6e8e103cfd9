#!/usr/bin/env node
// Builds the workspace, runs every test file (unit tests compiled beside the code in
// packages/*/dist, end-to-end tests in test/dist) with tap, and ends with the summary
// line `tests: N passed, N failed, N skipped` that CI reads.
//
//   npm test                 all tests
//   npm test -- storage      only test files whose path contains "storage"
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(import.meta.url), '..', '..');
const filters = process.argv.slice(2);

function summary(passed, failed, skipped) {
  process.stdout.write(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
}

const build = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-b'], { cwd: root, stdio: 'inherit' });
// Type errors fail the run, but the emitted JavaScript is still tested so one broken file does not hide the rest.
const buildFailed = build.status !== 0;
if (buildFailed) process.stdout.write('build: the TypeScript compiler reported errors above; running the tests anyway\n');

function walk(dir, out) {
  let entries;
  try { entries = readdirSync(dir); } catch { return out; }
  for (const e of entries) {
    if (e === 'node_modules') continue;
    const p = join(dir, e);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (e.endsWith('.test.js')) out.push(relative(root, p));
  }
  return out;
}

const files = [];
for (const pkg of readdirSync(join(root, 'packages'))) walk(join(root, 'packages', pkg, 'dist'), files);
walk(join(root, 'test', 'dist'), files);
const selected = filters.length ? files.filter((f) => filters.some((x) => f.includes(x))) : files;
selected.sort();
if (selected.length === 0) {
  // tap given no files would run every test it can find; say so instead.
  process.stdout.write(`no test file matches ${filters.map((f) => JSON.stringify(f)).join(', ')}\n`);
  summary(0, 0, 0);
  process.exit(1);
}

let passed = 0, failed = 0, skipped = 0;
const failures = [];
if (buildFailed) { failed++; failures.push('build: TypeScript errors'); }
let currentFile = '';
let buf = '';
// Each test file is a top-level subtest; its own subtests (one per t.test) are the tests we count.
function onLine(line) {
  const file = /^# Subtest: (.+\.test\.js)$/.exec(line);
  if (file) currentFile = file[1];
  const m = /^ {4}(not ok|ok) \d+ - (.*?)(?: # (SKIP|TODO)\b.*| # time=.*)?$/.exec(line);
  if (m) {
    if (m[3]) skipped++;
    else if (m[1] === 'ok') passed++;
    else { failed++; failures.push(`${currentFile}: ${m[2]}`); }
    return;
  }
  const top = /^(not ok) \d+ - (\S+\.test\.js)/.exec(line);
  if (top && !failures.some((f) => f.startsWith(top[2]))) { failed++; failures.push(`${top[2]}: file failed (crash, timeout or no tests)`); }
}

const tapBin = join(root, 'node_modules/tap/dist/esm/run.mjs');
const child = spawn(process.execPath, [tapBin, ...selected], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  buf += chunk.toString('utf8');
  let i;
  while ((i = buf.indexOf('\n')) >= 0) { onLine(buf.slice(0, i)); buf = buf.slice(i + 1); }
});
child.on('close', (code) => {
  if (buf) onLine(buf);
  if (code !== 0 && failed === 0) { failed++; failures.push(`tap exited with code ${code}`); }
  if (failures.length) process.stdout.write(`\nfailed:\n${failures.map((f) => `  - ${f}`).join('\n')}\n`);
  summary(passed, failed, skipped);
  process.exit(failed > 0 ? 1 : 0);
});
