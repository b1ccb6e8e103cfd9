import type { Labels } from '@vigil/common';

/** An alert held by the notifier (Alertmanager's types.Alert). Times in ms. */
export interface NotifierAlert {
  labels: Labels;
  annotations: Labels;
  startsAt: number;
  endsAt: number;
  generatorURL: string;
  updatedAt: number;
  /** endsAt was not given: it was set to receipt time + resolve_timeout. */
  timeout: boolean;
  fingerprint: string;
}

const OFFSET = 14695981039346656037n;
const PRIME = 1099511628211n;
const MASK = (1n << 64n) - 1n;

/** Prometheus' LabelSet.Fingerprint (FNV-1a 64 over sorted name/value pairs), as 16 hex digits. */
export function fingerprint(labels: Labels): string {
  let h = OFFSET;
  const add = (bytes: Uint8Array | number[]) => {
    for (const b of bytes) h = ((h ^ BigInt(b)) * PRIME) & MASK;
  };
  const enc = new TextEncoder();
  for (const name of Object.keys(labels).sort()) {
    add(enc.encode(name));
    add([255]);
    add(enc.encode(labels[name]!));
    add([255]);
  }
  return h.toString(16).padStart(16, '0');
}

export function isResolved(a: NotifierAlert, now: number): boolean {
  return a.endsAt !== 0 && a.endsAt <= now;
}

/** Alertmanager's model.LabelSet String(): `{a="1", b="2"}`. */
export function formatLabelSet(labels: Labels): string {
  return `{${Object.keys(labels).sort().map((k) => `${k}=${JSON.stringify(labels[k])}`).join(', ')}}`;
}

/** Go's time.Time as JSON (RFC3339 with trimmed fraction; zero time for 0). */
export function goTime(ms: number): string {
  if (ms === 0) return '0001-01-01T00:00:00Z';
  const s = new Date(ms).toISOString();
  const frac = s.slice(20, 23).replace(/0+$/, '');
  return `${s.slice(0, 19)}${frac ? '.' + frac : ''}Z`;
}
