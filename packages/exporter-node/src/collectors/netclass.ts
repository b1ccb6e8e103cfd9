import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { MetricFamily } from '@vigil/common';
import { counter, gauge, nonEmpty, type FamilyBuilder } from './family.js';
import type { Collector, CollectorContext } from './types.js';

/** node_exporter's default --collector.netclass.ignored-devices (none). */
export const DEFAULT_NETCLASS_DEVICE_EXCLUDE = /^$/;

/** sysfs attribute → node_exporter's property name and type; speed is handled apart. */
const PROPERTIES: ReadonlyArray<[file: string, name: string, type: 'gauge' | 'counter']> = [
  ['addr_assign_type', 'address_assign_type', 'gauge'],
  ['carrier', 'carrier', 'gauge'],
  ['carrier_changes', 'carrier_changes_total', 'counter'],
  ['carrier_up_count', 'carrier_up_changes_total', 'counter'],
  ['carrier_down_count', 'carrier_down_changes_total', 'counter'],
  ['dev_id', 'device_id', 'gauge'],
  ['dormant', 'dormant', 'gauge'],
  ['flags', 'flags', 'gauge'],
  ['ifindex', 'iface_id', 'gauge'],
  ['iflink', 'iface_link', 'gauge'],
  ['link_mode', 'iface_link_mode', 'gauge'],
  ['mtu', 'mtu_bytes', 'gauge'],
  ['name_assign_type', 'name_assign_type', 'gauge'],
  ['netdev_group', 'net_dev_group', 'gauge'],
  ['tx_queue_len', 'transmit_queue_length', 'gauge'],
  ['type', 'protocol_type', 'gauge'],
];

/** A sysfs attribute, or undefined when it cannot be read (many answer EINVAL while the link is down). */
function attr(dir: string, file: string): string | undefined {
  try {
    return readFileSync(join(dir, file), 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Reads /sys/class/net/<iface>/ as node_exporter's netclass collector (sysfs mode). */
export function collectNetClass(ctx: CollectorContext, exclude: RegExp = DEFAULT_NETCLASS_DEVICE_EXCLUDE): MetricFamily[] {
  const base = join(ctx.sysPath, 'class', 'net');
  const up = gauge('node_network_up', "Value is 1 if operstate is 'up', 0 otherwise.");
  const info = gauge('node_network_info', 'Non-numeric data from /sys/class/net/<iface>, value is always 1.');
  const props = new Map<string, FamilyBuilder>();
  const prop = (name: string, type: 'gauge' | 'counter') => {
    let b = props.get(name);
    if (!b) props.set(name, (b = (type === 'counter' ? counter : gauge)(`node_network_${name}`, `Network device property: ${name}`)));
    return b;
  };
  for (const device of readdirSync(base).sort()) {
    const dir = join(base, device);
    if (exclude.test(device) || !statSync(dir).isDirectory()) continue;
    const operstate = attr(dir, 'operstate') ?? '';
    up.add(operstate === 'up' ? 1 : 0, { device });
    info.add(1, {
      address: attr(dir, 'address') ?? '',
      broadcast: attr(dir, 'broadcast') ?? '',
      device,
      duplex: attr(dir, 'duplex') ?? '',
      ifalias: attr(dir, 'ifalias') ?? '',
      operstate,
    });
    for (const [file, name, type] of PROPERTIES) {
      const text = attr(dir, file);
      if (text === undefined || text === '') continue;
      const v = Number(text);
      if (!Number.isNaN(v)) prop(name, type).add(v, { device });
    }
    const speed = attr(dir, 'speed');
    if (speed !== undefined && speed !== '' && !Number.isNaN(Number(speed))) {
      prop('speed_bytes', 'gauge').add(Math.trunc((Number(speed) * 1000 * 1000) / 8), { device });
    }
  }
  return nonEmpty([up, info, ...[...props.keys()].sort().map((k) => props.get(k)!)]);
}

export function netclassCollector(options: { deviceExclude?: RegExp } = {}): Collector {
  return { name: 'netclass', collect: async (ctx) => collectNetClass(ctx, options.deviceExclude) };
}
