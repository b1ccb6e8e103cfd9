import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger, type Labels, type Sample } from '@vigil/common';
import { FakeClock } from './clock.js';
import { RuleManager } from './manager.js';
import { ruleRoutes } from './api.js';
import type { Alert, QuerySample } from './types.js';

/** A fake world: `series[expr]` is what the query function answers (may change over time). */
function setup(t: { teardown(fn: () => unknown): void }, rules: string, opts: { cut?: Set<string>; results?: Map<string, QuerySample[] | ((ts: number) => QuerySample[])> } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-rules-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'rules.yml');
  writeFileSync(file, rules);
  const clock = new FakeClock(Date.UTC(2024, 0, 1, 0, 0, 0));
  const results = opts.results ?? new Map<string, QuerySample[] | ((ts: number) => QuerySample[])>();
  const appended: Sample[] = [];
  const sent: Alert[][] = [];
  const queries: { expr: string; ts: number }[] = [];
  const manager = new RuleManager({
    queryFn: async (expr, ts) => {
      queries.push({ expr, ts });
      if (expr === 'bad(') throw new Error('parse error');
      const r = results.get(expr);
      if (r === undefined) return [];
      return typeof r === 'function' ? r(ts) : r;
    },
    appendFn: async (s) => { appended.push(...s); },
    notifyFn: (a) => { sent.push(a); },
    checkExpr: (e) => { if (e.includes('((')) throw new Error('bad expr'); },
    clock,
    externalLabels: { dc_ext: 'x' },
    externalURL: 'http://hub:9090',
    logger: silentLogger,
    isDatacenterCut: (dc) => opts.cut?.has(dc) ?? false,
  });
  t.teardown(() => manager.stop());
  return { dir, file, clock, results, appended, sent, queries, manager };
}


const up0 = (instance: string, extra: Labels = {}): QuerySample => ({ labels: { instance, job: 'node', ...extra }, value: 0 });

const ALERT_RULES = `groups:
  - name: g
    interval: 1m
    rules:
      - alert: InstanceDown
        expr: up == 0
        for: 5m
        labels: { severity: page, instance: "{{ $labels.instance }}" }
        annotations:
          summary: "{{ $labels.instance }} of {{ .Labels.job }} down, value {{ $value }}"
`;

t.test('alert goes inactive → pending → firing after for, sends, writes ALERTS series, then resolves', async (t) => {
  const w = setup(t, ALERT_RULES);
  await w.manager.load([w.file], 15_000);
  w.results.set('up == 0', [up0('a:9100')]);
  const t0 = w.clock.now();
  await w.manager.evaluateAt(t0);
  let alerts = w.manager.alertsResponse().alerts;
  t.equal(alerts.length, 1);
  t.equal(alerts[0]!.state, 'pending');
  t.same(alerts[0]!.labels, { alertname: 'InstanceDown', instance: 'a:9100', job: 'node', severity: 'page' });
  t.equal(alerts[0]!.annotations.summary, 'a:9100 of node down, value 0');
  t.equal(alerts[0]!.value, '0e+00');
  t.equal(w.sent.length, 0, 'pending alerts are not sent');
  const alertsSeries = w.appended.find((s) => s.labels.__name__ === 'ALERTS');
  t.same(alertsSeries?.labels, { __name__: 'ALERTS', alertname: 'InstanceDown', alertstate: 'pending', instance: 'a:9100', job: 'node', severity: 'page' });
  t.equal(w.appended.find((s) => s.labels.__name__ === 'ALERTS_FOR_STATE')?.v, t0 / 1000);

  await w.manager.evaluateAt(t0 + 4 * 60_000);
  t.equal(w.manager.alertsResponse().alerts[0]!.state, 'pending', 'still pending at 4m');
  await w.manager.evaluateAt(t0 + 5 * 60_000);
  alerts = w.manager.alertsResponse().alerts;
  t.equal(alerts[0]!.state, 'firing', 'firing at 5m');
  t.equal(w.sent.length, 1);
  const a = w.sent[0]![0]!;
  t.equal(a.startsAt, t0 + 5 * 60_000);
  t.equal(a.endsAt, t0 + 5 * 60_000 + 4 * 60_000, 'valid for 4 × max(resend delay, interval)');
  t.match(a.generatorURL, /^http:\/\/hub:9090\/graph\?g0\.expr=up%20%3D%3D%200&g0\.tab=1$/);
  // Pending series ended with a staleness marker when the state changed.
  t.ok(w.appended.some((s) => s.stale && s.labels.alertstate === 'pending'));

  // Resend only after the resend delay (1m).
  await w.manager.evaluateAt(t0 + 5 * 60_000 + 30_000);
  t.equal(w.sent.length, 1);
  await w.manager.evaluateAt(t0 + 6 * 60_000 + 30_000);
  t.equal(w.sent.length, 2);

  w.results.set('up == 0', []);
  const tr = t0 + 7 * 60_000;
  await w.manager.evaluateAt(tr);
  t.equal(w.manager.alertsResponse().alerts.length, 0, 'resolved alerts leave /api/v1/alerts');
  t.equal(w.sent.length, 3);
  t.equal(w.sent[2]![0]!.endsAt, tr, 'resolved alert ends at resolution time');
  // Resolved alerts are resent for 15 minutes, then forgotten.
  await w.manager.evaluateAt(tr + 10 * 60_000);
  t.equal(w.sent.length, 4);
  await w.manager.evaluateAt(tr + 16 * 60_000);
  await w.manager.evaluateAt(tr + 30 * 60_000);
  t.equal(w.sent.length, 4, 'forgotten after 15m, not sent again');
  t.equal(w.manager.ruleGroups[0]!.rules.length, 1);
  t.equal(w.manager.ruleGroups[0]!.rules[0]!.health, 'ok');
});

