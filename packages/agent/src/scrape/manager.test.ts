import t from 'tap';
import http from 'node:http';
import { gzipSync } from 'node:zlib';
import type { AddressInfo } from 'node:net';
import { parseAgentConfig, type MetricMetadata, type Sample } from '@vigil/common';
import { ScrapeManager } from './manager.js';

class MemorySink {
  samples: Sample[] = [];
  metadata: MetricMetadata[] = [];
  write(samples: readonly Sample[], metadata?: readonly MetricMetadata[]): void {
    this.samples.push(...samples);
    if (metadata) this.metadata.push(...metadata);
  }
  of(name: string, match: Record<string, string> = {}): Sample[] {
    return this.samples.filter((s) => s.labels.__name__ === name && Object.entries(match).every(([k, v]) => s.labels[k] === v));
  }
}

async function waitFor(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const GOOD = '# HELP requests_total Requests.\n# TYPE requests_total counter\nrequests_total{code="200"} 10\nrequests_total{code="500"} 2\n# TYPE temp gauge\ntemp 21.5\n';
const OM = '# TYPE events counter\n# HELP events Events.\nevents_total 3\n# EOF\n';

interface Seen { accept?: string; auth?: string; path?: string }

/** One server with a route per failure mode. */
async function startServer(t: { teardown(fn: () => unknown): void }) {
  const seen: Record<string, Seen> = {};
  const state = { flip: false };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    seen[url.pathname] = { accept: req.headers.accept, auth: req.headers.authorization, path: req.url };
    switch (url.pathname) {
      case '/good':
        if (/gzip/.test(String(req.headers['accept-encoding']))) {
          res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4', 'content-encoding': 'gzip' });
          res.end(gzipSync(GOOD));
        } else {
          res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
          res.end(GOOD);
        }
        return;
      case '/om':
        res.writeHead(200, { 'content-type': 'application/openmetrics-text; version=1.0.0; charset=utf-8' });
        res.end(OM);
        return;
      case '/flip':
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(state.flip ? 'a 1\n' : 'a 1\nb 2\n');
        return;
      case '/slow':
        setTimeout(() => { res.writeHead(200); res.end('x 1\n'); }, 1000);
        return;
      case '/500':
        res.writeHead(500);
        res.end('oops');
        return;
      case '/bad':
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('ok_metric 1\nbroken{a="b" 1\n');
        return;
      case '/many':
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(Array.from({ length: 20 }, (_, i) => `m{i="${i}"} ${i}\n`).join(''));
        return;
      case '/auth':
        if (req.headers.authorization !== 'Basic ' + Buffer.from('u:p').toString('base64') && req.headers.authorization !== 'Bearer tok') {
          res.writeHead(401);
          res.end();
          return;
        }
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('authed 1\n');
        return;
      default:
        res.writeHead(404);
        res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));
  const addr = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { addr, seen, state };
}

function job(name: string, addr: string, path: string, extra = ''): string {
  return `  - job_name: ${name}\n    scrape_interval: 300ms\n    scrape_timeout: 250ms\n    metrics_path: ${path}\n${extra}    static_configs:\n      - targets: ['${addr}']\n`;
}

t.test('scrapes a static target with gzip and content negotiation, adds labels and metadata', async (t) => {
  const { addr, seen } = await startServer(t);
  const sink = new MemorySink();
  const m = new ScrapeManager({ sink, externalLabels: { datacenter: 'dc1' } });
  t.teardown(() => m.stop());
  await m.applyConfig(parseAgentConfig(`scrape_configs:\n${job('web', addr, '/good')}${job('om', addr, '/om')}`));
  await waitFor('samples', () => sink.of('requests_total').length >= 2 && sink.of('events_total').length >= 1);
  const s = sink.of('requests_total', { code: '200' })[0]!;
  t.same(s.labels, { __name__: 'requests_total', code: '200', job: 'web', instance: addr, datacenter: 'dc1' });
  t.equal(s.v, 10);
  t.equal(sink.of('up', { job: 'web' })[0]!.v, 1);
  t.equal(sink.of('scrape_samples_scraped', { job: 'web' })[0]!.v, 3);
  t.ok(sink.metadata.some((md) => md.metric === 'requests_total' && md.type === 'counter' && md.help === 'Requests.'));
  t.match(seen['/good']!.accept, /^application\/openmetrics-text;version=1\.0\.0.*text\/plain;version=0\.0\.4;q=0\.5/);
  t.equal(sink.of('events_total', { job: 'om' })[0]!.v, 3, 'OpenMetrics body parsed as OpenMetrics');

  const view = m.targets();
  const web = view.activeTargets.find((x) => x.scrapePool === 'web')!;
  t.equal(web.scrapeUrl, `http://${addr}/good`);
  t.equal(web.health, 'up');
  t.equal(web.lastError, '');
  t.equal(web.scrapeInterval, '300ms');
  t.equal(web.scrapeTimeout, '250ms');
  t.same(web.labels, { instance: addr, job: 'web' });
  t.equal(web.discoveredLabels.__address__, addr);
  t.equal(web.discoveredLabels.__metrics_path__, '/good');
  t.match(web.lastScrape, /^\d{4}-\d\d-\d\dT/);
});

