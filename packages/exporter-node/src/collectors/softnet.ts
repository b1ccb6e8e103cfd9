import type { MetricFamily } from '@vigil/common';
import { counter } from './family.js';
import { fields, readProc } from './procfs.js';
import type { Collector } from './types.js';

/** Parses /proc/net/softnet_stat: one line per CPU of hex columns (processed, dropped, time_squeeze, ...). */
export function parseSoftnet(text: string): MetricFamily[] {
  const processed = counter('node_softnet_processed_total', 'Number of processed packets');
  const dropped = counter('node_softnet_dropped_total', 'Number of dropped packets');
  const squeezed = counter('node_softnet_times_squeezed_total', 'Number of times processing packets ran out of quota');
  text.split('\n').filter((l) => l.trim()).forEach((line, i) => {
    const f = fields(line).map((x) => parseInt(x, 16));
    const cpu = String(i);
    processed.add(f[0] ?? 0, { cpu });
    dropped.add(f[1] ?? 0, { cpu });
    squeezed.add(f[2] ?? 0, { cpu });
  });
  return [dropped.family, processed.family, squeezed.family];
}

export const softnetCollector: Collector = {
  name: 'softnet',
  async collect(ctx) {
    return parseSoftnet(await readProc(ctx, 'net', 'softnet_stat'));
  },
};
