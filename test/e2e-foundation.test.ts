import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, eventually, getJson, startProc, tempDir } from './lib/proc.js';

// The first end-to-end path: host exporter → agent → WebSocket → hub → LevelDB → HTTP query API,
// each a real process on an ephemeral port.
t.test('a host metric travels from the exporter through agent and hub to the query API', async (t) => {
  const dir = tempDir('e2e');
  t.teardown(dir.remove);
  const hub = await startProc(BIN.hub, ['--listen', '127.0.0.1:0', '--data-dir', join(dir.path, 'hub')]);
  t.teardown(() => hub.stop());
  const exporter = await startProc(BIN.exporter, ['--listen', '127.0.0.1:0']);
  t.teardown(() => exporter.stop());
  const exporterAddr = new URL(exporter.url).host;
  const config = join(dir.path, 'agent.yml');
  writeFileSync(config, [
    'global:',
    '  scrape_interval: 2s',
    '  scrape_timeout: 2s',
    '  # a loaded CI machine may need longer for a scrape',
    'host_exporter:',
    '  enabled: true',
    '  interval: 1s',
    'scrape_configs:',
    '  - job_name: exporter',
    '    static_configs:',
    `      - targets: ['${exporterAddr}']`,
    '',
  ].join('\n'));
  const agent = await startProc(BIN.agent, ['--config', config, '--hub', hub.url.replace('http', 'ws'), '--listen', '127.0.0.1:0',
    '--data-dir', join(dir.path, 'agent'), '--datacenter', 'dc-e2e']);
  t.teardown(() => agent.stop());

  // In-process host exporter series: job="node".
  const load = await eventually(async () => {
    // The acceptance query: plain node_load1; wait until the agent's own host series (job="node") is among the results.
    const body = await getJson(`${hub.url}/api/v1/query?query=node_load1`);
    return body.status === 'success' && body.data.result.some((r: { metric: Record<string, string> }) => r.metric.job === 'node') ? body : undefined;
  }, 30_000);
  t.equal(load.data.resultType, 'vector');
  // The standalone exporter exposes node_load1 too (job="exporter"); the agent's own host series carry job="node".
  const s = load.data.result.find((r: { metric: Record<string, string> }) => r.metric.job === 'node') ?? load.data.result[0];
  t.equal(s.metric.job, 'node');
  t.equal(s.metric.datacenter, 'dc-e2e');
  t.ok(s.metric.instance, 'instance label set');
  t.ok(Number.isFinite(Number(s.value[1])), 'value is a number');

  // The standalone exporter scraped as a Prometheus target, with the synthetic up series.
  const up = await eventually(async () => {
    // The first scrapes may time out on a loaded machine; wait for a successful one.
    const body = await getJson(`${hub.url}/api/v1/query?query=${encodeURIComponent('up{job="exporter"} == 1')}`);
    return body.data?.result?.length ? body : undefined;
  }, 30_000);
  t.equal(up.data.result[0].value[1], '1');
  t.equal(up.data.result[0].metric.instance, exporterAddr);
  const cpu = await getJson(`${hub.url}/api/v1/query?query=${encodeURIComponent('count(node_cpu_seconds_total{job="exporter"})')}`);
  t.ok(Number(cpu.data.result[0]?.value[1]) > 0, 'the exporter exposes CPU seconds');

  // Metadata endpoints see the same series.
  const labels = await getJson(`${hub.url}/api/v1/labels`);
  t.ok(labels.data.includes('datacenter'));
  const jobs = await getJson(`${hub.url}/api/v1/label/job/values`);
  t.ok(jobs.data.includes('node') && jobs.data.includes('exporter'), 'both jobs listed');
  const series = await getJson(`${hub.url}/api/v1/series?${new URLSearchParams({ 'match[]': 'node_load1' })}`);
  t.ok(series.data.length >= 1);

  // The hub lists every agent's targets, with the agent and its datacenter.
  const target = await eventually(async () => {
    const body = await getJson(`${hub.url}/api/v1/targets`);
    return body.data.activeTargets.find((x: { labels: Record<string, string>; health: string }) => x.labels.job === 'exporter' && x.health === 'up');
  }, 20_000);
  t.equal(target.datacenter, 'dc-e2e');
  t.ok(target.agent, 'target names its agent');
  t.equal(target.health, 'up');
  t.ok(target.lastScrape, 'last scrape time shown');
  t.equal(target.lastError, '');

  t.equal(await agent.stop(), 0, 'agent stops cleanly on SIGTERM');
  t.equal(await hub.stop(), 0, 'hub stops cleanly on SIGTERM');
});

