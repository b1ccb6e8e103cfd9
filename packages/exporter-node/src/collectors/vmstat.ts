import type { MetricFamily } from '@vigil/common';
import { single } from './family.js';
import { fields, readProc } from './procfs.js';
import type { Collector } from './types.js';

/** node_exporter's default --collector.vmstat.fields. */
export const DEFAULT_VMSTAT_FIELDS = /^(oom_kill|pgpg|pswp|pg.*fault).*/;

/** Parses /proc/vmstat into untyped `node_vmstat_<field>` families for the selected fields. */
export function parseVmstat(text: string, select: RegExp = DEFAULT_VMSTAT_FIELDS): MetricFamily[] {
  const out: MetricFamily[] = [];
  for (const line of text.split('\n')) {
    const [key, value] = fields(line);
    if (!key || value === undefined || !select.test(key)) continue;
    out.push(single(`node_vmstat_${key}`, 'unknown', `/proc/vmstat information field ${key}.`, Number(value)));
  }
  return out;
}

export const vmstatCollector: Collector = {
  name: 'vmstat',
  async collect(ctx) {
    return parseVmstat(await readProc(ctx, 'vmstat'));
  },
};
