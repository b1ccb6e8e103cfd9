// Prometheus' query API: /api/v1/query, query_range, series, labels, label values, metadata, status/tsdb,
// format_query, query_exemplars. Same parameters, envelope and value formatting as Prometheus 2.42.
import { Hono, type Context } from 'hono';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { LABEL_NAME_RE, labelsKey, silentLogger, type Labels, type Logger, type Matcher } from '@vigil/common';
import type { Queryable, Storage } from '../storage/types.js';
import type { Expr } from '../promql/ast.js';
import { Engine } from '../promql/engine.js';
import { BadParameterError, PromQLParseError } from '../promql/errors.js';
import { JsonWriter, writeResult } from '../promql/json.js';
import { parseExpr, parseSelector } from '../promql/parser.js';
import { prettyExpr } from '../promql/printer.js';
import type { QueryResult } from '../promql/value.js';
import { apiError, toApiError, type ApiError } from './errors.js';
import { invalidParam, MAX_TIME, MIN_TIME, Params } from './params.js';

export interface QueryRoutesDeps {
  queryable: Queryable;
  storage: Storage;
  engine: Engine;
  logger?: Logger;
  /** Extra warnings for a query touching these selectors over [mint, maxt] (e.g. lagging links). */
  warnings?: (matchers: Matcher[][], mint: number, maxt: number) => string[];
  /** Clock, for the default `time` of /api/v1/query (ms). */
  now?: () => number;
}

/** Most points a range query may return per series, as Prometheus. */
export const MAX_POINTS_PER_SERIES = 11_000;

type Handler = (p: Params, c: Context) => Promise<{ data: unknown; warnings?: string[] } | ApiError>;

function labelsJson(l: Labels): string {
  const keys = Object.keys(l).sort();
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    if (i) out += ',';
    out += JSON.stringify(keys[i]) + ':' + JSON.stringify(l[keys[i]!]);
  }
  return out + '}';
}

/** Serialises a query result to the `data` member's JSON text. */
export function resultJson(r: QueryResult): string {
  const w = new JsonWriter();
  writeResult(w, r);
  return new TextDecoder().decode(w.result());
}

const SUCCESS_PREFIX = '{"status":"success","data":';

/** A query result already written as the envelope's opening bytes and the `data` member. */
class ResultBytes {
  readonly w: JsonWriter;
  constructor(r: QueryResult) {
    this.w = new JsonWriter();
    this.w.ascii(SUCCESS_PREFIX);
    writeResult(this.w, r);
  }
}

const encoder = new TextEncoder();
const gzip = promisify(zlib.gzip);
const deflate = promisify(zlib.deflate);
/** Bodies below this size are sent as they are even when the client accepts compression. */
const COMPRESS_MIN_BYTES = 1024;

/** The encoding to answer with: gzip or deflate when the client accepts it (q > 0), as Prometheus' handler. */
function acceptedEncoding(header: string | undefined): 'gzip' | 'deflate' | null {
  if (!header) return null;
  let deflateOk = false;
  for (const part of header.split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((x) => x.trim()).find((x) => x.startsWith('q='));
    if (q !== undefined && !(Number(q.slice(2)) > 0)) continue;
    if (name === 'gzip') return 'gzip';
    if (name === 'deflate') deflateOk = true;
  }
  return deflateOk ? 'deflate' : null;
}

/** Sends a JSON body, compressed (off the main thread) when the client asks and the body is large enough. */
async function send(c: Context, body: Uint8Array<ArrayBuffer>): Promise<Response> {
  const enc = body.length >= COMPRESS_MIN_BYTES ? acceptedEncoding(c.req.header('Accept-Encoding')) : null;
  c.header('Vary', 'Accept-Encoding');
  if (!enc) return c.body(body, 200);
  const z = await (enc === 'gzip' ? gzip(body) : deflate(body));
  c.header('Content-Encoding', enc);
  return c.body(new Uint8Array(z.buffer as ArrayBuffer, z.byteOffset, z.length), 200);
}

class RawJson {
  constructor(readonly text: string) {}
}

