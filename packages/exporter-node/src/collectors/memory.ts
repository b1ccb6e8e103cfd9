import { freemem, totalmem } from 'node:os';
import type { MetricFamily } from '@vigil/common';
import { single } from './family.js';
import { fields, readProc, withoutProcfs } from './procfs.js';
import type { Collector } from './types.js';

/**
 * Parses /proc/meminfo as node_exporter's meminfo collector: every field becomes
 * `node_memory_<Field>_bytes` (kB fields, times 1024) or `node_memory_<Field>` (counts such as
 * HugePages_Total); `Active(anon)` becomes `Active_anon`.
 */
export function parseMeminfo(text: string): MetricFamily[] {
  const out: MetricFamily[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const f = fields(line);
    if (f.length < 2 || !f[0]!.endsWith(':')) continue;
    let key = f[0]!.slice(0, -1).replace(/\((.*)\)/, '_$1');
    let value = Number(f[1]);
    if (f[2] === 'kB') {
      key += '_bytes';
      value *= 1024;
    }
    out.push(single(`node_memory_${key}`, 'gauge', `Memory information field ${key}.`, value));
  }
  return out;
}

export const memoryCollector: Collector = {
  name: 'meminfo',
  async collect(ctx) {
    if (withoutProcfs(ctx)) {
      return [
        single('node_memory_MemTotal_bytes', 'gauge', 'Memory information field MemTotal_bytes.', totalmem()),
        single('node_memory_MemFree_bytes', 'gauge', 'Memory information field MemFree_bytes.', freemem()),
      ];
    }
    return parseMeminfo(await readProc(ctx, 'meminfo'));
  },
};
