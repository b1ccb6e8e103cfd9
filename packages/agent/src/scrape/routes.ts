import { Hono } from 'hono';
import type { ScrapeManager } from './manager.js';

/**
 * The agent's `GET /api/v1/targets` in Prometheus' envelope, with its `state`
 * (`active`, `dropped`, `any`) and `scrapePool` filters.
 */
export function targetsRoutes(manager: Pick<ScrapeManager, 'targets'>): Hono {
  const app = new Hono();
  app.get('/api/v1/targets', (c) => {
    const state = (c.req.query('state') ?? 'any').toLowerCase();
    const pool = c.req.query('scrapePool');
    const view = manager.targets();
    const active = pool ? view.activeTargets.filter((x) => x.scrapePool === pool) : view.activeTargets;
    const dropped = pool ? view.droppedTargets.filter((x) => x.discoveredLabels.job === pool) : view.droppedTargets;
    return c.json({
      status: 'success',
      data: {
        activeTargets: state === 'dropped' ? [] : active,
        droppedTargets: state === 'active' ? [] : dropped,
      },
    });
  });
  return app;
}
