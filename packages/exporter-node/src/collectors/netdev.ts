import { join } from 'node:path';
import type { MetricFamily } from '@vigil/common';
import { counter, type FamilyBuilder } from './family.js';
import { fields, readOptional, readProc, withoutProcfs } from './procfs.js';
import type { Collector, CollectorContext } from './types.js';

/** The Debian package's default --collector.netdev.device-exclude (upstream excludes nothing). */
export const DEFAULT_NETDEV_DEVICE_EXCLUDE = /^lo$/;

export interface NetdevOptions {
  deviceExclude?: RegExp;
}

/** Per device, statistic name (`receive_bytes`) to value. */
export type NetDevStats = Map<string, Map<string, number>>;

/** Parses /proc/net/dev: the header names the columns of the receive and transmit halves. */
export function parseNetDev(text: string, exclude: RegExp): NetDevStats {
  const lines = text.split('\n');
  const header = lines[1]?.split('|');
  if (!header || header.length !== 3) throw new Error(`cannot parse /proc/net/dev header (${JSON.stringify(lines[1])}): expected 3 sections`);
  const rx = fields(header[1]!);
  const tx = fields(header[2]!);
  const out: NetDevStats = new Map();
  for (const line of lines.slice(2)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const device = line.slice(0, colon).trim();
    if (exclude.test(device)) continue;
    const v = fields(line.slice(colon + 1));
    if (v.length !== rx.length + tx.length) throw new Error(`cannot parse /proc/net/dev line (${JSON.stringify(line)}): expected ${rx.length + tx.length} values`);
    const stats = new Map<string, number>();
    rx.forEach((name, i) => stats.set(`receive_${name}`, Number(v[i])));
    tx.forEach((name, i) => stats.set(`transmit_${name}`, Number(v[rx.length + i])));
    out.set(device, stats);
  }
  return out;
}

/** node_netdev's families: `node_network_<stat>_total{device}`, one per statistic, sorted by name. */
export function netDevFamilies(stats: NetDevStats): MetricFamily[] {
  const builders = new Map<string, FamilyBuilder>();
  for (const [device, s] of stats) {
    for (const [stat, value] of s) {
      let b = builders.get(stat);
      if (!b) builders.set(stat, (b = counter(`node_network_${stat}_total`, `Network device statistic ${stat}.`)));
      b.add(value, { device });
    }
  }
  return [...builders.keys()].sort().map((k) => builders.get(k)!.family);
}

/** node_exporter reads netlink, which also has rx_nohandler; sysfs has it per device. */
async function addNoHandler(ctx: CollectorContext, stats: NetDevStats): Promise<void> {
  await Promise.all(
    [...stats].map(async ([device, s]) => {
      const text = await readOptional(join(ctx.sysPath, 'class', 'net', device, 'statistics', 'rx_nohandler'));
      if (text !== undefined && text.trim() !== '') s.set('receive_nohandler', Number(text.trim()));
    }),
  );
}

async function fromSysteminformation(exclude: RegExp): Promise<MetricFamily[]> {
  const stats: NetDevStats = new Map();
  for (const n of await (await import('systeminformation')).default.networkStats('*')) {
    if (exclude.test(n.iface)) continue;
    stats.set(n.iface, new Map([
      ['receive_bytes', n.rx_bytes], ['receive_errs', n.rx_errors], ['receive_drop', n.rx_dropped],
      ['transmit_bytes', n.tx_bytes], ['transmit_errs', n.tx_errors], ['transmit_drop', n.tx_dropped],
    ]));
  }
  return netDevFamilies(stats);
}

export function netdevCollector(options: NetdevOptions = {}): Collector {
  const exclude = options.deviceExclude ?? DEFAULT_NETDEV_DEVICE_EXCLUDE;
  return {
    name: 'netdev',
    async collect(ctx) {
      if (withoutProcfs(ctx)) return fromSysteminformation(exclude);
      const stats = parseNetDev(await readProc(ctx, 'net', 'dev'), exclude);
      await addNoHandler(ctx, stats);
      return netDevFamilies(stats);
    },
  };
}
