import { LABEL_NAME_RE, Matcher, type MatchType } from '@vigil/common';

/**
 * Parses Alertmanager matcher strings: `severity="critical"`, `team=~"a|b"`, `env!=prod`,
 * and the braced list form `{a="1", b=~"x.*"}`. Unquoted values are taken as written.
 */
export function parseMatchers(text: string): Matcher[] {
  let s = text.trim();
  if (s.startsWith('{') && s.endsWith('}')) s = s.slice(1, -1);
  const out: Matcher[] = [];
  for (const part of splitOutsideQuotes(s)) {
    if (part.trim() === '') continue;
    out.push(parseMatcher(part));
  }
  return out;
}

export function parseMatcher(text: string): Matcher {
  const m = /^\s*([^\s=!~]+)\s*(=~|!~|!=|=)\s*(.*?)\s*$/s.exec(text);
  if (!m) throw new Error(`bad matcher format: ${text}`);
  const [, name = '', op = '=', raw = ''] = m;
  if (!LABEL_NAME_RE.test(name)) throw new Error(`invalid label name "${name}" in matcher ${text}`);
  let value = raw;
  if (raw.startsWith('"')) {
    if (!raw.endsWith('"') || raw.length < 2) throw new Error(`unterminated quoted value in matcher ${text}`);
    try {
      value = JSON.parse(raw) as string;
    } catch {
      throw new Error(`invalid quoted value in matcher ${text}`);
    }
  }
  try {
    return new Matcher(op as MatchType, name, value);
  } catch (err) {
    throw new Error((err as Error).message);
  }
}

function splitOutsideQuotes(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let q = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && q) {
      cur += c + (s[i + 1] ?? '');
      i++;
      continue;
    }
    if (c === '"') q = !q;
    if (c === ',' && !q) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

/** Alertmanager's Matchers.String(): `{a="1",b=~"x"}`, sorted. */
export function formatMatchers(ms: readonly Matcher[]): string {
  return `{${ms.map((m) => `${m.name}${m.type}${JSON.stringify(m.value)}`).sort().join(',')}}`;
}
