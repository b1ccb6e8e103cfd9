import { join } from 'node:path';
import type { MetricFamily } from '@vigil/common';
import { counter, gauge, nonEmpty, type FamilyBuilder } from './family.js';
import { fields, readOptional, readProc, withoutProcfs } from './procfs.js';
import type { Collector, CollectorContext } from './types.js';

/** node_exporter 1.5's default --collector.diskstats.device-exclude (partitions, ram and loop devices). */
export const DEFAULT_DISK_DEVICE_EXCLUDE = /^(ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$/;

const SECONDS_PER_TICK = 1 / 1000;
const SECTOR_BYTES = 512;

/** One entry per /proc/diskstats column after major, minor and name, with its scale. */
const COLUMNS: ReadonlyArray<{ name: string; help: string; type: 'counter' | 'gauge'; scale: number }> = [
  { name: 'node_disk_reads_completed_total', help: 'The total number of reads completed successfully.', type: 'counter', scale: 1 },
  { name: 'node_disk_reads_merged_total', help: 'The total number of reads merged.', type: 'counter', scale: 1 },
  { name: 'node_disk_read_bytes_total', help: 'The total number of bytes read successfully.', type: 'counter', scale: SECTOR_BYTES },
  { name: 'node_disk_read_time_seconds_total', help: 'The total number of seconds spent by all reads.', type: 'counter', scale: SECONDS_PER_TICK },
  { name: 'node_disk_writes_completed_total', help: 'The total number of writes completed successfully.', type: 'counter', scale: 1 },
  { name: 'node_disk_writes_merged_total', help: 'The number of writes merged.', type: 'counter', scale: 1 },
  { name: 'node_disk_written_bytes_total', help: 'The total number of bytes written successfully.', type: 'counter', scale: SECTOR_BYTES },
  { name: 'node_disk_write_time_seconds_total', help: 'This is the total number of seconds spent by all writes.', type: 'counter', scale: SECONDS_PER_TICK },
  { name: 'node_disk_io_now', help: 'The number of I/Os currently in progress.', type: 'gauge', scale: 1 },
  { name: 'node_disk_io_time_seconds_total', help: 'Total seconds spent doing I/Os.', type: 'counter', scale: SECONDS_PER_TICK },
  { name: 'node_disk_io_time_weighted_seconds_total', help: 'The weighted # of seconds spent doing I/Os.', type: 'counter', scale: SECONDS_PER_TICK },
  { name: 'node_disk_discards_completed_total', help: 'The total number of discards completed successfully.', type: 'counter', scale: 1 },
  { name: 'node_disk_discards_merged_total', help: 'The total number of discards merged.', type: 'counter', scale: 1 },
  { name: 'node_disk_discarded_sectors_total', help: 'The total number of sectors discarded successfully.', type: 'counter', scale: 1 },
  { name: 'node_disk_discard_time_seconds_total', help: 'This is the total number of seconds spent by all discards.', type: 'counter', scale: SECONDS_PER_TICK },
  { name: 'node_disk_flush_requests_total', help: 'The total number of flush requests completed successfully', type: 'counter', scale: 1 },
  { name: 'node_disk_flush_requests_time_seconds_total', help: 'This is the total number of seconds spent by all flush requests.', type: 'counter', scale: SECONDS_PER_TICK },
];

export interface DiskstatsOptions {
  deviceExclude?: RegExp;
}

/** Parses a udev database entry (`E:KEY=value` lines). */
function parseUdev(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text?.split('\n') ?? []) {
    if (!line.startsWith('E:')) continue;
    const eq = line.indexOf('=');
    if (eq > 2) out[line.slice(2, eq)] = line.slice(eq + 1);
  }
  return out;
}

/**
 * Parses /proc/diskstats. `udev` gives the udev properties of a device (major, minor), for node_disk_info.
 */
export async function parseDiskstats(
  text: string,
  exclude: RegExp,
  udev: (major: string, minor: string) => Promise<Record<string, string>> = async () => ({}),
): Promise<MetricFamily[]> {
  const builders: FamilyBuilder[] = COLUMNS.map((c) => (c.type === 'counter' ? counter(c.name, c.help) : gauge(c.name, c.help)));
  const info = gauge('node_disk_info', 'Info of /sys/block/<block_device>.');
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const f = fields(line);
    const [major, minor, device] = f;
    if (major === undefined || minor === undefined || device === undefined || exclude.test(device)) continue;
    const u = await udev(major, minor);
    info.add(1, {
      device,
      major,
      minor,
      model: u['ID_MODEL'] ?? '',
      path: u['ID_PATH'] ?? '',
      revision: u['ID_REVISION'] ?? '',
      serial: u['SCSI_IDENT_SERIAL'] || u['ID_SERIAL_SHORT'] || u['ID_SERIAL'] || '',
      wwn: u['ID_WWN'] ?? '',
    });
    for (let i = 0; i < COLUMNS.length && i + 3 < f.length; i++) {
      builders[i]!.add(Number(f[i + 3]) * COLUMNS[i]!.scale, { device });
    }
  }
  return nonEmpty([info, ...builders]);
}

/** Without procfs: systeminformation's totals over all disks (it has no per-device counters there). */
async function fromSysteminformation(): Promise<MetricFamily[]> {
  const io = await (await import('systeminformation')).default.disksIO();
  if (!io) return [];
  return [
    counter('node_disk_reads_completed_total', COLUMNS[0]!.help).add(io.rIO, { device: 'all' }).family,
    counter('node_disk_writes_completed_total', COLUMNS[4]!.help).add(io.wIO, { device: 'all' }).family,
  ];
}

export function diskstatsCollector(options: DiskstatsOptions = {}): Collector {
  const exclude = options.deviceExclude ?? DEFAULT_DISK_DEVICE_EXCLUDE;
  return {
    name: 'diskstats',
    async collect(ctx: CollectorContext) {
      if (withoutProcfs(ctx)) return fromSysteminformation();
      const udevDir = join(ctx.rootfsPath, 'run', 'udev', 'data');
      const udev = async (major: string, minor: string) => parseUdev(await readOptional(join(udevDir, `b${major}:${minor}`)));
      return parseDiskstats(await readProc(ctx, 'diskstats'), exclude, udev);
    },
  };
}