t.test('a pending alert that disappears is dropped without being sent', async (t) => {
  const w = setup(t, ALERT_RULES);
  await w.manager.load([w.file], 15_000);
  w.results.set('up == 0', [up0('a')]);
  await w.manager.evaluateAt(w.clock.now());
  w.results.set('up == 0', []);
  await w.manager.evaluateAt(w.clock.now() + 60_000);
  t.equal(w.manager.alertsResponse().alerts.length, 0);
  t.equal(w.sent.length, 0);
});

t.test('keep_firing_for keeps a firing alert after its condition clears', async (t) => {
  const w = setup(t, `groups:
  - name: g
    rules:
      - alert: Flappy
        expr: x > 1
        keep_firing_for: 2m
`);
  await w.manager.load([w.file], 60_000);
  const t0 = w.clock.now();
  w.results.set('x > 1', [{ labels: { a: '1' }, value: 2 }]);
  await w.manager.evaluateAt(t0);
  t.equal(w.manager.alertsResponse().alerts[0]!.state, 'firing', 'for: 0 fires at once');
  w.results.set('x > 1', []);
  await w.manager.evaluateAt(t0 + 60_000);
  t.equal(w.manager.alertsResponse().alerts[0]!.state, 'firing');
  t.ok(w.manager.alertsResponse().alerts[0]!.keepFiringSince);
  await w.manager.evaluateAt(t0 + 120_000);
  t.equal(w.manager.alertsResponse().alerts[0]?.state, 'firing');
  await w.manager.evaluateAt(t0 + 180_000);
  t.equal(w.manager.alertsResponse().alerts.length, 0, 'resolved after keep_firing_for');
});

