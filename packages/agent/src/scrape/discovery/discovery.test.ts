import t from 'tap';
import dgram from 'node:dgram';
import http from 'node:http';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import dnsPacket from 'dns-packet';
import { parseAgentConfig, type Sample } from '@vigil/common';
import { ScrapeManager } from '../manager.js';
import { DnsDiscoverer } from './dns.js';
import { FileDiscoverer } from './file.js';
import { HttpDiscoverer } from './http.js';
import { groupTargets, type TargetGroup } from './types.js';

async function waitFor(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function addresses(groups: TargetGroup[]): string[] {
  return groups.flatMap(groupTargets).map((l) => l.__address__!).sort();
}

function tempDir(t: { teardown(fn: () => unknown): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-sd-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('file SD: JSON and YAML, edits while running, atomic rename, bad file keeps the last good list', async (t) => {
  const dir = tempDir(t);
  const json = join(dir, 'a.json');
  const yml = join(dir, 'b.yml');
  writeFileSync(json, JSON.stringify([{ targets: ['h1:9100'], labels: { env: 'prod' } }]));
  writeFileSync(yml, '- targets: [h2:9100]\n');
  let latest: TargetGroup[] = [];
  const d = new FileDiscoverer({ files: [join(dir, '*.json'), yml], refresh_interval: 60_000 });
  d.start((g) => { latest = g; });
  t.teardown(() => d.stop());
  t.same(addresses(latest), ['h1:9100', 'h2:9100']);
  const h1 = groupTargets(latest.find((g) => g.source.startsWith(json))!)[0]!;
  t.same(h1, { env: 'prod', __meta_filepath: json, __address__: 'h1:9100' });

  // An edit in place.
  writeFileSync(json, JSON.stringify([{ targets: ['h1:9100', 'h3:9100'] }]));
  await waitFor('edit seen', () => addresses(latest).includes('h3:9100'));
  // An atomic rename over the file.
  const tmp = join(dir, '.b.yml.tmp');
  writeFileSync(tmp, '- targets: [h4:9100]\n');
  renameSync(tmp, yml);
  await waitFor('rename seen', () => addresses(latest).includes('h4:9100'));
  t.same(addresses(latest), ['h1:9100', 'h3:9100', 'h4:9100']);
  // A broken file keeps its last good targets.
  writeFileSync(json, '[{"targets": ["h9:1"');
  await new Promise((r) => setTimeout(r, 300));
  t.same(addresses(latest), ['h1:9100', 'h3:9100', 'h4:9100']);
  // A new file matching the glob is picked up; a removed one drops its targets.
  writeFileSync(join(dir, 'c.json'), JSON.stringify([{ targets: ['h5:1'] }]));
  await waitFor('new file', () => addresses(latest).includes('h5:1'));
  rmSync(join(dir, 'c.json'));
  await waitFor('removed file', () => !addresses(latest).includes('h5:1'));
});

t.test('file SD: the refresh interval is a fallback when watching misses a change', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 't.json');
  writeFileSync(file, JSON.stringify([{ targets: ['a:1'] }]));
  let latest: TargetGroup[] = [];
  const d = new FileDiscoverer({ files: [file], refresh_interval: 100 });
  d.start((g) => { latest = g; });
  t.teardown(() => d.stop());
  // Write in a way the watcher also sees; the interval alone must be enough anyway.
  writeFileSync(file, JSON.stringify([{ targets: ['b:1'] }]));
  await waitFor('refresh', () => addresses(latest).includes('b:1'));
  t.pass('refreshed');
});

t.test('file SD through the manager: targets come and go while running', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'targets.json');
  writeFileSync(file, JSON.stringify([{ targets: ['127.0.0.1:1'], labels: { team: 'a' } }]));
  const samples: Sample[] = [];
  const m = new ScrapeManager({ sink: { write: (s) => samples.push(...s) } });
  t.teardown(() => m.stop());
  await m.applyConfig(parseAgentConfig(`scrape_configs:
  - job_name: files
    scrape_interval: 1s
    file_sd_configs:
      - files: ['${file}']
`));
  await waitFor('target', () => m.targets().activeTargets.length === 1);
  const tgt = m.targets().activeTargets[0]!;
  t.equal(tgt.discoveredLabels.__meta_filepath, file);
  t.same(tgt.labels, { instance: '127.0.0.1:1', job: 'files', team: 'a' });
  writeFileSync(file, JSON.stringify([{ targets: ['127.0.0.1:1', '127.0.0.1:2'] }]));
  await waitFor('two targets', () => m.targets().activeTargets.length === 2);
  t.equal(m.targets().activeTargets.length, 2);
});

