import { join } from 'node:path';
import type { MetricFamily } from '@vigil/common';
import { single } from './family.js';
import { readOptional, withoutProcfs } from './procfs.js';
import type { Collector } from './types.js';

const OS_INFO_LABELS = ['build_id', 'id', 'id_like', 'image_id', 'image_version', 'name', 'pretty_name', 'variant', 'variant_id', 'version', 'version_codename', 'version_id'];

/** Parses os-release(5): KEY=value lines, values optionally quoted. */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (!m) continue;
    let v = m[2]!;
    if (/^(".*"|'.*')$/.test(v)) v = v.slice(1, -1).replace(/\\(["'\\$`])/g, '$1');
    out[m[1]!.toLowerCase()] = v;
  }
  return out;
}

export function osFamilies(release: Record<string, string>): MetricFamily[] {
  const labels = Object.fromEntries(OS_INFO_LABELS.map((k) => [k, release[k] ?? '']));
  const out = [
    single('node_os_info', 'gauge', `A metric with a constant '1' value labeled by ${OS_INFO_LABELS.join(', ')}.`, 1, labels),
  ];
  const version = /^\d+(\.\d+)?/.exec(release['version_id'] ?? '');
  if (version) {
    out.push(single('node_os_version', 'gauge', 'Metric containing the major.minor part of the OS version.', Number(version[0]), {
      id: release['id'] ?? '',
      id_like: release['id_like'] ?? '',
      name: release['name'] ?? '',
    }));
  }
  return out;
}

/** node_os_info from /etc/os-release (falling back to /usr/lib/os-release); systeminformation's osInfo off Linux. */
export const osCollector: Collector = {
  name: 'os',
  async collect(ctx) {
    if (withoutProcfs(ctx)) {
      const o = await (await import('systeminformation')).default.osInfo();
      return osFamilies({ id: o.platform, name: o.distro, pretty_name: `${o.distro} ${o.release}`.trim(), version_id: o.release, version: o.release, version_codename: o.codename, build_id: o.build });
    }
    const text =
      (await readOptional(join(ctx.rootfsPath, 'etc', 'os-release'))) ?? (await readOptional(join(ctx.rootfsPath, 'usr', 'lib', 'os-release')));
    if (text === undefined) throw new Error(`cannot read os-release (${ctx.rootfsPath}etc/os-release): not found`);
    return osFamilies(parseOsRelease(text));
  },
};
