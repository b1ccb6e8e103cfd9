import { arpCollector } from './arp.js';
import { conntrackCollector } from './conntrack.js';
import { cpuCollector } from './cpu.js';
import { diskstatsCollector } from './diskstats.js';
import { entropyCollector } from './entropy.js';
import { filefdCollector } from './filefd.js';
import { filesystemCollector } from './filesystem.js';
import { loadavgCollector } from './loadavg.js';
import { memoryCollector } from './memory.js';
import { netclassCollector } from './netclass.js';
import { netdevCollector } from './netdev.js';
import { netstatCollector } from './netstat.js';
import { osCollector } from './os.js';
import { pressureCollector } from './pressure.js';
import { sockstatCollector } from './sockstat.js';
import { softnetCollector } from './softnet.js';
import { statCollector } from './stat.js';
import { timeCollector } from './time.js';
import { unameCollector } from './uname.js';
import { vmstatCollector } from './vmstat.js';
import type { Collector } from './types.js';

/** Every collector, by the name node_exporter gives it (the `collector` label of node_scrape_collector_*). */
export const COLLECTORS: ReadonlyMap<string, Collector> = new Map(
  [
    arpCollector,
    conntrackCollector,
    cpuCollector,
    diskstatsCollector(),
    entropyCollector,
    filefdCollector,
    filesystemCollector(),
    loadavgCollector,
    memoryCollector,
    netclassCollector(),
    netdevCollector(),
    netstatCollector,
    osCollector,
    pressureCollector,
    sockstatCollector,
    softnetCollector,
    statCollector,
    timeCollector,
    unameCollector,
    vmstatCollector,
  ].map((c) => [c.name, c]),
);

export type { Collector, CollectorContext } from './types.js';
export { FamilyBuilder } from './family.js';
export { parseCpuStat } from './cpu.js';
export { parseStat } from './stat.js';
export { parseLoadavg } from './loadavg.js';
export { parseMeminfo } from './memory.js';
export { filesystemCollector, parseMounts, DEFAULT_FS_TYPES_EXCLUDE, DEFAULT_MOUNT_POINTS_EXCLUDE, type FilesystemOptions } from './filesystem.js';
export { diskstatsCollector, parseDiskstats, DEFAULT_DISK_DEVICE_EXCLUDE, type DiskstatsOptions } from './diskstats.js';
export { netdevCollector, parseNetDev, netDevFamilies, DEFAULT_NETDEV_DEVICE_EXCLUDE, type NetdevOptions } from './netdev.js';
export { netclassCollector, collectNetClass, DEFAULT_NETCLASS_DEVICE_EXCLUDE } from './netclass.js';
export { parseSockstat } from './sockstat.js';
export { parseSoftnet } from './softnet.js';
export { parseArp } from './arp.js';
export { parseConntrackStat } from './conntrack.js';
export { parsePressure } from './pressure.js';
export { parseFileNr } from './filefd.js';
export { parseVmstat } from './vmstat.js';
export { parsePairedStats, parseSnmp6, netstatFamilies } from './netstat.js';
export { parseOsRelease, osFamilies } from './os.js';
