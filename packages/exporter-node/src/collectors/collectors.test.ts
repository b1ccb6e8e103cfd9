import t from 'tap';
import { statfsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { silentLogger, type MetricFamily } from '@vigil/common';
import { COLLECTORS } from './index.js';
import type { CollectorContext } from './types.js';

const root = fileURLToPath(new URL('../../testdata/root', import.meta.url));
const ctx: CollectorContext = {
  procPath: `${root}/proc`,
  sysPath: `${root}/sys`,
  rootfsPath: root,
  logger: silentLogger,
  now: () => 1_700_000_000_123,
};

async function collect(name: string): Promise<MetricFamily[]> {
  const c = COLLECTORS.get(name);
  if (!c) throw new Error(`no collector ${name}`);
  return c.collect(ctx);
}

function family(families: MetricFamily[], name: string): MetricFamily {
  const f = families.find((x) => x.name === name);
  if (!f) throw new Error(`family ${name} missing; have ${families.map((x) => x.name).join(', ')}`);
  return f;
}

/** value of the sample whose labels equal `labels` exactly. */
function value(families: MetricFamily[], name: string, labels: Record<string, string> = {}): number | undefined {
  const key = JSON.stringify(Object.entries(labels).sort());
  return family(families, name).samples.find((s) => JSON.stringify(Object.entries(s.labels).sort()) === key)?.value;
}

t.test('cpu: seconds by cpu and mode from /proc/stat, USER_HZ 100', async (t) => {
  const f = await collect('cpu');
  const cpu = family(f, 'node_cpu_seconds_total');
  t.equal(cpu.type, 'counter');
  t.equal(cpu.help, 'Seconds the CPUs spent in each mode.');
  t.equal(cpu.samples.length, 16, '2 cpus x 8 modes');
  t.equal(value(f, 'node_cpu_seconds_total', { cpu: '0', mode: 'user' }), 66.54);
  t.equal(value(f, 'node_cpu_seconds_total', { cpu: '1', mode: 'idle' }), 417.22);
  t.equal(value(f, 'node_cpu_seconds_total', { cpu: '1', mode: 'softirq' }), 1.75);
  t.same([...new Set(cpu.samples.map((s) => s.labels['mode']))].sort(), ['idle', 'iowait', 'irq', 'nice', 'softirq', 'steal', 'system', 'user']);
  t.equal(value(f, 'node_cpu_guest_seconds_total', { cpu: '0', mode: 'nice' }), 0);
});

t.test('stat: boot time, context switches, interrupts, forks, procs', async (t) => {
  const f = await collect('stat');
  t.equal(value(f, 'node_boot_time_seconds'), 1795870398);
  t.equal(value(f, 'node_context_switches_total'), 951244);
  t.equal(value(f, 'node_intr_total'), 404429);
  t.equal(value(f, 'node_forks_total'), 7114);
  t.equal(value(f, 'node_procs_running'), 10);
  t.equal(value(f, 'node_procs_blocked'), 0);
  t.equal(family(f, 'node_forks_total').type, 'counter');
  t.equal(family(f, 'node_procs_running').type, 'gauge');
});

t.test('loadavg: load1, load5, load15', async (t) => {
  const f = await collect('loadavg');
  t.same(f.map((x) => [x.name, x.type, x.samples[0]!.value]), [
    ['node_load1', 'gauge', 1.83],
    ['node_load5', 'gauge', 0.83],
    ['node_load15', 'gauge', 0.36],
  ]);
  t.equal(f[0]!.help, '1m load average.');
});

t.test('meminfo: every field, kB scaled to bytes, parentheses and unitless fields as node_exporter', async (t) => {
  const f = await collect('meminfo');
  t.equal(value(f, 'node_memory_MemTotal_bytes'), 24683620 * 1024);
  t.equal(family(f, 'node_memory_MemTotal_bytes').help, 'Memory information field MemTotal_bytes.');
  t.equal(value(f, 'node_memory_Active_anon_bytes'), 1568 * 1024);
  t.equal(value(f, 'node_memory_HugePages_Total'), 0);
  t.equal(value(f, 'node_memory_Hugepagesize_bytes'), 2048 * 1024);
  for (const name of ['MemFree', 'MemAvailable', 'Buffers', 'Cached', 'SwapTotal', 'SwapFree']) {
    t.ok(f.some((x) => x.name === `node_memory_${name}_bytes`), name);
  }
});

t.test('filesystem: default exclusions, dedup, escapes, readonly, device_error when statfs fails', async (t) => {
  const f = await collect('filesystem');
  const size = family(f, 'node_filesystem_size_bytes');
  const mounts = size.samples.map((s) => s.labels['mountpoint']).sort();
  t.same(mounts, ['/', '/boot'], 'proc, sys, run, cgroup2 and docker overlay excluded; / once');
  const st = statfsSync(root);
  t.equal(value(f, 'node_filesystem_size_bytes', { device: '/dev/vda', fstype: 'ext4', mountpoint: '/' }), st.blocks * st.bsize);
  t.equal(value(f, 'node_filesystem_files', { device: '/dev/vda', fstype: 'ext4', mountpoint: '/' }), st.files);
  const broken = { device: '/dev/sdb1', fstype: 'xfs', mountpoint: '/srv/my data' };
  t.equal(value(f, 'node_filesystem_device_error', broken), 1, 'statfs of a missing path is a device error');
  t.equal(value(f, 'node_filesystem_readonly', broken), 1, 'ro option');
  t.equal(value(f, 'node_filesystem_size_bytes', broken), undefined, 'no size for a failed statfs');
  t.equal(value(f, 'node_filesystem_device_error', { device: '/dev/vda', fstype: 'ext4', mountpoint: '/' }), 0);
  t.equal(value(f, 'node_filesystem_readonly', { device: '/dev/sdc1', fstype: 'vfat', mountpoint: '/boot' }), 0);
  for (const n of ['avail_bytes', 'free_bytes', 'files_free']) t.ok(f.some((x) => x.name === `node_filesystem_${n}`), n);
});

t.test('diskstats: partitions, loop and ram excluded; sectors and ticks scaled; udev info', async (t) => {
  const f = await collect('diskstats');
  const devices = family(f, 'node_disk_read_bytes_total').samples.map((s) => s.labels['device']).sort();
  t.same(devices, ['nvme0n1', 'sda', 'zram0']);
  t.equal(value(f, 'node_disk_read_bytes_total', { device: 'sda' }), 2048 * 512);
  t.equal(value(f, 'node_disk_written_bytes_total', { device: 'sda' }), 4096 * 512);
  t.equal(value(f, 'node_disk_reads_completed_total', { device: 'sda' }), 1000);
  t.equal(value(f, 'node_disk_writes_completed_total', { device: 'sda' }), 2000);
  t.equal(value(f, 'node_disk_io_time_seconds_total', { device: 'sda' }), 3);
  t.equal(value(f, 'node_disk_io_now', { device: 'sda' }), 1);
  t.equal(value(f, 'node_disk_flush_requests_time_seconds_total', { device: 'sda' }), 0.011);
  t.equal(value(f, 'node_disk_discards_completed_total', { device: 'nvme0n1' }), undefined, 'old kernels: only the columns present');
  t.equal(family(f, 'node_disk_io_now').type, 'gauge');
  t.equal(
    value(f, 'node_disk_info', { device: 'sda', major: '8', minor: '0', model: 'Samsung_SSD', path: 'pci-0000:00:1f.2-ata-1', revision: 'EXM', serial: 'S123', wwn: '0x5002538' }),
    1,
  );
});

t.test('netdev: every /proc/net/dev column by device, lo excluded, rx_nohandler from sysfs', async (t) => {
  const f = await collect('netdev');
  t.equal(value(f, 'node_network_receive_bytes_total', { device: 'eth0' }), 289599561);
  t.equal(value(f, 'node_network_transmit_packets_total', { device: 'eth0' }), 7736);
  t.equal(value(f, 'node_network_receive_bytes_total', { device: 'lo' }), undefined);
  t.equal(value(f, 'node_network_receive_nohandler_total', { device: 'eth0' }), 0);
  t.equal(family(f, 'node_network_receive_bytes_total').help, 'Network device statistic receive_bytes.');
  for (const n of ['receive_packets', 'receive_errs', 'receive_drop', 'transmit_bytes', 'transmit_errs', 'transmit_drop', 'transmit_colls', 'receive_multicast']) {
    t.equal(family(f, `node_network_${n}_total`).type, 'counter', n);
  }
});

t.test('netclass: sysfs properties by device, hex flags, speed in bytes, unreadable attributes omitted', async (t) => {
  const f = await collect('netclass');
  t.equal(value(f, 'node_network_up', { device: 'eth0' }), 1);
  t.equal(value(f, 'node_network_up', { device: 'lo' }), 0, 'operstate unknown');
  t.equal(value(f, 'node_network_flags', { device: 'eth0' }), 0x1003);
  t.equal(value(f, 'node_network_mtu_bytes', { device: 'lo' }), 65536);
  t.equal(value(f, 'node_network_speed_bytes', { device: 'eth0' }), -125000, 'speed -1 kept, as node_exporter 1.5');
  t.equal(value(f, 'node_network_speed_bytes', { device: 'lo' }), undefined);
  t.equal(family(f, 'node_network_carrier_changes_total').type, 'counter');
  t.equal(
    value(f, 'node_network_info', { address: '02:fc:00:00:00:01', broadcast: 'ff:ff:ff:ff:ff:ff', device: 'eth0', duplex: 'unknown', ifalias: '', operstate: 'up' }),
    1,
  );
});

t.test('time, uname, pressure, filefd', async (t) => {
  const time = await collect('time');
  t.equal(value(time, 'node_time_seconds'), 1_700_000_000.123);
  t.equal(value(time, 'node_time_clocksource_current_info', { clocksource: 'kvm-clock', device: '0' }), 1);
  const uname = await collect('uname');
  t.same(family(uname, 'node_uname_info').samples[0]!.labels, {
    domainname: '(none)',
    machine: (await import('node:os')).machine(),
    nodename: 'vm',
    release: '6.18.44-fc-v782',
    sysname: 'Linux',
    version: '#1 SMP PREEMPT_DYNAMIC @0',
  });
  const psi = await collect('pressure');
  t.equal(value(psi, 'node_pressure_cpu_waiting_seconds_total'), 47.371633);
  t.equal(value(psi, 'node_pressure_io_stalled_seconds_total'), 2.376394);
  t.equal(value(psi, 'node_pressure_memory_waiting_seconds_total'), 0);
  const fd = await collect('filefd');
  t.equal(value(fd, 'node_filefd_allocated'), 633);
  t.equal(value(fd, 'node_filefd_maximum'), 2466160);
});

t.test('vmstat and netstat: default field selections, untyped', async (t) => {
  const vm = await collect('vmstat');
  t.equal(value(vm, 'node_vmstat_pgfault'), 3600369);
  t.equal(family(vm, 'node_vmstat_pgfault').type, 'unknown');
  t.notOk(vm.some((x) => x.name === 'node_vmstat_nr_free_pages'), 'unselected field');
  const ns = await collect('netstat');
  t.equal(value(ns, 'node_netstat_Ip_Forwarding'), 2);
  t.equal(family(ns, 'node_netstat_Ip_Forwarding').help, 'Statistic IpForwarding.');
  t.equal(value(ns, 'node_netstat_Ip6_InOctets'), 128);
  t.equal(value(ns, 'node_netstat_TcpExt_SyncookiesSent'), 0);
  t.notOk(ns.some((x) => x.name === 'node_netstat_Ip_DefaultTTL'), 'unselected field');
});

t.test('sockstat, softnet, arp, conntrack, entropy', async (t) => {
  const ss = await collect('sockstat');
  t.equal(value(ss, 'node_sockstat_sockets_used'), 20);
  t.equal(value(ss, 'node_sockstat_TCP_inuse'), 3);
  t.equal(value(ss, 'node_sockstat_TCP_mem'), 7);
  t.equal(value(ss, 'node_sockstat_TCP_mem_bytes'), 7 * 4096);
  t.equal(family(ss, 'node_sockstat_TCP_alloc').help, 'Number of TCP sockets in state alloc.');
  t.equal(value(ss, 'node_sockstat_FRAG_memory'), 0);
  t.ok(ss.some((f) => f.name === 'node_sockstat_TCP6_inuse'), 'sockstat6');
  const sn = await collect('softnet');
  t.equal(value(sn, 'node_softnet_processed_total', { cpu: '1' }), 0x4c0f);
  t.equal(value(sn, 'node_softnet_times_squeezed_total', { cpu: '1' }), 1);
  const arp = await collect('arp');
  t.same(family(arp, 'node_arp_entries').samples.map((s) => [s.labels, s.value]), [[{ device: 'eth0' }, 1]]);
  const ct = await collect('conntrack');
  t.equal(value(ct, 'node_nf_conntrack_entries_limit'), 262144);
  t.equal(value(ct, 'node_nf_conntrack_stat_found'), 3 + 15, 'summed over CPUs, hex');
  t.equal(value(ct, 'node_nf_conntrack_stat_search_restart'), 4);
  t.equal(value(ct, 'node_nf_conntrack_stat_insert'), 4);
  const en = await collect('entropy');
  t.equal(value(en, 'node_entropy_pool_size_bits'), 256);
});

t.test('os: os-release labels', async (t) => {
  const f = await collect('os');
  const info = family(f, 'node_os_info').samples[0]!.labels;
  t.equal(Object.keys(info).length, 12);
  t.ok(info['id'], 'id set');
});

t.test('a missing procfs file fails the collector with the path in the error', async (t) => {
  const c = COLLECTORS.get('loadavg')!;
  await t.rejects(c.collect({ ...ctx, procPath: `${root}/nowhere` }), /nowhere\/loadavg/);
});
