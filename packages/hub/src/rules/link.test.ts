import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger, type Sample } from '@vigil/common';
import { FakeClock } from './clock.js';
import { RuleManager } from './manager.js';
import type { Alert, QuerySample } from './types.js';

const RULES = `groups:
  - name: g
    interval: 1m
    rules:
      - alert: HighLoad
        expr: load > 2
        for: 3m
        annotations: { summary: "load {{ $value }} on {{ $labels.instance }}" }
`;

function setup(t: { teardown(fn: () => unknown): void }) {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-link-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'r.yml');
  writeFileSync(file, RULES);
  const clock = new FakeClock(Date.UTC(2024, 0, 1));
  const cut = new Set<string>();
  /** The "stored" data: value of `load > 2` per datacenter per minute. */
  let data: (ts: number) => QuerySample[] = () => [];
  const sent: Alert[][] = [];
  const appended: Sample[] = [];
  const m = new RuleManager({
    queryFn: async (_expr, ts) => data(ts),
    appendFn: async (s) => { appended.push(...s); },
    notifyFn: (a) => { sent.push(a); },
    checkExpr: () => {},
    clock,
    logger: silentLogger,
    isDatacenterCut: (dc) => cut.has(dc),
    watermark: () => Number.MAX_SAFE_INTEGER,
  });
  t.teardown(() => m.stop());
  return { file, clock, cut, sent, appended, m, setData: (f: (ts: number) => QuerySample[]) => { data = f; } };
}

const eu = (v: number): QuerySample => ({ labels: { instance: 'eu-web', datacenter: 'eu' }, value: v });
const us = (v: number): QuerySample => ({ labels: { instance: 'us-web', datacenter: 'us' }, value: v });

t.test('while a link is cut, alerts of that datacenter neither fire newly nor resolve', async (t) => {
  const w = setup(t);
  await w.m.load([w.file], 60_000);
  const t0 = w.clock.now();
  w.setData(() => [eu(5), us(5)]);
  await w.m.evaluateAt(t0);
  await w.m.evaluateAt(t0 + 3 * 60_000);
  t.same(w.m.alertsResponse().alerts.map((a) => `${a.labels.instance}:${a.state}`).sort(), ['eu-web:firing', 'us-web:firing']);
  // The eu link is cut: its data stops arriving.
  w.cut.add('eu');
  w.setData(() => [us(5)]);
  await w.m.evaluateAt(t0 + 4 * 60_000);
  t.same(w.m.alertsResponse().alerts.map((a) => `${a.labels.instance}:${a.state}`).sort(), ['eu-web:firing', 'us-web:firing'], 'eu alert held');
  // A new eu condition (e.g. absent() on its series) does not raise anything while cut.
  w.setData(() => [us(5), { labels: { instance: 'eu-db', datacenter: 'eu' }, value: 9 }]);
  await w.m.evaluateAt(t0 + 5 * 60_000);
  t.notOk(w.m.alertsResponse().alerts.some((a) => a.labels.instance === 'eu-db'));
  // Link back, condition gone: resolves normally.
  w.cut.delete('eu');
  w.setData(() => [us(5)]);
  await w.m.evaluateAt(t0 + 6 * 60_000);
  t.same(w.m.alertsResponse().alerts.map((a) => a.labels.instance), ['us-web']);
});

