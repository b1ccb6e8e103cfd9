/**
 * Character-level scanning shared by the exposition parser and the import parser. Positions
 * are string indexes; errors carry 1-based line and column of the offending character.
 */
import { ParseError } from '../errors.js';

export const TAB = 9;
export const NL = 10;
export const CR = 13;
export const SPACE = 32;
export const QUOTE = 34;
export const HASH = 35;
export const COMMA = 44;
export const EQUALS = 61;
export const BACKSLASH = 92;
export const LBRACE = 123;
export const RBRACE = 125;

/** `[a-zA-Z_:]` */
export function isMetricNameStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 58;
}
/** `[a-zA-Z0-9_:]` */
export function isMetricNameChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 58;
}
/** `[a-zA-Z_]` */
export function isLabelNameStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
}
/** `[a-zA-Z0-9_]` */
export function isLabelNameChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95;
}

/** Where the current line starts, to turn an index into a line and column. */
export interface LinePos {
  line: number;
  lineStart: number;
}

export function parseError(message: string, at: LinePos, index: number): ParseError {
  return new ParseError(message, { line: at.line, column: index - at.lineStart + 1 });
}

/** Skips spaces and tabs (the text format allows them between tokens). */
export function skipBlanks(text: string, pos: number, end: number): number {
  while (pos < end) {
    const c = text.charCodeAt(pos);
    if (c !== SPACE && c !== TAB) break;
    pos++;
  }
  return pos;
}

/** Index just past the metric name starting at `pos` (== pos when there is none). */
export function scanMetricName(text: string, pos: number, end: number): number {
  if (pos >= end || !isMetricNameStart(text.charCodeAt(pos))) return pos;
  pos++;
  while (pos < end && isMetricNameChar(text.charCodeAt(pos))) pos++;
  return pos;
}

/** A readable name for the character at `pos`, for error messages. */
export function describeChar(text: string, pos: number, end: number): string {
  if (pos >= end) return 'end of line';
  return JSON.stringify(text[pos]);
}

/**
 * Parses `{name="value",...}` starting at the `{` at `pos`, adding labels to `out`
 * (a label named `__proto__` becomes an own property like any other).
 * `blanks` allows spaces and tabs between tokens (text format, not OpenMetrics).
 * Label values accept the escapes `\\`, `\"` and `\n`; any other escape is an error.
 * Returns the index just past the closing `}`.
 */
export function scanLabels(text: string, pos: number, end: number, blanks: boolean, out: Record<string, string>, at: LinePos): number {
  pos++; // '{'
  for (;;) {
    if (blanks) pos = skipBlanks(text, pos, end);
    if (pos >= end) throw parseError('unterminated label set: expected "}"', at, pos);
    let c = text.charCodeAt(pos);
    if (c === RBRACE) return pos + 1;
    if (!isLabelNameStart(c)) throw parseError(`invalid label name: unexpected ${describeChar(text, pos, end)}`, at, pos);
    const nameStart = pos;
    pos++;
    while (pos < end && isLabelNameChar(text.charCodeAt(pos))) pos++;
    const name = text.slice(nameStart, pos);
    if (blanks) pos = skipBlanks(text, pos, end);
    if (pos >= end || text.charCodeAt(pos) !== EQUALS) throw parseError(`expected "=" after label name "${name}", got ${describeChar(text, pos, end)}`, at, pos);
    pos++;
    if (blanks) pos = skipBlanks(text, pos, end);
    if (pos >= end || text.charCodeAt(pos) !== QUOTE) throw parseError(`expected quoted value for label "${name}", got ${describeChar(text, pos, end)}`, at, pos);
    const quote = pos;
    pos++;
    const valueStart = pos;
    let value: string | undefined;
    let parts = '';
    let partStart = pos;
    for (;;) {
      if (pos >= end) throw parseError(`unterminated value of label "${name}"`, at, quote);
      c = text.charCodeAt(pos);
      if (c === QUOTE) {
        value = partStart === valueStart ? text.slice(valueStart, pos) : parts + text.slice(partStart, pos);
        pos++;
        break;
      }
      if (c === BACKSLASH) {
        const e = pos + 1 < end ? text.charCodeAt(pos + 1) : -1;
        let rep: string;
        if (e === BACKSLASH) rep = '\\';
        else if (e === QUOTE) rep = '"';
        else if (e === 110 /* n */) rep = '\n';
        else throw parseError(`invalid escape sequence ${JSON.stringify(text.slice(pos, pos + 2))} in value of label "${name}"`, at, pos);
        parts += text.slice(partStart, pos) + rep;
        pos += 2;
        partStart = pos;
        continue;
      }
      pos++;
    }
    if (Object.hasOwn(out, name)) throw parseError(`duplicate label name "${name}"`, at, nameStart);
    if (name === '__proto__') Object.defineProperty(out, name, { value, enumerable: true, writable: true, configurable: true });
    else out[name] = value;
    if (blanks) pos = skipBlanks(text, pos, end);
    if (pos >= end) throw parseError('unterminated label set: expected "," or "}"', at, pos);
    c = text.charCodeAt(pos);
    if (c === COMMA) {
      pos++;
      continue;
    }
    if (c !== RBRACE) throw parseError(`expected "," or "}" after label value, got ${describeChar(text, pos, end)}`, at, pos);
    return pos + 1;
  }
}

/** HELP escapes: `\\` and `\n` in the text format (others kept as written), also `\"` in OpenMetrics. */
export function unescapeHelp(s: string, om: boolean): string {
  if (s.indexOf('\\') === -1) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === BACKSLASH && i + 1 < s.length) {
      const e = s[i + 1];
      if (e === '\\') { out += '\\'; i++; continue; }
      if (e === 'n') { out += '\n'; i++; continue; }
      if (om && e === '"') { out += '"'; i++; continue; }
    }
    out += s[i];
  }
  return out;
}
