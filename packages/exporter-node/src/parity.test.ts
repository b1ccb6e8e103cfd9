// Parity with node_exporter: runs the Debian package's prometheus-node-exporter next to HostExporter,
// scrapes both at the same moment and compares every family both emit.
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { parseExposition, type MetricFamily } from '@vigil/common';
import { HostExporter } from './exporter.js';

const BINARY = '/usr/bin/prometheus-node-exporter';

interface ParsedFamily {
  type: string;
  help: string;
  samples: { labels: Record<string, string>; value: number }[];
}

/** node_exporter's exposition grouped by family, with common's parser. */
function parseText(text: string): Map<string, ParsedFamily> {
  const parsed = parseExposition(text, { format: 'text' });
  const out = new Map<string, ParsedFamily>();
  for (const m of parsed.metadata) out.set(m.metric, { type: m.type, help: m.help, samples: [] });
  for (const s of parsed.samples) {
    const { __name__: name, ...labels } = s.labels;
    let f = out.get(name!);
    if (!f) out.set(name!, (f = { type: 'unknown', help: '', samples: [] }));
    f.samples.push({ labels, value: s.value });
  }
  return out;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const seriesKey = (labels: Record<string, string>) => JSON.stringify(Object.entries(labels).sort());
const sum = (xs: { value: number }[]) => xs.reduce((a, s) => a + s.value, 0);

const skip = existsSync(BINARY) ? false : `${BINARY} not installed (Debian package prometheus-node-exporter): parity not checked`;

t.test('HostExporter matches node_exporter on every family both emit', { skip, timeout: 45_000 }, async (t) => {
  const port = await freePort();
  const child = spawn(BINARY, [`--web.listen-address=127.0.0.1:${port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  t.teardown(() => {
    child.kill('SIGTERM');
  });
  const url = `http://127.0.0.1:${port}/metrics`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      if ((await fetch(url)).ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`node_exporter did not start on port ${port}: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }

  const exporter = new HostExporter();
  await exporter.collect(); // warm up, so both scrapes below start together
  const [neText, mine] = await Promise.all([fetch(url).then((r) => r.text()), exporter.collect()]);
  const ne = parseText(neText);
  const byName = new Map<string, MetricFamily>(mine.map((f) => [f.name, f]));

  const compared: string[] = [];
  const onlyMine: string[] = [];
  for (const f of mine) {
    if (f.name.startsWith('node_scrape_collector_') || f.name.startsWith('vigil_')) continue;
    const theirs = ne.get(f.name);
    if (!theirs) {
      onlyMine.push(f.name);
      continue;
    }
    compared.push(f.name);
    t.equal(f.type, theirs.type, `${f.name}: type`);
    t.equal(f.help, theirs.help, `${f.name}: HELP`);
    const names = (s: { labels: Record<string, string> }[]) => [...new Set(s.flatMap((x) => Object.keys(x.labels)))].sort();
    t.same(names(f.samples), names(theirs.samples), `${f.name}: label names`);
    const series = (s: { labels: Record<string, string> }[]) => s.map((x) => seriesKey(x.labels)).sort();
    t.same(series(f.samples), series(theirs.samples), `${f.name}: label values`);
  }
  t.comment(`compared ${compared.length} families; only in Vigil: ${onlyMine.join(', ') || 'none'}`);
  t.ok(compared.length >= 50, `at least 50 families compared (${compared.length})`);
  for (const required of ['node_cpu_seconds_total', 'node_memory_MemTotal_bytes', 'node_filesystem_size_bytes', 'node_disk_read_bytes_total', 'node_network_receive_bytes_total', 'node_load1', 'node_boot_time_seconds', 'node_time_seconds', 'node_uname_info']) {
    t.ok(compared.includes(required), `${required} compared`);
  }

  // Values.
  const mineSamples = (name: string) => byName.get(name)?.samples ?? [];
  const theirSamples = (name: string) => ne.get(name)?.samples ?? [];
  const pairs = (name: string) => {
    const theirs = new Map(theirSamples(name).map((s) => [seriesKey(s.labels), s.value]));
    return mineSamples(name).map((s) => ({ key: seriesKey(s.labels), mine: s.value, theirs: theirs.get(seriesKey(s.labels)) }));
  };
  const within = (name: string, tolerance: (theirs: number, key: string) => number) => {
    for (const p of pairs(name)) {
      if (p.theirs === undefined) continue;
      const tol = tolerance(p.theirs, p.key);
      t.ok(Math.abs(p.mine - p.theirs) <= tol, `${name}${p.key}: ${p.mine} vs node_exporter ${p.theirs} (±${tol})`);
    }
  };
  const one = (name: string) => theirSamples(name)[0]?.value ?? NaN;

  within('node_memory_MemTotal_bytes', () => 0);
  within('node_filesystem_size_bytes', () => 0);
  within('node_boot_time_seconds', () => 2);
  within('node_time_seconds', () => 5);
  for (const l of ['node_load1', 'node_load5', 'node_load15']) within(l, () => 0.5);
  const cpuMine = sum(mineSamples('node_cpu_seconds_total'));
  const cpuTheirs = sum(theirSamples('node_cpu_seconds_total'));
  t.ok(Math.abs(cpuMine - cpuTheirs) <= 0.03 * cpuTheirs, `CPU seconds summed: ${cpuMine} vs ${cpuTheirs} (±3%)`);
  const memTotal = one('node_memory_MemTotal_bytes');
  within('node_memory_MemFree_bytes', () => 0.03 * memTotal);
  within('node_memory_MemAvailable_bytes', () => 0.03 * memTotal);
  const sizes = new Map(theirSamples('node_filesystem_size_bytes').map((s) => [seriesKey(s.labels), s.value]));
  within('node_filesystem_avail_bytes', (_, key) => 0.01 * (sizes.get(key) ?? 0));
  const bytes = (v: number) => 0.02 * v + 16 * 1024 * 1024;
  for (const n of ['node_disk_read_bytes_total', 'node_disk_written_bytes_total', 'node_network_receive_bytes_total', 'node_network_transmit_bytes_total']) {
    within(n, bytes);
  }
});
