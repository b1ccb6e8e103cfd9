// wss://: vigil-hub with `tls: {cert_file, key_file}` signed by a test CA; vigil-agent trusts that CA
// through `hub.tls.ca_file` and streams; an agent without the CA is refused by its own TLS check.
import t from 'tap';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { BIN, eventually, startProc, tempDir } from './lib/proc.js';
import { DeterministicTarget, agentConfig, compareStored, hubConfig } from './lib/link-fixtures.js';

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A CA and a server certificate for 127.0.0.1 / localhost signed by it. */
function makeCerts(dir: string): { ca: string; cert: string; key: string } {
  const f = (n: string) => path.join(dir, n);
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '2', '-subj', '/CN=vigil test CA');
  run('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('hub.key'), '-out', f('hub.csr'), '-subj', '/CN=127.0.0.1');
  fs.writeFileSync(f('ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n');
  run('x509', '-req', '-in', f('hub.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('hub.pem'), '-days', '2', '-extfile', f('ext.cnf'));
  return { ca: f('ca.pem'), cert: f('hub.pem'), key: f('hub.key') };
}

function getJsonTls(url: string, ca: Buffer): Promise<any> {
  return new Promise((resolve, reject) => {
    https.get(url, { ca }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => { try { resolve(JSON.parse(body)); } catch (err) { reject(err); } });
    }).on('error', reject);
  });
}

t.test('agent streams over wss:// to a hub with a certificate from a configured CA', { skip: hasOpenssl() ? false : 'openssl CLI not found' }, async (t) => {
  const SERIES = 5;
  const dir = tempDir('link-tls');
  t.teardown(dir.remove);
  const certs = makeCerts(dir.path);
  const ca = fs.readFileSync(certs.ca);
  const target = await DeterministicTarget.start(SERIES);
  t.teardown(() => target.close());
  const hub = await startProc(BIN.hub, ['--config', hubConfig(dir.path, [{ token: 'tls-token' }], `tls:\n  cert_file: ${certs.cert}\n  key_file: ${certs.key}\n`),
    '--listen', '127.0.0.1:0', '--data-dir', path.join(dir.path, 'hub')]);
  t.teardown(() => hub.stop());
  t.match(hub.url, /^https:/);
  const wss = hub.url.replace('https', 'wss');

  // without the CA: the agent refuses the hub's certificate, nothing arrives
  const untrusted = await startProc(BIN.agent, ['--config', agentConfig(path.join(dir.path), target.address), '--hub', wss, '--token', 'tls-token',
    '--listen', '127.0.0.1:0', '--data-dir', path.join(dir.path, 'agent-untrusted'), '--datacenter', 'dc-untrusted', '--log-level', 'debug']);
  await new Promise((r) => setTimeout(r, 2500));
  await untrusted.stop();
  t.match(untrusted.output(), /self[- ]signed certificate|unable to verify the first certificate|unable to get local issuer/i, 'the TLS check failed');
  const none = await getJsonTls(`${hub.url}/api/v1/agents`, ca);
  t.same(none.data, [], 'no agent got through');

  const firstScrape = target.served.length;
  const agentDir = path.join(dir.path, 'trusted');
  fs.mkdirSync(agentDir);
  const cfg = agentConfig(agentDir, target.address, `hub:\n  url: ${wss}\n  token: tls-token\n  tls:\n    ca_file: ${certs.ca}\n`);
  const agent = await startProc(BIN.agent, ['--config', cfg, '--listen', '127.0.0.1:0', '--data-dir', path.join(dir.path, 'agent'), '--datacenter', 'dc-tls']);
  t.teardown(() => agent.stop());
  const from = Date.now();
  const q = (to: number) => `${hub.url}/api/v1/query?query=${encodeURIComponent(`link_value[${Math.ceil((to - from) / 1000) + 5}s]`)}&time=${to / 1000}`;
  await eventually(async () => {
    const r = await getJsonTls(q(Date.now()), ca);
    return r.data.result.length === SERIES && r.data.result[0].values.length >= 3;
  }, 20_000);
  const to = Date.now();
  await new Promise((r) => setTimeout(r, 1500)); // let the last scrape before `to` land
  const body = await getJsonTls(q(to), ca);
  const result = body.data.result.map((r: { metric: Record<string, string>; values: [number, string][] }) => ({
    metric: r.metric, values: r.values.map(([ts, v]) => [Math.round(ts * 1000), Number(v)] as [number, number]),
  }));
  const times = target.served.slice(firstScrape).filter((x) => x <= to);
  const cmp = compareStored(result, times, SERIES);
  t.same(cmp.problems, [], 'samples arrived over wss exactly once');
  t.equal(result[0].metric.datacenter, 'dc-tls');
  const agents = await getJsonTls(`${hub.url}/api/v1/agents`, ca);
  t.equal(agents.data.length, 1);
  t.equal(agents.data[0].connected, true);
});
