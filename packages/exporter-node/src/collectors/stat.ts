import type { MetricFamily } from '@vigil/common';
import { single } from './family.js';
import { fields, readProc, withoutProcfs } from './procfs.js';
import type { Collector } from './types.js';
import { uptime } from 'node:os';

/** Parses /proc/stat's system-wide lines as node_exporter's stat collector does. */
export function parseStat(text: string): MetricFamily[] {
  const out: MetricFamily[] = [];
  for (const line of text.split('\n')) {
    const f = fields(line);
    const v = Number(f[1]);
    switch (f[0]) {
      case 'intr':
        out.push(single('node_intr_total', 'counter', 'Total number of interrupts serviced.', v));
        break;
      case 'ctxt':
        out.push(single('node_context_switches_total', 'counter', 'Total number of context switches.', v));
        break;
      case 'btime':
        out.push(single('node_boot_time_seconds', 'gauge', 'Node boot time, in unixtime.', v));
        break;
      case 'processes':
        out.push(single('node_forks_total', 'counter', 'Total number of forks.', v));
        break;
      case 'procs_running':
        out.push(single('node_procs_running', 'gauge', 'Number of processes in runnable state.', v));
        break;
      case 'procs_blocked':
        out.push(single('node_procs_blocked', 'gauge', 'Number of processes blocked waiting for I/O to complete.', v));
        break;
    }
  }
  return out;
}

export const statCollector: Collector = {
  name: 'stat',
  async collect(ctx) {
    if (withoutProcfs(ctx)) {
      const boot = Math.round(ctx.now() / 1000 - uptime());
      return [single('node_boot_time_seconds', 'gauge', 'Node boot time, in unixtime.', boot)];
    }
    return parseStat(await readProc(ctx, 'stat'));
  },
};
