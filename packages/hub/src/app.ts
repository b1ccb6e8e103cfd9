import { Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Registry } from 'prom-client';
import { VERSION, httpAuth, limitBody, type AuthThrottle, type Credentials, type Logger } from '@vigil/common';
import { toApiError } from './api/errors.js';

export interface HubAppDeps {
  logger: Logger;
  registry: Registry;
  /** Feature routers (query API, import, push, agents...), mounted at the root in order. */
  routers: Hono[];
  ready: () => boolean;
  /** The effective configuration as YAML, for /api/v1/status/config. */
  configYaml: () => string;
  flags: Record<string, string>;
  reload: () => Promise<void>;
  flush: () => Promise<void>;
  /** Targets of every agent, Prometheus' shape plus `agent` and `datacenter`. */
  targets: () => { activeTargets: unknown[]; droppedTargets: unknown[] };
  /** Base URLs of the external Alertmanagers alerts are forwarded to. */
  alertmanagers?: () => string[];
  /**
   * Who may call what: with credentials configured, every endpoint except health needs them, with the scope the
   * route needs (routeScope); without, the API is open (loopback, or insecure_open).
   */
  auth?: { credentials: () => Credentials; throttle?: AuthThrottle };
  ui?: Hono;
  /** Largest request body (default 64 MiB); the streaming import is exempt. */
  maxBodyBytes?: number;
  startTime?: Date;
}

const ok = <T>(data: T) => ({ status: 'success' as const, data });

/** The hub's HTTP surface: operations endpoints here, feature routers mounted from their modules. */
export function createHubApp(deps: HubAppDeps): Hono {
  const app = new Hono();
  const startTime = deps.startTime ?? new Date();
  const log = deps.logger;

  app.get('/-/healthy', (c) => c.text('Vigil hub is Healthy.\n'));
  app.get('/-/ready', (c) => (deps.ready() ? c.text('Vigil hub is Ready.\n') : c.text('Vigil hub is not ready.\n', 503)));
  if (deps.auth) app.use('*', httpAuth({ ...deps.auth, realm: 'vigil hub', logger: log }));

  // Request bodies are bounded, except the bulk import, which streams bodies of any size.
  app.use('*', limitBody(deps.maxBodyBytes ?? 64 << 20, (path) => path === '/api/v1/import/prometheus'));

  app.post('/-/reload', async (c) => {
    try {
      await deps.reload();
      return c.text('');
    } catch (err) {
      log.error({ err }, 'reload failed, keeping the old configuration');
      return c.text(`failed to reload config: ${(err as Error).message}\n`, 500);
    }
  });
  app.get('/metrics', async (c) => c.body(await deps.registry.metrics(), 200, { 'Content-Type': deps.registry.contentType }));

  app.get('/api/v1/status/buildinfo', (c) =>
    c.json(ok({ version: VERSION, revision: '', branch: 'main', buildUser: '', buildDate: '', goVersion: `node${process.versions.node}` })));
  app.get('/api/v1/status/config', (c) => c.json(ok({ yaml: deps.configYaml() })));
  app.get('/api/v1/status/flags', (c) => c.json(ok(deps.flags)));
  app.get('/api/v1/status/runtimeinfo', (c) => {
    const mem = process.memoryUsage();
    return c.json(ok({
      startTime: startTime.toISOString(),
      CWD: process.cwd(),
      reloadConfigSuccess: true,
      lastConfigTime: startTime.toISOString(),
      corruptionCount: 0,
      goroutineCount: 0,
      GOMAXPROCS: 1,
      GOGC: '',
      GODEBUG: '',
      storageRetention: deps.flags['storage.tsdb.retention.time'] ?? '15d',
      rssBytes: mem.rss,
    }));
  });
  app.post('/api/v1/admin/tsdb/flush', async (c) => {
    await deps.flush();
    return c.body(null, 204);
  });
  app.get('/api/v1/targets', (c) => {
    const state = c.req.query('state') ?? 'any';
    const t = deps.targets();
    return c.json(ok({
      activeTargets: state === 'dropped' ? [] : t.activeTargets,
      droppedTargets: state === 'active' ? [] : t.droppedTargets,
    }));
  });
  app.get('/api/v1/alertmanagers', (c) => c.json(ok({
    activeAlertmanagers: (deps.alertmanagers?.() ?? []).map((url) => ({ url: `${url.replace(/\/$/, '')}/api/v2/alerts` })),
    droppedAlertmanagers: [],
  })));

  for (const r of deps.routers) app.route('/', r);
  if (deps.ui) app.route('/', deps.ui);

  app.notFound((c) => c.json({ status: 'error', errorType: 'not_found', error: `no endpoint ${c.req.method} ${c.req.path}` }, 404));
  app.onError((err, c) => {
    const e = toApiError(err);
    if (e.status >= 500) log.error({ err, path: c.req.path }, 'request failed');
    return c.json({ status: 'error', errorType: e.errorType, error: e.error }, e.status as ContentfulStatusCode, e.headers);
  });
  return app;
}