t.test('recording rules rename, add labels, and count errors; groups evaluate in order on their interval', async (t) => {
  const w = setup(t, `groups:
  - name: rec
    interval: 30s
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
        labels: { team: infra }
      - record: job:dup
        expr: dup
        labels: { job: same }
      - record: job:bad
        expr: bad(
`);
  w.results.set('sum by (job) (up)', [{ labels: { job: 'node' }, value: 3 }]);
  w.results.set('dup', [{ labels: { job: 'a' }, value: 1 }, { labels: { job: 'b' }, value: 1 }]);
  await w.manager.load([w.file], 15_000);
  w.manager.start();
  await w.clock.advance(30_000);
  await w.manager.idle();
  const rec = w.appended.filter((s) => s.labels.__name__ === 'job:up:sum');
  t.equal(rec.length, 1);
  t.same(rec[0]!.labels, { __name__: 'job:up:sum', job: 'node', team: 'infra' });
  t.equal(rec[0]!.v, 3);
  const data = w.manager.rulesResponse();
  const g = data.groups[0]!;
  t.equal(g.name, 'rec');
  t.equal(g.interval, 30);
  t.equal(g.rules.length, 3);
  t.equal(g.rules[0]!.health, 'ok');
  t.equal(g.rules[0]!.type, 'recording');
  t.equal(g.rules[1]!.health, 'err');
  t.match(g.rules[1]!.lastError, /same labelset/);
  t.equal(g.rules[2]!.health, 'err');
  t.match(g.rules[2]!.lastError, /parse error/);
  // Evaluated in order at the same timestamp.
  const ts = w.queries.map((q) => q.ts);
  t.same(w.queries.map((q) => q.expr), ['sum by (job) (up)', 'dup', 'bad(']);
  t.equal(new Set(ts).size, 1);
  await w.clock.advance(30_000);
  await w.manager.idle();
  t.equal(w.queries.length, 6, 'evaluated again one interval later');
  t.equal(w.queries[3]!.ts - w.queries[0]!.ts, 30_000);
  // The series disappears: a staleness marker ends it.
  w.results.set('sum by (job) (up)', []);
  await w.clock.advance(30_000);
  await w.manager.idle();
  t.ok(w.appended.some((s) => s.labels.__name__ === 'job:up:sum' && s.stale));
});

t.test('rules API: Prometheus shapes, type filter, bad type', async (t) => {
  const w = setup(t, ALERT_RULES + `  - name: r
    rules:
      - record: a:b
        expr: up
`);
  await w.manager.load([w.file], 15_000);
  w.results.set('up == 0', [up0('a')]);
  const t0 = w.clock.now();
  await w.manager.evaluateAt(t0);
  const app = ruleRoutes(w.manager);
  const res = await app.request('/api/v1/rules');
  t.equal(res.status, 200);
  const body = await res.json() as { status: string; data: { groups: { name: string; file: string; rules: Record<string, unknown>[]; lastEvaluation: string; interval: number; limit: number }[] } };
  t.equal(body.status, 'success');
  const g = body.data.groups[0]!;
  t.equal(g.file, w.file);
  t.equal(g.interval, 60);
  t.equal(g.limit, 0);
  t.equal(g.lastEvaluation, '2024-01-01T00:00:00Z');
  const rule = g.rules[0]!;
  t.same(Object.keys(rule), ['state', 'name', 'query', 'duration', 'keepFiringFor', 'labels', 'annotations', 'alerts', 'health', 'evaluationTime', 'lastEvaluation', 'type']);
  t.equal(rule.state, 'pending');
  t.equal(rule.duration, 300);
  t.same((rule.alerts as unknown[]).length, 1);
  t.same((rule.alerts as Record<string, unknown>[])[0]!.activeAt, '2024-01-01T00:00:00Z');
  t.same(body.data.groups.map((x) => x.name), ['g', 'r', 'vigil']);

  const alertsOnly = await (await app.request('/api/v1/rules?type=alert')).json() as typeof body;
  t.same(alertsOnly.data.groups.map((x) => x.rules.length), [1, 0, 1]);
  const recordOnly = await (await app.request('/api/v1/rules?type=record')).json() as typeof body;
  t.same(recordOnly.data.groups.map((x) => x.rules.length), [0, 1, 0]);
  const bad = await app.request('/api/v1/rules?type=foo');
  t.equal(bad.status, 400);
  t.same(await bad.json(), { status: 'error', errorType: 'bad_data', error: 'not supported value "foo"' });

  const alerts = await (await app.request('/api/v1/alerts')).json() as { data: { alerts: Record<string, unknown>[] } };
  t.same(alerts.data.alerts, [{
    labels: { alertname: 'InstanceDown', instance: 'a', job: 'node', severity: 'page' },
    annotations: { summary: 'a of node down, value 0' },
    state: 'pending', activeAt: '2024-01-01T00:00:00Z', value: '0e+00',
  }]);
});