t.test('each scrape failure mode gives up=0 with the error, and other targets are unaffected', async (t) => {
  const { addr } = await startServer(t);
  const sink = new MemorySink();
  const m = new ScrapeManager({ sink });
  t.teardown(() => m.stop());
  const cfg = `scrape_configs:\n${job('good', addr, '/good')}${job('slow', addr, '/slow')}${job('e500', addr, '/500')}${job('bad', addr, '/bad')}${job('many', addr, '/many', '    sample_limit: 10\n')}`;
  await m.applyConfig(parseAgentConfig(cfg));
  const jobs = ['good', 'slow', 'e500', 'bad', 'many'];
  await waitFor('a report from every job', () => jobs.every((j) => sink.of('up', { job: j }).length > 0));
  const up = (j: string) => sink.of('up', { job: j })[0]!.v;
  t.equal(up('good'), 1);
  for (const j of ['slow', 'e500', 'bad', 'many']) t.equal(up(j), 0, `${j} is down`);
  const errors = Object.fromEntries(m.targets().activeTargets.map((x) => [x.scrapePool, x.lastError]));
  t.match(errors.slow, /context deadline exceeded/);
  t.equal(errors.e500, 'server returned HTTP status 500 Internal Server Error');
  t.match(errors.bad, /line 2/);
  t.equal(errors.many, 'sample limit exceeded');
  t.equal(m.targets().activeTargets.find((x) => x.scrapePool === 'bad')!.health, 'down');
  t.equal(sink.of('ok_metric').length, 0, 'nothing of a malformed body is kept');
  t.equal(sink.of('m').length, 0, 'nothing of an over-limit scrape is kept');
  t.ok(sink.of('requests_total').length >= 2, 'the good target still delivers');
});

t.test('a series that disappears and a removed target get staleness markers; reload keeps unchanged targets', async (t) => {
  const { addr, state } = await startServer(t);
  const sink = new MemorySink();
  const m = new ScrapeManager({ sink });
  t.teardown(() => m.stop());
  const one = `scrape_configs:\n${job('flip', addr, '/flip')}`;
  const two = `${one}${job('web', addr, '/good')}`;
  await m.applyConfig(parseAgentConfig(two));
  await waitFor('b scraped', () => sink.of('b').length > 0 && sink.of('requests_total').length > 0);
  state.flip = true;
  await waitFor('b stale', () => sink.of('b').some((s) => s.stale));
  t.equal(sink.of('b').filter((s) => s.stale).length, 1);
  t.notOk(sink.of('a').some((s) => s.stale));

  // Applying the same config again is a no-op: no stale markers.
  const before = sink.samples.filter((s) => s.stale).length;
  const upsBefore = sink.of('up').length;
  await m.applyConfig(parseAgentConfig(two));
  await new Promise((r) => setTimeout(r, 500));
  // A scrape that times out on a loaded machine legitimately marks series stale: only judge clean windows.
  if (sink.of('up').slice(upsBefore).every((s) => s.v === 1)) {
    t.equal(sink.samples.filter((s) => s.stale).length, before, 'reload of an unchanged config writes no stale markers');
  }

  // Dropping the web job: its series go stale after about two intervals.
  await m.applyConfig(parseAgentConfig(one));
  t.equal(m.targets().activeTargets.length, 1);
  await m.settle();
  t.ok(sink.of('requests_total').some((s) => s.stale));
  t.ok(sink.of('up', { job: 'web' }).some((s) => s.stale));
  t.notOk(sink.of('a').some((s) => s.stale), 'the other job is untouched');
});

t.test('a changed scrape config keeps the target series state', async (t) => {
  const { addr } = await startServer(t);
  const sink = new MemorySink();
  const m = new ScrapeManager({ sink });
  t.teardown(() => m.stop());
  await m.applyConfig(parseAgentConfig(`scrape_configs:\n${job('web', addr, '/good')}`));
  await waitFor('scraped', () => sink.of('temp').length > 0);
  await m.applyConfig(parseAgentConfig(`scrape_configs:\n${job('web', addr, '/good', '    sample_limit: 100\n')}`));
  const n = sink.of('temp').length;
  await waitFor('scraped again', () => sink.of('temp').length > n + 1);
  await m.settle();
  if (sink.of('up').every((s) => s.v === 1)) t.equal(sink.samples.filter((s) => s.stale).length, 0);
});

