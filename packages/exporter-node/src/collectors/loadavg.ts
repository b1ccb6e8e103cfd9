import { loadavg } from 'node:os';
import type { MetricFamily } from '@vigil/common';
import { single } from './family.js';
import { fields, readProc, withoutProcfs } from './procfs.js';
import type { Collector } from './types.js';

function families(l1: number, l5: number, l15: number): MetricFamily[] {
  return [
    single('node_load1', 'gauge', '1m load average.', l1),
    single('node_load5', 'gauge', '5m load average.', l5),
    single('node_load15', 'gauge', '15m load average.', l15),
  ];
}

/** Parses /proc/loadavg ("0.61 0.26 0.10 2/190 4242"). */
export function parseLoadavg(text: string): MetricFamily[] {
  const f = fields(text);
  if (f.length < 3) throw new Error(`cannot parse /proc/loadavg (${JSON.stringify(text)}): expected 3 fields`);
  return families(Number(f[0]), Number(f[1]), Number(f[2]));
}

export const loadavgCollector: Collector = {
  name: 'loadavg',
  async collect(ctx) {
    if (withoutProcfs(ctx)) {
      const [a = 0, b = 0, c = 0] = loadavg();
      return families(a, b, c);
    }
    return parseLoadavg(await readProc(ctx, 'loadavg'));
  },
};
