import t from 'tap';
import { Hono } from 'hono';
import { Registry } from 'prom-client';
import { AuthThrottle, Credentials, silentLogger } from '@vigil/common';
import { createHubApp, type HubAppDeps } from './app.js';

function app(over: Partial<HubAppDeps> = {}) {
  let ready = false;
  const echo = new Hono();
  echo.post('/api/v1/query', async (c) => c.text(String((await c.req.text()).length)));
  echo.post('/api/v1/import/prometheus', async (c) => c.text(String((await c.req.text()).length)));
  const a = createHubApp({
    logger: silentLogger, registry: new Registry(), routers: [echo], ready: () => ready, configYaml: () => 'listen: x\n', flags: { a: 'b' },
    reload: async () => { throw new Error('bad line 3'); }, flush: async () => {}, targets: () => ({ activeTargets: [{ x: 1 }], droppedTargets: [] }),
    maxBodyBytes: 1024, ...over,
  });
  return { a, setReady: () => { ready = true; } };
}

t.test('health, readiness and status endpoints', async (t) => {
  const { a, setReady } = app();
  t.equal((await a.request('/-/healthy')).status, 200);
  t.equal((await a.request('/-/ready')).status, 503);
  setReady();
  t.equal((await a.request('/-/ready')).status, 200);
  const flags = await (await a.request('/api/v1/status/flags')).json();
  t.same(flags, { status: 'success', data: { a: 'b' } });
  const targets = (await (await a.request('/api/v1/targets?state=active')).json()) as { data: { activeTargets: unknown[] } };
  t.same(targets.data.activeTargets, [{ x: 1 }]);
  const bad = await a.request('/-/reload', { method: 'POST' });
  t.equal(bad.status, 500);
  t.match(await bad.text(), /bad line 3/);
  t.equal((await a.request('/nope')).status, 404);
});

t.test('request bodies are bounded except the streaming import', async (t) => {
  const { a } = app();
  const big = 'x'.repeat(4096);
  const res = await a.request('/api/v1/query', { method: 'POST', body: big });
  t.equal(res.status, 413);
  t.equal(((await res.json()) as { errorType: string }).errorType, 'bad_data');
  const imp = await a.request('/api/v1/import/prometheus', { method: 'POST', body: big });
  t.equal(await imp.text(), '4096');
});

t.test('basic auth with bcrypt hashes guards the API but not health', async (t) => {
  // bcrypt hash of "secret"
  const bcrypt = (await import('bcryptjs')).default;
  const creds = new Credentials({ basic_auth_users: { admin: await bcrypt.hash('secret', 4) }, tokens: [] });
  const { a } = app({ auth: { credentials: () => creds } });
  t.equal((await a.request('/-/healthy')).status, 200);
  t.equal((await a.request('/api/v1/status/flags')).status, 401);
  const auth = (p: string) => ({ headers: { Authorization: `Basic ${Buffer.from(p).toString('base64')}` } });
  t.equal((await a.request('/api/v1/status/flags', auth('admin:wrong'))).status, 401);
  t.equal((await a.request('/api/v1/status/flags', auth('admin:secret'))).status, 200);
});

t.test('scoped tokens: 401 with a challenge, 403 without the scope, 429 after repeated wrong tokens, all as JSON errors', async (t) => {
  const read = 'read-only-token-0123';
  const admin = 'admin-only-token-0123';
  const creds = new Credentials({ basic_auth_users: {}, tokens: [{ token: read, scopes: ['read'] }, { token: admin, scopes: ['admin'] }] });
  const { a } = app({ auth: { credentials: () => creds, throttle: new AuthThrottle({ freeFailures: 2 }) } });
  const as = (token: string, method = 'GET') => ({ method, headers: { Authorization: `Bearer ${token}` } });
  const none = await a.request('/api/v1/status/flags');
  t.equal(none.status, 401);
  t.equal(none.headers.get('www-authenticate'), 'Bearer realm="vigil hub"');
  t.same(await none.json(), { status: 'error', errorType: 'unauthorized', error: 'authentication required' });
  t.equal((await a.request('/api/v1/status/flags', as(read))).status, 200);
  const denied = await a.request('/api/v1/admin/tsdb/flush', as(read, 'POST'));
  t.equal(denied.status, 403);
  t.equal(((await denied.json()) as { errorType: string }).errorType, 'forbidden');
  t.equal((await a.request('/api/v1/admin/tsdb/flush', as(admin, 'POST'))).status, 204);
  t.equal((await a.request('/api/v1/query', { ...as(read, 'POST'), body: 'query=up' })).status, 200, 'query forms are reads');
  t.equal((await a.request('/api/v1/import/prometheus', { ...as(read, 'POST'), body: 'x 1' })).status, 403);
  t.equal((await a.request('/-/ready')).status, 503, 'health needs no credentials');
  for (let i = 0; i < 3; i++) await a.request('/api/v1/status/flags', as('not-a-token'));
  const throttled = await a.request('/api/v1/status/flags', as(read));
  t.equal(throttled.status, 429);
  t.ok(throttled.headers.get('retry-after'));
});
