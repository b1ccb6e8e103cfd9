import { VigilError } from '../errors.js';
import { LABEL_NAME_RE, labelsKey, type Labels } from '../model/labels.js';

/** A rejected push: carries the HTTP status the Pushgateway API answers with. */
export class PushError extends VigilError {
  readonly status: 400 | 404 | 500;
  constructor(message: string, status: 400 | 404 | 500 = 400) {
    super('ERR_PUSH', message);
    this.status = status;
  }
}

/** Decodes a Pushgateway `@base64` value: URL-safe alphabet, padding optional, `=` alone is empty. */
export function decodeBase64Value(text: string): string {
  if (!/^[A-Za-z0-9_\-+/]*=*$/.test(text)) throw new PushError(`invalid base64 encoding in label value "${text}"`);
  const clean = text.replace(/=+$/, '').replace(/-/g, '+').replace(/_/g, '/');
  if (clean.length % 4 === 1) throw new PushError(`invalid base64 encoding in label value "${text}"`);
  return Buffer.from(clean, 'base64').toString('utf8');
}

export function encodeBase64Value(value: string): string {
  if (value === '') return '=';
  return Buffer.from(value, 'utf8').toString('base64url');
}

/**
 * Parses the part of a Pushgateway URL after `/metrics/`: `job/<job>{/<label>/<value>}`, each
 * name optionally suffixed `@base64` to mark a URL-safe base64 value. Segments are
 * percent-decoded. Returns the grouping key labels (job included).
 */
export function parseGroupingPath(path: string): Labels {
  const parts = path.split('/').map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      throw new PushError(`invalid URL encoding in "${p}"`);
    }
  });
  if (parts[0] !== 'job' && parts[0] !== 'job@base64') throw new PushError(`path must start with /metrics/job/ (got "/${path}")`, 404);
  if (parts.length < 2) throw new PushError('job name is required');
  const labels: Record<string, string> = {};
  for (let i = 0; i < parts.length; i += 2) {
    let name = parts[i]!;
    if (i + 1 >= parts.length) {
      throw new PushError(`odd number of components in label string "/${parts.slice(2).join('/')}"`);
    }
    let value = parts[i + 1]!;
    if (name.endsWith('@base64')) {
      name = name.slice(0, -'@base64'.length);
      value = decodeBase64Value(value);
    }
    if (!LABEL_NAME_RE.test(name) || name.startsWith('__')) throw new PushError(`improper label name "${name}"`);
    if (i === 0 && value === '') throw new PushError('job name is required');
    if (name in labels) {
      if (name === 'job') continue;
      throw new PushError(`duplicate label name "${name}" in the grouping key`);
    }
    labels[name] = value;
  }
  return labels;
}

/** Canonical key of a grouping label set (empty values count, unlike series keys). */
export function groupingKey(labels: Labels): string {
  const names = Object.keys(labels).sort();
  return names.map((n) => `${n}=${JSON.stringify(labels[n])}`).join(',') || labelsKey(labels);
}
