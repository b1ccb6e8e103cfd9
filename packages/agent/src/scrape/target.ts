import { formatDuration, labelsKey, parseDuration, type Labels, type ScrapeConfig } from '@vigil/common';
import { relabel } from './relabel.js';

export const ADDRESS_LABEL = '__address__';
export const SCHEME_LABEL = '__scheme__';
export const METRICS_PATH_LABEL = '__metrics_path__';
export const SCRAPE_INTERVAL_LABEL = '__scrape_interval__';
export const SCRAPE_TIMEOUT_LABEL = '__scrape_timeout__';
export const PARAM_PREFIX = '__param_';
export const META_PREFIX = '__meta_';
export const RESERVED_PREFIX = '__';

/** Result of turning one discovered label set into a target. */
export type PopulateResult =
  | { kind: 'target'; labels: Labels; discovered: Labels }
  | { kind: 'dropped'; discovered: Labels }
  | { kind: 'error'; discovered: Labels; error: string };

/** Splits `host:port` / `[v6]:port` like Go's net.SplitHostPort; undefined when there is no valid port part. */
function splitHostPort(addr: string): { host: string; port: string } | undefined {
  if (addr.startsWith('[')) {
    const m = /^\[([^\]]*)\]:([^:]*)$/.exec(addr);
    return m ? { host: m[1]!, port: m[2]! } : undefined;
  }
  const i = addr.lastIndexOf(':');
  if (i < 0 || addr.indexOf(':') !== i) return undefined;
  return { host: addr.slice(0, i), port: addr.slice(i + 1) };
}

/**
 * Prometheus' PopulateLabels (2.42): adds job, interval, timeout, metrics path, scheme and
 * `__param_*` defaults, applies `relabel_configs`, then checks the address, adds the default
 * port for the scheme, drops `__meta_*` labels and defaults `instance` to the address.
 */
export function populateLabels(discoveredIn: Labels, cfg: ScrapeConfig): PopulateResult {
  const lb: Record<string, string> = { ...discoveredIn };
  const defaults: [string, string][] = [
    ['job', cfg.job_name],
    [SCRAPE_INTERVAL_LABEL, formatDuration(cfg.scrape_interval)],
    [SCRAPE_TIMEOUT_LABEL, formatDuration(cfg.scrape_timeout)],
    [METRICS_PATH_LABEL, cfg.metrics_path],
    [SCHEME_LABEL, cfg.scheme],
  ];
  for (const [n, v] of defaults) if (!lb[n]) lb[n] = v;
  for (const [k, vs] of Object.entries(cfg.params)) if (vs.length > 0) lb[PARAM_PREFIX + k] = vs[0]!;
  const discovered: Labels = lb;

  const out = relabel(discovered, cfg.relabel_configs);
  if (out === null) return { kind: 'dropped', discovered };
  const res: Record<string, string> = { ...out };
  let addr = res[ADDRESS_LABEL] ?? '';
  if (addr === '') return { kind: 'error', discovered, error: 'no address' };

  if (!splitHostPort(addr) && splitHostPort(addr + ':1234')) {
    const scheme = res[SCHEME_LABEL] ?? '';
    if (scheme === 'http' || scheme === '') addr += ':80';
    else if (scheme === 'https') addr += ':443';
    else return { kind: 'error', discovered, error: `invalid scheme: "${cfg.scheme}"` };
    res[ADDRESS_LABEL] = addr;
  }
  if (addr.includes('/')) return { kind: 'error', discovered, error: `"${addr}" is not a valid hostname` };

  for (const [label, what] of [[SCRAPE_INTERVAL_LABEL, 'scrape interval'], [SCRAPE_TIMEOUT_LABEL, 'scrape timeout']] as const) {
    let ms: number;
    try {
      ms = parseDuration(res[label] ?? '');
    } catch (err) {
      return { kind: 'error', discovered, error: `error parsing ${what}: ${(err as Error).message}` };
    }
    if (ms === 0) return { kind: 'error', discovered, error: `${what} cannot be 0` };
  }
  if (parseDuration(res[SCRAPE_TIMEOUT_LABEL]!) > parseDuration(res[SCRAPE_INTERVAL_LABEL]!)) {
    return { kind: 'error', discovered, error: `scrape timeout cannot be greater than scrape interval ("${res[SCRAPE_TIMEOUT_LABEL]}" > "${res[SCRAPE_INTERVAL_LABEL]}")` };
  }

  for (const n of Object.keys(res)) if (n.startsWith(META_PREFIX)) delete res[n];
  if (!res.instance) res.instance = addr;
  return { kind: 'target', labels: res, discovered };
}

/** The labels a target attaches to its series: every label not starting with `__`. */
export function publicLabels(labels: Labels): Labels {
  const out: Record<string, string> = {};
  for (const n of Object.keys(labels).sort()) if (!n.startsWith(RESERVED_PREFIX)) out[n] = labels[n]!;
  return out;
}

/** The scrape URL: scheme, address, path, config params overridden by `__param_*` labels. */
export function targetURL(labels: Labels, params: Record<string, string[]>): string {
  const q: Record<string, string[]> = {};
  for (const [k, vs] of Object.entries(params)) q[k] = [...vs];
  for (const n of Object.keys(labels)) {
    if (!n.startsWith(PARAM_PREFIX)) continue;
    const k = n.slice(PARAM_PREFIX.length);
    const existing = q[k];
    if (existing && existing.length > 0) existing[0] = labels[n]!;
    else q[k] = [labels[n]!];
  }
  const keys = Object.keys(q).sort();
  const sp = new URLSearchParams();
  for (const k of keys) for (const v of q[k]!) sp.append(k, v);
  const query = sp.toString();
  let path = labels[METRICS_PATH_LABEL] ?? '/metrics';
  if (!path.startsWith('/')) path = '/' + path;
  return `${labels[SCHEME_LABEL] ?? 'http'}://${labels[ADDRESS_LABEL] ?? ''}${path}${query ? '?' + query : ''}`;
}

/** FNV-1a (32-bit) of a string: the stable hash behind a target's scrape offset. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Identity of a target within a pool: its full label set (internal labels included) and URL. */
export function targetHash(labels: Labels, url: string): number {
  return fnv1a(labelsKey(labels) + '\u0000' + url);
}

/**
 * Delay until the target's next scrape: every target is scraped at `offset = hash % interval`
 * within each interval-aligned window, so scrapes of many targets spread over the interval and
 * each target keeps the same phase across restarts.
 */
export function nextScrapeDelay(hash: number, intervalMs: number, nowMs: number): number {
  const offset = hash % intervalMs;
  const phase = ((nowMs - offset) % intervalMs + intervalMs) % intervalMs;
  return phase === 0 ? 0 : intervalMs - phase;
}
