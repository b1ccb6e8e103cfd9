#!/usr/bin/env node
// `npm run bench`: builds, then runs every benchmark in scripts/bench/*.mjs one after the other (each in its own
// process, so RSS and CPU figures are not mixed) and prints their `bench: NAME VALUE UNIT (workload)` lines.
//   npm run bench            all
//   npm run bench -- query   only scripts whose name contains "query"
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import os from 'node:os';

const root = join(fileURLToPath(import.meta.url), '..', '..');
const filters = process.argv.slice(2);
const build = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-b'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) process.exit(1);
process.stdout.write(`bench: machine ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}, ${new Date().toISOString()}\n`);
const dir = join(root, 'scripts', 'bench');
let failed = 0;
for (const f of readdirSync(dir).filter((f) => f.endsWith('.mjs')).sort()) {
  if (filters.length && !filters.some((x) => f.includes(x))) continue;
  process.stdout.write(`# ${f}\n`);
  const r = spawnSync(process.execPath, ['--expose-gc', join(dir, f)], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) { failed++; process.stdout.write(`# ${f} failed (exit ${r.status ?? r.signal})\n`); }
}
process.exit(failed ? 1 : 0);
