import { join } from 'node:path';
import type { MetricFamily } from '@vigil/common';
import { gauge, single } from './family.js';
import { fields, readOptional } from './procfs.js';
import type { Collector, CollectorContext } from './types.js';

/** The local time zone's abbreviation (`UTC`, `CEST`) and offset east of UTC in seconds, at `ms`. */
export function zoneAt(ms: number): { zone: string; offset: number } {
  const d = new Date(ms);
  const name = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(d).find((p) => p.type === 'timeZoneName')?.value;
  return { zone: name ?? 'UTC', offset: -d.getTimezoneOffset() * 60 };
}

async function clocksources(ctx: CollectorContext): Promise<MetricFamily[]> {
  const available = gauge('node_time_clocksource_available_info', "Available clocksources read from '/sys/devices/system/clocksource'.");
  const current = gauge('node_time_clocksource_current_info', "Current clocksource read from '/sys/devices/system/clocksource'.");
  for (let device = 0; ; device++) {
    const dir = join(ctx.sysPath, 'devices', 'system', 'clocksource', `clocksource${device}`);
    const avail = await readOptional(join(dir, 'available_clocksource'));
    if (avail === undefined) break;
    for (const cs of fields(avail)) if (cs) available.add(1, { clocksource: cs, device: String(device) });
    const cur = (await readOptional(join(dir, 'current_clocksource')))?.trim();
    if (cur) current.add(1, { clocksource: cur, device: String(device) });
  }
  return [available.family, current.family].filter((f) => f.samples.length > 0);
}

export const timeCollector: Collector = {
  name: 'time',
  async collect(ctx) {
    const now = ctx.now();
    const { zone, offset } = zoneAt(now);
    return [
      ...(await clocksources(ctx)),
      single('node_time_seconds', 'gauge', 'System time in seconds since epoch (1970).', now / 1000),
      single('node_time_zone_offset_seconds', 'gauge', 'System time zone offset in seconds.', offset, { time_zone: zone }),
    ];
  },
};
