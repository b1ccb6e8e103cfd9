import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CollectorContext } from './types.js';

// procfs and sysfs files are small and generated in memory by the kernel: a synchronous read costs a few
// microseconds, where the promise API costs a thread-pool round trip per file (measured: half the CPU of a
// collection). The functions stay async so a collector can move to another source without changing callers.

/** Reads a file under procfs (`readProc(ctx, 'stat')` reads /proc/stat). */
export async function readProc(ctx: CollectorContext, ...parts: string[]): Promise<string> {
  return readFileSync(join(ctx.procPath, ...parts), 'utf8');
}

/** Reads a file under sysfs. */
export async function readSys(ctx: CollectorContext, ...parts: string[]): Promise<string> {
  return readFileSync(join(ctx.sysPath, ...parts), 'utf8');
}

/** Reads a file, or returns undefined when it does not exist (optional kernel features). */
export async function readOptional(path: string): Promise<string | undefined> {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw err;
  }
}

/** Splits a line on runs of whitespace, dropping empty leading/trailing fields. */
export function fields(line: string): string[] {
  return line.trim().split(/\s+/);
}

/** The kernel's clock ticks per second for /proc/stat (USER_HZ, 100 on every Linux architecture node_exporter supports). */
export const USER_HZ = 100;

/**
 * True when the collectors run on a live host without procfs (macOS, Windows): collectors that have one
 * then fall back to Node's `os` module or systeminformation.
 */
export function withoutProcfs(ctx: CollectorContext): boolean {
  return process.platform !== 'linux' && ctx.procPath === '/proc';
}
