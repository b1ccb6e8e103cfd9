// GET /api/v1/agents: the agents and their links (DESIGN.md §4), in the Prometheus envelope.
import { Hono } from 'hono';
import type { IngestServer } from '../ingest/server.js';

export function agentRoutes(ingest: IngestServer): Hono {
  const app = new Hono();
  app.get('/api/v1/agents', (c) => c.json({ status: 'success', data: ingest.agents() }));
  return app;
}
