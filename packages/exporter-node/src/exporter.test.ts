import t from 'tap';
import type { MetricFamily } from '@vigil/common';
import { HostExporter } from './exporter.js';
import type { Collector } from './collectors/types.js';

const REQUIRED = [
  'node_cpu_seconds_total',
  'node_memory_MemTotal_bytes',
  'node_memory_MemFree_bytes',
  'node_memory_MemAvailable_bytes',
  'node_memory_Buffers_bytes',
  'node_memory_Cached_bytes',
  'node_memory_SwapTotal_bytes',
  'node_memory_SwapFree_bytes',
  'node_load1',
  'node_load5',
  'node_load15',
  'node_filesystem_size_bytes',
  'node_filesystem_free_bytes',
  'node_filesystem_avail_bytes',
  'node_filesystem_files',
  'node_filesystem_files_free',
  'node_filesystem_readonly',
  'node_filesystem_device_error',
  'node_disk_read_bytes_total',
  'node_disk_written_bytes_total',
  'node_disk_reads_completed_total',
  'node_disk_writes_completed_total',
  'node_disk_io_time_seconds_total',
  'node_network_receive_bytes_total',
  'node_network_transmit_bytes_total',
  'node_network_receive_packets_total',
  'node_network_transmit_packets_total',
  'node_network_receive_errs_total',
  'node_network_transmit_errs_total',
  'node_network_receive_drop_total',
  'node_network_transmit_drop_total',
  'node_boot_time_seconds',
  'node_time_seconds',
  'node_uname_info',
  'node_context_switches_total',
  'node_procs_running',
  'node_procs_blocked',
  'node_forks_total',
  'node_intr_total',
  'node_filefd_allocated',
  'node_filefd_maximum',
  'node_scrape_collector_success',
  'node_scrape_collector_duration_seconds',
  'vigil_exporter_build_info',
];

function byName(families: MetricFamily[]): Map<string, MetricFamily> {
  return new Map(families.map((f) => [f.name, f]));
}

t.test('live collection on this host yields the required families, each with samples and unique series', async (t) => {
  const families = await new HostExporter().collect();
  const m = byName(families);
  t.equal(m.size, families.length, 'family names unique');
  for (const name of REQUIRED) t.ok(m.get(name)?.samples.length, name);
  const uname = m.get('node_uname_info')!.samples[0]!.labels;
  t.same(Object.keys(uname).sort(), ['domainname', 'machine', 'nodename', 'release', 'sysname', 'version']);
  for (const f of families) {
    const keys = f.samples.map((s) => s.name + JSON.stringify(Object.entries(s.labels).sort()));
    t.equal(new Set(keys).size, keys.length, `${f.name}: no duplicate series`);
  }
  const success = m.get('node_scrape_collector_success')!.samples;
  t.ok(success.every((s) => s.value === 1), `every collector succeeded: ${JSON.stringify(success.filter((s) => s.value !== 1))}`);
  if (process.platform === 'linux') {
    const pressure = families.some((f) => f.name.startsWith('node_pressure_'));
    const psiPresent = await import('node:fs').then((fs) => fs.existsSync('/proc/pressure/cpu'));
    t.equal(pressure, psiPresent, 'pressure families exactly when /proc/pressure exists');
  }
});

t.test('one full collection costs under 50 ms of CPU', async (t) => {
  const exporter = new HostExporter();
  await exporter.collect(); // warm up (module loading, JIT)
  const runs = 10;
  const before = process.cpuUsage();
  for (let i = 0; i < runs; i++) await exporter.collect();
  const used = process.cpuUsage(before);
  const ms = (used.user + used.system) / 1000 / runs;
  t.comment(`cpu per collection: ${ms.toFixed(2)} ms`);
  t.ok(ms < 50, `${ms.toFixed(2)} ms < 50 ms`);
});

t.test('a failing collector is reported by node_scrape_collector_success 0; the others still run', async (t) => {
  const broken: Collector = { name: 'broken', collect: async () => { throw new Error('boom'); } };
  const errors: unknown[] = [];
  const logger = (await import('@vigil/common')).createLogger({
    level: 'error',
    destination: { write: (s: string) => { errors.push(JSON.parse(s)); return true; } } as unknown as NodeJS.WritableStream,
  });
  const exporter = new HostExporter({ logger, custom: [broken], collectors: ['loadavg', 'broken'] });
  const m = byName(await exporter.collect());
  t.ok(m.get('node_load1'), 'loadavg still collected');
  const success = m.get('node_scrape_collector_success')!.samples.map((s) => [s.labels['collector'], s.value]);
  t.same(success, [['broken', 0], ['loadavg', 1]]);
  t.same(m.get('node_scrape_collector_duration_seconds')!.samples.map((s) => s.labels['collector']), ['broken', 'loadavg']);
  t.equal(errors.length, 1, 'failure logged');
  t.match(errors[0], { collector: 'broken', msg: 'collector failed' });
});

t.test('an unknown collector name is refused', async (t) => {
  t.throws(() => new HostExporter({ collectors: ['nope'] }), /cannot enable collector \(nope\)/);
});
