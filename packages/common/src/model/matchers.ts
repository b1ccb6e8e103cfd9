import { VigilError } from '../errors.js';
import type { Labels } from './labels.js';
import { compileRegex, type Regex } from './regex.js';

export type MatchType = '=' | '!=' | '=~' | '!~';

/**
 * A label matcher as in PromQL selectors. Regexes are RE2, fully anchored, as in Prometheus.
 * A label that is absent matches as the empty string.
 */
export class Matcher {
  readonly type: MatchType;
  readonly name: string;
  readonly value: string;
  private readonly re: Regex | undefined;

  constructor(type: MatchType, name: string, value: string) {
    this.type = type;
    this.name = name;
    this.value = value;
    if (type === '=~' || type === '!~') {
      try {
        this.re = compileRegex(value);
      } catch (err) {
        throw new MatcherError(`cannot compile regex matcher (${name}${type}${JSON.stringify(value)}): ${(err as Error).message}`, (err as Error).message);
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

/** A matcher that cannot be built; `detail` is the regex error alone, as Go words it. */
export class MatcherError extends VigilError {
  constructor(message: string, readonly detail: string) {
    super('ERR_BAD_MATCHER', message);
  }
}

export function matchLabels(matchers: readonly Matcher[], labels: Labels): boolean {
  for (const m of matchers) if (!m.matches(labels[m.name] ?? '')) return false;
  return true;
}
