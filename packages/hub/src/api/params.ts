// Parsing of Prometheus HTTP API parameters: times, durations, and the merged GET/POST form.
import type { Context } from 'hono';
import { parsePromDuration } from '../promql/lexer.js';
import { BadParameterError } from '../promql/errors.js';

/** Earliest and latest times the API accepts (ms); Prometheus' MinTime/MaxTime clamped to safe integers. */
export const MIN_TIME = -9_223_372_036_854;
export const MAX_TIME = 9_223_372_036_854;
const MIN_TIME_FORMATTED = '-292273086-05-16T16:47:06Z';
const MAX_TIME_FORMATTED = '292277025-08-18T07:12:54.999999999Z';

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** `<unix float seconds>` or RFC3339 → ms. */
export function parseTime(s: string): number {
  if (FLOAT.test(s.trim())) {
    const t = Number(s);
    const sec = Math.trunc(t);
    const frac = Math.round((t - sec) * 1000);
    return clampTime(sec * 1000 + frac);
  }
  const m = RFC3339.exec(s);
  if (m) {
    const frac = m[7] ? Math.round(Number(`0${m[7]}`) * 1000) : 0;
    const base = Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${m[8]!.toUpperCase()}`);
    if (!Number.isNaN(base)) return base + frac;
  }
  if (s === MIN_TIME_FORMATTED) return MIN_TIME;
  if (s === MAX_TIME_FORMATTED) return MAX_TIME;
  throw new Error(`cannot parse ${JSON.stringify(s)} to a valid timestamp`);
}

function clampTime(ms: number): number {
  return Math.max(MIN_TIME, Math.min(MAX_TIME, ms));
}

/** `<float seconds>` or a Prometheus duration → ms. */
export function parseDurationParam(s: string): number {
  if (FLOAT.test(s.trim())) {
    const ms = Number(s) * 1000;
    if (!Number.isFinite(ms) || Math.abs(ms) > 9.2e15) throw new Error(`cannot parse ${JSON.stringify(s)} to a valid duration. It overflows int64`);
    return Math.round(ms);
  }
  const d = parsePromDuration(s);
  if (d === undefined) throw new Error(`cannot parse ${JSON.stringify(s)} to a valid duration`);
  return d;
}

/** The request's parameters: URL query and form-encoded body merged (body first, as Go's r.Form). */
export class Params {
  private constructor(private readonly values: Map<string, string[]>) {}

  static async from(c: Context): Promise<Params> {
    const values = new Map<string, string[]>();
    const add = (k: string, v: string): void => {
      const list = values.get(k);
      if (list) list.push(v);
      else values.set(k, [v]);
    };
    if (c.req.method === 'POST') {
      const type = c.req.header('content-type') ?? '';
      if (type.startsWith('application/x-www-form-urlencoded')) {
        const body = await c.req.text();
        for (const [k, v] of new URLSearchParams(body)) add(k, v);
      }
    }
    for (const [k, v] of new URL(c.req.url).searchParams) add(k, v);
    return new Params(values);
  }

  get(name: string): string {
    return this.values.get(name)?.[0] ?? '';
  }

  all(name: string): string[] {
    return this.values.get(name) ?? [];
  }

  /** Optional time parameter in ms (Prometheus' parseTimeParam), `dflt` when absent. */
  time(name: string, dflt: number): number {
    const v = this.get(name);
    if (v === '') return dflt;
    try {
      return parseTime(v);
    } catch (err) {
      throw invalidParam(name, `Invalid time value for '${name}': ${(err as Error).message}`);
    }
  }

  /** Required time parameter in ms (query_range's start and end). */
  requiredTime(name: string): number {
    try {
      return parseTime(this.get(name));
    } catch (err) {
      throw invalidParam(name, (err as Error).message);
    }
  }

  duration(name: string): number {
    try {
      return parseDurationParam(this.get(name));
    } catch (err) {
      throw invalidParam(name, (err as Error).message);
    }
  }
}

export function invalidParam(name: string, message: string): BadParameterError {
  return new BadParameterError(`invalid parameter ${JSON.stringify(name)}: ${message}`);
}
