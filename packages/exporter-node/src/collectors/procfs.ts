import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CollectorContext } from './types.js';

/** Reads a file under procfs (`proc('stat')` reads /proc/stat). */
export function readProc(ctx: CollectorContext, ...parts: string[]): Promise<string> {
  return readFile(join(ctx.procPath, ...parts), 'utf8');
}

/** Reads a file under sysfs. */
export function readSys(ctx: CollectorContext, ...parts: string[]): Promise<string> {
  return readFile(join(ctx.sysPath, ...parts), 'utf8');
}

/** Reads a file, or returns undefined when it does not exist (optional kernel features). */
export async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
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
