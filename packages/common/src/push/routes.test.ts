import t from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PushStore } from './store.js';
import { pushRoutes } from './routes.js';
import { decodeBase64Value, encodeBase64Value, parseGroupingPath } from './grouping.js';
import { decodeProtobufFamilies } from './protobuf.js';

function setup(t: { teardown(fn: () => unknown): void }, opts: ConstructorParameters<typeof PushStore>[0] = {}) {
  const store = new PushStore(opts);
  t.teardown(() => store.close());
  const app = pushRoutes(store);
  const req = (method: string, path: string, body?: string) => app.request(path, body === undefined ? { method } : { method, body });
  return { store, app, req };
}

async function metricsText(app: { request(p: string): Response | Promise<Response> }): Promise<string> {
  return (await app.request('/metrics')).text();
}

t.test('grouping paths, @base64 values and errors', async (t) => {
  t.same(parseGroupingPath('job/backup/instance/db1'), { job: 'backup', instance: 'db1' });
  t.same(parseGroupingPath('job@base64/Zm9vL2Jhcg/path@base64/='), { job: 'foo/bar', path: '' });
  t.same(parseGroupingPath('job/a/path@base64/L3Zhci90bXA'), { job: 'a', path: '/var/tmp' });
  t.equal(decodeBase64Value(encodeBase64Value('/a b/ü')), '/a b/ü');
  t.throws(() => parseGroupingPath('job/a/odd'), /odd number of components/);
  t.throws(() => parseGroupingPath('job/a/1bad/v'), /improper label name "1bad"/);
  t.throws(() => parseGroupingPath('job/a/__x/v'), /improper label name/);
  t.throws(() => parseGroupingPath('job/'), /job name is required/);
});

t.test('PUT stores a group with grouping labels, instance and push_time_seconds', async (t) => {
  let now = 1_700_000_000_000;
  const { req, app, store } = setup(t, { now: () => now });
  const res = await req('PUT', '/metrics/job/backup/instance/db1', '# TYPE backup_bytes gauge\nbackup_bytes{kind="full"} 1024\n');
  t.equal(res.status, 200);
  const text = await metricsText(app);
  t.match(text, 'backup_bytes{instance="db1",job="backup",kind="full"} 1024');
  t.match(text, 'push_time_seconds{instance="db1",job="backup"} 1.7e+09');
  t.match(text, 'push_failure_time_seconds{instance="db1",job="backup"} 0');
  now += 1000;
  t.equal((await req('PUT', '/metrics/job/nightly', 'x 1\n')).status, 200);
  t.match(await metricsText(app), 'x{instance="",job="nightly"} 1');
  t.equal(store.groups().length, 2);
});

t.test('grouping labels override labels in the body, as the Pushgateway does', async (t) => {
  const { req, app } = setup(t);
  t.equal((await req('PUT', '/metrics/job/k1', 'lone{job="other",instance="x",z="1"} 3\n')).status, 200);
  t.match(await metricsText(app), 'lone{instance="x",job="k1",z="1"} 3');
});

