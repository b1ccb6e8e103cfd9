import type { ApiScope } from '../config/types.js';

/** Endpoints anyone may call, whatever the listen address: load balancers and orchestrators probe them. */
const OPEN = new Set(['/-/healthy', '/-/ready']);

/** The query API answers POST like GET (long queries go in a form body): reading, not writing. */
const READ_POSTS = new Set([
  '/api/v1/query', '/api/v1/query_range', '/api/v1/series', '/api/v1/labels', '/api/v1/metadata', '/api/v1/status/tsdb',
  '/api/v1/format_query', '/api/v1/query_exemplars',
]);

/**
 * The scope an HTTP request needs on the hub or the agent, undefined for the open health endpoints. Deny by
 * default: `/-/reload` and `/api/v1/admin/*` need `admin`; every other method than GET/HEAD/OPTIONS needs `write`
 * (import, remote write, push, alerts, silences), except the query API's POST forms; everything else `read`.
 */
export function routeScope(method: string, path: string): ApiScope | undefined {
  if (OPEN.has(path)) return undefined;
  if (path === '/-/reload' || path === '/-/quit' || path.startsWith('/api/v1/admin/')) return 'admin';
  const m = method.toUpperCase();
  if (m === 'GET' || m === 'HEAD' || m === 'OPTIONS') return 'read';
  if (m === 'POST' && (READ_POSTS.has(path) || /^\/api\/v1\/label\/[^/]+\/values$/.test(path))) return 'read';
  return 'write';
}
