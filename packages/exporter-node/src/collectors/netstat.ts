import { join } from 'node:path';
import type { MetricFamily } from '@vigil/common';
import { single } from './family.js';
import { fields, readOptional } from './procfs.js';
import type { Collector } from './types.js';

/** node_exporter's default --collector.netstat.fields. */
export const DEFAULT_NETSTAT_FIELDS =
  /^(.*_(InErrors|InErrs)|Ip_Forwarding|Ip(6|Ext)_(InOctets|OutOctets)|Icmp6?_(InMsgs|OutMsgs)|TcpExt_(Listen.*|Syncookies.*|TCPSynRetrans|TCPTimeouts)|Tcp_(ActiveOpens|InSegs|OutSegs|OutRsts|PassiveOpens|RetransSegs|CurrEstab)|Udp6?_(InDatagrams|OutDatagrams|NoPorts|RcvbufErrors|SndbufErrors))$/;

/**
 * Parses /proc/net/netstat or /proc/net/snmp: pairs of lines, a header (`Tcp: ActiveOpens ...`)
 * then the values (`Tcp: 69 ...`). Returns protocol_field → value.
 */
export function parsePairedStats(text: string, out = new Map<string, number>()): Map<string, number> {
  const lines = text.split('\n').filter((l) => l.trim());
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const names = fields(lines[i]!);
    const values = fields(lines[i + 1]!);
    const proto = names[0]!.replace(/:$/, '');
    for (let j = 1; j < names.length && j < values.length; j++) out.set(`${proto}_${names[j]}`, Number(values[j]));
  }
  return out;
}

/** Parses /proc/net/snmp6: one `Ip6InOctets 123` per line, split after the protocol's `6`. */
export function parseSnmp6(text: string, out = new Map<string, number>()): Map<string, number> {
  for (const line of text.split('\n')) {
    const [key, value] = fields(line);
    if (!key || value === undefined) continue;
    const six = key.indexOf('6');
    if (six >= 0) out.set(`${key.slice(0, six + 1)}_${key.slice(six + 1)}`, Number(value));
  }
  return out;
}

/** Untyped `node_netstat_<Proto>_<Field>` families for the selected fields, as node_exporter. */
export function netstatFamilies(stats: Map<string, number>, select: RegExp = DEFAULT_NETSTAT_FIELDS): MetricFamily[] {
  const out: MetricFamily[] = [];
  for (const [key, value] of stats) {
    if (!select.test(key)) continue;
    out.push(single(`node_netstat_${key}`, 'unknown', `Statistic ${key.replace('_', '')}.`, value));
  }
  return out;
}

export const netstatCollector: Collector = {
  name: 'netstat',
  async collect(ctx) {
    const dir = join(ctx.procPath, 'net');
    const [netstat, snmp, snmp6] = await Promise.all(['netstat', 'snmp', 'snmp6'].map((f) => readOptional(join(dir, f))));
    if (netstat === undefined && snmp === undefined) throw new Error(`cannot read network statistics (${dir}/netstat, ${dir}/snmp): not found`);
    const stats = new Map<string, number>();
    if (netstat !== undefined) parsePairedStats(netstat, stats);
    if (snmp !== undefined) parsePairedStats(snmp, stats);
    if (snmp6 !== undefined) parseSnmp6(snmp6, stats);
    return netstatFamilies(stats);
  },
};
