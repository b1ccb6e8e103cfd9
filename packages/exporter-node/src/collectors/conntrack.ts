import { join } from 'node:path';
import type { MetricFamily } from '@vigil/common';
import { single } from './family.js';
import { fields, readOptional } from './procfs.js';
import type { Collector } from './types.js';

/** /proc/net/stat/nf_conntrack columns node_exporter exposes, with its HELP texts. */
const STATS: ReadonlyArray<[column: string, help: string]> = [
  ['drop', 'Number of packets dropped due to conntrack failure.'],
  ['early_drop', 'Number of dropped conntrack entries to make room for new ones, if maximum table size was reached.'],
  ['found', 'Number of searched entries which were successful.'],
  ['ignore', 'Number of packets seen which are already connected to a conntrack entry.'],
  ['insert', 'Number of entries inserted into the list.'],
  ['insert_failed', 'Number of entries for which list insertion was attempted but failed.'],
  ['invalid', 'Number of packets seen which can not be tracked.'],
  ['search_restart', 'Number of conntrack table lookups which had to be restarted due to hashtable resizes.'],
];

/** Sums the per-CPU hex rows of /proc/net/stat/nf_conntrack by column name. */
export function parseConntrackStat(text: string): Map<string, number> {
  const lines = text.split('\n').filter((l) => l.trim());
  const header = fields(lines[0] ?? '');
  const sums = new Map<string, number>();
  for (const line of lines.slice(1)) {
    fields(line).forEach((v, i) => {
      const name = header[i];
      if (name) sums.set(name, (sums.get(name) ?? 0) + parseInt(v, 16));
    });
  }
  return sums;
}

/** Nothing when the kernel has no connection tracking loaded. */
export const conntrackCollector: Collector = {
  name: 'conntrack',
  async collect(ctx) {
    const count = await readOptional(join(ctx.procPath, 'sys', 'net', 'netfilter', 'nf_conntrack_count'));
    const max = await readOptional(join(ctx.procPath, 'sys', 'net', 'netfilter', 'nf_conntrack_max'));
    if (count === undefined || max === undefined) return [];
    const out: MetricFamily[] = [
      single('node_nf_conntrack_entries', 'gauge', 'Number of currently allocated flow entries for connection tracking.', Number(count.trim())),
      single('node_nf_conntrack_entries_limit', 'gauge', 'Maximum size of connection tracking table.', Number(max.trim())),
    ];
    const stat = await readOptional(join(ctx.procPath, 'net', 'stat', 'nf_conntrack'));
    if (stat !== undefined) {
      const sums = parseConntrackStat(stat);
      for (const [column, help] of STATS) {
        const v = sums.get(column);
        if (v !== undefined) out.push(single(`node_nf_conntrack_stat_${column}`, 'gauge', help, v));
      }
    }
    return out;
  },
};
