import { Hono, type Context } from 'hono';
import { formatGoFloat } from '../exposition/float.js';
import { TEXT_CONTENT_TYPE, writeText } from '../exposition/writer.js';
import { silentLogger, type Logger } from '../logger.js';
import { parseDuration } from '../model/duration.js';
import type { Labels } from '../model/labels.js';
import type { MetricFamily } from '../model/sample.js';
import { PushError, parseGroupingPath } from './grouping.js';
import { isProtobufContentType } from './protobuf.js';
import { PUSH_FAILURE_TIME_METRIC, PUSH_TIME_METRIC, type PushGroup, type PushStore } from './store.js';

export interface PushRoutesOptions {
  /** Serve `GET /metrics` with everything pushed (default true; the agent merges it into its own instead). */
  metricsListing?: boolean;
}

const JSON_TYPES: Record<MetricFamily['type'], string> = {
  counter: 'COUNTER', gauge: 'GAUGE', histogram: 'HISTOGRAM', summary: 'SUMMARY', unknown: 'UNTYPED',
  gaugehistogram: 'GAUGE_HISTOGRAM', info: 'UNTYPED', stateset: 'UNTYPED',
};

/** One family in the shape of the Pushgateway's `/api/v1/metrics`. */
function familyJSON(f: MetricFamily, time: number): Record<string, unknown> {
  const out: Record<string, unknown> = { time_stamp: new Date(time).toISOString(), type: JSON_TYPES[f.type] };
  if (f.help !== '') out.help = f.help;
  if (f.type === 'histogram' || f.type === 'summary') {
    const series = new Map<string, { labels: Labels; buckets: Record<string, string>; count: string; sum: string }>();
    for (const s of f.samples) {
      const { le, quantile, ...rest } = s.labels;
      const key = JSON.stringify(Object.entries(rest).sort());
      let e = series.get(key);
      if (!e) series.set(key, (e = { labels: rest, buckets: {}, count: '0', sum: '0' }));
      if (s.name === `${f.name}_count`) e.count = formatGoFloat(s.value);
      else if (s.name === `${f.name}_sum`) e.sum = formatGoFloat(s.value);
      else if (le !== undefined) e.buckets[le] = formatGoFloat(s.value);
      else if (quantile !== undefined) e.buckets[quantile] = formatGoFloat(s.value);
    }
    out.metrics = [...series.values()].map((e) => (f.type === 'histogram'
      ? { labels: e.labels, buckets: e.buckets, count: e.count, sum: e.sum }
      : { labels: e.labels, quantiles: e.buckets, count: e.count, sum: e.sum }));
  } else {
    out.metrics = f.samples.map((s) => ({ labels: s.labels, value: formatGoFloat(s.value) }));
  }
  return out;
}

function groupJSON(store: PushStore, g: PushGroup): Record<string, unknown> {
  const out: Record<string, unknown> = { labels: g.labels, last_push_successful: g.lastPushSuccessful };
  const changed = Math.max(g.pushTime, g.failureTime);
  for (const f of store.groupFamilies(g)) {
    const time = f.name === PUSH_TIME_METRIC || f.name === PUSH_FAILURE_TIME_METRIC ? changed : g.familyTimes.get(f.name) ?? changed;
    out[f.name] = familyJSON(f, time);
  }
  return out;
}

/**
 * The Pushgateway HTTP API over a PushStore: `PUT|POST|DELETE /metrics/job/<job>{/<label>/<value>}`
 * (200 for an accepted push, 202 for a delete, 400 with the reason otherwise; `?ttl=<duration>`
 * sets a group's expiry), `GET /api/v1/metrics`, `PUT /api/v1/admin/wipe`, and `GET /metrics`.
 */
export function pushRoutes(store: PushStore, logger: Logger = silentLogger, opts: PushRoutesOptions = {}): Hono {
  const log = logger.child({ component: 'push-api' });
  const app = new Hono();

  const grouping = (c: Context): Labels => {
    const path = c.req.path;
    const i = path.indexOf('/metrics/');
    return parseGroupingPath(path.slice(i + '/metrics/'.length).replace(/\/$/, ''));
  };

  const fail = (c: Context, err: unknown): Response => {
    if (err instanceof PushError) {
      log.debug({ err: err.message, path: c.req.path }, 'push rejected');
      return c.text(err.message + '\n', err.status);
    }
    log.error({ err, path: c.req.path }, 'push failed');
    return c.text(`cannot store push: ${(err as Error).message}\n`, 500);
  };

  const push = (replace: boolean) => async (c: Context): Promise<Response> => {
    try {
      const labels = grouping(c);
      const ttlParam = c.req.query('ttl');
      let ttl: number | undefined;
      if (ttlParam !== undefined) {
        try { ttl = parseDuration(ttlParam); } catch { throw new PushError(`invalid ttl "${ttlParam}"`); }
      }
      const contentType = c.req.header('content-type');
      const body = isProtobufContentType(contentType) ? new Uint8Array(await c.req.arrayBuffer()) : await c.req.text();
      await store.push(labels, body, { replace, contentType, ttl });
      return c.body(null, 200);
    } catch (err) {
      return fail(c, err);
    }
  };

  app.put('/metrics/job/*', push(true));
  app.post('/metrics/job/*', push(false));
  app.put('/metrics/job@base64/*', push(true));
  app.post('/metrics/job@base64/*', push(false));
  const del = async (c: Context): Promise<Response> => {
    try {
      await store.delete(grouping(c));
      return c.body(null, 202);
    } catch (err) {
      return fail(c, err);
    }
  };
  app.delete('/metrics/job/*', del);
  app.delete('/metrics/job@base64/*', del);

  app.get('/api/v1/metrics', (c) => c.json({ status: 'success', data: store.groups().map((g) => groupJSON(store, g)) }));
  app.put('/api/v1/admin/wipe', async (c) => {
    await store.wipe();
    return c.body(null, 202);
  });
  if (opts.metricsListing !== false) {
    app.get('/metrics', (c) => c.body(writeText(store.families()), 200, { 'Content-Type': TEXT_CONTENT_TYPE }));
  }
  return app;
}
