import t from 'tap';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, eventually, freePort, getJson, startExternal, startProc, tempDir } from './lib/proc.js';

// Issue 5's parity check: the agent scrapes prometheus-node-exporter, prometheus-pushgateway and Prometheus' own
// /metrics; the hub must then hold the same series (names and label sets) that Prometheus stores when scraping the
// same targets. Needs Debian's packages (.ci/run installs them); skipped with a message otherwise.
const NEED = ['/usr/bin/prometheus', '/usr/bin/prometheus-node-exporter', '/usr/bin/prometheus-pushgateway'];
const missing = NEED.filter((p) => !existsSync(p));

t.test('the hub stores the same series as Prometheus scraping the same targets', { skip: missing.length ? `Debian peers not installed (${missing.join(', ')}); .ci/run installs them` : false }, async (t) => {
  const dir = tempDir('parity');
  t.teardown(dir.remove);
  const [nePort, pgPort, promPort] = [await freePort(), await freePort(), await freePort()];
  const ne = await startExternal('/usr/bin/prometheus-node-exporter', [`--web.listen-address=127.0.0.1:${nePort}`], `http://127.0.0.1:${nePort}/metrics`);
  t.teardown(() => ne.stop());
  const pg = await startExternal('/usr/bin/prometheus-pushgateway', [`--web.listen-address=127.0.0.1:${pgPort}`], `http://127.0.0.1:${pgPort}/-/ready`);
  t.teardown(() => pg.stop());
  const pushed = await fetch(`http://127.0.0.1:${pgPort}/metrics/job/nightly/instance/db1`, {
    method: 'PUT', body: '# TYPE job_duration_seconds gauge\njob_duration_seconds 42\n# TYPE job_rows_total counter\njob_rows_total{table="a"} 7\n',
  });
  t.ok(pushed.ok, 'pushed a group to the Pushgateway');

  const scrapeConfigs = [
    'scrape_configs:',
    '  - job_name: node',
    '    static_configs: [{ targets: ["127.0.0.1:' + nePort + '"] }]',
    '  - job_name: pushgateway',
    '    honor_labels: true',
    '    static_configs: [{ targets: ["127.0.0.1:' + pgPort + '"] }]',
    '  - job_name: prometheus',
    '    static_configs: [{ targets: ["127.0.0.1:' + promPort + '"] }]',
  ];
  writeFileSync(join(dir.path, 'prometheus.yml'), ['global:', '  scrape_interval: 2s', '  scrape_timeout: 2s', ...scrapeConfigs, ''].join('\n'));
  const prom = await startExternal('/usr/bin/prometheus', [`--config.file=${join(dir.path, 'prometheus.yml')}`, `--web.listen-address=127.0.0.1:${promPort}`,
    `--storage.tsdb.path=${join(dir.path, 'prom-data')}`], `http://127.0.0.1:${promPort}/-/ready`, 30_000);
  t.teardown(() => prom.stop());

  const hub = await startProc(BIN.hub, ['--listen', '127.0.0.1:0', '--data-dir', join(dir.path, 'hub')]);
  t.teardown(() => hub.stop());
  writeFileSync(join(dir.path, 'agent.yml'), ['global:', '  scrape_interval: 2s', '  scrape_timeout: 2s', 'host_exporter:', '  enabled: false', ...scrapeConfigs, ''].join('\n'));
  const agent = await startProc(BIN.agent, ['--config', join(dir.path, 'agent.yml'), '--hub', hub.url.replace('http', 'ws'), '--listen', '127.0.0.1:0',
    '--data-dir', join(dir.path, 'agent'), '--datacenter', 'dc1']);
  t.teardown(() => agent.stop());

  // Let both scrape every target a few times.
  const promBase = `http://127.0.0.1:${promPort}`;
  await eventually(async () => {
    const [p, v] = await Promise.all([promBase, hub.url].map((b) => getJson(`${b}/api/v1/query?query=${encodeURIComponent('count(up == 1)')}`)));
    return p.data?.result?.[0]?.value[1] === '3' && v.data?.result?.[0]?.value[1] === '3';
  }, 40_000, 500);
  // Touch the endpoints the comparison uses, so the handler series they create in Prometheus' own /metrics exist
  // before both sides scrape it again.
  await getJson(`${promBase}/api/v1/series?match[]=up`);
  await new Promise((r) => setTimeout(r, 5000));

  const seriesOf = async (base: string, job: string, drop: string[]) => {
    const now = Date.now() / 1000;
    const body = await getJson(`${base}/api/v1/series?${new URLSearchParams({ 'match[]': `{job="${job}"}`, start: String(now - 6), end: String(now) })}`);
    return new Set<string>(body.data.map((m: Record<string, string>) => {
      for (const d of drop) delete m[d];
      return JSON.stringify(Object.keys(m).sort().map((k) => [k, m[k]]));
    }));
  };
  for (const job of ['node', 'pushgateway', 'prometheus']) {
    const p = await seriesOf(promBase, job, []);
    const v = await seriesOf(hub.url, job, ['datacenter']);
    const onlyProm = [...p].filter((s) => !v.has(s));
    const onlyVigil = [...v].filter((s) => !p.has(s));
    if (job === 'prometheus') {
      // Prometheus' own metrics change while it serves these very queries (new handler label values appear), so
      // compare metric names there and allow a handful of label sets in flight.
      const names = (set: Set<string>) => new Set([...set].map((s) => (JSON.parse(s) as [string, string][]).find(([k]) => k === '__name__')![1]));
      const pn = names(p), vn = names(v);
      t.same([...pn].filter((n) => !vn.has(n)), [], 'every metric name Prometheus stores for its own /metrics, Vigil stores too');
      t.same([...vn].filter((n) => !pn.has(n)), [], 'and no other');
      t.ok(onlyProm.length + onlyVigil.length <= 10, `label sets differ by at most 10 (${onlyProm.length} + ${onlyVigil.length})`, { onlyProm: onlyProm.slice(0, 30), onlyVigil: onlyVigil.slice(0, 30) });
    } else {
      t.same(onlyProm, [], `job ${job}: every series Prometheus stores, Vigil stores`);
      t.same(onlyVigil, [], `job ${job}: Vigil stores no series Prometheus does not`);
      t.ok(p.size > (job === 'node' ? 100 : 5), `job ${job} has ${p.size} series`);
    }
  }
});
