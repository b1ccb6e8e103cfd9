import { Hono } from 'hono';
import { negotiate, writeOpenMetrics, writeText } from '@vigil/common';
import type { HostExporter } from './exporter.js';
import { VERSION } from './version.js';

const INDEX = `<!doctype html>
<html><head><meta charset="utf-8"><title>Vigil host exporter</title></head>
<body>
<h1>Vigil host exporter</h1>
<p>Version ${VERSION}. Host metrics with node_exporter's names.</p>
<p><a href="/metrics">Metrics</a></p>
</body></html>
`;

/** The exporter's HTTP app: `/metrics` (text format, or OpenMetrics when asked) and `/`. */
export function createApp(exporter: HostExporter): Hono {
  const app = new Hono();
  app.get('/', (c) => c.html(INDEX));
  app.get('/metrics', async (c) => {
    const families = await exporter.collect();
    const { format, contentType } = negotiate(c.req.header('accept'));
    const body = format === 'openmetrics' ? writeOpenMetrics(families) : writeText(families);
    return c.body(body, 200, { 'Content-Type': contentType });
  });
  return app;
}
