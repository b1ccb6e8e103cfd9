import type { MetricFamily } from '@vigil/common';
import { gauge, nonEmpty } from './family.js';
import { fields, readProc } from './procfs.js';
import type { Collector } from './types.js';

/** Counts /proc/net/arp entries by device (its last column). */
export function parseArp(text: string): MetricFamily[] {
  const counts = new Map<string, number>();
  for (const line of text.split('\n').slice(1)) {
    const f = fields(line);
    if (f.length < 6) continue;
    const device = f[5]!;
    counts.set(device, (counts.get(device) ?? 0) + 1);
  }
  const entries = gauge('node_arp_entries', 'ARP entries by device');
  for (const [device, n] of counts) entries.add(n, { device });
  return nonEmpty([entries]);
}

export const arpCollector: Collector = {
  name: 'arp',
  async collect(ctx) {
    return parseArp(await readProc(ctx, 'net', 'arp'));
  },
};
