import { join } from 'node:path';
import type { MetricFamily } from '@vigil/common';
import { single } from './family.js';
import { fields, readOptional } from './procfs.js';
import type { Collector } from './types.js';

/** The kernel's page size, which sockstat's `mem` is counted in (4 KiB on x86-64 and most arm64 kernels). */
const PAGE_SIZE = 4096;

/** Parses /proc/net/sockstat or sockstat6 (`TCP: inuse 1 orphan 0 ...`) as node_exporter's sockstat collector. */
export function parseSockstat(text: string): MetricFamily[] {
  const out: MetricFamily[] = [];
  for (const line of text.split('\n')) {
    const f = fields(line);
    if (f.length < 3 || !f[0]!.endsWith(':')) continue;
    const proto = f[0]!.slice(0, -1);
    if (proto === 'sockets') {
      out.push(single('node_sockstat_sockets_used', 'gauge', 'Number of IPv4 sockets in use.', Number(f[2])));
      continue;
    }
    for (let i = 1; i + 1 < f.length; i += 2) {
      const state = f[i]!;
      const v = Number(f[i + 1]);
      out.push(single(`node_sockstat_${proto}_${state}`, 'gauge', `Number of ${proto} sockets in state ${state}.`, v));
      if (state === 'mem') {
        out.push(single(`node_sockstat_${proto}_mem_bytes`, 'gauge', `Number of ${proto} sockets in state mem_bytes.`, v * PAGE_SIZE));
      }
    }
  }
  return out;
}

export const sockstatCollector: Collector = {
  name: 'sockstat',
  async collect(ctx) {
    const v4 = await readOptional(join(ctx.procPath, 'net', 'sockstat'));
    const v6 = await readOptional(join(ctx.procPath, 'net', 'sockstat6'));
    if (v4 === undefined && v6 === undefined) throw new Error(`cannot read sockstat (${ctx.procPath}/net/sockstat): not found`);
    return [...parseSockstat(v4 ?? ''), ...parseSockstat(v6 ?? '')];
  },
};