t.test('the binaries answer --help and --version', async (t) => {
  const { execFileSync } = await import('node:child_process');
  for (const bin of [BIN.hub, BIN.agent, BIN.exporter]) {
    t.match(execFileSync(process.execPath, [bin, '--version'], { encoding: 'utf8' }), /^vigil-[a-z-]+ \d+\.\d+\.\d+/);
    t.match(execFileSync(process.execPath, [bin, '--help'], { encoding: 'utf8' }), /--listen/);
  }
});

t.test('check-config and check-rules name the file and line of an error', async (t) => {
  const { spawnSync } = await import('node:child_process');
  const dir = tempDir('check');
  t.teardown(dir.remove);
  const run = (bin: string, ...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
  const good = join(dir.path, 'hub.yml');
  writeFileSync(good, 'listen: 127.0.0.1:9999\nretention: 30d\n');
  t.equal(run(BIN.hub, 'check-config', good).status, 0);
  const bad = join(dir.path, 'bad.yml');
  writeFileSync(bad, 'listen: 127.0.0.1:9999\nretention: forever\n');
  const r = run(BIN.hub, 'check-config', bad);
  t.equal(r.status, 1);
  t.match(r.stdout, `${bad}:2:`);
  const agentBad = join(dir.path, 'agent.yml');
  writeFileSync(agentBad, 'scrape_configs:\n  - job_name: a\n    static_configs:\n      - targets: [x:1]\n    bogus_field: 1\n');
  const a = run(BIN.agent, 'check-config', agentBad);
  t.equal(a.status, 1);
  t.match(a.stdout, `${agentBad}:5:`);
  const rules = join(dir.path, 'rules.yml');
  writeFileSync(rules, 'groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up ==\n');
  const rr = run(BIN.hub, 'check-rules', rules);
  t.equal(rr.status, 1);
  t.match(rr.stdout, `${rules}:5:`);
  // A bad config refuses to start and names the line.
  const start = run(BIN.hub, '--config', bad, '--listen', '127.0.0.1:0');
  t.equal(start.status, 1);
  t.match(start.stderr, `${bad}:2:`);
});

t.test('check-config refuses what start refuses: undefined receiver, missing rule file, missing TLS files (security issue, item 12)', async (t) => {
  const { spawnSync } = await import('node:child_process');
  const dir = tempDir('check2');
  t.teardown(dir.remove);
  const run = (...args: string[]) => spawnSync(process.execPath, [BIN.hub, ...args], { encoding: 'utf8', timeout: 20_000 });
  const cases: [string, string, RegExp][] = [
    ['receiver.yml', 'alerting:\n  route:\n    receiver: nobody\n  receivers:\n    - name: ops\n', /nobody/],
    ['rules.yml', 'rule_files: [missing-rules.yml]\n', /missing-rules\.yml/],
    ['tls.yml', 'tls:\n  cert_file: no-cert.pem\n  key_file: no-key.pem\n', /no-cert\.pem/],
  ];
  for (const [name, text, why] of cases) {
    const f = join(dir.path, name);
    writeFileSync(f, text);
    const check = run('check-config', f);
    t.equal(check.status, 1, `check-config refuses ${name}`);
    t.match(check.stdout + check.stderr, why);
    const start = run('--config', f, '--listen', '127.0.0.1:0', '--data-dir', join(dir.path, 'data'));
    t.equal(start.status, 1, `start refuses ${name} too`);
  }
});
