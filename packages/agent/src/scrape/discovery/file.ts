import { readdirSync, readFileSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { parse as parseYAML } from 'yaml';
import { silentLogger, type FileSDConfig, type Logger } from '@vigil/common';
import { parseTargetGroups, type Discoverer, type TargetGroup } from './types.js';

/** Go's filepath.Match for one path component: `*`, `?`, `[...]`, `\` escapes. */
function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const close = pattern.indexOf(']', i + 1);
      if (close < 0) { re += '\\['; continue; }
      let cls = pattern.slice(i + 1, close);
      if (cls.startsWith('^')) cls = '^' + cls.slice(1);
      re += '[' + cls.replace(/\\/g, '\\\\') + ']';
      i = close;
    } else if (c === '\\' && i + 1 < pattern.length) {
      re += '\\' + pattern[++i];
    } else re += c.replace(/[.+^${}()|\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Debounce for bursts of watch events (an editor's write, an atomic rename). */
const DEBOUNCE_MS = 50;

/**
 * `file_sd_configs`: target groups in JSON (`.json`) or YAML (`.yml`, `.yaml`) files whose
 * names may use a glob in the last path component. The directories are watched (which survives
 * atomic renames over a file) and everything is re-read every `refresh_interval` as a fallback.
 * A file that fails to read or parse keeps its last good groups and the error is logged; a file
 * that disappears takes its groups with it. Each group gets `__meta_filepath`.
 */
export class FileDiscoverer implements Discoverer {
  private readonly logger: Logger;
  private watchers: FSWatcher[] = [];
  private timer: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private readonly lastGood = new Map<string, TargetGroup[]>();
  private update: ((groups: TargetGroup[]) => void) | undefined;
  private stopped = false;

  constructor(private readonly cfg: FileSDConfig, logger: Logger = silentLogger) {
    this.logger = logger.child({ discovery: 'file' });
  }

  start(update: (groups: TargetGroup[]) => void): void {
    this.update = update;
    const dirs = new Set(this.cfg.files.map((f) => dirname(f)));
    for (const dir of dirs) {
      try {
        const w = watch(dir, () => this.schedule());
        w.on('error', (err) => this.logger.warn({ err: err.message, dir }, 'cannot watch file SD directory'));
        this.watchers.push(w);
      } catch (err) {
        this.logger.warn({ err: (err as Error).message, dir }, 'cannot watch file SD directory; relying on refresh_interval');
      }
    }
    this.refresh();
    this.timer = setInterval(() => this.refresh(), this.cfg.refresh_interval);
    this.timer.unref?.();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.debounce);
    for (const w of this.watchers) w.close();
    this.watchers = [];
  }

  private schedule(): void {
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => this.refresh(), DEBOUNCE_MS);
  }

  /** The files currently matching the configured patterns. */
  private listFiles(): string[] {
    const out: string[] = [];
    for (const pattern of this.cfg.files) {
      const dir = dirname(pattern);
      const base = basename(pattern);
      if (!/[*?[]/.test(base)) {
        out.push(pattern);
        continue;
      }
      const re = globToRegExp(base);
      let entries: string[] = [];
      try { entries = readdirSync(dir); } catch { entries = []; }
      for (const e of entries.sort()) if (re.test(e)) out.push(join(dir, e));
    }
    return [...new Set(out)];
  }

  private readFile(file: string): TargetGroup[] | undefined {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const ext = extname(file).toLowerCase();
    const data: unknown = ext === '.json' ? JSON.parse(text) : parseYAML(text);
    return parseTargetGroups(data, file, { __meta_filepath: file });
  }

  /** Re-reads every file and publishes the combined groups. */
  refresh(): void {
    if (this.stopped) return;
    const files = this.listFiles();
    const present = new Set<string>();
    for (const file of files) {
      const ext = extname(file).toLowerCase();
      if (ext !== '.json' && ext !== '.yml' && ext !== '.yaml') continue;
      try {
        const groups = this.readFile(file);
        if (groups === undefined) continue;
        present.add(file);
        this.lastGood.set(file, groups);
      } catch (err) {
        present.add(file);
        this.logger.error({ file, err: (err as Error).message }, 'cannot read file SD file; keeping its last good targets');
      }
    }
    for (const f of [...this.lastGood.keys()]) if (!present.has(f)) this.lastGood.delete(f);
    const all: TargetGroup[] = [];
    for (const groups of this.lastGood.values()) all.push(...groups);
    this.update?.(all);
  }
}
