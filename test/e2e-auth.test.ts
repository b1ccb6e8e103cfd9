// Auth off loopback (issue 14, items 6, 11, 12): hub and agent listen on 0.0.0.0 with credentials; every request of
// this test goes to 127.0.0.1 (never another address), which must not make it trusted. Each write, admin and read
// endpoint answers 401 without credentials, 403 with a token lacking the scope, and works with the right one;
// status/config shows no configured secret; starting off loopback without credentials is refused, by check-config
// too, unless insecure_open.
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { BIN, startProc, tempDir, type Proc } from './lib/proc.js';

const READ = 'read-token-aaaaaaaaaaaaaaaa';
const WRITE = 'write-token-bbbbbbbbbbbbbbbb';
const ADMIN = 'admin-token-cccccccccccccccc';
const AGENT = 'agent-token-dddddddddddddddd';
const PASSWORD = 'admin-password-eeee';
const SECRETS = [READ, WRITE, ADMIN, AGENT, PASSWORD, 'SECRETHOOKffff', 'MAILSECRETgggg', 'RWSECREThhhh', 'BEARERiiii'];

/** The loopback URL of a program listening on 0.0.0.0. */
const loopback = (p: Proc) => {
  const u = new URL(p.url);
  if (u.hostname !== '0.0.0.0') throw new Error(`expected a program listening on 0.0.0.0, got ${p.url}`);
  return `http://127.0.0.1:${u.port}`;
};

interface Call { method: string; path: string; body?: string; type?: string; ok?: number[] }

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
const basic = (user: string, pw: string) => ({ Authorization: `Basic ${Buffer.from(`${user}:${pw}`).toString('base64')}` });

async function call(base: string, c: Call, headers: Record<string, string> = {}): Promise<Response> {
  const res = await fetch(base + c.path, {
    method: c.method, body: c.body, headers: { ...(c.type ? { 'Content-Type': c.type } : {}), ...headers },
  });
  await res.arrayBuffer();
  return res;
}

/** Every call answers 401 (with a challenge) without credentials and with a wrong token. */
async function needsCredentials(t: Test, base: string, calls: Call[]): Promise<void> {
  for (const c of calls) {
    const res = await call(base, c);
    t.equal(res.status, 401, `${c.method} ${c.path} without credentials`);
    t.ok(res.headers.get('www-authenticate'), `${c.method} ${c.path} challenges`);
  }
}

async function answers(t: Test, base: string, calls: Call[], headers: Record<string, string>, what: string, expect: (c: Call, s: number) => boolean): Promise<void> {
  for (const c of calls) {
    const res = await call(base, c, headers);
    t.ok(expect(c, res.status), `${c.method} ${c.path} ${what}: ${res.status}`);
  }
}

const works = (c: Call, s: number) => (c.ok ?? [200, 204]).includes(s);