t.test('HTTP SD: polls, adds __meta_url, keeps the last good list on errors', async (t) => {
  const state = { mode: 'ok' as 'ok' | 'fail' | 'badjson' | 'type', targets: ['x:1'] };
  const server = http.createServer((req, res) => {
    if (state.mode === 'fail') { res.writeHead(500); res.end(); return; }
    if (state.mode === 'type') { res.writeHead(200, { 'content-type': 'text/plain' }); res.end('[]'); return; }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(state.mode === 'badjson' ? '[{' : JSON.stringify([{ targets: state.targets, labels: { __meta_custom: 'c', zone: 'z1' } }]));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/sd`;
  let latest: TargetGroup[] = [];
  let updates = 0;
  const d = new HttpDiscoverer({ url, refresh_interval: 100 });
  d.start((g) => { latest = g; updates++; });
  t.teardown(() => d.stop());
  await waitFor('first list', () => updates > 0);
  t.same(groupTargets(latest[0]!)[0], { __meta_custom: 'c', zone: 'z1', __meta_url: url, __address__: 'x:1' });
  for (const mode of ['fail', 'badjson', 'type'] as const) {
    state.mode = mode;
    await waitFor(`error (${mode})`, () => d.lastError !== '');
    t.same(addresses(latest), ['x:1'], `${mode}: last good list kept`);
    state.mode = 'ok';
    await waitFor('recovered', () => d.lastError === '');
  }
  state.targets = ['x:1', 'y:2'];
  await waitFor('new list', () => addresses(latest).length === 2);
  t.match(d.lastError, '');
});

/** A tiny DNS server on 127.0.0.1 answering from a table; unknown names get NXDOMAIN. */
async function dnsServer(t: { teardown(fn: () => unknown): void }, records: Record<string, dnsPacket.Answer[]>) {
  const sock = dgram.createSocket('udp4');
  sock.on('message', (msg, rinfo) => {
    const q = dnsPacket.decode(msg);
    const question = q.questions![0]!;
    const answers = (records[`${question.type} ${question.name}`] ?? []);
    const known = Object.keys(records).some((k) => k.endsWith(' ' + question.name));
    const reply = dnsPacket.encode({
      type: 'response', id: q.id, flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | (known ? 0 : 3),
      questions: q.questions, answers,
    });
    sock.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  t.teardown(() => sock.close());
  return `127.0.0.1:${(sock.address() as AddressInfo).port}`;
}

t.test('DNS SD: SRV, A and AAAA against a local DNS server', async (t) => {
  const records: Record<string, dnsPacket.Answer[]> = {
    'SRV _metrics._tcp.example.test': [
      { type: 'SRV', name: '_metrics._tcp.example.test', ttl: 30, data: { priority: 1, weight: 1, port: 9100, target: 'node1.example.test' } },
      { type: 'SRV', name: '_metrics._tcp.example.test', ttl: 30, data: { priority: 1, weight: 1, port: 9200, target: 'node2.example.test' } },
    ],
    'A web.example.test': [{ type: 'A', name: 'web.example.test', ttl: 30, data: '10.0.0.5' }],
    'AAAA web6.example.test': [{ type: 'AAAA', name: 'web6.example.test', ttl: 30, data: 'fd00::5' }],
  };
  const server = await dnsServer(t, records);

  const run = async (cfg: ConstructorParameters<typeof DnsDiscoverer>[0]) => {
    let latest: TargetGroup[] | undefined;
    const d = new DnsDiscoverer(cfg, { servers: [server] });
    d.start((g) => { latest = g; });
    await waitFor(`resolved ${cfg.names.join(',')}`, () => latest !== undefined);
    return { d, groups: () => latest! };
  };

  const srv = await run({ names: ['_metrics._tcp.example.test'], type: 'SRV', refresh_interval: 100 });
  t.teardown(() => srv.d.stop());
  const srvTargets = groupTargets(srv.groups()[0]!).sort((a, b) => a.__address__!.localeCompare(b.__address__!));
  t.same(srvTargets[0], {
    __address__: 'node1.example.test:9100', __meta_dns_name: '_metrics._tcp.example.test',
    __meta_dns_srv_record_target: 'node1.example.test.', __meta_dns_srv_record_port: '9100',
  });
  t.equal(srvTargets[1]!.__address__, 'node2.example.test:9200');

  const a = await run({ names: ['web.example.test'], type: 'A', port: 8080, refresh_interval: 100 });
  t.teardown(() => a.d.stop());
  t.same(addresses(a.groups()), ['10.0.0.5:8080']);
  t.equal(groupTargets(a.groups()[0]!)[0]!.__meta_dns_name, 'web.example.test');

  const aaaa = await run({ names: ['web6.example.test'], type: 'AAAA', port: 9100, refresh_interval: 100 });
  t.teardown(() => aaaa.d.stop());
  t.same(addresses(aaaa.groups()), ['[fd00::5]:9100']);

  // Records change while running.
  records['A web.example.test']!.push({ type: 'A', name: 'web.example.test', ttl: 30, data: '10.0.0.6' });
  await waitFor('new record', () => addresses(a.groups()).length === 2);
  t.same(addresses(a.groups()), ['10.0.0.5:8080', '10.0.0.6:8080']);

  // A name that does not exist gives no targets.
  const none = await run({ names: ['missing.example.test'], type: 'A', port: 1, refresh_interval: 1000 });
  t.teardown(() => none.d.stop());
  t.same(addresses(none.groups()), []);
});

t.test('DNS SD through the manager with an injected server', async (t) => {
  const server = await dnsServer(t, { 'A app.example.test': [{ type: 'A', name: 'app.example.test', ttl: 30, data: '127.0.0.1' }] });
  const m = new ScrapeManager({ sink: { write: () => {} }, dnsServers: [server] });
  t.teardown(() => m.stop());
  await m.applyConfig(parseAgentConfig(`scrape_configs:
  - job_name: dns
    scrape_interval: 1s
    dns_sd_configs:
      - names: [app.example.test]
        type: A
        port: 1
`));
  await waitFor('target', () => m.targets().activeTargets.length === 1);
  const tgt = m.targets().activeTargets[0]!;
  t.equal(tgt.labels.instance, '127.0.0.1:1');
  t.equal(tgt.discoveredLabels.__meta_dns_name, 'app.example.test');
});
