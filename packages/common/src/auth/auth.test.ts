import t from 'tap';
import { Hono } from 'hono';
import bcrypt from 'bcryptjs';
import { Credentials } from './credentials.js';
import { authErrorHeaders, ForbiddenError, TooManyAuthFailuresError, UnauthorizedError } from './errors.js';
import { httpAuth } from './middleware.js';
import { routeScope } from './scopes.js';
import { AuthThrottle } from './throttle.js';

const READ = 'read-token-0123456789';
const WRITE = 'write-token-0123456789';

t.test('route scopes: health open, admin paths admin, mutations write, the rest read', async (t) => {
  t.equal(routeScope('GET', '/-/healthy'), undefined);
  t.equal(routeScope('HEAD', '/-/ready'), undefined);
  t.equal(routeScope('POST', '/-/reload'), 'admin');
  t.equal(routeScope('POST', '/api/v1/admin/tsdb/flush'), 'admin');
  t.equal(routeScope('PUT', '/api/v1/admin/wipe'), 'admin');
  t.equal(routeScope('GET', '/api/v1/admin/anything'), 'admin');
  for (const [m, p] of [['POST', '/api/v1/import/prometheus'], ['POST', '/api/v1/write'], ['PUT', '/metrics/job/a'], ['POST', '/metrics/job@base64/YQ'],
    ['DELETE', '/metrics/job/a/x/y'], ['POST', '/api/v2/alerts'], ['POST', '/api/v2/silences'], ['DELETE', '/api/v2/silence/123'], ['PATCH', '/api/v1/query']]) {
    t.equal(routeScope(m!, p!), 'write', `${m} ${p}`);
  }
  for (const [m, p] of [['GET', '/api/v1/query'], ['POST', '/api/v1/query'], ['POST', '/api/v1/query_range'], ['POST', '/api/v1/series'],
    ['POST', '/api/v1/label/job/values'], ['GET', '/api/v2/alerts'], ['GET', '/api/v1/status/config'], ['GET', '/'], ['GET', '/metrics'], ['GET', '/static/app.js']]) {
    t.equal(routeScope(m!, p!), 'read', `${m} ${p}`);
  }
});

t.test('credentials: bearer tokens with scopes, bcrypt users with every scope', async (t) => {
  const creds = new Credentials({
    basic_auth_users: { alice: await bcrypt.hash('wonderland', 4) },
    tokens: [{ token: READ, scopes: ['read'] }, { token: WRITE, scopes: ['write', 'read'] }],
  });
  t.notOk(creds.empty);
  t.equal(creds.challenge('r'), 'Basic realm="r", Bearer realm="r"');
  t.same([...(await creds.verify(`Bearer ${READ}`))!.scopes], ['read']);
  t.same([...(await creds.verify(`bearer ${WRITE}`))!.scopes].sort(), ['read', 'write']);
  t.equal(await creds.verify(`Bearer ${READ}x`), undefined);
  t.equal(await creds.verify('Bearer'), undefined);
  const basic = (s: string) => `Basic ${Buffer.from(s).toString('base64')}`;
  t.same([...(await creds.verify(basic('alice:wonderland')))!.scopes].sort(), ['admin', 'read', 'write']);
  t.equal(await creds.verify(basic('alice:wonderland')).then((p) => p?.name), 'alice', 'cached verdict');
  t.equal(await creds.verify(basic('alice:wrong')), undefined);
  t.equal(await creds.verify(basic('constructor:x')), undefined, 'no prototype keys as users');
  t.equal(await creds.verify(basic(':x')), undefined);
  t.equal(await creds.verify(`Digest ${READ}`), undefined);
  t.ok(new Credentials({ basic_auth_users: {}, tokens: [] }).empty);
});

t.test('throttle: free failures, then a doubling wait, success forgets', async (t) => {
  let now = 0;
  const th = new AuthThrottle({ freeFailures: 2, baseDelayMs: 1000, maxDelayMs: 4000, now: () => now });
  t.equal(th.fail('a'), 0);
  t.equal(th.fail('a'), 0);
  t.equal(th.wait('a'), 0);
  t.equal(th.fail('a'), 1000);
  t.equal(th.wait('a'), 1000);
  t.equal(th.wait('b'), 0, 'other addresses unaffected');
  t.equal(th.fail('a'), 2000);
  t.equal(th.fail('a'), 4000);
  t.equal(th.fail('a'), 4000, 'capped');
  now += 4000;
  t.equal(th.wait('a'), 0);
  th.succeed('a');
  t.equal(th.fail('a'), 0, 'a success starts over');
  const small = new AuthThrottle({ maxAddresses: 2, freeFailures: 0, now: () => now });
  small.fail('x'); small.fail('y'); small.fail('z');
  t.equal(small.wait('x'), 0, 'oldest address forgotten when full');
  t.ok(small.wait('z') > 0);
});

t.test('middleware: 401 with a challenge, 403 without the scope, 429 when throttled, open without credentials', async (t) => {
  let creds = new Credentials({ basic_auth_users: {}, tokens: [{ token: READ, scopes: ['read'] }, { token: WRITE, scopes: ['write'] }] });
  const app = new Hono();
  app.use('*', httpAuth({ credentials: () => creds, realm: 'test', throttle: new AuthThrottle({ freeFailures: 1 }) }));
  app.all('*', (c) => c.text('ok'));
  app.onError((err, c) => c.json({ code: (err as { code?: string }).code }, err instanceof UnauthorizedError ? 401 : err instanceof ForbiddenError ? 403
    : err instanceof TooManyAuthFailuresError ? 429 : 500, authErrorHeaders(err)));
  const bearer = (tok: string, method = 'GET') => ({ method, headers: { Authorization: `Bearer ${tok}` } });
  t.equal((await app.request('/-/healthy')).status, 200);
  const none = await app.request('/api/v1/query');
  t.equal(none.status, 401);
  t.equal(none.headers.get('www-authenticate'), 'Bearer realm="test"');
  t.equal((await app.request('/api/v1/query', bearer(READ))).status, 200);
  t.equal((await app.request('/api/v1/import/prometheus', bearer(READ, 'POST'))).status, 403);
  t.equal((await app.request('/api/v1/import/prometheus', bearer(WRITE, 'POST'))).status, 200);
  t.equal((await app.request('/api/v1/query', bearer(WRITE))).status, 403, 'write does not imply read');
  t.equal((await app.request('/-/reload', bearer(WRITE, 'POST'))).status, 403);
  t.equal((await app.request('/api/v1/%61dmin/tsdb/flush', bearer(WRITE, 'POST'))).status, 403, 'percent-encoded path classified as routed');
  const env = { incoming: { socket: { remoteAddress: '127.0.0.9' } } };
  t.equal((await app.request('/api/v1/query', bearer('wrong-wrong-wrong'), env)).status, 401);
  const limited = await app.request('/api/v1/query', bearer('wrong-wrong-wrong'), env);
  t.equal(limited.status, 401, 'the failure that starts the wait');
  const blocked = await app.request('/api/v1/query', bearer(READ), env);
  t.equal(blocked.status, 429, 'even right credentials wait');
  t.ok(Number(blocked.headers.get('retry-after')) >= 1);
  t.equal((await app.request('/api/v1/query', bearer(READ))).status, 200, 'other addresses unaffected');
  creds = new Credentials({ basic_auth_users: {}, tokens: [] });
  t.equal((await app.request('/api/v1/admin/tsdb/flush', { method: 'POST' })).status, 200, 'no credentials configured: open (loopback)');
});