t.test('hub on 0.0.0.0: every endpoint but health needs credentials with the right scope; no secret is served', async (t) => {
  const dir = tempDir('auth-hub');
  t.teardown(dir.remove);
  writeFileSync(join(dir.path, 'write.token'), `${WRITE}\n`);
  const hash = await bcrypt.hash(PASSWORD, 4);
  writeFileSync(join(dir.path, 'hub.yml'), `
agents:
  tokens: [{ token: ${AGENT}, datacenter: dc1 }]
api:
  basic_auth_users: { admin: '${hash}' }
  tokens:
    - { token: ${READ}, scopes: [read] }
    - { token_file: write.token, scopes: [read, write] }
    - { token: ${ADMIN}, scopes: [admin] }
alerting:
  route: { receiver: blackhole, routes: [{ receiver: web, matchers: ['never="matches"'] }] }
  receivers:
    - name: blackhole
    - name: web
      webhook_configs: [{ url: 'http://127.0.0.1:9/hook/SECRETHOOKffff', http_config: { bearer_token: BEARERiiii } }]
      email_configs: [{ to: a@example.org, from: b@example.org, smarthost: '127.0.0.1:25', auth_username: u, auth_password: MAILSECRETgggg }]
remote_write: [{ url: 'http://127.0.0.1:9/rw', basic_auth: { username: u, password: RWSECREThhhh } }]
`);
  const hub = await startProc(BIN.hub, ['--config', join(dir.path, 'hub.yml'), '--listen', '0.0.0.0:0', '--data-dir', join(dir.path, 'data'), '--log-level', 'debug']);
  t.teardown(() => hub.stop());
  const base = loopback(hub);

  for (const p of ['/-/healthy', '/-/ready']) t.equal((await fetch(base + p)).status, 200, `${p} stays open`);

  const silence = JSON.stringify({ matchers: [{ name: 'a', value: 'b', isRegex: false, isEqual: true }], startsAt: new Date().toISOString(), endsAt: new Date(Date.now() + 60_000).toISOString(), createdBy: 't', comment: 'c' });
  const writes: Call[] = [
    { method: 'POST', path: '/api/v1/import/prometheus', body: 'auth_e2e_import 1\n' },
    { method: 'POST', path: '/api/v1/write', body: '\0', type: 'application/x-protobuf' }, // snappy of an empty WriteRequest
    { method: 'PUT', path: '/metrics/job/auth_e2e', body: 'auth_e2e_push 1\n' },
    { method: 'POST', path: '/metrics/job/auth_e2e/instance/i', body: 'auth_e2e_push 2\n' },
    { method: 'DELETE', path: '/metrics/job/auth_e2e/instance/i', ok: [202] },
    { method: 'POST', path: '/api/v2/alerts', body: '[]', type: 'application/json' },
    { method: 'POST', path: '/api/v2/silences', body: silence, type: 'application/json' },
    { method: 'DELETE', path: '/api/v2/silence/00000000-0000-0000-0000-000000000000', ok: [200, 404] },
  ];
  const admins: Call[] = [
    { method: 'POST', path: '/-/reload' },
    { method: 'POST', path: '/api/v1/admin/tsdb/flush' },
    { method: 'PUT', path: '/api/v1/admin/wipe', ok: [202] },
  ];
  const reads: Call[] = [
    '/api/v1/query?query=up', '/api/v1/query_range?query=up&start=0&end=60&step=15', '/api/v1/series?match[]=up', '/api/v1/labels',
    '/api/v1/label/job/values', '/api/v1/metadata', '/api/v1/status/config', '/api/v1/status/flags', '/api/v1/status/buildinfo',
    '/api/v1/status/runtimeinfo', '/api/v1/status/tsdb', '/api/v1/targets', '/api/v1/rules', '/api/v1/alerts', '/api/v1/alertmanagers',
    '/api/v1/agents', '/api/v1/metrics', '/api/v2/alerts', '/api/v2/alerts/groups', '/api/v2/silences', '/api/v2/status', '/api/v2/receivers',
    '/metrics', '/', '/explore', '/static/app.js',
  ].map((path) => ({ method: 'GET', path }));
  reads.push({ method: 'POST', path: '/api/v1/query', body: 'query=up', type: 'application/x-www-form-urlencoded' });

  await needsCredentials(t, base, [...writes, ...admins, ...reads]);
  await answers(t, base, [...writes, ...admins], bearer(READ), 'with a read-only token is forbidden', (_c, s) => s === 403);
  await answers(t, base, admins, bearer(WRITE), 'with a write token is forbidden', (_c, s) => s === 403);
  await answers(t, base, reads, bearer(ADMIN), 'with an admin-only token is forbidden', (_c, s) => s === 403);
  await answers(t, base, reads, bearer(READ), 'with a read token works', works);
  await answers(t, base, writes, bearer(WRITE), 'with a write token works', works);
  await answers(t, base, admins, bearer(ADMIN), 'with an admin token works', works);
  await answers(t, base, [...reads.slice(0, 3), ...admins.slice(0, 2)], basic('admin', PASSWORD), 'as a basic auth user works', works);
  t.equal((await call(base, reads[0]!, basic('admin', 'wrong'))).status, 401, 'a wrong password is refused');

  const config = await (await fetch(`${base}/api/v1/status/config`, { headers: bearer(READ) })).json() as { data: { yaml: string } };
  const status = await (await fetch(`${base}/api/v2/status`, { headers: bearer(READ) })).text();
  t.match(config.data.yaml, /<secret>/);
  for (const s of SECRETS) {
    t.notOk(config.data.yaml.includes(s), `status/config hides ${s}`);
    t.notOk(status.includes(s), `/api/v2/status hides ${s}`);
    t.notOk(hub.output().includes(s), `the log holds no ${s}`);
  }
  t.notOk(config.data.yaml.includes(hash.slice(7)), 'status/config hides the bcrypt hash');

  // Guessing is throttled per address: after a few wrong tokens, even a right one waits (429 with Retry-After).
  for (let i = 0; i < 6; i++) await call(base, reads[0]!, bearer('guess-guess-guess-guess'));
  const throttled = await call(base, reads[0]!, bearer(READ));
  t.equal(throttled.status, 429);
  t.ok(Number(throttled.headers.get('retry-after')) >= 1);
});