t.test('target relabeling: params, metrics path, dropped targets', async (t) => {
  const { addr, seen } = await startServer(t);
  const sink = new MemorySink();
  const m = new ScrapeManager({ sink });
  t.teardown(() => m.stop());
  await m.applyConfig(parseAgentConfig(`scrape_configs:
  - job_name: r
    scrape_interval: 200ms
    scrape_timeout: 100ms
    params: { module: [http_2xx] }
    static_configs:
      - targets: ['${addr}', 'drop.me:9100']
        labels: { env: prod }
    relabel_configs:
      - source_labels: [__address__]
        regex: 'drop\\.me:.*'
        action: drop
      - target_label: __metrics_path__
        replacement: /good
      - source_labels: [env]
        target_label: __param_env
      - source_labels: [__address__]
        regex: '([^:]+):.*'
        target_label: __tmp_host
      - source_labels: [__tmp_host]
        target_label: host
`));
  await waitFor('scraped', () => sink.of('temp').length > 0);
  const view = m.targets();
  t.equal(view.activeTargets.length, 1);
  t.equal(view.droppedTargets.length, 1);
  t.equal(view.droppedTargets[0]!.discoveredLabels.__address__, 'drop.me:9100');
  t.equal(view.activeTargets[0]!.scrapeUrl, `http://${addr}/good?env=prod&module=http_2xx`);
  t.equal(seen['/good']!.path, '/good?env=prod&module=http_2xx');
  t.same(sink.of('temp')[0]!.labels, { __name__: 'temp', env: 'prod', host: '127.0.0.1', instance: addr, job: 'r' });
});

t.test('basic auth and bearer tokens', async (t) => {
  const { addr } = await startServer(t);
  const sink = new MemorySink();
  const m = new ScrapeManager({ sink });
  t.teardown(() => m.stop());
  await m.applyConfig(parseAgentConfig(`scrape_configs:
${job('basic', addr, '/auth', '    basic_auth: { username: u, password: p }\n')}${job('bearer', addr, '/auth', '    bearer_token: tok\n')}${job('none', addr, '/auth')}`));
  await waitFor('all reported', () => ['basic', 'bearer', 'none'].every((j) => sink.of('up', { job: j }).length > 0));
  t.equal(sink.of('up', { job: 'basic' })[0]!.v, 1);
  t.equal(sink.of('up', { job: 'bearer' })[0]!.v, 1);
  t.equal(sink.of('up', { job: 'none' })[0]!.v, 0);
  t.match(m.targets().activeTargets.find((x) => x.scrapePool === 'none')!.lastError, /401/);
});

t.test('local targets run beside the config and survive reloads', async (t) => {
  const sink = new MemorySink();
  const m = new ScrapeManager({ sink, externalLabels: { datacenter: 'dc1' } });
  t.teardown(() => m.stop());
  await m.applyConfig(parseAgentConfig('scrape_configs: []\n'));
  m.addLocalTarget('node', 'host1', 100, async () => [
    { name: 'node_load1', type: 'gauge', help: 'Load.', samples: [{ name: 'node_load1', labels: {}, value: 0.5 }] },
  ]);
  await waitFor('load', () => sink.of('node_load1').length > 0);
  t.same(sink.of('node_load1')[0]!.labels, { __name__: 'node_load1', job: 'node', instance: 'host1', datacenter: 'dc1' });
  t.equal(sink.of('up', { job: 'node' })[0]!.v, 1);
  await m.applyConfig(parseAgentConfig('scrape_configs: []\n'));
  t.equal(m.targets().activeTargets[0]!.scrapePool, 'node');
  t.ok(sink.metadata.some((md) => md.metric === 'node_load1'));
});

t.test('GET /api/v1/targets in Prometheus envelope with state and scrapePool filters', async (t) => {
  const { targetsRoutes } = await import('./routes.js');
  const { addr } = await startServer(t);
  const sink = new MemorySink();
  const m = new ScrapeManager({ sink });
  t.teardown(() => m.stop());
  await m.applyConfig(parseAgentConfig(`scrape_configs:\n${job('a', addr, '/good')}${job('b', addr, '/good')}  - job_name: c
    static_configs: [{ targets: ['x:1'] }]
    relabel_configs: [{ action: drop, source_labels: [__address__], regex: 'x:1' }]
`));
  const app = targetsRoutes(m);
  const all = await (await app.request('/api/v1/targets')).json() as { status: string; data: { activeTargets: { scrapePool: string }[]; droppedTargets: unknown[] } };
  t.equal(all.status, 'success');
  t.equal(all.data.activeTargets.length, 2);
  t.equal(all.data.droppedTargets.length, 1);
  const a = await (await app.request('/api/v1/targets?state=active&scrapePool=a')).json() as typeof all;
  t.same(a.data.activeTargets.map((x) => x.scrapePool), ['a']);
  t.equal(a.data.droppedTargets.length, 0);
});
