import type { StatsFs } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { join } from 'node:path';
import type { MetricFamily } from '@vigil/common';
import { gauge, nonEmpty, type FamilyBuilder } from './family.js';
import { fields, readOptional, withoutProcfs } from './procfs.js';
import type { Collector, CollectorContext } from './types.js';

/**
 * node_exporter's defaults for --collector.filesystem.mount-points-exclude and fs-types-exclude, as the
 * Debian package (the node_exporter most hosts run, and the one Vigil's parity test runs) builds them.
 * Upstream excludes `^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)`.
 */
export const DEFAULT_MOUNT_POINTS_EXCLUDE = /^\/(dev|proc|run|sys|mnt|media|var\/lib\/docker\/.+|var\/lib\/containers\/storage\/.+)($|\/)/;
export const DEFAULT_FS_TYPES_EXCLUDE =
  /^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|sysfs|tracefs)$/;

/** How long a statfs may take before the mount counts as stuck (node_exporter's --collector.filesystem.mount-timeout). */
const STATFS_TIMEOUT_MS = 5000;

export interface Mount {
  device: string;
  mountpoint: string;
  fstype: string;
  options: string[];
}

export interface FilesystemOptions {
  mountPointsExclude?: RegExp;
  fsTypesExclude?: RegExp;
}

/** Decodes the octal escapes of /proc/mounts (`\040` for a space, as fstab(5)). */
function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Parses /proc/1/mounts (or /proc/mounts). */
export function parseMounts(text: string): Mount[] {
  const out: Mount[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const f = fields(line);
    if (f.length < 4) throw new Error(`cannot parse mount line (${JSON.stringify(line)}): expected at least 4 fields`);
    out.push({ device: unescapeMount(f[0]!), mountpoint: unescapeMount(f[1]!), fstype: f[2]!, options: f[3]!.split(',') });
  }
  return out;
}

interface Builders {
  size: FamilyBuilder;
  free: FamilyBuilder;
  avail: FamilyBuilder;
  files: FamilyBuilder;
  filesFree: FamilyBuilder;
  readonly: FamilyBuilder;
  deviceError: FamilyBuilder;
}

function builders(): Builders {
  return {
    avail: gauge('node_filesystem_avail_bytes', 'Filesystem space available to non-root users in bytes.'),
    deviceError: gauge('node_filesystem_device_error', 'Whether an error occurred while getting statistics for the given device.'),
    files: gauge('node_filesystem_files', 'Filesystem total file nodes.'),
    filesFree: gauge('node_filesystem_files_free', 'Filesystem total free file nodes.'),
    free: gauge('node_filesystem_free_bytes', 'Filesystem free space in bytes.'),
    readonly: gauge('node_filesystem_readonly', 'Filesystem read-only status.'),
    size: gauge('node_filesystem_size_bytes', 'Filesystem size in bytes.'),
  };
}

function familiesOf(b: Builders): MetricFamily[] {
  return nonEmpty([b.avail, b.deviceError, b.files, b.filesFree, b.free, b.readonly, b.size]);
}

function statfsWithTimeout(path: string): Promise<StatsFs> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`statfs timed out after ${STATFS_TIMEOUT_MS} ms`)), STATFS_TIMEOUT_MS);
    timer.unref();
  });
  return Promise.race([statfs(path, { bigint: false }), timeout]).finally(() => clearTimeout(timer));
}

/** Strips the rootfs prefix node_exporter strips when it runs in a container with the host at --path.rootfs. */
function stripRootfs(ctx: CollectorContext, mountpoint: string): string {
  if (ctx.rootfsPath === '/' || !mountpoint.startsWith(ctx.rootfsPath)) return mountpoint;
  return mountpoint.slice(ctx.rootfsPath.length) || '/';
}

async function fromProcfs(ctx: CollectorContext, opts: Required<FilesystemOptions>): Promise<MetricFamily[]> {
  const text = (await readOptional(join(ctx.procPath, '1', 'mounts'))) ?? (await readOptional(join(ctx.procPath, 'mounts')));
  if (text === undefined) throw new Error(`cannot read mounts (${ctx.procPath}/1/mounts, ${ctx.procPath}/mounts): not found`);
  const b = builders();
  const seen = new Set<string>();
  const selected: Mount[] = [];
  for (const m of parseMounts(text)) {
    m.mountpoint = stripRootfs(ctx, m.mountpoint);
    if (opts.mountPointsExclude.test(m.mountpoint) || opts.fsTypesExclude.test(m.fstype)) continue;
    const key = `${m.device}\0${m.mountpoint}\0${m.fstype}`;
    if (seen.has(key)) continue;
    seen.add(key);
    selected.push(m);
  }
  const stats = await Promise.allSettled(selected.map((m) => statfsWithTimeout(join(ctx.rootfsPath, m.mountpoint))));
  selected.forEach((m, i) => {
    const labels = { device: m.device, fstype: m.fstype, mountpoint: m.mountpoint };
    const r = stats[i]!;
    b.readonly.add(m.options.includes('ro') ? 1 : 0, labels);
    if (r.status === 'rejected') {
      ctx.logger.debug({ mountpoint: m.mountpoint, err: String(r.reason) }, 'cannot statfs mount point');
      b.deviceError.add(1, labels);
      return;
    }
    const s = r.value;
    b.deviceError.add(0, labels);
    b.size.add(s.blocks * s.bsize, labels);
    b.free.add(s.bfree * s.bsize, labels);
    b.avail.add(s.bavail * s.bsize, labels);
    b.files.add(s.files, labels);
    b.filesFree.add(s.ffree, labels);
  });
  return familiesOf(b);
}

/** Without procfs: systeminformation's fsSize (no inode counts there). */
async function fromSysteminformation(opts: Required<FilesystemOptions>): Promise<MetricFamily[]> {
  const b = builders();
  for (const fs of await (await import('systeminformation')).default.fsSize()) {
    if (opts.mountPointsExclude.test(fs.mount) || opts.fsTypesExclude.test(fs.type)) continue;
    const labels = { device: fs.fs, fstype: fs.type, mountpoint: fs.mount };
    b.deviceError.add(0, labels);
    b.readonly.add(fs.rw === false ? 1 : 0, labels);
    b.size.add(fs.size, labels);
    b.free.add(fs.size - fs.used, labels);
    b.avail.add(fs.available, labels);
  }
  return familiesOf(b);
}

export function filesystemCollector(options: FilesystemOptions = {}): Collector {
  const opts = {
    mountPointsExclude: options.mountPointsExclude ?? DEFAULT_MOUNT_POINTS_EXCLUDE,
    fsTypesExclude: options.fsTypesExclude ?? DEFAULT_FS_TYPES_EXCLUDE,
  };
  return {
    name: 'filesystem',
    collect: (ctx) => (withoutProcfs(ctx) ? fromSysteminformation(opts) : fromProcfs(ctx, opts)),
  };
}