t.test('agent on 0.0.0.0: push, reload and reads need credentials with the scope; push bodies are bounded', async (t) => {
  const dir = tempDir('auth-agent');
  t.teardown(dir.remove);
  const config = join(dir.path, 'agent.yml');
  writeFileSync(config, `host_exporter: { enabled: false }\napi:\n  tokens:\n    - { token: ${READ}, scopes: [read] }\n    - { token: ${WRITE}, scopes: [write] }\n    - { token: ${ADMIN}, scopes: [admin, read, write] }\n`);
  const agent = await startProc(BIN.agent, ['--config', config, '--hub', 'ws://127.0.0.1:9', '--listen', '0.0.0.0:0', '--data-dir', join(dir.path, 'data')]);
  t.teardown(() => agent.stop());
  const base = loopback(agent);
  for (const p of ['/-/healthy', '/-/ready']) t.equal((await fetch(base + p)).status, 200, `${p} stays open`);
  const writes: Call[] = [
    { method: 'PUT', path: '/metrics/job/a', body: 'x 1\n' },
    { method: 'POST', path: '/metrics/job/a/instance/b', body: 'x 2\n' },
    { method: 'DELETE', path: '/metrics/job/a/instance/b', ok: [202] },
  ];
  const admins: Call[] = [{ method: 'POST', path: '/-/reload' }, { method: 'PUT', path: '/api/v1/admin/wipe', ok: [202] }];
  const reads: Call[] = ['/api/v1/targets', '/api/v1/metrics', '/metrics'].map((path) => ({ method: 'GET', path }));
  await needsCredentials(t, base, [...writes, ...admins, ...reads]);
  await answers(t, base, [...writes, ...admins], bearer(READ), 'with a read-only token is forbidden', (_c, s) => s === 403);
  await answers(t, base, admins, bearer(WRITE), 'with a write token is forbidden', (_c, s) => s === 403);
  await answers(t, base, reads, bearer(READ), 'with a read token works', works);
  await answers(t, base, writes, bearer(WRITE), 'with a write token works', works);
  await answers(t, base, admins, bearer(ADMIN), 'with an admin token works', works);

  const big = `x 1\n${'#'.repeat(17 << 20)}\n`;
  const res = await fetch(`${base}/metrics/job/big`, { method: 'PUT', body: big, headers: bearer(WRITE) });
  t.equal(res.status, 413, 'a 17 MiB push is refused (16 MiB default)');
});

t.test('off loopback without credentials: start and check-config refuse alike; insecure_open starts and says so', async (t) => {
  const dir = tempDir('auth-refuse');
  t.teardown(dir.remove);
  const run = (bin: string, ...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 20_000 });
  const hubYml = join(dir.path, 'hub.yml');
  writeFileSync(hubYml, `agents:\n  tokens: [{ token: ${AGENT} }]\n`);
  const agentYml = join(dir.path, 'agent.yml');
  writeFileSync(agentYml, 'host_exporter: { enabled: false }\n');
  const refusal = /refusing to listen on 0\.0\.0\.0:0 \(off loopback\) without credentials/;

  const hubStart = run(BIN.hub, '--config', hubYml, '--listen', '0.0.0.0:0', '--data-dir', join(dir.path, 'hub'));
  t.equal(hubStart.status, 1, 'hub start refused');
  t.match(hubStart.stderr, refusal);
  const hubCheck = run(BIN.hub, 'check-config', '--listen', '0.0.0.0:0', hubYml);
  t.equal(hubCheck.status, 1, 'hub check-config refuses too');
  t.match(hubCheck.stdout, refusal);
  t.equal(run(BIN.hub, 'check-config', hubYml).status, 0, 'on loopback the same file is fine');
  const agentStart = run(BIN.agent, '--config', agentYml, '--listen', '0.0.0.0:0', '--hub', 'ws://127.0.0.1:9', '--data-dir', join(dir.path, 'agent'));
  t.equal(agentStart.status, 1, 'agent start refused');
  t.match(agentStart.stderr, refusal);
  const agentCheck = run(BIN.agent, 'check-config', '--listen', '0.0.0.0:0', agentYml);
  t.equal(agentCheck.status, 1, 'agent check-config refuses too');
  t.match(agentCheck.stdout, refusal);

  const shortToken = join(dir.path, 'short.yml');
  writeFileSync(shortToken, 'api:\n  tokens: [{ token: x, scopes: [read] }]\n');
  const short = run(BIN.agent, 'check-config', shortToken);
  t.equal(short.status, 1);
  t.match(short.stdout, `${shortToken}:2: API token is too short`);
  const zero = join(dir.path, 'zero.yml');
  writeFileSync(zero, 'retention: 0s\n');
  t.match(run(BIN.hub, 'check-config', zero).stdout, `${zero}:1: retention must be longer than 0`);

  writeFileSync(hubYml, `agents:\n  tokens: [{ token: ${AGENT} }]\napi:\n  insecure_open: true\n`);
  writeFileSync(agentYml, 'host_exporter: { enabled: false }\napi:\n  insecure_open: true\n');
  const hub = await startProc(BIN.hub, ['--config', hubYml, '--listen', '0.0.0.0:0', '--data-dir', join(dir.path, 'hub')]);
  t.teardown(() => hub.stop());
  t.match(hub.output(), /"level":50.*insecure_open/, 'the hub says loudly that it is open');
  t.equal((await fetch(`${loopback(hub)}/api/v1/status/flags`)).status, 200, 'insecure_open serves without credentials');
  const agent = await startProc(BIN.agent, ['--config', agentYml, '--listen', '0.0.0.0:0', '--hub', 'ws://127.0.0.1:9', '--data-dir', join(dir.path, 'agent')]);
  t.teardown(() => agent.stop());
  t.match(agent.output(), /"level":50.*insecure_open/, 'the agent says loudly that it is open');
  t.equal((await fetch(`${loopback(agent)}/metrics/job/open`, { method: 'PUT', body: 'x 1\n' })).status, 200);
});

