import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { HEADER_AGENT_ID, HEADER_DATACENTER, HEADER_PROTOCOL, PROTOCOL_VERSION } from '@vigil/common';
import { BIN, eventually, getJson, startProc, tempDir } from './lib/proc.js';

/** Status of a WebSocket upgrade to the agent stream with an optional token. */
function upgradeStatus(url: string, token?: string): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/api/v1/agents/stream`, {
      headers: { [HEADER_PROTOCOL]: String(PROTOCOL_VERSION), [HEADER_AGENT_ID]: 'probe', [HEADER_DATACENTER]: 'paris', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    });
    ws.on('unexpected-response', (_req, res) => { resolve(res.statusCode ?? 0); ws.terminate(); });
    ws.on('open', () => { resolve(101); ws.close(); });
    ws.on('error', () => resolve(-1));
  });
}

// POST /-/reload and SIGHUP apply a new configuration (rules, agent tokens); a bad one is refused with its line and
// the running configuration stays.
t.test('the hub reloads its configuration and keeps the old one when the new one is bad', async (t) => {
  const dir = tempDir('reload');
  t.teardown(dir.remove);
  const config = join(dir.path, 'hub.yml');
  writeFileSync(config, 'evaluation_interval: 1s\n');
  const hub = await startProc(BIN.hub, ['--config', config, '--listen', '127.0.0.1:0', '--data-dir', join(dir.path, 'data')]);
  t.teardown(() => hub.stop());
  t.equal(await upgradeStatus(hub.url), 101, 'no tokens configured on loopback: agents need none');

  writeFileSync(join(dir.path, 'rules.yml'), 'groups:\n  - name: g\n    rules:\n      - record: one\n        expr: vector(1)\n');
  writeFileSync(config, 'evaluation_interval: 1s\nrule_files: [rules.yml]\nagents:\n  tokens:\n    - token: s3cret\n      datacenter: paris\n');
  const ok = await fetch(`${hub.url}/-/reload`, { method: 'POST' });
  t.equal(ok.status, 200);
  const rules = await getJson(`${hub.url}/api/v1/rules`);
  t.ok(rules.data.groups.some((g: { name: string }) => g.name === 'g'), 'new rule group loaded');
  t.equal(await upgradeStatus(hub.url), 401, 'tokens now required');
  t.equal(await upgradeStatus(hub.url, 'wrong'), 401);
  await eventually(async () => (await getJson(`${hub.url}/api/v1/query?query=one`)).data.result.length === 1, 10_000);
  t.pass('the recording rule runs');

  writeFileSync(config, 'evaluation_interval: 1s\nrule_files: [rules.yml]\nretention: soon\n');
  const bad = await fetch(`${hub.url}/-/reload`, { method: 'POST' });
  t.equal(bad.status, 500);
  t.match(await bad.text(), `${config}:3:`);
  t.equal(await upgradeStatus(hub.url), 401, 'old configuration kept');

  writeFileSync(config, 'evaluation_interval: 1s\n');
  hub.child.kill('SIGHUP');
  await eventually(async () => (await getJson(`${hub.url}/api/v1/rules`)).data.groups.every((g: { name: string }) => g.name !== 'g'), 10_000);
  t.equal(await upgradeStatus(hub.url), 101, 'SIGHUP applied the file without tokens');
});
