import { Hono } from 'hono';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SECTIONS = ['explore', 'dashboards', 'agents', 'targets', 'alerts', 'status'];
const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };

/** The built-in web UI: a single page whose sections each have their own URL; assets are read once at start. */
export function uiRoutes(): Hono {
  const staticDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'static');
  const uplotDir = dirname(createRequire(import.meta.url).resolve('uplot/dist/uPlot.min.css'));
  const assets = new Map<string, { body: string; type: string }>();
  const add = (name: string, file: string) => assets.set(name, { body: readFileSync(file, 'utf8'), type: TYPES[file.slice(file.lastIndexOf('.'))]! });
  add('app.js', join(staticDir, 'app.js'));
  add('app.css', join(staticDir, 'app.css'));
  add('uPlot.iife.min.js', join(uplotDir, 'uPlot.iife.min.js'));
  add('uPlot.min.css', join(uplotDir, 'uPlot.min.css'));
  const index = readFileSync(join(staticDir, 'index.html'), 'utf8');

  const app = new Hono();
  app.get('/static/:file', (c) => {
    const a = assets.get(c.req.param('file'));
    return a ? c.body(a.body, 200, { 'Content-Type': a.type, 'Cache-Control': 'max-age=300' }) : c.notFound();
  });
  app.get('/', (c) => c.html(index));
  for (const s of SECTIONS) app.get(`/${s}`, (c) => c.html(index));
  app.get('/graph', (c) => c.redirect('/explore'));
  return app;
}
