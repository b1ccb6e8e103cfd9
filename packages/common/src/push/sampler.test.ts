import t from 'tap';
import { PushStore, pushRoutes, type MetricMetadata, type Sample } from '../index.js';
import { PushSampler } from './sampler.js';

class MemorySink {
  writes: { samples: Sample[]; metadata?: readonly MetricMetadata[] }[] = [];
  write(samples: readonly Sample[], metadata?: readonly MetricMetadata[]): void {
    this.writes.push({ samples: [...samples], metadata });
  }
  all(): Sample[] { return this.writes.flatMap((w) => w.samples); }
}

function setup(t: { teardown(fn: () => unknown): void }) {
  let now = 1_700_000_000_000;
  const store = new PushStore({ now: () => now });
  const sink = new MemorySink();
  const sampler = new PushSampler({ store, sink, interval: 60_000, externalLabels: { datacenter: 'dc1' }, now: () => now });
  sampler.start();
  t.teardown(() => { sampler.stop(); store.close(); });
  const app = pushRoutes(store);
  return { store, sink, sampler, app, advance: (ms: number) => { now += ms; } };
}

t.test('a push is sampled at once with grouping labels, job, instance and external labels', async (t) => {
  const { sink, app } = setup(t);
  const res = await app.request('/metrics/job/backup/instance/db1', { method: 'POST', body: '# TYPE backup_ok gauge\nbackup_ok 1\n' });
  t.equal(res.status, 200);
  const s = sink.all().find((x) => x.labels.__name__ === 'backup_ok')!;
  t.same(s.labels, { __name__: 'backup_ok', job: 'backup', instance: 'db1', datacenter: 'dc1' });
  t.equal(s.v, 1);
  t.ok(sink.all().some((x) => x.labels.__name__ === 'push_time_seconds' && x.labels.job === 'backup'));
  t.ok(sink.writes.at(-1)!.metadata!.some((m) => m.metric === 'backup_ok' && m.type === 'gauge'));
});

t.test('groups are sampled every interval until deleted, then marked stale', async (t) => {
  const { sink, app, sampler, advance } = setup(t);
  await app.request('/metrics/job/nightly', { method: 'PUT', body: 'rows 42\n' });
  advance(60_000);
  sampler.sample();
  advance(60_000);
  sampler.sample();
  const rows = () => sink.all().filter((x) => x.labels.__name__ === 'rows');
  t.equal(rows().length, 3);
  t.same(rows()[1]!.labels, { __name__: 'rows', job: 'nightly', datacenter: 'dc1' }, 'empty instance is absent');
  await app.request('/metrics/job/nightly', { method: 'DELETE' });
  const stale = sink.all().filter((x) => x.stale);
  t.same(stale.map((x) => x.labels.__name__).sort(), ['push_failure_time_seconds', 'push_time_seconds', 'rows']);
  advance(60_000);
  sampler.sample();
  t.equal(rows().length, 4, 'nothing more after the marker');
});

t.test('a PUT that drops a family and a TTL expiry give staleness markers', async (t) => {
  const { sink, app, store, sampler, advance } = setup(t);
  await app.request('/metrics/job/j', { method: 'PUT', body: 'a 1\nb 2\n' });
  await app.request('/metrics/job/j', { method: 'PUT', body: 'a 3\n' });
  sampler.sample();
  t.ok(sink.all().some((x) => x.stale && x.labels.__name__ === 'b'));
  t.notOk(sink.all().some((x) => x.stale && x.labels.__name__ === 'a'));
  await app.request('/metrics/job/tmp?ttl=30s', { method: 'PUT', body: 'c 1\n' });
  advance(31_000);
  await store.expire();
  t.ok(sink.all().some((x) => x.stale && x.labels.__name__ === 'c'));
});
