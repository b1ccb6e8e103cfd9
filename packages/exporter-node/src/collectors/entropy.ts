import type { MetricFamily } from '@vigil/common';
import { single } from './family.js';
import { readProc } from './procfs.js';
import type { Collector } from './types.js';

export const entropyCollector: Collector = {
  name: 'entropy',
  async collect(ctx): Promise<MetricFamily[]> {
    const avail = Number((await readProc(ctx, 'sys', 'kernel', 'random', 'entropy_avail')).trim());
    const pool = Number((await readProc(ctx, 'sys', 'kernel', 'random', 'poolsize')).trim());
    return [
      single('node_entropy_available_bits', 'gauge', 'Bits of available entropy.', avail),
      single('node_entropy_pool_size_bits', 'gauge', 'Bits of entropy pool.', pool),
    ];
  },
};
