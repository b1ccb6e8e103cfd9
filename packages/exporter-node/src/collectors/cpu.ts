import { cpus } from 'node:os';
import type { MetricFamily } from '@vigil/common';
import { counter, nonEmpty } from './family.js';
import { fields, readProc, USER_HZ, withoutProcfs } from './procfs.js';
import type { Collector } from './types.js';

/** /proc/stat `cpuN` columns, in order, and node_exporter's mode label for each (guest columns handled apart). */
const MODES = ['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal'] as const;

/** Parses /proc/stat into node_cpu_seconds_total{cpu,mode} and node_cpu_guest_seconds_total{cpu,mode}. */
export function parseCpuStat(text: string): MetricFamily[] {
  const seconds = counter('node_cpu_seconds_total', 'Seconds the CPUs spent in each mode.');
  const guest = counter('node_cpu_guest_seconds_total', 'Seconds the CPUs spent in guests (VMs) for each mode.');
  for (const line of text.split('\n')) {
    if (!line.startsWith('cpu') || line.startsWith('cpu ')) continue;
    const f = fields(line);
    const cpu = f[0]!.slice(3);
    MODES.forEach((mode, i) => {
      const v = f[i + 1];
      if (v !== undefined) seconds.add(Number(v) / USER_HZ, { cpu, mode });
    });
    if (f[9] !== undefined) guest.add(Number(f[9]) / USER_HZ, { cpu, mode: 'user' });
    if (f[10] !== undefined) guest.add(Number(f[10]) / USER_HZ, { cpu, mode: 'nice' });
  }
  return nonEmpty([seconds, guest]);
}

/** Without procfs: Node's per-CPU times (milliseconds; no iowait, steal or softirq there). */
function fromOs(): MetricFamily[] {
  const seconds = counter('node_cpu_seconds_total', 'Seconds the CPUs spent in each mode.');
  cpus().forEach((c, i) => {
    const cpu = String(i);
    seconds.add(c.times.user / 1000, { cpu, mode: 'user' });
    seconds.add(c.times.nice / 1000, { cpu, mode: 'nice' });
    seconds.add(c.times.sys / 1000, { cpu, mode: 'system' });
    seconds.add(c.times.idle / 1000, { cpu, mode: 'idle' });
    seconds.add(c.times.irq / 1000, { cpu, mode: 'irq' });
  });
  return [seconds.family];
}

export const cpuCollector: Collector = {
  name: 'cpu',
  async collect(ctx) {
    if (withoutProcfs(ctx)) return fromOs();
    return parseCpuStat(await readProc(ctx, 'stat'));
  },
};
