import { Hono } from 'hono';
import type { HostExporter } from './exporter.js';
import { OPENMETRICS_CONTENT_TYPE, TEXT_CONTENT_TYPE, writeOpenMetrics, writeText } from './exposition.js';
import { VERSION } from './version.js';

const INDEX = `<!doctype html>
<html><head><meta charset="utf-8"><title>Vigil host exporter</title></head>
<body>
<h1>Vigil host exporter</h1>
<p>Version ${VERSION}. Host metrics with node_exporter's names.</p>
<p><a href="/metrics">Metrics</a></p>
</body></html>
`;

/** True when the Accept header prefers OpenMetrics (as Prometheus asks when it can parse it). */
export function wantsOpenMetrics(accept: string | undefined): boolean {
  return !!accept && /application\/openmetrics-text/i.test(accept);
}

/** The exporter's HTTP app: `/metrics` (text format, or OpenMetrics when asked) and `/`. */
export function createApp(exporter: HostExporter): Hono {
  const app = new Hono();
  app.get('/', (c) => c.html(INDEX));
  app.get('/metrics', async (c) => {
    const families = await exporter.collect();
    if (wantsOpenMetrics(c.req.header('accept'))) {
      return c.body(writeOpenMetrics(families), 200, { 'Content-Type': OPENMETRICS_CONTENT_TYPE });
    }
    return c.body(writeText(families), 200, { 'Content-Type': TEXT_CONTENT_TYPE });
  });
  return app;
}