t.test('PUT replaces the whole group, POST only families of the same name', async (t) => {
  const { req, app } = setup(t);
  await req('PUT', '/metrics/job/k2', 'a 1\nb 2\n');
  await req('POST', '/metrics/job/k2', 'a 5\n');
  let text = await metricsText(app);
  t.match(text, 'a{instance="",job="k2"} 5');
  t.match(text, 'b{instance="",job="k2"} 2');
  await req('PUT', '/metrics/job/k2', 'c 7\n');
  text = await metricsText(app);
  t.notMatch(text, /^a\{/m);
  t.notMatch(text, /^b\{/m);
  t.match(text, 'c{instance="",job="k2"} 7');
  // An empty PUT empties the group but keeps it (with its push time).
  await req('PUT', '/metrics/job/k2', '');
  text = await metricsText(app);
  t.notMatch(text, /^c\{/m);
  t.match(text, /push_time_seconds\{instance="",job="k2"\} [1-9]/);
});

t.test('DELETE removes the group and answers 202', async (t) => {
  const { req, app, store } = setup(t);
  await req('PUT', '/metrics/job/d/instance/i', 'a 1\n');
  await req('PUT', '/metrics/job/d/instance/j', 'a 2\n');
  const res = await req('DELETE', '/metrics/job/d/instance/i');
  t.equal(res.status, 202);
  t.equal(store.groups().length, 1);
  t.notMatch(await metricsText(app), 'instance="i"');
  t.equal((await req('DELETE', '/metrics/job/none')).status, 202, 'deleting a missing group is fine');
});

t.test('rejections: timestamps, type conflicts, duplicates, bad bodies, bad paths', async (t) => {
  const { req, store } = setup(t);
  await req('PUT', '/metrics/job/j1', '# TYPE some_metric gauge\nsome_metric 1\n');
  const ts = await req('PUT', '/metrics/job/j2', 'm 4 1234\n');
  t.equal(ts.status, 400);
  t.match(await ts.text(), 'pushed metrics must not have timestamps');
  t.ok(store.getGroup({ job: 'j2' })!.failureTime > 0, 'failure recorded as push_failure_time_seconds');
  t.equal(store.getGroup({ job: 'j2' })!.lastPushSuccessful, false);

  const conflict = await req('PUT', '/metrics/job/j3', '# TYPE some_metric counter\nsome_metric 1\n');
  t.equal(conflict.status, 400);
  t.match(await conflict.text(), /inconsistent with existing metrics.*some_metric/);
  const untyped = await req('PUT', '/metrics/job/j3', 'some_metric 1\n');
  t.equal(untyped.status, 400, 'untyped conflicts with gauge too');

  const dup = await req('PUT', '/metrics/job/j4', 'a{x="1"} 1\na{x="1"} 2\n');
  t.equal(dup.status, 400);
  // Same series as another group would produce: job=j5 + instance from body vs group {job=j5,instance=i}.
  await req('PUT', '/metrics/job/j5/instance/i', 'same 1\n');
  t.equal((await req('PUT', '/metrics/job/j5', 'same{instance="i"} 2\n')).status, 400);

  const bad = await req('PUT', '/metrics/job/j6', 'bad{ 1\n');
  t.equal(bad.status, 400);
  t.match(await bad.text(), /parsing error/);
  t.equal((await req('PUT', '/metrics/job/j6/odd', 'a 1\n')).status, 400);
  t.equal((await req('PUT', '/metrics/job/j6/1x/y', 'a 1\n')).status, 400);
  t.equal((await req('PUT', '/metrics/job/j7', 'push_time_seconds 1\n')).status, 400);
  t.equal(store.getGroup({ job: 'j1' })!.families.get('some_metric')!.samples[0]!.value, 1, 'the good group is untouched');
});

t.test('@base64 in the URL', async (t) => {
  const { req, app } = setup(t);
  t.equal((await req('PUT', '/metrics/job@base64/Zm9vL2Jhcg/path@base64/L3Zhci90bXA', 'x 1\n')).status, 200);
  t.match(await metricsText(app), 'x{instance="",job="foo/bar",path="/var/tmp"} 1');
  t.equal((await req('DELETE', '/metrics/job@base64/Zm9vL2Jhcg/path@base64/L3Zhci90bXA')).status, 202);
  t.notMatch(await metricsText(app), 'foo/bar');
});

t.test('GET /api/v1/metrics has the Pushgateway shape', async (t) => {
  const { req, app } = setup(t);
  await req('PUT', '/metrics/job/api/instance/a', '# HELP g A gauge.\n# TYPE g gauge\ng 2\n# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 3\nh_sum 4.5\nh_count 3\n');
  const body = await (await app.request('/api/v1/metrics')).json() as { status: string; data: Record<string, any>[] };
  t.equal(body.status, 'success');
  const g = body.data[0]!;
  t.same(g.labels, { job: 'api', instance: 'a' });
  t.equal(g.last_push_successful, true);
  t.equal(g.g.type, 'GAUGE');
  t.equal(g.g.help, 'A gauge.');
  t.same(g.g.metrics, [{ labels: { instance: 'a', job: 'api' }, value: '2' }]);
  t.same(g.h.metrics, [{ labels: { instance: 'a', job: 'api' }, buckets: { '1': '1', '+Inf': '3' }, count: '3', sum: '4.5' }]);
  t.equal(g.push_time_seconds.type, 'GAUGE');
  t.match(g.push_time_seconds.time_stamp, /^\d{4}-/);
});

t.test('groups persist across restarts (atomic file) and TTL expires them', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-push-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'push.json');
  let now = 1_700_000_000_000;
  const a = setup(t, { file, now: () => now });
  await a.req('PUT', '/metrics/job/backup/instance/db1', '# TYPE done gauge\ndone{step="x"} NaN\nsize +Inf\n');
  await a.req('PUT', '/metrics/job/short?ttl=10s', 'tmp 1\n');
  t.ok(JSON.parse(readFileSync(file, 'utf8')).groups.length === 2, 'written before the 200');
  a.store.close();

  const b = setup(t, { file, now: () => now });
  b.store.load();
  t.equal(b.store.groups().length, 2);
  const text = await metricsText(b.app);
  t.match(text, 'done{instance="db1",job="backup",step="x"} NaN');
  t.match(text, 'size{instance="db1",job="backup"} +Inf');
  const events: string[] = [];
  b.store.onChange((e) => events.push(`${e.kind}:${e.group.labels.job}`));
  now += 11_000;
  t.equal(b.store.groups().length, 1, 'expired groups are hidden at once');
  t.equal(await b.store.expire(), 1);
  t.same(events, ['expire:short']);
  const c = new PushStore({ file, now: () => now });
  t.teardown(() => c.close());
  c.load();
  t.same(c.groups().map((g) => g.labels.job), ['backup'], 'the expiry was persisted');
});

t.test('a default TTL applies to every group and is refreshed by each push', async (t) => {
  let now = 1_000_000;
  const { req, store } = setup(t, { ttl: 5000, now: () => now });
  await req('PUT', '/metrics/job/a', 'x 1\n');
  now += 4000;
  await req('POST', '/metrics/job/a', 'y 1\n');
  now += 4000;
  t.equal(await store.expire(), 0);
  now += 2000;
  t.equal(await store.expire(), 1);
});

t.test('protobuf pushes (client_golang default) decode like their text form', async (t) => {
  // Captured from Debian's Pushgateway 1.5.1 (`Accept: ...protobuf...;encoding=delimited`) after a text push of
  // req_total (counter), temp (gauge), lat (histogram), rpc (summary) and untyped_thing to job=pbtest/instance=i1.
  const fixture = readFileSync(new URL('../../src/push/testdata/pushgateway-metrics.pb', import.meta.url));
  const families = decodeProtobufFamilies(fixture);
  const byName = new Map(families.map((f) => [f.name, f]));
  t.equal(byName.get('req_total')!.type, 'counter');
  t.equal(byName.get('req_total')!.help, 'Requests.');
  t.same(byName.get('req_total')!.samples, [{ name: 'req_total', labels: { code: '200', instance: 'i1', job: 'pbtest' }, value: 7 }]);
  t.same(byName.get('lat')!.samples.map((s) => `${s.name}${s.labels.le ? '@' + s.labels.le : ''}=${s.value}`),
    ['lat_bucket@0.1=1', 'lat_bucket@1=3', 'lat_bucket@+Inf=4', 'lat_sum=2.5', 'lat_count=4']);
  t.same(byName.get('rpc')!.samples.map((s) => `${s.name}${s.labels.quantile ? '@' + s.labels.quantile : ''}=${s.value}`),
    ['rpc@0.5=0.2', 'rpc@0.99=0.9', 'rpc_sum=10', 'rpc_count=20']);
  t.equal(byName.get('untyped_thing')!.type, 'unknown');
  t.equal(byName.get('untyped_thing')!.samples[0]!.value, -3e-05);

  // Pushed through the API (the labels job/instance in the body are overridden by the grouping key).
  const { req: _req, app } = setup(t);
  const res = await app.request('/metrics/job/go/instance/w1', {
    method: 'PUT', body: selectMessages(fixture, ['req_total', 'temp', 'lat', 'rpc', 'untyped_thing']),
    headers: { 'Content-Type': 'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited' },
  });
  t.equal(res.status, 200, await res.clone().text());
  const text = await metricsText(app);
  t.match(text, 'lat_bucket{instance="w1",job="go",le="+Inf"} 4');
  t.match(text, 'req_total{code="200",instance="w1",job="go"} 7');
  const bad = await app.request('/metrics/job/go2', { method: 'PUT', body: new Uint8Array([0x05, 0x0a]), headers: { 'Content-Type': 'application/vnd.google.protobuf; encoding=delimited' } });
  t.equal(bad.status, 400);
});

/** The messages of a delimited MetricFamily stream whose family name is in `names`. */
function selectMessages(stream: Uint8Array, names: string[]): Uint8Array {
  const keep: Uint8Array[] = [];
  let pos = 0;
  while (pos < stream.length) {
    let len = 0;
    let shift = 0;
    const start = pos;
    for (;;) {
      const b = stream[pos++]!;
      len += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if ((b & 0x80) === 0) break;
    }
    const msg = stream.subarray(start, pos + len);
    pos += len;
    if (names.includes(decodeProtobufFamilies(msg)[0]!.name)) keep.push(msg);
  }
  return Buffer.concat(keep);
}

t.test('a push whose labels break the storage limits is refused, not accepted and lost (security issue, defect 8)', async (t) => {
  const { req, store } = setup(t);
  let res = await req('PUT', '/metrics/job/j', `m{big="${'x'.repeat(10_000)}"} 1\n`);
  t.equal(res.status, 400);
  t.match(await res.text(), /value of label big has 10000 characters, over the limit of 4096/);
  const many = Array.from({ length: 70 }, (_, i) => `l${i}="v"`).join(',');
  res = await req('PUT', '/metrics/job/j', `m{${many}} 1\n`);
  t.equal(res.status, 400);
  t.match(await res.text(), /labels exceed the limit of 56/);
  res = await req('PUT', `/metrics/job/${'y'.repeat(5000)}`, 'm 1\n');
  t.equal(res.status, 400, 'a grouping label counts too');
  t.equal(store.groups().length, 0, 'nothing was kept');
  res = await req('PUT', '/metrics/job/j', 'm{ok="1"} 1\n');
  t.equal(res.status, 200);
});
