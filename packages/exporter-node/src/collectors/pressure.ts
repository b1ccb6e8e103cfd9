import { join } from 'node:path';
import type { MetricFamily } from '@vigil/common';
import { single } from './family.js';
import { fields, readOptional } from './procfs.js';
import type { Collector } from './types.js';

/** The `total=` (microseconds) of the `some` and `full` lines of a /proc/pressure file. */
export function parsePressure(text: string): { some?: number; full?: number } {
  const out: { some?: number; full?: number } = {};
  for (const line of text.split('\n')) {
    const f = fields(line);
    const total = f.find((x) => x.startsWith('total='));
    if (!total) continue;
    const seconds = Number(total.slice(6)) / 1e6;
    if (f[0] === 'some') out.some = seconds;
    if (f[0] === 'full') out.full = seconds;
  }
  return out;
}

/** node_exporter 1.5's pressure families (no cpu "full" line there). Nothing when the kernel has no PSI. */
export const pressureCollector: Collector = {
  name: 'pressure',
  async collect(ctx) {
    const read = async (res: string) => {
      const text = await readOptional(join(ctx.procPath, 'pressure', res));
      return text === undefined ? undefined : parsePressure(text);
    };
    const [cpu, io, memory] = await Promise.all([read('cpu'), read('io'), read('memory')]);
    const out: MetricFamily[] = [];
    if (cpu?.some !== undefined) out.push(single('node_pressure_cpu_waiting_seconds_total', 'counter', 'Total time in seconds that processes have waited for CPU time', cpu.some));
    if (io?.full !== undefined) out.push(single('node_pressure_io_stalled_seconds_total', 'counter', 'Total time in seconds no process could make progress due to IO congestion', io.full));
    if (io?.some !== undefined) out.push(single('node_pressure_io_waiting_seconds_total', 'counter', 'Total time in seconds that processes have waited due to IO congestion', io.some));
    if (memory?.full !== undefined) out.push(single('node_pressure_memory_stalled_seconds_total', 'counter', 'Total time in seconds no process could make progress due to memory congestion', memory.full));
    if (memory?.some !== undefined) out.push(single('node_pressure_memory_waiting_seconds_total', 'counter', 'Total time in seconds that processes have waited for memory', memory.some));
    return out;
  },
};
