import { PromQLParseError } from './errors.js';

export type TokenType =
  | 'IDENT' | 'METRIC_IDENT' | 'NUMBER' | 'DURATION' | 'STRING' | 'KEYWORD'
  | 'LPAREN' | 'RPAREN' | 'LBRACE' | 'RBRACE' | 'LBRACKET' | 'RBRACKET' | 'COMMA' | 'COLON' | 'AT'
  | 'ASSIGN' | 'OP' | 'EOF';

export interface Token {
  type: TokenType;
  /** Raw text (for STRING: the unquoted value; for NUMBER: the literal). */
  text: string;
  pos: number;
  end: number;
  /** NUMBER: parsed value; DURATION: ms. */
  num?: number;
}

/** Words that are operators or modifiers; aggregation names are plain identifiers checked by the parser. */
export const KEYWORDS: ReadonlySet<string> = new Set([
  'and', 'or', 'unless', 'atan2', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset',
]);

const OPS = ['==', '!=', '>=', '<=', '=~', '!~', '+', '-', '*', '/', '%', '^', '>', '<'];
const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, y: 31_536_000_000 };
const DURATION_ORDER = ['y', 'w', 'd', 'h', 'm', 's', 'ms'];

const isDigit = (c: string): boolean => c >= '0' && c <= '9';
const isAlpha = (c: string): boolean => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_';
const isAlnum = (c: string): boolean => isAlpha(c) || isDigit(c);

/** Parses a Prometheus duration like `1h30m` into ms; undefined when it is not one. */
export function parsePromDuration(text: string): number | undefined {
  const re = /(\d+)(ms|y|w|d|h|m|s)/y;
  let i = 0;
  let ms = 0;
  let last = -1;
  if (text === '') return undefined;
  while (i < text.length) {
    re.lastIndex = i;
    const m = re.exec(text);
    if (!m) return undefined;
    const order = DURATION_ORDER.indexOf(m[2]!);
    if (order <= last) return undefined;
    last = order;
    ms += Number(m[1]) * DURATION_UNITS[m[2]!]!;
    i = re.lastIndex;
  }
  return ms;
}

