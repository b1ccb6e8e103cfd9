import t from 'tap';
import { createServer } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, eventually, getJson, startProc, tempDir } from './lib/proc.js';

// Rules and the built-in notifier inside a real hub: an alerting rule over imported data fires, reaches a webhook
// in Alertmanager's format, shows in /api/v1/alerts and /api/v2/alerts, and a silence suppresses it.
t.test('an alerting rule fires and notifies a webhook', async (t) => {
  const dir = tempDir('alerting');
  t.teardown(dir.remove);
  const received: any[] = [];
  const hook = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => { received.push(JSON.parse(body)); res.end('ok'); });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  t.teardown(() => hook.close());
  const hookUrl = `http://127.0.0.1:${(hook.address() as { port: number }).port}/hook`;

  writeFileSync(join(dir.path, 'rules.yml'), [
    'groups:',
    '  - name: demo',
    '    interval: 1s',
    '    rules:',
    '      - record: job:queue_depth:max',
    '        expr: max by (job) (queue_depth)',
    '      - alert: QueueTooDeep',
    '        expr: queue_depth > 100',
    '        labels: { severity: page }',
    '        annotations: { summary: "queue {{ $labels.queue }} holds {{ $value }} items" }',
  ].join('\n'));
  writeFileSync(join(dir.path, 'hub.yml'), [
    'evaluation_interval: 1s',
    'rule_files: [rules.yml]',
    'alerting:',
    '  route:',
    '    receiver: hook',
    '    group_by: [alertname]',
    '    group_wait: 0s',
    '    group_interval: 1s',
    '  receivers:',
    '    - name: hook',
    `      webhook_configs: [{ url: "${hookUrl}" }]`,
  ].join('\n'));
  const hub = await startProc(BIN.hub, ['--config', join(dir.path, 'hub.yml'), '--listen', '127.0.0.1:0', '--data-dir', join(dir.path, 'hub')]);
  t.teardown(() => hub.stop());

  // Keep the series fresh so the rule sees it at each evaluation.
  const feed = async () => {
    const now = Date.now();
    await fetch(`${hub.url}/api/v1/import/prometheus`, { method: 'POST', body: `queue_depth{job="worker",queue="mail"} 250 ${now}\nqueue_depth{job="worker",queue="sms"} 3 ${now}\n` });
  };
  await feed();
  const feeder = setInterval(() => void feed(), 1000);
  t.teardown(() => clearInterval(feeder));

  const msg = await eventually(async () => received.find((m) => m.status === 'firing'), 20_000);
  t.equal(msg.version, '4');
  t.equal(msg.receiver, 'hook');
  t.equal(msg.alerts.length, 1);
  t.equal(msg.alerts[0].labels.alertname, 'QueueTooDeep');
  t.equal(msg.alerts[0].labels.queue, 'mail');
  t.equal(msg.alerts[0].annotations.summary, 'queue mail holds 250 items');

  const alerts = await getJson(`${hub.url}/api/v1/alerts`);
  t.equal(alerts.data.alerts[0].state, 'firing');
  const rec = await eventually(async () => (await getJson(`${hub.url}/api/v1/query?query=job:queue_depth:max`)).data.result[0], 10_000);
  t.equal(rec.value[1], '250', 'the recording rule wrote its series');
  const fired = await getJson(`${hub.url}/api/v1/query?query=${encodeURIComponent('ALERTS{alertstate="firing"}')}`);
  t.equal(fired.data.result.length, 1, 'ALERTS series');
  const rules = await getJson(`${hub.url}/api/v1/rules`);
  t.equal(rules.data.groups.find((g: any) => g.name === 'demo').rules.length, 2);

  const v2 = await getJson(`${hub.url}/api/v2/alerts`);
  t.ok(v2.some((a: any) => a.labels.alertname === 'QueueTooDeep' && a.status.state === 'active'));
  const sil = await fetch(`${hub.url}/api/v2/silences`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ matchers: [{ name: 'alertname', value: 'QueueTooDeep', isRegex: false, isEqual: true }], startsAt: new Date().toISOString(),
      endsAt: new Date(Date.now() + 3600_000).toISOString(), createdBy: 'test', comment: 'maintenance' }),
  });
  t.equal(sil.status, 200);
  await eventually(async () => (await getJson(`${hub.url}/api/v2/alerts`)).some((a: any) => a.labels.alertname === 'QueueTooDeep' && a.status.state === 'suppressed'), 10_000);
  t.pass('the silence suppresses the alert');
});
