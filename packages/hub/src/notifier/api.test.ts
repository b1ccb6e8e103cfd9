import t from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@vigil/common';
import { FakeClock } from '../rules/index.js';
import { notifierRoutes } from './api.js';
import { parseNotifierConfig } from './config.js';
import type { Integration, WebhookMessage } from './data.js';
import { Notifier } from './notifier.js';

function setup(t: { teardown(fn: () => unknown): void }, yaml: string, cut = new Set<string>()) {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-notifier-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const clock = new FakeClock(Date.UTC(2024, 0, 1));
  const sent: WebhookMessage[] = [];
  const fake: Integration = { name: 'webhook', index: 0, sendResolved: true, notify: async (m) => { sent.push(m); } };
  const mk = () => new Notifier({ config: parseNotifierConfig(yaml), logger: silentLogger, clock, dataDir: dir, integrations: () => [fake], isDatacenterCut: (dc) => cut.has(dc) });
  const n = mk();
  t.teardown(() => n.stop());
  const app = notifierRoutes(n);
  const json = async (path: string, init?: RequestInit) => {
    const res = await app.request(path, init);
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
  const post = (path: string, body: unknown) => json(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const step = async (ms: number) => { await clock.advance(ms); await n.idle(); };
  return { dir, clock, n, app, json, post, sent, step, mk };
}

const CONFIG = `alerting:
  route: { receiver: team, group_by: [alertname], group_wait: 10s, group_interval: 1m }
  receivers: [{ name: team }]
  inhibit_rules:
    - source_matchers: [severity="critical"]
      target_matchers: [severity="warning"]
      equal: [instance]
`;

t.test('POST and GET /api/v2/alerts in Alertmanager shapes, with filters', async (t) => {
  const w = setup(t, CONFIG);
  const r = await w.post('/api/v2/alerts', [
    { labels: { alertname: 'Disk', instance: 'a', severity: 'warning' }, annotations: { summary: 'x' }, startsAt: '2024-01-01T00:00:00Z', generatorURL: 'http://g' },
    { labels: { alertname: 'Disk', instance: 'b', severity: 'warning' } },
  ]);
  t.equal(r.status, 200);
  const got = await w.json('/api/v2/alerts');
  t.equal(got.body.length, 2);
  const a = got.body.find((x: { labels: { instance: string } }) => x.labels.instance === 'a');
  t.same(Object.keys(a).sort(), ['annotations', 'endsAt', 'fingerprint', 'generatorURL', 'labels', 'receivers', 'startsAt', 'status', 'updatedAt']);
  t.same(a.receivers, [{ name: 'team' }]);
  t.same(a.status, { state: 'active', silencedBy: [], inhibitedBy: [] });
  t.equal(a.endsAt, '2024-01-01T00:05:00Z', 'no endsAt: resolve_timeout (5m)');
  t.equal((await w.json('/api/v2/alerts?filter=instance%3D%22b%22')).body.length, 1);
  t.equal((await w.json('/api/v2/alerts?filter=instance%3D~%22a%7Cb%22&filter=severity!%3Dwarning')).body.length, 0);
  t.equal((await w.json('/api/v2/alerts?receiver=nobody')).body.length, 0);
  t.equal((await w.post('/api/v2/alerts', [{ labels: {} }])).status, 400);
  t.equal((await w.post('/api/v2/alerts', [{ labels: { a: 'b' }, startsAt: 'yesterday' }])).status, 400);

  const groups = await w.json('/api/v2/alerts/groups');
  t.equal(groups.body.length, 1);
  t.same(groups.body[0].labels, { alertname: 'Disk' });
  t.same(groups.body[0].receiver, { name: 'team' });
  t.equal(groups.body[0].alerts.length, 2);

  const status = await w.json('/api/v2/status');
  t.same(Object.keys(status.body).sort(), ['cluster', 'config', 'uptime', 'versionInfo']);
  t.equal(status.body.cluster.status, 'disabled');
});

t.test('silences: create, match (regex and negative), update, expire, persisted', async (t) => {
  const w = setup(t, CONFIG);
  const now = w.clock.now();
  w.n.receive([
    { labels: { alertname: 'Disk', instance: 'db-1', env: 'prod' }, endsAt: now + 3_600_000 },
    { labels: { alertname: 'Disk', instance: 'web-1', env: 'prod' }, endsAt: now + 3_600_000 },
    { labels: { alertname: 'Disk', instance: 'db-2', env: 'dev' }, endsAt: now + 3_600_000 },
  ]);
  const created = await w.post('/api/v2/silences', {
    matchers: [{ name: 'instance', value: 'db-.*', isRegex: true, isEqual: true }, { name: 'env', value: 'dev', isRegex: false, isEqual: false }],
    startsAt: new Date(now).toISOString(), endsAt: new Date(now + 3_600_000).toISOString(), createdBy: 'me', comment: 'maintenance',
  });
  t.equal(created.status, 200);
  const id = created.body.silenceID as string;
  t.match(id, /^[0-9a-f-]{36}$/);
  const alerts = (await w.json('/api/v2/alerts')).body as { labels: { instance: string }; status: { state: string; silencedBy: string[] } }[];
  const by = Object.fromEntries(alerts.map((a) => [a.labels.instance, a.status]));
  t.same(by['db-1'], { state: 'suppressed', silencedBy: [id], inhibitedBy: [] });
  t.equal(by['web-1']!.state, 'active');
  t.equal(by['db-2']!.state, 'active', 'negative matcher excludes env=dev');
  t.equal((await w.json('/api/v2/alerts?silenced=false')).body.length, 2);

  // Silenced alerts are not notified.
  await w.step(10_000);
  t.equal(w.sent.length, 1);
  t.same(w.sent[0]!.alerts.map((a) => a.labels.instance).sort(), ['db-2', 'web-1']);

  const one = await w.json(`/api/v2/silence/${id}`);
  t.same(one.body.status, { state: 'active' });
  t.same(one.body.matchers[0], { name: 'instance', value: 'db-.*', isRegex: true, isEqual: true });
  t.equal(one.body.createdBy, 'me');
  const list = await w.json('/api/v2/silences?filter=instance%3D~%22db-.*%22');
  t.equal(list.body.length, 1);

  // Persisted: a new notifier over the same data dir sees it.
  t.match(readFileSync(join(w.dir, 'silences.json'), 'utf8'), /maintenance/);
  const again = w.mk();
  t.equal(again.silences.list().length, 1);
  await again.stop();

  // Updating the matchers of an active silence replaces it.
  const upd = await w.post('/api/v2/silences', { id, matchers: [{ name: 'instance', value: 'web-1', isRegex: false }], startsAt: new Date(now).toISOString(), endsAt: new Date(now + 7_200_000).toISOString(), createdBy: 'me', comment: 'c' });
  t.not(upd.body.silenceID, id);
  t.equal((await w.json(`/api/v2/silence/${id}`)).body.status.state, 'expired');

  t.equal((await w.json(`/api/v2/silence/${upd.body.silenceID}`, { method: 'DELETE' })).status, 200);
  t.equal((await w.json(`/api/v2/silence/${upd.body.silenceID}`)).body.status.state, 'expired');
  t.equal((await w.json('/api/v2/silence/nope', { method: 'DELETE' })).status, 404);
  t.equal((await w.json('/api/v2/silence/nope')).status, 404);
  t.equal((await w.post('/api/v2/silences', { matchers: [{ name: 'a', value: '.*', isRegex: true }], startsAt: new Date(now).toISOString(), endsAt: new Date(now + 1000).toISOString() })).status, 400, 'matches everything');
  t.equal((await w.post('/api/v2/silences', { matchers: [{ name: 'a', value: 'b', isRegex: false }], startsAt: new Date(now).toISOString(), endsAt: new Date(now - 1000).toISOString() })).status, 400, 'ends before it starts');
});

t.test('user regexes in the API are RE2: receiver and filter parameters, silence matchers', async (t) => {
  const w = setup(t, CONFIG);
  const now = w.clock.now();
  w.n.receive([{ labels: { alertname: 'Disk', instance: 'a'.repeat(30_000) }, endsAt: now + 3_600_000 }]);
  const started = Date.now();
  // a backtracking engine takes exponential time on these
  t.equal((await w.json(`/api/v2/alerts?receiver=${encodeURIComponent('(t+)+x')}`)).body.length, 0);
  t.equal((await w.json(`/api/v2/alerts?filter=${encodeURIComponent('instance=~"(a+)+b"')}`)).body.length, 0);
  t.ok(Date.now() - started < 2_000, 'answers in linear time');
  t.equal((await w.json(`/api/v2/alerts?receiver=${encodeURIComponent('(?i:TEAM)')}`)).body.length, 1, 'inline flags');
  t.equal((await w.json(`/api/v2/alerts?receiver=${encodeURIComponent('[[:alpha:]]+')}`)).body.length, 1, 'POSIX classes');
  const bad = await w.json(`/api/v2/alerts?receiver=${encodeURIComponent('(?=t)team')}`);
  t.equal(bad.status, 400);
  t.equal(bad.body, 'error parsing regexp: invalid or unsupported Perl syntax: `(?=`', "Alertmanager's answer");
  t.equal((await w.json(`/api/v2/alerts/groups?receiver=${encodeURIComponent('(t)\\1')}`)).status, 400);
  t.equal((await w.json(`/api/v2/alerts?filter=${encodeURIComponent('instance=~"(?<=a)b"')}`)).status, 400);
  const silence = (value: string) => w.post('/api/v2/silences', {
    matchers: [{ name: 'instance', value, isRegex: true, isEqual: true }],
    startsAt: new Date(now).toISOString(), endsAt: new Date(now + 3_600_000).toISOString(), createdBy: 'me', comment: 'x',
  });
  const refused = await silence('(?=a)a+');
  t.equal(refused.status, 400);
  t.match(refused.body, /invalid or unsupported Perl syntax: `\(\?=`/);
  t.equal((await silence('(a+)+')).status, 200);
  t.equal((await w.json('/api/v2/alerts')).body[0].status.state, 'suppressed');
});

t.test('inhibition: a firing critical alert mutes warnings with the same instance', async (t) => {
  const w = setup(t, CONFIG);
  const now = w.clock.now();
  w.n.receive([
    { labels: { alertname: 'HostDown', instance: 'a', severity: 'critical' }, endsAt: now + 600_000 },
    { labels: { alertname: 'Disk', instance: 'a', severity: 'warning' }, endsAt: now + 3_600_000 },
    { labels: { alertname: 'Disk', instance: 'b', severity: 'warning' }, endsAt: now + 3_600_000 },
  ]);
  const alerts = (await w.json('/api/v2/alerts')).body as { labels: Record<string, string>; fingerprint: string; status: { state: string; inhibitedBy: string[] } }[];
  const src = alerts.find((a) => a.labels.alertname === 'HostDown')!;
  const diskA = alerts.find((a) => a.labels.alertname === 'Disk' && a.labels.instance === 'a')!;
  t.same(diskA.status.inhibitedBy, [src.fingerprint]);
  t.equal(diskA.status.state, 'suppressed');
  t.equal(alerts.find((a) => a.labels.instance === 'b' && a.labels.alertname === 'Disk')!.status.state, 'active');
  t.equal((await w.json('/api/v2/alerts?inhibited=false')).body.length, 2);
  await w.step(10_000);
  const disk = w.sent.find((m) => m.groupLabels.alertname === 'Disk')!;
  t.same(disk.alerts.map((a) => a.labels.instance), ['b']);
  // Once the source resolves, the target is no longer inhibited and is notified.
  w.n.receive([{ labels: { alertname: 'HostDown', instance: 'a', severity: 'critical' }, startsAt: now, endsAt: w.clock.now() }]);
  await w.step(60_000);
  const last = w.sent.filter((m) => m.groupLabels.alertname === 'Disk').at(-1)!;
  t.same(last.alerts.map((a) => a.labels.instance), ['a', 'b']);
});

t.test('alerts of a datacenter whose link is cut are inhibited, VigilAgentDown is not', async (t) => {
  const cut = new Set(['eu']);
  const w = setup(t, CONFIG, cut);
  const now = w.clock.now();
  w.n.receive([
    { labels: { alertname: 'VigilAgentDown', agent: 'eu-1', datacenter: 'eu' }, endsAt: now + 600_000 },
    { labels: { alertname: 'Disk', instance: 'a', datacenter: 'eu' }, endsAt: now + 600_000 },
    { labels: { alertname: 'Disk', instance: 'b', datacenter: 'us' }, endsAt: now + 600_000 },
  ]);
  const alerts = (await w.json('/api/v2/alerts')).body as { labels: Record<string, string>; fingerprint: string; status: { state: string; inhibitedBy: string[] } }[];
  const down = alerts.find((a) => a.labels.alertname === 'VigilAgentDown')!;
  t.equal(down.status.state, 'active');
  t.same(alerts.find((a) => a.labels.datacenter === 'eu' && a.labels.alertname === 'Disk')!.status.inhibitedBy, [down.fingerprint]);
  t.equal(alerts.find((a) => a.labels.datacenter === 'us')!.status.state, 'active');
  cut.delete('eu');
  t.equal((await w.json('/api/v2/alerts?inhibited=false')).body.length, 3, 'released when the link is back');
});
