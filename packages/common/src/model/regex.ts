// Every regex a user writes (PromQL matchers and functions, relabeling, Alertmanager matchers, template
// functions) is compiled here, with RE2 semantics as Prometheus 2.42 (Go 1.19's regexp) has them: linear
// time on any input, no lookaround or backreferences, POSIX classes and Unicode classes (`\pL`).
import { RE2JS } from 're2js';
import { VigilError } from '../errors.js';

/** A regex that does not compile, worded as Go words it: `error parsing regexp: <what>: `<where>``. */
export class RegexError extends VigilError {
  readonly pattern: string;
  constructor(pattern: string, cause: string) {
    super('ERR_BAD_REGEX', cause);
    this.pattern = pattern;
  }
}

/** The groups of a match: `[0]` the whole match, `[i]` group i (undefined when it took no part), named groups. */
export interface RegexMatch {
  readonly [group: number]: string | undefined;
  readonly length: number;
  readonly groups?: Readonly<Record<string, string | undefined>> | undefined;
}

/** A compiled regex. `test`/`exec` on an anchored one match the whole input, as Prometheus anchors them. */
export interface Regex {
  readonly source: string;
  /**
   * Anchored regexes: why the pattern does not parse on its own although `^(?:src)$` does (`a)|(b`).
   * Prometheus' label matchers refuse such a pattern; relabeling and Alertmanager accept it.
   */
  readonly standaloneError: RegexError | undefined;
  test(s: string): boolean;
  exec(s: string): RegexMatch | null;
}

const META = /[\\.+*?()|[\]{}^$]/;
const LITERAL_ALTERNATION = /^[^\\.+*?()|[\]{}^$]+(?:\|[^\\.+*?()|[\]{}^$]+)+$/;

/**
 * Patterns that need no regex engine: a literal, an alternation of literals, `.*`, `.+`, and a literal
 * after, before or between `.*` (as Prometheus' FastRegexMatcher). Everything else goes to RE2.
 * `.` does not match a newline unless (?s), so the parts `.*` covers must hold none.
 */
function fastTest(src: string): ((s: string) => boolean) | undefined {
  if (src === '.*') return (s) => !s.includes('\n');
  if (src === '.+') return (s) => s.length > 0 && !s.includes('\n');
  if (!META.test(src)) return (s) => s === src;
  if (LITERAL_ALTERNATION.test(src)) {
    const set = new Set(src.split('|'));
    return (s) => set.has(s);
  }
  const literal = (x: string) => x !== '' && !META.test(x) && !x.includes('\n');
  if (src.startsWith('.*') && src.endsWith('.*') && src.length > 4 && literal(src.slice(2, -2))) {
    const inner = src.slice(2, -2);
    return (s) => !s.includes('\n') && s.includes(inner);
  }
  if (src.endsWith('.*') && literal(src.slice(0, -2))) {
    const prefix = src.slice(0, -2);
    return (s) => s.startsWith(prefix) && s.indexOf('\n', prefix.length) < 0;
  }
  if (src.startsWith('.*') && literal(src.slice(2))) {
    const suffix = src.slice(2);
    return (s) => s.endsWith(suffix) && !s.includes('\n');
  }
  return undefined;
}

/**
 * Go 1.19's regexp (Prometheus 2.42) has no `(?<name>` groups, which re2js accepts: refuse them as Go does.
 * Skips escapes, `\Q...\E` and character classes, where `(?<` is literal text.
 */
function refuseAngleNamedGroup(src: string): void {
  let inClass = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === '\\') {
      if (src[i + 1] === 'Q') {
        const end = src.indexOf('\\E', i + 2);
        if (end < 0) return;
        i = end + 1;
      } else i++;
      continue;
    }
    if (inClass) {
      if (c === '[' && src[i + 1] === ':') {
        const end = src.indexOf(':]', i + 2);
        if (end >= 0) i = end + 1;
      } else if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') {
      inClass = true;
      if (src[i + 1] === '^') i++;
      if (src[i + 1] === ']') i++;
    } else if (c === '(' && src.startsWith('(?<', i)) {
      throw new RegexError(src, 'error parsing regexp: invalid or unsupported Perl syntax: `(?<`');
    }
  }
}

/** DFA memory a regex may hold (re2js' default is 8 MB, which thousands of cached regexes could each reach). */
export const DFA_MEMORY_BUDGET = 256 * 1024;

interface Re2Internals { prog: unknown; lazyDFA: unknown; dfa: { constructor: new (prog: unknown, maxMem: number) => unknown; maxMem: number } }

/**
 * Gives `re` a lazy DFA bounded by DFA_MEMORY_BUDGET. Past its budget the DFA starts over, then gives up to
 * the NFA, which is linear too: a smaller budget costs speed on pathological patterns only. Reaches into
 * re2js (no option exposes the budget); regex.test.ts checks it still applies.
 */
export function boundDfaMemory(re: RE2JS): void {
  const inner = re.re2() as unknown as Partial<Re2Internals>;
  if (!inner || !('lazyDFA' in inner) || inner.prog === undefined || !inner.dfa) return;
  inner.lazyDFA = new inner.dfa.constructor(inner.prog, DFA_MEMORY_BUDGET);
}

function compileRe2(pattern: string, source: string): RE2JS {
  let re: RE2JS;
  try {
    re = RE2JS.compile(pattern);
  } catch (err) {
    throw new RegexError(source, (err as Error).message);
  }
  boundDfaMemory(re);
  return re;
}

