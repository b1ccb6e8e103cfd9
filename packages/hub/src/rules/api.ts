import { Hono } from 'hono';
import type { RuleManager } from './manager.js';

/** `GET /api/v1/rules` (with `type=alert|record`) and `GET /api/v1/alerts`, in Prometheus' envelope. */
export function ruleRoutes(manager: RuleManager): Hono {
  const app = new Hono();
  app.get('/api/v1/rules', (c) => {
    const type = (c.req.query('type') ?? '').toLowerCase();
    if (type !== '' && type !== 'alert' && type !== 'record') {
      return c.json({ status: 'error', errorType: 'bad_data', error: `not supported value ${JSON.stringify(type)}` }, 400);
    }
    return c.json({ status: 'success', data: manager.rulesResponse(type === '' ? undefined : type) });
  });
  app.get('/api/v1/alerts', (c) => c.json({ status: 'success', data: manager.alertsResponse() }));
  return app;
}