const hasOpenssl = spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0;

t.test("agent with Prometheus' --web.config.file: HTTPS from tls_server_config, its basic_auth_users guard the API (hub and agent, across reloads)", { skip: hasOpenssl ? false : 'openssl CLI not found' }, async (t) => {
  const { execFileSync } = await import('node:child_process');
  const https = await import('node:https');
  const dir = tempDir('auth-web');
  t.teardown(dir.remove);
  const f = (n: string) => join(dir.path, n);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('k.pem'), '-out', f('c.pem'), '-days', '2',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'pipe' });
  writeFileSync(f('web.yml'), `tls_server_config:\n  cert_file: c.pem\n  key_file: k.pem\nbasic_auth_users:\n  ops: '${await bcrypt.hash(PASSWORD, 4)}'\n`);
  writeFileSync(f('agent.yml'), 'host_exporter: { enabled: false }\n');
  const agent = await startProc(BIN.agent, ['--config', f('agent.yml'), '--web.config.file', f('web.yml'), '--listen', '0.0.0.0:0',
    '--hub', 'ws://127.0.0.1:9', '--data-dir', f('data')]);
  t.teardown(() => agent.stop());
  t.match(agent.url, /^https:\/\/0\.0\.0\.0:/);
  const ca = readFileSync(f('c.pem'));
  const request = (base: string, method: string, path: string, headers: Record<string, string> = {}) => new Promise<number>((resolve, reject) => {
    https.request(`${base}${path}`, { method, ca, headers }, (res) => { res.resume(); resolve(res.statusCode ?? 0); }).on('error', reject).end();
  });
  const agentBase = `https://127.0.0.1:${new URL(agent.url).port}`;
  t.equal(await request(agentBase, 'GET', '/-/healthy'), 200);
  t.equal(await request(agentBase, 'GET', '/api/v1/targets'), 401);
  t.equal(await request(agentBase, 'GET', '/api/v1/targets', basic('ops', 'nope')), 401);
  t.equal(await request(agentBase, 'GET', '/api/v1/targets', basic('ops', PASSWORD)), 200);
  t.equal(await request(agentBase, 'POST', '/-/reload', basic('ops', PASSWORD)), 200, 'the agent reloads with the flag\'s web config');

  // The hub takes the same file from its config (api.web_config_file) and keeps it across reloads.
  writeFileSync(f('hub.yml'), `agents:\n  tokens: [{ token: ${AGENT} }]\napi:\n  web_config_file: web.yml\n`);
  const hub = await startProc(BIN.hub, ['--config', f('hub.yml'), '--listen', '0.0.0.0:0', '--data-dir', f('hub')]);
  t.teardown(() => hub.stop());
  t.match(hub.url, /^https:\/\/0\.0\.0\.0:/);
  const hubBase = `https://127.0.0.1:${new URL(hub.url).port}`;
  t.equal(await request(hubBase, 'GET', '/api/v1/status/flags'), 401);
  t.equal(await request(hubBase, 'POST', '/-/reload', basic('ops', PASSWORD)), 200, 'the hub reloads');
  t.equal(await request(hubBase, 'GET', '/api/v1/status/flags', basic('ops', PASSWORD)), 200, 'and still knows the user');
});
