import t from 'tap';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@vigil/common';
import { FakeClock } from '../rules/index.js';
import { notifierRoutes } from './api.js';
import { parseNotifierConfig } from './config.js';
import type { WebhookMessage } from './data.js';
import { Notifier } from './notifier.js';

/** A webhook receiver on an ephemeral port that records what it gets. */
async function receiver(t: { teardown(fn: () => unknown): void }) {
  const got: { path: string; body: unknown }[] = [];
  let status = 200;
  const server: Server = createServer((req, res) => {
    let data = '';
    req.on('data', (c) => { data += c; });
    req.on('end', () => {
      got.push({ path: req.url ?? '', body: JSON.parse(data) });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise((r) => server.close(r)));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, got, setStatus: (s: number) => { status = s; } };
}

function makeNotifier(t: { teardown(fn: () => unknown): void }, yaml: string, opts: { dataDir?: string; cut?: Set<string> } = {}) {
  const clock = new FakeClock(Date.UTC(2024, 0, 1));
  const n = new Notifier({ config: parseNotifierConfig(yaml, 'hub.yml'), logger: silentLogger, clock, externalURL: 'http://hub:9090', dataDir: opts.dataDir, isDatacenterCut: (dc) => opts.cut?.has(dc) ?? false });
  t.teardown(() => n.stop());
  const step = async (ms: number) => { await clock.advance(ms); await n.idle(); };
  return { n, clock, step };
}

const alert = (labels: Record<string, string>, startsAt: number, endsAt = 0) => ({ labels, annotations: { summary: `s ${labels.instance ?? ''}` }, startsAt, endsAt, generatorURL: 'http://hub/graph' });

t.test('routing tree: nested routes, matchers and legacy match, continue, inheritance', async (t) => {
  const { n } = makeNotifier(t, `alerting:
  route:
    receiver: default
    group_by: [alertname]
    group_wait: 10s
    routes:
      - matchers: ['severity="page"', 'team=~"db|web"']
        receiver: pager
        continue: true
      - match: { team: db }
        receiver: db
        group_by: ['...']
        routes:
          - match_re: { env: "prod|staging" }
            receiver: db-prod
      - matchers: [team!=db]
        receiver: others
  receivers:
    - name: default
    - name: pager
    - name: db
    - name: db-prod
    - name: others
`);
  const r = (labels: Record<string, string>) => n.receivers({ labels, annotations: {}, startsAt: 0, endsAt: 0, generatorURL: '', updatedAt: 0, timeout: false, fingerprint: '' });
  t.same(r({ severity: 'page', team: 'db', env: 'prod' }), ['pager', 'db-prod']);
  t.same(r({ severity: 'page', team: 'db' }), ['pager', 'db']);
  t.same(r({ team: 'web' }), ['others']);
  t.same(r({ team: 'db', env: 'dev' }), ['db']);
  t.same(r({ severity: 'page', team: 'db', env: 'x' }), ['pager', 'db']);
});

t.test('config errors name file and line', async (t) => {
  t.throws(() => parseNotifierConfig('alerting:\n  route:\n    receiver: nope\n  receivers:\n    - name: a\n', 'hub.yml'), /hub\.yml:3: undefined receiver "nope" used in route/);
  t.throws(() => parseNotifierConfig('alerting:\n  route:\n    group_by: [a]\n  receivers: []\n', 'hub.yml'), /hub\.yml:3: root route must specify a default receiver/);
  t.throws(() => parseNotifierConfig('alerting:\n  route:\n    receiver: a\n    routes:\n      - matchers: ["a=~(("]\n  receivers: [{name: a}]\n', 'hub.yml'), /hub\.yml:5: invalid matcher/);
  t.throws(() => parseNotifierConfig('alerting:\n  receivers:\n    - name: a\n      webhook_configs: [{url: "ftp://x"}]\n', 'hub.yml'), /hub\.yml:4: URL "ftp:\/\/x"/);
  t.throws(() => parseNotifierConfig('alerting:\n  receivers:\n    - name: a\n      slack_configs: []\n', 'hub.yml'), /hub\.yml:4: slack_configs are not supported/);
  t.throws(() => parseNotifierConfig('alerting:\n  route:\n    receiver: a\n    group_by: ["...", x]\n  receivers: [{name: a}]\n', 'hub.yml'), /hub\.yml:4: cannot have wildcard group_by/);
});

t.test('route and inhibit matchers are RE2: what Alertmanager refuses is refused, RE2 classes and flags match', async (t) => {
  const cfg = (matcher: string, where = 'route') => where === 'route'
    ? `alerting:\n  route:\n    receiver: a\n    routes:\n      - matchers: [${JSON.stringify(matcher)}]\n        receiver: a\n  receivers: [{name: a}]\n`
    : `alerting:\n  route: {receiver: a}\n  receivers: [{name: a}]\n  inhibit_rules:\n    - source_matchers: [${JSON.stringify(matcher)}]\n      target_matchers: [b="c"]\n`;
  t.throws(() => parseNotifierConfig(cfg('team=~"(?=db)db"'), 'hub.yml'), /hub\.yml:5: .*error parsing regexp: invalid or unsupported Perl syntax: `\(\?=`/);
  t.throws(() => parseNotifierConfig(cfg('team=~"(d)\\\\1"'), 'hub.yml'), /hub\.yml:5: .*invalid escape sequence: `\\1`/);
  t.throws(() => parseNotifierConfig(cfg('team=~"(?<=a)b"', 'inhibit'), 'hub.yml'), /hub\.yml:5: .*invalid or unsupported Perl syntax: `\(\?<`/);
  t.throws(() => parseNotifierConfig('alerting:\n  route:\n    receiver: a\n    routes:\n      - match_re: { team: "(?!db)" }\n        receiver: a\n  receivers: [{name: a}]\n', 'hub.yml'), /hub\.yml:5: .*`\(\?!`/);

  const { n } = makeNotifier(t, `alerting:
  route:
    receiver: default
    routes:
      - matchers: ['team=~"[[:alpha:]]+"', 'env=~"(?i:PRO).*"']
        receiver: ascii-prod
      - matchers: ['team=~"\\\\pL+"']
        receiver: letters
      - match_re: { slow: "(a+)+b" }
        receiver: slow
  receivers: [{name: default}, {name: ascii-prod}, {name: letters}, {name: slow}]
`);
  const r = (labels: Record<string, string>) => n.receivers({ labels, annotations: {}, startsAt: 0, endsAt: 0, generatorURL: '', updatedAt: 0, timeout: false, fingerprint: '' });
  t.same(r({ team: 'db', env: 'Production' }), ['ascii-prod']);
  t.same(r({ team: 'dé', env: 'PROD' }), ['letters'], 'POSIX classes are ASCII, \\pL is any letter');
  const started = Date.now();
  t.same(r({ slow: 'a'.repeat(50_000) }), ['default']);
  t.ok(Date.now() - started < 2_000, 'a backtracking-prone matcher answers in linear time');
});

t.test('grouping: group_wait, group_interval, repeat_interval; webhook JSON version 4', async (t) => {
  const hook = await receiver(t);
  const { n, clock, step } = makeNotifier(t, `alerting:
  route:
    receiver: hook
    group_by: [alertname]
    group_wait: 30s
    group_interval: 5m
    repeat_interval: 1h
  receivers:
    - name: hook
      webhook_configs: [{ url: "${hook.url}/hook" }]
`);
  const t0 = clock.now();
  n.receive([alert({ alertname: 'Down', instance: 'a', job: 'node' }, t0, t0 + 86_400_000), alert({ alertname: 'Down', instance: 'b', job: 'node' }, t0, t0 + 86_400_000)]);
  n.receive([alert({ alertname: 'Other', instance: 'c' }, t0, t0 + 86_400_000)]);
  await step(29_000);
  t.equal(hook.got.length, 0, 'nothing before group_wait');
  await step(1_000);
  t.equal(hook.got.length, 2, 'one notification per group');
  const msg = hook.got.find((g) => (g.body as WebhookMessage).groupLabels.alertname === 'Down')!.body as WebhookMessage;
  t.equal(hook.got[0]!.path, '/hook');
  t.same(Object.keys(msg), ['receiver', 'status', 'alerts', 'groupLabels', 'commonLabels', 'commonAnnotations', 'externalURL', 'version', 'groupKey', 'truncatedAlerts']);
  t.equal(msg.version, '4');
  t.equal(msg.receiver, 'hook');
  t.equal(msg.status, 'firing');
  t.equal(msg.groupKey, '{}:{alertname="Down"}');
  t.same(msg.commonLabels, { alertname: 'Down', job: 'node' });
  t.same(msg.commonAnnotations, {});
  t.equal(msg.externalURL, 'http://hub:9090');
  t.equal(msg.alerts.length, 2);
  t.same(msg.alerts[0], { status: 'firing', labels: { alertname: 'Down', instance: 'a', job: 'node' }, annotations: { summary: 's a' }, startsAt: '2024-01-01T00:00:00Z', endsAt: '0001-01-01T00:00:00Z', generatorURL: 'http://hub/graph', fingerprint: msg.alerts[0]!.fingerprint });
  t.match(msg.alerts[0]!.fingerprint, /^[0-9a-f]{16}$/);

  // Nothing new: no notification at the next group interval.
  await step(5 * 60_000);
  t.equal(hook.got.length, 2);
  // A new alert in the group: sent at the next group interval, with the whole group.
  n.receive([alert({ alertname: 'Down', instance: 'd', job: 'node' }, clock.now(), clock.now() + 86_400_000)]);
  await step(5 * 60_000);
  t.equal(hook.got.length, 3);
  t.equal((hook.got[2]!.body as WebhookMessage).alerts.length, 3);
  // Repeat interval (1h) since the last notification.
  await step(55 * 60_000);
  const before = hook.got.length;
  await step(10 * 60_000);
  t.ok(hook.got.length > before, 'repeated after repeat_interval');
});

t.test('resolved alerts are sent (send_resolved) and then leave the group', async (t) => {
  const hook = await receiver(t);
  const { n, clock, step } = makeNotifier(t, `alerting:
  route: { receiver: hook, group_wait: 10s, group_interval: 1m }
  receivers:
    - name: hook
      webhook_configs: [{ url: "${hook.url}" }]
`);
  const t0 = clock.now();
  n.receive([alert({ alertname: 'X', instance: 'a' }, t0, t0 + 600_000)]);
  await step(10_000);
  t.equal(hook.got.length, 1);
  n.receive([alert({ alertname: 'X', instance: 'a' }, t0, clock.now())]);
  await step(60_000);
  t.equal(hook.got.length, 2);
  const msg = hook.got[1]!.body as WebhookMessage;
  t.equal(msg.status, 'resolved');
  t.equal(msg.alerts[0]!.status, 'resolved');
  t.equal(msg.alerts[0]!.endsAt, '2024-01-01T00:00:10Z');
  t.equal(n.groups().length, 0, 'group removed once empty');
  t.equal(n.alerts().length, 0);
});

t.test('a failing webhook is retried at the next group interval', async (t) => {
  const hook = await receiver(t);
  hook.setStatus(500);
  const { n, clock, step } = makeNotifier(t, `alerting:
  route: { receiver: hook, group_wait: 1s, group_interval: 1m }
  receivers: [{ name: hook, webhook_configs: [{ url: "${hook.url}" }] }]
`);
  n.receive([alert({ alertname: 'X' }, clock.now(), clock.now() + 86_400_000)]);
  await step(1_000);
  t.equal(hook.got.length, 1);
  hook.setStatus(200);
  await step(60_000);
  t.equal(hook.got.length, 2, 'retried');
  await step(60_000);
  t.equal(hook.got.length, 2, 'then deduplicated');
});

t.test('forwarding the rule manager\'s alerts to external Alertmanagers (API v2 payload)', async (t) => {
  const am = await receiver(t);
  const { n } = makeNotifier(t, `alerting:
  alertmanagers: [{ url: "${am.url}" }]
`);
  n.notify([{ labels: { alertname: 'A', severity: 'page' }, annotations: { s: 'x' }, startsAt: Date.UTC(2024, 0, 1), endsAt: Date.UTC(2024, 0, 1, 0, 4), generatorURL: 'http://g' }]);
  await n.idle();
  t.equal(am.got.length, 1);
  t.equal(am.got[0]!.path, '/api/v2/alerts');
  t.same(am.got[0]!.body, [{ labels: { alertname: 'A', severity: 'page' }, annotations: { s: 'x' }, startsAt: '2024-01-01T00:00:00.000Z', endsAt: '2024-01-01T00:04:00.000Z', generatorURL: 'http://g' }]);
  t.equal(n.alerts().length, 1, 'also kept by the built-in notifier');
});
