#!/usr/bin/env node
// `npm start`: the local demo. Runs a hub on 127.0.0.1:9090 (UI at http://127.0.0.1:9090/) and one agent on
// 127.0.0.1:9091 with the host exporter, data under ./data/. Ctrl-C stops both gracefully.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(import.meta.url), '..', '..');
const bin = (pkg, name) => join(root, 'packages', pkg, 'bin', `${name}.js`);
mkdirSync(join(root, 'data'), { recursive: true });

const children = [];
function run(name, args) {
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  child.on('exit', (code, signal) => {
    if (!stopping) {
      process.stderr.write(`start: ${name} exited (${signal ?? code}); stopping the demo\n`);
      stop(1);
    }
  });
  children.push(child);
  return child;
}

let stopping = false;
function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  let left = children.filter((c) => c.exitCode === null && c.signalCode === null).length;
  if (left === 0) process.exit(code);
  for (const c of children) {
    if (c.exitCode !== null || c.signalCode !== null) continue;
    c.once('exit', () => { if (--left === 0) process.exit(code); });
    c.kill('SIGTERM');
  }
  setTimeout(() => { for (const c of children) c.kill('SIGKILL'); process.exit(code); }, 15_000).unref();
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

const hubArgs = process.env.VIGIL_HUB_ARGS?.split(' ').filter(Boolean) ?? [];
run('hub', [bin('hub', 'vigil-hub'), '--listen', '127.0.0.1:9090', '--data-dir', join(root, 'data', 'hub'), ...hubArgs]);
// The agent retries until the hub answers, so both can start together.
run('agent', [bin('agent', 'vigil-agent'), '--hub', 'ws://127.0.0.1:9090', '--listen', '127.0.0.1:9091',
  '--data-dir', join(root, 'data', 'agent'), '--datacenter', process.env.VIGIL_DATACENTER ?? 'local']);
process.stderr.write('start: hub on http://127.0.0.1:9090 (UI), agent on http://127.0.0.1:9091; Ctrl-C stops both\n');
