import t from 'tap';
import { HostExporter } from './exporter.js';
import { createApp } from './server.js';

const app = createApp(new HostExporter({ collectors: ['loadavg', 'cpu', 'meminfo'] }));

t.test('/metrics answers the text format', async (t) => {
  const res = await app.request('/metrics');
  t.equal(res.status, 200);
  t.match(res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  const body = await res.text();
  t.match(body, /^# HELP node_cpu_seconds_total Seconds the CPUs spent in each mode\.\n# TYPE node_cpu_seconds_total counter\n/m);
  t.match(body, /^node_cpu_seconds_total\{cpu="0",mode="idle"\} \d/m);
  t.match(body, /^node_load1 \d/m);
  t.match(body, /^node_scrape_collector_success\{collector="loadavg"\} 1$/m);
  t.notMatch(body, /# EOF/);
});

t.test('/metrics answers OpenMetrics when the Accept header asks for it', async (t) => {
  const res = await app.request('/metrics', { headers: { Accept: 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5' } });
  t.equal(res.status, 200);
  t.match(res.headers.get('content-type'), /^application\/openmetrics-text; version=1\.0\.0/);
  const body = await res.text();
  t.match(body, /^# TYPE node_cpu_seconds counter$/m);
  t.match(body, /^node_cpu_seconds_total\{cpu="0",mode="idle"\} \d/m);
  t.ok(body.endsWith('# EOF\n'));
});

t.test('/ is a small HTML page linking /metrics', async (t) => {
  const res = await app.request('/');
  t.equal(res.status, 200);
  t.match(res.headers.get('content-type'), /text\/html/);
  t.match(await res.text(), /href="\/metrics"/);
});
