import type { Labels } from './labels.js';

export type MatchType = '=' | '!=' | '=~' | '!~';

/**
 * A label matcher as in PromQL selectors. Regexes are fully anchored, as in Prometheus.
 * A label that is absent matches as the empty string.
 */
export class Matcher {
  readonly type: MatchType;
  readonly name: string;
  readonly value: string;
  private readonly re: RegExp | undefined;

  constructor(type: MatchType, name: string, value: string) {
    this.type = type;
    this.name = name;
    this.value = value;
    if (type === '=~' || type === '!~') {
      try {
        this.re = anchoredGoRegex(value);
      } catch (err) {
        throw new MatcherError(`cannot compile regex matcher ${name}${type}"${value}": ${(err as Error).message}`);
      }
    }
  }

  /** True when `value` (empty string for an absent label) satisfies the matcher. */
  matches(value: string): boolean {
    switch (this.type) {
      case '=': return value === this.value;
      case '!=': return value !== this.value;
      case '=~': return this.re!.test(value);
      case '!~': return !this.re!.test(value);
    }
  }

  /** True when the matcher accepts the empty string, i.e. also series without the label. */
  matchesEmpty(): boolean {
    return this.matches('');
  }

  toString(): string {
    return `${this.name}${this.type}${JSON.stringify(this.value)}`;
  }
}

/**
 * A Go (RE2) regex as an anchored JavaScript one, with Prometheus 2.x semantics: `.` does not match a
 * newline unless `(?s)`; leading `(?i)`/`(?s)`/`(?m)` flags and `(?P<name>` groups are translated.
 */
export function anchoredGoRegex(src: string): RegExp {
  let flags = '';
  let body = src;
  const m = /^\(\?([imsU]+)\)/.exec(body);
  if (m) {
    for (const f of 'ims') if (m[1]!.includes(f)) flags += f;
    body = body.slice(m[0].length);
  }
  return new RegExp(`^(?:${body.replace(/\(\?P</g, '(?<')})$`, flags);
}

export class MatcherError extends Error {
  readonly code = 'ERR_BAD_MATCHER';
}

export function matchLabels(matchers: readonly Matcher[], labels: Labels): boolean {
  for (const m of matchers) if (!m.matches(labels[m.name] ?? '')) return false;
  return true;
}
