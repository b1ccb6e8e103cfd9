import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(fileURLToPath(import.meta.url), '..', '..', '..', '..'); // test/dist/lib/proc.js
export const BIN = {
  hub: join(ROOT, 'packages/hub/bin/vigil-hub.js'),
  agent: join(ROOT, 'packages/agent/bin/vigil-agent.js'),
  exporter: join(ROOT, 'packages/exporter-node/bin/vigil-exporter-node.js'),
};

export interface Proc {
  child: ChildProcess;
  /** Base URL from the program's "listening" log line. */
  url: string;
  /** Everything the program logged so far (JSON lines and text). */
  output(): string;
  /** SIGTERM and wait; resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts one of Vigil's programs and waits for the log line that carries its listening URL
 * (every program logs `{"url": ...}` once it serves). Listen on port 0 to get an ephemeral port.
 */
export function startProc(bin: string, args: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<Proc> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } });
    let out = '';
    let resolved = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${bin} did not report a listening URL within ${opts.timeoutMs ?? 20000} ms; output:\n${out}`));
    }, opts.timeoutMs ?? 20000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString('utf8');
      if (resolved) return;
      const m = /"url":"(https?:\/\/[^"]+)"/.exec(out);
      if (m) {
        resolved = true;
        clearTimeout(timer);
        resolve({
          child,
          url: m[1]!,
          output: () => out,
          stop: (signal = 'SIGTERM') => new Promise((res) => {
            if (child.exitCode !== null || child.signalCode !== null) return res(child.exitCode);
            child.once('exit', (code) => res(code));
            child.kill(signal);
          }),
        });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      if (!resolved) {
        clearTimeout(timer);
        reject(new Error(`${bin} exited with ${code} before listening; output:\n${out}`));
      }
    });
  });
}

export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `vigil-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Polls `fn` until it returns a truthy value or the time is up. */
export async function eventually<T>(fn: () => Promise<T | undefined | null | false>, timeoutMs: number, intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms${lastErr ? `: ${(lastErr as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export async function getJson(url: string): Promise<any> {
  const res = await fetch(url);
  return res.json();
}

/** A free TCP port on 127.0.0.1, for programs that cannot report an ephemeral port back (Debian's peers). */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Starts a foreign program (no URL log line to wait for) and waits until `readyUrl` answers 200. */
export async function startExternal(cmd: string, args: string[], readyUrl: string, timeoutMs = 20000): Promise<{ stop(): Promise<void>; output(): string }> {
  const { spawn } = await import('node:child_process');
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => { out += c.toString(); });
  child.stderr!.on('data', (c: Buffer) => { out += c.toString(); });
  const stop = () => new Promise<void>((res) => {
    if (child.exitCode !== null || child.signalCode !== null) return res();
    child.once('exit', () => res());
    child.kill('SIGTERM');
  });
  try {
    await eventually(async () => (await fetch(readyUrl)).ok, timeoutMs, 200);
  } catch (err) {
    await stop();
    throw new Error(`${cmd} did not become ready at ${readyUrl}: ${(err as Error).message}\n${out}`);
  }
  return { stop, output: () => out };
}