/**
 * An anchored regex compiles one program in the common case: the bare pattern, tested as a whole-input match
 * (faster in re2js than the `^(?:...)$` form, and valid whenever the bare pattern is). The `^(?:...)$` form,
 * which captures and words Go's errors, is compiled when first needed. Fast-path patterns compile nothing
 * until a capture is asked for (a Grafana-style alternation of thousands of hosts costs no compile at all).
 */
class Re2Regex implements Regex {
  private wrapped: RE2JS | undefined;
  private readonly whole: RE2JS | undefined;
  private readonly fast: ((s: string) => boolean) | undefined;
  readonly standaloneError: RegexError | undefined;

  constructor(readonly source: string, private readonly anchored: boolean) {
    refuseAngleNamedGroup(source);
    if (!anchored) {
      this.wrapped = compileRe2(source, source);
      return;
    }
    this.fast = fastTest(source);
    if (this.fast) return;
    try {
      this.whole = compileRe2(source, source);
    } catch (err) {
      // Prometheus compiles ^(?:src)$ first: its error is the one to report; if it compiles, the bare
      // pattern's error is kept for label matchers, which parse the bare pattern too
      this.wrapped = compileRe2(`^(?:${source})$`, source);
      this.standaloneError = err as RegexError;
    }
  }

  /** The regex as Prometheus compiles it: `^(?:src)$` when anchored. */
  private get re(): RE2JS {
    return (this.wrapped ??= compileRe2(this.anchored ? `^(?:${this.source})$` : this.source, this.source));
  }

  test(s: string): boolean {
    if (this.fast) return this.fast(s);
    return this.whole ? this.whole.testExact(s) : this.re.test(s);
  }

  exec(s: string): RegexMatch | null {
    return this.re.exec(s) as RegexMatch | null;
  }

  /** Every non-overlapping match in `s`, left to right (unanchored regexes). */
  *matchAll(s: string): IterableIterator<RegexMatch & { index: number }> {
    for (const m of this.re.matchAll(s)) yield m as RegexMatch & { index: number };
  }
}

/** Compiled regexes by source, so a regex repeated in queries or rules is compiled once. Bounded. */
class RegexCache {
  private readonly map = new Map<string, Re2Regex>();
  constructor(private readonly anchored: boolean, private readonly max: number) {}

  get(src: string): Re2Regex {
    let re = this.map.get(src);
    if (re) return re;
    re = new Re2Regex(src, this.anchored);
    if (this.map.size >= this.max) this.map.delete(this.map.keys().next().value!);
    this.map.set(src, re);
    return re;
  }
}

const anchoredCache = new RegexCache(true, 4096);
const searchCache = new RegexCache(false, 256);

/**
 * Compiles `src` as Prometheus compiles label matchers, relabel and label_replace regexes: RE2, fully
 * anchored (`^(?:src)$`). Throws RegexError with Go's message when it does not compile.
 */
export function compileRegex(src: string): Regex {
  return anchoredCache.get(src);
}

/** A regex that finds matches anywhere in its input (template functions `match` and `reReplaceAll`). */
export interface SearchRegex extends Regex {
  matchAll(s: string): IterableIterator<RegexMatch & { index: number }>;
}

/** Compiles `src` with RE2 semantics, unanchored, as Go's regexp.Compile does. */
export function compileSearchRegex(src: string): SearchRegex {
  return searchCache.get(src);
}

/** Go's Regexp.ReplaceAllString: every match of `re` in `s` replaced by `template` expanded for it. */
export function replaceAll(re: SearchRegex, s: string, template: string): string {
  let out = '';
  let last = 0;
  let matched = false;
  for (const m of re.matchAll(s)) {
    const len = (m[0] ?? '').length;
    // as Go: an empty match right after a match is ignored
    if (len === 0 && matched && m.index === last) continue;
    out += s.slice(last, m.index) + expandTemplate(template, m);
    last = m.index + len;
    matched = true;
  }
  return out + s.slice(last);
}

const WORD = /\w+/y;

/**
 * Expands `$1`, `${1}`, `$name`, `${name}` and `$$` in `template` as Go's `Regexp.Expand` does: `$name`
 * takes the longest run of letters, digits and underscores (`$1x` is `${1x}`), an unknown or unmatched
 * group expands to nothing, and a malformed `$` stays literal.
 */
export function expandTemplate(template: string, match: RegexMatch): string {
  if (!template.includes('$')) return template;
  let out = '';
  let i = 0;
  while (i < template.length) {
    const ch = template[i]!;
    if (ch !== '$') {
      out += ch;
      i++;
      continue;
    }
    const next = template[i + 1];
    if (next === '$') {
      out += '$';
      i += 2;
      continue;
    }
    let name: string | undefined;
    let end = i + 1;
    if (next === '{') {
      const close = template.indexOf('}', i + 2);
      const inner = close < 0 ? '' : template.slice(i + 2, close);
      if (close >= 0 && /^\w+$/.test(inner)) {
        name = inner;
        end = close + 1;
      }
    } else {
      WORD.lastIndex = i + 1;
      const m = WORD.exec(template);
      if (m) {
        name = m[0];
        end = i + 1 + m[0].length;
      }
    }
    if (name === undefined) {
      out += '$';
      i++;
      continue;
    }
    out += groupValue(match, name);
    i = end;
  }
  return out;
}

function groupValue(match: RegexMatch, name: string): string {
  if (/^\d+$/.test(name)) {
    const idx = Number(name);
    return idx < match.length ? match[idx] ?? '' : '';
  }
  return match.groups?.[name] ?? '';
}
