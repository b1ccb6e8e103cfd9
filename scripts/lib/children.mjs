// Child processes of the bench and soak scripts: output kept (last 128-256 KiB), tracked in a set so
// that every exit path can stop them, and stopped with SIGTERM then SIGKILL after a timeout.
import { spawn } from 'node:child_process';
import os from 'node:os';

/** Spawns `cmd args` into `children`; the handle has `stop(timeoutMs)`, `log()`, `exited`, `exit`. */
export function spawnChild(children, name, cmd, args, opts = {}) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: opts.cwd ?? os.tmpdir(), env: { ...process.env, ...opts.env } });
  let log = '';
  const keep = (c) => { log += c.toString('utf8'); if (log.length > 256 * 1024) log = log.slice(-128 * 1024); };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const p = { name, child, pid: child.pid, log: () => log, exited: false };
  child.once('exit', (code, sig) => { p.exited = true; p.exit = code ?? sig; children.delete(p); });
  children.add(p);
  p.stop = (timeoutMs = opts.stopTimeoutMs ?? 15_000) => new Promise((resolve) => {
    if (p.exited) return resolve();
    const t = setTimeout(() => { try { child.kill('SIGKILL'); } catch {} }, timeoutMs);
    child.once('exit', () => { clearTimeout(t); resolve(); });
    try { child.kill('SIGTERM'); } catch {}
  });
  return p;
}
