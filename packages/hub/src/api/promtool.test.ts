// promtool (Prometheus' own client) must be able to query the API. Runs only where /usr/bin/promtool exists.
import t from 'tap';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { serve } from '@hono/node-server';
import { Engine } from '../promql/engine.js';
import { MemQueryable } from '../promql/testing/memory.js';
import type { Storage } from '../storage/types.js';
import { queryRoutes } from './query.js';

const PROMTOOL = '/usr/bin/promtool';
const run = promisify(execFile);

if (!existsSync(PROMTOOL)) {
  t.test('promtool', { skip: 'promtool not installed (Debian package prometheus)' }, async () => {});
} else {
  const now = Date.now();
  const mem = new MemQueryable();
  for (let i = 0; i < 20; i++) {
    mem.add({ __name__: 'up', job: 'node', instance: 'h1:9100' }, now - i * 15_000, 1);
    mem.add({ __name__: 'node_load1', job: 'node', instance: 'h1:9100' }, now - i * 15_000, 0.5);
  }
  const storage = { querier: (a: number, b: number) => mem.querier(a, b) } as unknown as Storage;
  const app = queryRoutes({ queryable: mem, storage, engine: new Engine() });
  const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const promtool = async (...args: string[]): Promise<string> => (await run(PROMTOOL, args, { timeout: 20_000 })).stdout;

  t.test('promtool query instant', async (t) => {
    const out = await promtool('query', 'instant', url, 'sum by (job) (up)');
    t.match(out, /\{job="node"\} => 1 @\[/);
  });

  t.test('promtool query range', async (t) => {
    const end = Math.floor(now / 1000);
    const out = await promtool('query', 'range', '--start', String(end - 120), '--end', String(end), '--step', '1m', url, 'node_load1');
    t.match(out, /node_load1\{instance="h1:9100", job="node"\} =>\n0\.5 @\[/);
  });

  t.test('promtool query series', async (t) => {
    const out = await promtool('query', 'series', '--match', 'up', url);
    t.match(out, /\{__name__="up", instance="h1:9100", job="node"\}/);
  });

  t.test('promtool query labels', async (t) => {
    const out = await promtool('query', 'labels', url, 'job');
    t.match(out, /^node$/m);
  });
}