function collectMatchers(e: Expr, out: Matcher[][]): void {
  switch (e.type) {
    case 'vector': out.push(e.matchers); return;
    case 'matrix': out.push(e.vector.matchers); return;
    case 'subquery': case 'paren': case 'unary': collectMatchers(e.expr, out); return;
    case 'call': for (const a of e.args) collectMatchers(a, out); return;
    case 'aggregate': collectMatchers(e.expr, out); if (e.param) collectMatchers(e.param, out); return;
    case 'binary': collectMatchers(e.lhs, out); collectMatchers(e.rhs, out); return;
    default: return;
  }
}

/** The query API as a Hono router (mount it at the root). */
export function queryRoutes(deps: QueryRoutesDeps): Hono {
  const { queryable, storage, engine } = deps;
  const logger = (deps.logger ?? silentLogger).child({ component: 'api' });
  const now = deps.now ?? Date.now;
  const app = new Hono();

  const extraWarnings = (query: string, mint: number, maxt: number): string[] => {
    if (!deps.warnings) return [];
    try {
      const sets: Matcher[][] = [];
      collectMatchers(parseExpr(query), sets);
      return deps.warnings(sets, mint - engine.lookbackDeltaMs, maxt);
    } catch {
      return [];
    }
  };

  const route = (path: string, h: Handler): void => {
    const run = async (c: Context): Promise<Response> => {
      let res: { data: unknown; warnings?: string[] } | ApiError;
      try {
        res = await h(await Params.from(c), c);
      } catch (err) {
        res = toApiError(err);
        if (res.errorType === 'internal') logger.error({ err, path }, 'cannot answer API request');
      }
      c.header('Content-Type', 'application/json');
      if ('errorType' in res) {
        return c.body(JSON.stringify({ status: 'error', errorType: res.errorType, error: res.error }), res.status as 400);
      }
      const warn = res.warnings && res.warnings.length ? `,"warnings":${JSON.stringify(res.warnings)}` : '';
      if (!(res.data instanceof ResultBytes)) {
        const data = res.data instanceof RawJson ? res.data.text : JSON.stringify(res.data);
        return send(c, encoder.encode(`{"status":"success","data":${data}${warn}}`));
      }
      // the result was written after the envelope's opening bytes; close it in the same buffer
      const w = res.data.w;
      if (warn) w.utf8(warn);
      w.byte(0x7d);
      return send(c, w.result());
    };
    app.get(path, run);
    app.post(path, run);
  };

  const queryError = (err: unknown): never => {
    if (err instanceof PromQLParseError) throw invalidParam('query', err.message);
    throw err;
  };

  route('/api/v1/query', async (p, c) => {
    const time = p.time('time', now());
    let timeoutMs: number | undefined;
    if (p.get('timeout') !== '') timeoutMs = p.duration('timeout');
    const query = p.get('query');
    const opts = { signal: c.req.raw.signal, ...(timeoutMs !== undefined ? { timeoutMs } : {}) };
    const result = await engine.instantQuery(queryable, query, time, opts).catch(queryError);
    return { data: new ResultBytes(result), warnings: [...result.warnings, ...extraWarnings(query, time, time)] };
  });

  route('/api/v1/query_range', async (p, c) => {
    const start = p.requiredTime('start');
    const end = p.requiredTime('end');
    if (end < start) throw invalidParam('end', 'end timestamp must not be before start time');
    const step = p.duration('step');
    if (step <= 0) throw invalidParam('step', 'zero or negative query resolution step widths are not accepted. Try a positive integer');
    if (Math.floor((end - start) / step) > MAX_POINTS_PER_SERIES) {
      return apiError('bad_data', 'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)');
    }
    let timeoutMs: number | undefined;
    if (p.get('timeout') !== '') timeoutMs = p.duration('timeout');
    const query = p.get('query');
    const opts = { signal: c.req.raw.signal, ...(timeoutMs !== undefined ? { timeoutMs } : {}) };
    const result = await engine.rangeQuery(queryable, query, start, end, step, opts);
    return { data: new ResultBytes(result), warnings: [...result.warnings, ...extraWarnings(query, start, end)] };
  });

  /** `match[]` selectors; each must have a matcher that does not match the empty string. */
  const matcherSets = (p: Params, prefixed: boolean): Matcher[][] =>
    p.all('match[]').map((s) => {
      let ms: Matcher[];
      try {
        ms = parseSelector(s);
      } catch (err) {
        throw invalidParam('match[]', (err as Error).message);
      }
      if (!ms.some((m) => !m.matchesEmpty())) {
        const msg = 'match[] must contain at least one non-empty matcher';
        throw prefixed ? invalidParam('match[]', msg) : new BadParameterError(msg);
      }
      return ms;
    });

  const limitOf = (p: Params): number => {
    const s = p.get('limit');
    if (s === '') return 0;
    const n = Number(s);
    if (!Number.isInteger(n) || n < 0) throw invalidParam('limit', `cannot parse ${JSON.stringify(s)}: limit must be a non-negative integer`);
    return n;
  };

  route('/api/v1/series', async (p) => {
    const sets = matcherSets(p, true);
    if (sets.length === 0) return apiError('bad_data', 'no match[] parameter provided');
    const start = p.time('start', MIN_TIME);
    const end = p.time('end', MAX_TIME);
    const limit = limitOf(p);
    const q = await queryable.querier(start, end);
    try {
      const seen = new Map<string, Labels>();
      for (const ms of sets) {
        for (const s of await q.select(ms, { labelsOnly: true })) seen.set(labelsKey(s.labels), s.labels);
      }
      let out = [...seen.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map((e) => e[1]);
      if (limit > 0 && out.length > limit) out = out.slice(0, limit);
      return { data: new RawJson(`[${out.map(labelsJson).join(',')}]`) };
    } finally {
      q.close();
    }
  });

  route('/api/v1/labels', async (p) => {
    const sets = matcherSets(p, false);
    const q = await queryable.querier(p.time('start', MIN_TIME), p.time('end', MAX_TIME));
    const limit = limitOf(p);
    try {
      const names = new Set<string>();
      if (sets.length === 0) for (const n of await q.labelNames()) names.add(n);
      for (const ms of sets) for (const n of await q.labelNames(ms)) names.add(n);
      let out = [...names].sort();
      if (limit > 0 && out.length > limit) out = out.slice(0, limit);
      return { data: out };
    } finally {
      q.close();
    }
  });

  route('/api/v1/label/:name/values', async (p, c) => {
    const name = c.req.param('name') ?? '';
    if (!LABEL_NAME_RE.test(name)) return apiError('bad_data', `invalid label name: ${JSON.stringify(name)}`);
    const sets = matcherSets(p, false);
    const q = await queryable.querier(p.time('start', MIN_TIME), p.time('end', MAX_TIME));
    const limit = limitOf(p);
    try {
      const vals = new Set<string>();
      if (sets.length === 0) for (const v of await q.labelValues(name)) vals.add(v);
      for (const ms of sets) for (const v of await q.labelValues(name, ms)) vals.add(v);
      let out = [...vals].sort();
      if (limit > 0 && out.length > limit) out = out.slice(0, limit);
      return { data: out };
    } finally {
      q.close();
    }
  });

  route('/api/v1/metadata', async (p) => {
    const limit = p.get('limit') === '' ? undefined : Number(p.get('limit'));
    const metric = p.get('metric') || undefined;
    return { data: await storage.metadata(metric, limit !== undefined && limit >= 0 ? limit : undefined) };
  });

  route('/api/v1/status/tsdb', async (p) => {
    const limit = p.get('limit') === '' ? undefined : Number(p.get('limit'));
    return { data: await storage.status(limit) };
  });

  route('/api/v1/format_query', async (p) => {
    let expr: Expr;
    try {
      expr = parseExpr(p.get('query'));
    } catch (err) {
      throw invalidParam('query', (err as Error).message);
    }
    return { data: prettyExpr(expr) };
  });

  route('/api/v1/query_exemplars', async (p) => {
    p.time('start', MIN_TIME);
    p.time('end', MAX_TIME);
    try {
      parseExpr(p.get('query'));
    } catch (err) {
      throw invalidParam('query', (err as Error).message);
    }
    return { data: [] };
  });

  return app;
}