/** Splits a PromQL expression into tokens; throws PromQLParseError on bad characters or strings. */
export function lex(input: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  let braceDepth = 0;
  let bracketDepth = 0;
  let parenDepth = 0;
  const n = input.length;
  while (i < n) {
    const c = input[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') { i++; continue; }
    if (c === '#') {
      while (i < n && input[i] !== '\n') i++;
      continue;
    }
    const start = i;
    const push = (type: TokenType, text: string, num?: number): void => {
      const tok: Token = { type, text, pos: start, end: i };
      if (num !== undefined) tok.num = num;
      out.push(tok);
    };
    if (c === '"' || c === "'" || c === '`') {
      i = lexString(input, i, out);
      continue;
    }
    if (isDigit(c) || (c === '.' && isDigit(input[i + 1] ?? ''))) {
      // number or duration
      if (c === '0' && (input[i + 1] === 'x' || input[i + 1] === 'X')) {
        i += 2;
        while (i < n && /[0-9a-fA-F]/.test(input[i]!)) i++;
        if (i === start + 2) throw new PromQLParseError(`error parsing number: strconv.ParseFloat: parsing "${input.slice(start, i)}": invalid syntax`, input, start);
        push('NUMBER', input.slice(start, i), parseInt(input.slice(start + 2, i), 16));
      } else {
        let j = i;
        while (j < n && isDigit(input[j]!)) j++;
        // duration: digits followed by a unit, possibly repeated
        const dm = /^(?:\d+(?:ms|y|w|d|h|m|s))+/.exec(input.slice(i));
        if (dm && !isAlnum(input[i + dm[0].length] ?? '')) {
          i += dm[0].length;
          const ms = parsePromDuration(dm[0]);
          if (ms === undefined) throw new PromQLParseError(`bad duration syntax: "${dm[0]}"`, input, start);
          push('DURATION', dm[0], ms);
          continue;
        }
        const m = /^(?:\d*\.?\d*)(?:[eE][+-]?\d+)?/.exec(input.slice(i))!;
        i += m[0].length;
        if (i < n && isAlnum(input[i]!)) {
          while (i < n && isAlnum(input[i]!)) i++;
          throw new PromQLParseError(`bad number or duration syntax: "${input.slice(start, i)}"`, input, start);
        }
        push('NUMBER', m[0], Number(m[0]));
      }
      continue;
    }
    if (isAlpha(c) || c === ':') {
      while (i < n && (isAlnum(input[i]!) || input[i] === ':')) i++;
      const word = input.slice(start, i);
      if (braceDepth === 0 && bracketDepth === 0 && !word.includes(':')) {
        const lower = word.toLowerCase();
        if (lower === 'inf' || lower === 'nan') { push('NUMBER', word, lower === 'inf' ? Infinity : NaN); continue; }
        if (KEYWORDS.has(lower)) { push('KEYWORD', lower); continue; }
      }
      if (word.includes(':')) {
        if (braceDepth > 0 || bracketDepth > 0) {
          // inside braces only label names; inside brackets ':' separates range and step
          i = start;
          if (c === ':') { i++; push('COLON', ':'); continue; }
          while (i < n && isAlnum(input[i]!)) i++;
          push('IDENT', input.slice(start, i));
          continue;
        }
        push('METRIC_IDENT', word);
      } else push('IDENT', word);
      continue;
    }
    i++;
    switch (c) {
      case '(': parenDepth++; push('LPAREN', c); continue;
      case ')':
        if (parenDepth === 0) throw new PromQLParseError(`unexpected right parenthesis ${quoteRune(c)}`, input, i);
        parenDepth--;
        push('RPAREN', c);
        continue;
      case '{': braceDepth++; push('LBRACE', c); continue;
      case '}': braceDepth--; push('RBRACE', c); continue;
      case '[': bracketDepth++; push('LBRACKET', c); continue;
      case ']': bracketDepth--; push('RBRACKET', c); continue;
      case ',': push('COMMA', c); continue;
      case ':': push('COLON', c); continue;
      case '@': push('AT', c); continue;
    }
    i--;
    if (braceDepth === 0 && (input.startsWith('!~', i) || input.startsWith('=~', i))) {
      throw new PromQLParseError(`unexpected character after '${c}': '~'`, input, i);
    }
    const op = OPS.find((o) => input.startsWith(o, i));
    if (op) {
      i += op.length;
      push('OP', op);
      continue;
    }
    if (c === '=') { i++; push('ASSIGN', '='); continue; }
    if (c === '!') throw new PromQLParseError(`unexpected character after '!': ${JSON.stringify(input[i + 1] ?? '')}`, input, start);
    throw new PromQLParseError(`unexpected character: ${quoteRune(c)}`, input, start);
  }
  if (bracketDepth > 0 && braceDepth === 0) throw new PromQLParseError('unclosed left bracket', input, n);
  out.push({ type: 'EOF', text: '', pos: n, end: n });
  return out;
}

function quoteRune(c: string): string {
  return `'${c}'`;
}

/** Go's %U %q of a rune: `U+007A 'z'`. */
function goRune(c: string): string {
  const cp = c.codePointAt(0) ?? 0;
  return `U+${cp.toString(16).toUpperCase().padStart(4, '0')} ${quoteRune(c)}`;
}

const SIMPLE_ESCAPES: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"', "'": "'" };

function lexString(input: string, i: number, out: Token[]): number {
  const quote = input[i]!;
  const start = i;
  i++;
  let value = '';
  for (;;) {
    if (i >= input.length) throw new PromQLParseError('unterminated quoted string', input, start);
    const c = input[i]!;
    if (c === quote) { i++; break; }
    if (quote !== '`' && c === '\n') throw new PromQLParseError('unterminated quoted string', input, start);
    if (c === '\\' && quote !== '`') {
      const e = input[i + 1];
      if (e === undefined) throw new PromQLParseError('unterminated quoted string', input, start);
      const simple = SIMPLE_ESCAPES[e];
      if (simple !== undefined) { value += simple; i += 2; continue; }
      let digits = 0; let base = 16; let skip = 2;
      if (e === 'x') digits = 2;
      else if (e === 'u') digits = 4;
      else if (e === 'U') digits = 8;
      else if (e >= '0' && e <= '7') { digits = 3; base = 8; skip = 1; }
      else throw new PromQLParseError(`unknown escape sequence ${goRune(e)}`, input, start);
      const hex = input.slice(i + skip, i + skip + digits);
      const re = base === 16 ? /^[0-9a-fA-F]+$/ : /^[0-7]+$/;
      if (hex.length !== digits || !re.test(hex)) {
        const bad = [...hex].find((ch) => !re.test(ch)) ?? input[i + skip + hex.length] ?? '';
        throw new PromQLParseError(`illegal character ${goRune(bad)} in escape sequence`, input, start);
      }
      const code = parseInt(hex, base);
      if (digits <= 3) {
        // \x and octal are bytes: collect them and decode as UTF-8
        const bytes = [code];
        let j = i + skip + digits;
        for (;;) {
          const m = /^\\(?:x([0-9a-fA-F]{2})|([0-7]{3}))/.exec(input.slice(j, j + 4));
          if (!m) break;
          bytes.push(m[1] !== undefined ? parseInt(m[1], 16) : parseInt(m[2]!, 8));
          j += 4;
        }
        value += Buffer.from(bytes).toString('utf8');
        i = j;
        continue;
      }
      value += String.fromCodePoint(code);
      i += skip + digits;
      continue;
    }
    value += c;
    i++;
  }
  out.push({ type: 'STRING', text: value, pos: start, end: i });
  return i;
}