t.test('reload keeps the state of unchanged rules and ends series of removed ones; bad reload changes nothing', async (t) => {
  const w = setup(t, ALERT_RULES + `      - record: gone
        expr: up
`);
  w.results.set('up', [{ labels: { job: 'x' }, value: 1 }]);
  w.results.set('up == 0', [up0('a')]);
  await w.manager.load([w.file], 15_000);
  const t0 = w.clock.now();
  await w.manager.evaluateAt(t0);
  writeFileSync(w.file, ALERT_RULES);
  await w.manager.load([w.file], 15_000);
  t.ok(w.appended.some((s) => s.labels.__name__ === 'gone' && s.stale), 'removed rule series marked stale');
  t.equal(w.manager.alertsResponse().alerts[0]!.activeAt, '2024-01-01T00:00:00Z', 'pending state kept');
  await w.manager.evaluateAt(t0 + 5 * 60_000);
  t.equal(w.manager.alertsResponse().alerts[0]!.state, 'firing');
  writeFileSync(w.file, 'groups:\n  - name: g\n    rules:\n      - alert: X\n        expr: sum((up)\n');
  await t.rejects(w.manager.load([w.file], 15_000), /rules\.yml:5: could not parse expression/);
  t.equal(w.manager.alertsResponse().alerts[0]!.state, 'firing', 'old rules still run');
});

t.test('restart restores for state from ALERTS_FOR_STATE', async (t) => {
  const w = setup(t, ALERT_RULES);
  const t0 = w.clock.now();
  const activeAt = t0 - 3 * 60_000;
  w.results.set('up == 0', [up0('a'), up0('b')]);
  w.results.set('last_over_time(ALERTS_FOR_STATE{alertname="InstanceDown"}[3600s])', [
    { labels: { alertname: 'InstanceDown', instance: 'a', job: 'node', severity: 'page' }, value: activeAt / 1000 },
  ]);
  await w.manager.load([w.file], 15_000);
  await w.manager.evaluateAt(t0);
  const byInstance = Object.fromEntries(w.manager.alertsResponse().alerts.map((a) => [a.labels.instance, a]));
  // 2m of `for` left < 10m grace period: pushed so that 10m remain.
  t.equal(byInstance.a!.activeAt, new Date(t0 + 10 * 60_000 - 5 * 60_000).toISOString().replace('.000', ''));
  t.equal(byInstance.b!.activeAt, '2024-01-01T00:00:00Z', 'not found: starts now');
  t.ok(w.queries.some((q) => q.expr.startsWith('last_over_time(ALERTS_FOR_STATE')));
  // Only the first evaluation restores.
  const n = w.queries.length;
  await w.manager.evaluateAt(t0 + 60_000);
  t.equal(w.queries.length, n + 1);
});

t.test('restore keeps the original activeAt when more than the grace period remains', async (t) => {
  const w = setup(t, ALERT_RULES.replace('for: 5m', 'for: 1h'));
  const t0 = w.clock.now();
  w.results.set('up == 0', [up0('a')]);
  w.results.set('last_over_time(ALERTS_FOR_STATE{alertname="InstanceDown"}[3600s])', [
    { labels: { __name__: 'ALERTS_FOR_STATE', alertname: 'InstanceDown', instance: 'a', job: 'node', severity: 'page' }, value: (t0 - 20 * 60_000) / 1000 },
  ]);
  await w.manager.load([w.file], 15_000);
  await w.manager.evaluateAt(t0);
  t.equal(w.manager.alertsResponse().alerts[0]!.activeAt, '2023-12-31T23:40:00Z');
  await w.manager.evaluateAt(t0 + 40 * 60_000);
  t.equal(w.manager.alertsResponse().alerts[0]!.state, 'firing', 'fires 1h after the original activeAt');
});