t.test('VigilAgentDown fires once per cut and resolves when the agent is back', async (t) => {
  const w = setup(t);
  await w.m.load([w.file], 60_000);
  w.m.start();
  w.m.setAgentDown('eu-1', 'eu', true);
  await w.m.idle();
  await w.clock.advance(0);
  await w.m.idle();
  const downs = () => w.sent.flat().filter((a) => a.labels.alertname === 'VigilAgentDown');
  t.equal(downs().length, 1, 'sent at once');
  t.same(downs()[0]!.labels, { agent: 'eu-1', alertname: 'VigilAgentDown', datacenter: 'eu', severity: 'critical' });
  t.match(downs()[0]!.annotations.summary, /Agent eu-1 in datacenter eu is disconnected/);
  w.m.setAgentDown('eu-1', 'eu', true);
  await w.clock.advance(30_000);
  await w.m.idle();
  t.equal(downs().length, 1, 'repeated calls during the cut change nothing');
  const a = w.m.alertsResponse().alerts.filter((x) => x.labels.alertname === 'VigilAgentDown');
  t.equal(a.length, 1);
  t.equal(a[0]!.state, 'firing');
  t.ok(w.appended.some((s) => s.labels.__name__ === 'ALERTS' && s.labels.alertname === 'VigilAgentDown'));
  w.m.setAgentDown('eu-1', 'eu', false);
  await w.clock.advance(0);
  await w.m.idle();
  const last = downs().at(-1)!;
  t.ok(last.endsAt <= w.clock.now(), 'resolved alert sent');
  t.equal(w.m.alertsResponse().alerts.filter((x) => x.labels.alertname === 'VigilAgentDown').length, 0);
  const rules = w.m.rulesResponse().groups.find((g) => g.name === 'vigil')!;
  t.equal(rules.rules[0]!.name, 'VigilAgentDown');
});

t.test('backfilled window: a condition that held during the cut is reported late; an ongoing one takes its true start', async (t) => {
  const w = setup(t);
  await w.m.load([w.file], 60_000);
  const t0 = w.clock.now();
  w.setData(() => []);
  await w.m.evaluateAt(t0);
  w.cut.add('eu');
  // During the cut (t0+1m .. t0+20m) nothing of eu arrived.
  for (let i = 1; i <= 20; i++) await w.m.evaluateAt(t0 + i * 60_000);
  t.same(w.m.alertsResponse().alerts, []);
  // The backlog lands: eu-web was high from 2m to 9m (fired at 5m, ended at 10m); eu-db is high since 15m.
  w.cut.delete('eu');
  await w.clock.advance(20 * 60_000);
  w.setData((ts) => {
    const min = (ts - t0) / 60_000;
    const out: QuerySample[] = [];
    if (min >= 2 && min <= 9) out.push(eu(7));
    if (min >= 15) out.push({ labels: { instance: 'eu-db', datacenter: 'eu' }, value: 3 });
    return out;
  });
  const sentBefore = w.sent.length;
  const report = await w.m.reevaluateWindow('eu', t0 + 60_000, t0 + 20 * 60_000);
  t.equal(report.evaluations, 20);
  t.equal(report.late.length, 1);
  t.same(report.late[0], { rule: 'HighLoad', labels: { instance: 'eu-web', datacenter: 'eu', alertname: 'HighLoad' }, activeAt: t0 + 2 * 60_000, firedAt: t0 + 5 * 60_000, resolvedAt: t0 + 10 * 60_000 });
  t.equal(report.ongoing.length, 1);
  t.equal(report.ongoing[0]!.firedAt, t0 + 18 * 60_000);
  const alerts = w.m.alertsResponse().alerts;
  const late = alerts.find((a) => a.labels.late === 'true')!;
  t.equal(late.state, 'firing');
  t.equal(late.annotations.late, 'true');
  t.equal(late.annotations.late_started_at, new Date(t0 + 5 * 60_000).toISOString());
  t.equal(late.annotations.late_resolved_at, new Date(t0 + 10 * 60_000).toISOString());
  t.equal(late.annotations.summary, 'load 7 on eu-web');
  t.equal(alerts.find((a) => a.labels.instance === 'eu-db')!.state, 'firing');
  const notified = w.sent.slice(sentBefore).flat();
  t.ok(notified.some((a) => a.labels.late === 'true' && a.startsAt === t0 + 5 * 60_000), 'late alert sent with its true start');
  // The late alert is reported firing for 5 minutes, then resolves.
  w.setData((ts) => [{ labels: { instance: 'eu-db', datacenter: 'eu' }, value: 3 }].filter(() => ts > 0));
  await w.m.evaluateAt(w.clock.now() + 60_000);
  t.ok(w.m.alertsResponse().alerts.some((a) => a.labels.late === 'true'));
  await w.m.evaluateAt(w.clock.now() + 6 * 60_000);
  t.notOk(w.m.alertsResponse().alerts.some((a) => a.labels.late === 'true'), 'late alert resolved');
  t.ok(w.m.alertsResponse().alerts.some((a) => a.labels.instance === 'eu-db'), 'ongoing alert keeps firing');
});
