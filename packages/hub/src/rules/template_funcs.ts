/**
 * The functions alert templates may call: Go's text/template builtins that rule files use
 * plus Prometheus' template functions (humanize*, printf, toUpper, reReplaceAll...).
 * One table entry per function.
 */
import { compileSearchRegex, replaceAll, type SearchRegex } from '@vigil/common';
import { formatG, goString, sprintf } from './gofmt.js';

export type TemplateFunc = (...args: unknown[]) => unknown;

/** Go's notion of truth: false, 0, nil and empty strings, lists and maps are false. */
export function truthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

/** Prometheus converts a template argument to float64 with strconv.ParseFloat when it is a string. */
function toFloat(v: unknown, fn: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    const s = v.trim();
    if (/^[+-]?inf(inity)?$/i.test(s)) return s.startsWith('-') ? -Infinity : Infinity;
    if (/^nan$/i.test(s)) return NaN;
    const n = Number(s);
    if (s !== '' && !Number.isNaN(n)) return n;
  }
  throw new Error(`${fn}: cannot convert ${goString(v)} to a number`);
}

function g4(v: number): string {
  return formatG(v, 4);
}

export function humanize(v: number): string {
  if (v === 0 || !Number.isFinite(v)) return g4(v);
  if (Math.abs(v) >= 1) {
    let prefix = '';
    for (const p of ['k', 'M', 'G', 'T', 'P', 'E', 'Z', 'Y']) {
      if (Math.abs(v) < 1000) break;
      prefix = p;
      v /= 1000;
    }
    return g4(v) + prefix;
  }
  let prefix = '';
  for (const p of ['m', 'u', 'n', 'p', 'f', 'a', 'z', 'y']) {
    if (Math.abs(v) >= 1) break;
    prefix = p;
    v *= 1000;
  }
  return g4(v) + prefix;
}

export function humanize1024(v: number): string {
  if (Math.abs(v) <= 1 || !Number.isFinite(v)) return g4(v);
  let prefix = '';
  for (const p of ['ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei', 'Zi', 'Yi']) {
    if (Math.abs(v) < 1024) break;
    prefix = p;
    v /= 1024;
  }
  return g4(v) + prefix;
}

export function humanizeDuration(v: number): string {
  if (!Number.isFinite(v)) return g4(v);
  if (v === 0) return g4(v) + 's';
  if (Math.abs(v) >= 1) {
    let sign = '';
    if (v < 0) {
      sign = '-';
      v = -v;
    }
    const duration = Math.trunc(v);
    const seconds = duration % 60;
    const minutes = Math.trunc(duration / 60) % 60;
    const hours = Math.trunc(duration / 3600) % 24;
    const days = Math.trunc(duration / 86400);
    if (days !== 0) return `${sign}${days}d ${hours}h ${minutes}m ${seconds}s`;
    if (hours !== 0) return `${sign}${hours}h ${minutes}m ${seconds}s`;
    if (minutes !== 0) return `${sign}${minutes}m ${seconds}s`;
    return `${sign}${g4(v)}s`;
  }
  let prefix = '';
  for (const p of ['m', 'u', 'n', 'p', 'f', 'a', 'z', 'y']) {
    if (Math.abs(v) >= 1) break;
    prefix = p;
    v *= 1000;
  }
  return `${g4(v)}${prefix}s`;
}

export function humanizePercentage(v: number): string {
  return `${g4(v * 100)}%`;
}

