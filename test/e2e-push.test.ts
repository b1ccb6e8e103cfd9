import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, eventually, getJson, startProc, tempDir } from './lib/proc.js';

// A short-lived job pushes to the agent (DESIGN §6); the group reaches the hub with the agent's external labels
// and stays until deleted, also across an agent restart.
t.test('a job pushed to the agent is queryable at the hub until deleted', async (t) => {
  const dir = tempDir('push');
  t.teardown(dir.remove);
  const hub = await startProc(BIN.hub, ['--listen', '127.0.0.1:0', '--data-dir', join(dir.path, 'hub')]);
  t.teardown(() => hub.stop());
  const config = join(dir.path, 'agent.yml');
  writeFileSync(config, 'global:\n  scrape_interval: 1s\nhost_exporter:\n  enabled: false\n');
  const agentArgs = ['--config', config, '--hub', hub.url.replace('http', 'ws'), '--listen', '127.0.0.1:0', '--data-dir', join(dir.path, 'agent'), '--datacenter', 'dc-push'];
  let agent = await startProc(BIN.agent, agentArgs);
  t.teardown(() => agent.stop());

  const res = await fetch(`${agent.url}/metrics/job/backup/instance/db1`, {
    method: 'POST',
    body: '# TYPE backup_last_success_timestamp_seconds gauge\nbackup_last_success_timestamp_seconds 1700000000\n',
  });
  t.equal(res.status, 200);
  const q = `${hub.url}/api/v1/query?query=${encodeURIComponent('backup_last_success_timestamp_seconds')}`;
  const body = await eventually(async () => {
    const b = await getJson(q);
    return b.data?.result?.length ? b : undefined;
  }, 30_000);
  const s = body.data.result[0];
  t.equal(s.metric.job, 'backup');
  t.equal(s.metric.instance, 'db1');
  t.equal(s.metric.datacenter, 'dc-push');
  t.equal(s.value[1], '1700000000');
  const pushTime = await getJson(`${hub.url}/api/v1/query?query=${encodeURIComponent('push_time_seconds{job="backup"}')}`);
  t.equal(pushTime.data.result.length, 1, 'push_time_seconds is exposed for the group');

  // The group survives an agent restart and keeps being sampled.
  await agent.stop();
  agent = await startProc(BIN.agent, agentArgs);
  const before = Number((await getJson(`${hub.url}/api/v1/query?query=${encodeURIComponent('timestamp(backup_last_success_timestamp_seconds)')}`)).data.result[0].value[1]);
  await eventually(async () => {
    const b = await getJson(`${hub.url}/api/v1/query?query=${encodeURIComponent('timestamp(backup_last_success_timestamp_seconds)')}`);
    return Number(b.data.result[0]?.value[1]) > before + 1;
  }, 45_000);
  t.pass('still sampled after the agent restarted');

  const del = await fetch(`${agent.url}/metrics/job/backup/instance/db1`, { method: 'DELETE' });
  t.equal(del.status, 202);
  await eventually(async () => (await getJson(q)).data.result.length === 0, 45_000);
  t.pass('gone (staleness) after DELETE');
});

t.test('the hub serves the Pushgateway API too', async (t) => {
  const dir = tempDir('hubpush');
  t.teardown(dir.remove);
  const hub = await startProc(BIN.hub, ['--listen', '127.0.0.1:0', '--data-dir', join(dir.path, 'hub')]);
  t.teardown(() => hub.stop());
  const res = await fetch(`${hub.url}/metrics/job/cron/host@base64/ZGIvMQ==`, { method: 'PUT', body: 'cron_last_run_seconds 99\n' });
  t.equal(res.status, 200);
  const q = `${hub.url}/api/v1/query?query=cron_last_run_seconds`;
  const body = await eventually(async () => { const b = await getJson(q); return b.data.result.length ? b : undefined; }, 10_000);
  t.same(body.data.result[0].metric, { __name__: 'cron_last_run_seconds', job: 'cron', host: 'db/1' }, '@base64 grouping label decoded');
  const bad = await fetch(`${hub.url}/metrics/job/cron`, { method: 'POST', body: 'x 1 1700000000000\n' });
  t.equal(bad.status, 400, 'pushed timestamps are refused');
  t.equal((await fetch(`${hub.url}/metrics/job/cron/host@base64/ZGIvMQ==`, { method: 'DELETE' })).status, 202);
  await eventually(async () => (await getJson(q)).data.result.length === 0, 10_000);
  t.pass('deleted group goes stale at the hub');
});
