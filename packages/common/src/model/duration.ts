import { ParseError } from '../errors.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, y: 31_536_000_000 };
const DURATION_RE = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;

/** Parses a Prometheus duration (`15s`, `1h30m`, `36500d`, `0`) into milliseconds. */
export function parseDuration(text: string): number {
  if (text === '0') return 0;
  const m = DURATION_RE.exec(text);
  if (!m || text === '') throw new ParseError(`cannot parse duration "${text}": not a valid duration`);
  const order = ['y', 'w', 'd', 'h', 'm', 's', 'ms'] as const;
  let ms = 0;
  for (let i = 0; i < order.length; i++) {
    const part = m[i + 1];
    if (part !== undefined) ms += Number(part) * UNITS[order[i]!]!;
  }
  return ms;
}

/** Formats milliseconds as Prometheus does (`1h30m`, `15s`, `0s`). */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let out = ms < 0 ? '-' : '';
  let rest = Math.abs(ms);
  for (const [unit, size] of [['y', UNITS.y!], ['w', UNITS.w!], ['d', UNITS.d!], ['h', UNITS.h!], ['m', UNITS.m!], ['s', UNITS.s!], ['ms', 1]] as const) {
    if (rest >= size) {
      out += Math.floor(rest / size) + unit;
      rest %= size;
    }
  }
  return out;
}