/** Go's time.Time String(): `2006-01-02 15:04:05.999999999 +0000 UTC`. */
export function humanizeTimestamp(v: number): string {
  if (!Number.isFinite(v)) return g4(v);
  const d = new Date(v * 1000);
  const iso = d.toISOString();
  let frac = iso.slice(20, 23).replace(/0+$/, '');
  frac = frac ? '.' + frac : '';
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${frac} +0000 UTC`;
}

function compare(fn: string, a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  throw new Error(`${fn}: incompatible types for comparison`);
}

/** Go's regexp.MustCompile: RE2, unanchored. */
function goRegex(re: unknown, fn: string): SearchRegex {
  if (typeof re !== 'string') throw new Error(`${fn}: regex must be a string`);
  return compileSearchRegex(re);
}

export const TEMPLATE_FUNCS: Record<string, TemplateFunc> = {
  // Go builtins.
  and: (...args) => { for (const a of args) if (!truthy(a)) return a; return args[args.length - 1]; },
  or: (...args) => { for (const a of args) if (truthy(a)) return a; return args[args.length - 1]; },
  not: (a) => !truthy(a),
  eq: (a, ...bs) => bs.some((b) => compare('eq', a, b) === 0),
  ne: (a, b) => compare('ne', a, b) !== 0,
  lt: (a, b) => compare('lt', a, b) < 0,
  le: (a, b) => compare('le', a, b) <= 0,
  gt: (a, b) => compare('gt', a, b) > 0,
  ge: (a, b) => compare('ge', a, b) >= 0,
  len: (a) => {
    if (typeof a === 'string' || Array.isArray(a)) return a.length;
    if (a !== null && typeof a === 'object') return Object.keys(a).length;
    throw new Error(`len of ${goString(a)}`);
  },
  index: (a, ...keys) => {
    let v = a;
    for (const k of keys) {
      if (v === null || typeof v !== 'object') throw new Error(`cannot index ${goString(v)}`);
      v = (v as Record<string, unknown>)[String(k)] ?? '';
    }
    return v;
  },
  print: (...args) => args.map(goString).join(''),
  println: (...args) => args.map(goString).join(' ') + '\n',
  printf: (format, ...args) => sprintf(String(format), args),
  html: (s) => goString(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&#34;').replace(/'/g, '&#39;'),
  urlquery: (...args) => encodeURIComponent(args.map(goString).join('')).replace(/%20/g, '+'),
  // Prometheus' functions.
  humanize: (v) => humanize(toFloat(v, 'humanize')),
  humanize1024: (v) => humanize1024(toFloat(v, 'humanize1024')),
  humanizeDuration: (v) => humanizeDuration(toFloat(v, 'humanizeDuration')),
  humanizePercentage: (v) => humanizePercentage(toFloat(v, 'humanizePercentage')),
  humanizeTimestamp: (v) => humanizeTimestamp(toFloat(v, 'humanizeTimestamp')),
  toUpper: (s) => goString(s).toUpperCase(),
  toLower: (s) => goString(s).toLowerCase(),
  title: (s) => goString(s).replace(/(^|[^\p{L}\p{N}_'])(\p{L})/gu, (_, a: string, b: string) => a + b.toUpperCase()),
  match: (re, s) => goRegex(re, 'match').test(goString(s)),
  reReplaceAll: (re, repl, text) => replaceAll(goRegex(re, 'reReplaceAll'), goString(text), goString(repl)),
  stripPort: (host) => {
    const s = goString(host);
    const m = /^\[([^\]]+)\](?::\d+)?$/.exec(s) ?? /^([^:]+):\d+$/.exec(s);
    return m ? m[1] : s;
  },
  stripDomain: (host) => {
    const s = goString(host);
    const m = /^([^.:]+)(?:\.[^:]*)?(:\d+)?$/.exec(s);
    return m && !/^\d+$/.test(m[1]!) ? m[1]! + (m[2] ?? '') : s;
  },
  safeHtml: (s) => goString(s),
  toTime: (v) => new Date(toFloat(v, 'toTime') * 1000).toISOString(),
  toDuration: (v) => humanizeDuration(toFloat(v, 'toDuration')),
  parseDuration: (s) => {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)$/.exec(goString(s));
    if (!m) throw new Error(`parseDuration: invalid duration ${goString(s)}`);
    const mult: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000 };
    return Number(m[1]) * mult[m[2]!]!;
  },
};
