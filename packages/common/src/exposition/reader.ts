/**
 * The exposition line machine, Prometheus' `textparse` shape: `next()` steps to the next sample
 * line (HELP/TYPE/UNIT lines are taken in passing) and leaves the raw series span (`name{labels}`
 * as exposed), the value and the timestamp; the labels are parsed only when asked (`labels()`).
 * A scraper that already knows the series text of a line (its scrape cache) never builds a label
 * object for it. Every line is checked as `parseExposition` checks it: the label text is checked in
 * full by `labels()`, so a caller that skips `labels()` must only do so for a series text it has
 * seen pass `labels()` before (a cache hit).
 */
import { ParseError } from '../errors.js';
import type { MetricMetadata, MetricType } from '../model/sample.js';
import { parseGoFloatSpan, parseUintSpan } from './float.js';
import {
  BACKSLASH, HASH, LBRACE, QUOTE, RBRACE, SPACE, TAB, describeChar, parseError, scanLabels, scanMetricName, skipBlanks,
  unescapeHelp, type LinePos,
} from './lexer.js';

const TEXT_TYPES: Record<string, MetricType> = {
  counter: 'counter', gauge: 'gauge', histogram: 'histogram', summary: 'summary', untyped: 'unknown',
};
const OM_TYPES: Record<string, MetricType> = {
  counter: 'counter', gauge: 'gauge', histogram: 'histogram', gaugehistogram: 'gaugehistogram', summary: 'summary',
  info: 'info', stateset: 'stateset', unknown: 'unknown',
};
/** Sample-name suffixes by which samples belong to a family. */
const FAMILY_SUFFIXES = ['_total', '_created', '_bucket', '_count', '_sum', '_gcount', '_gsum', '_info'];

interface FamilyState {
  type?: MetricType;
  help?: string;
  unit?: string;
}

export class ExpositionReader implements LinePos {
  line = 0;
  lineStart = 0;
  /** The current sample line's series text: `[seriesStart, seriesEnd)`, the name ends at `nameEnd`. */
  seriesStart = 0;
  seriesEnd = 0;
  nameEnd = 0;
  value = 0;
  /** The line's timestamp in ms; meaningful only when `hasTimestamp`. */
  timestamp = 0;
  hasTimestamp = false;

  private pos = 0;
  private sawEOF = false;
  private readonly families = new Map<string, FamilyState>();
  private readonly sampledFamilies = new Set<string>();
  private lastName = '';

  /** The piece being read (a body may come as pieces that end at line ends). */
  private text: string;
  private readonly pieces: readonly string[];
  private piece = 0;

  constructor(body: string | readonly string[], private readonly om: boolean) {
    this.pieces = typeof body === 'string' ? [body] : body.length > 0 ? body : [''];
    this.text = this.pieces[0]!;
  }

  /** Whether the current line's series text is the `expect` handed to `next` (set by `next`). */
  matched = false;
  private expect: string | undefined;

  /**
   * Steps to the next sample line; false at the end of the input. Throws ParseError for a malformed
   * line. `expect`, a series text the caller has seen pass `labels()` (the same line of the last
   * scrape, say), is compared first: when the line starts with it, its label set is not scanned.
   */
  next(expect?: string): boolean {
    this.expect = expect;
    this.matched = false;
    for (;;) {
      if (this.readLine()) return true;
      if (this.sawEOF || this.piece + 1 >= this.pieces.length) break;
      this.text = this.pieces[++this.piece]!;
      this.pos = 0;
    }
    const text = this.text;
    const len = text.length;
    if (this.om && !this.sawEOF) {
      this.sawEOF = true; // report once
      const position = len === 0 ? { line: 1, column: 1 }
        : text.charCodeAt(len - 1) === 10 ? { line: this.line + 1, column: 1 }
        : { line: this.line, column: len - this.lineStart + 1 };
      throw new ParseError('data does not end with # EOF', position);
    }
    return false;
  }

  /** Reads lines of the current piece up to the next sample line (true) or the piece's end. */
  private readLine(): boolean {
    const text = this.text;
    const len = text.length;
    while (this.pos < len) {
      const pos = this.pos;
      this.line++;
      this.lineStart = pos;
      let end = text.indexOf('\n', pos);
      if (end === -1) end = len;
      this.pos = end + 1;
      if (this.om) {
        if (end - pos === 5 && text.startsWith('# EOF', pos)) {
          if (end + 1 < len || this.piece + 1 < this.pieces.length) throw new ParseError('unexpected data after # EOF', { line: this.line + 1, column: 1 });
          this.sawEOF = true;
          this.pos = len;
          return false;
        }
        if (pos === end) throw parseError('empty lines are not allowed in OpenMetrics', this, pos);
        if (text.charCodeAt(pos) === HASH) this.openMetricsComment(pos, end);
        else {
          this.sampleLine(pos, end);
          return true;
        }
      } else {
        const p = skipBlanks(text, pos, end);
        if (p === end) continue; // blank line
        if (text.charCodeAt(p) === HASH) this.textComment(p, end);
        else {
          this.sampleLine(p, end);
          return true;
        }
      }
    }
    return false;
  }

  /** The series text of the current line, as exposed. */
  series(): string {
    return this.text.slice(this.seriesStart, this.seriesEnd);
  }

  /** Whether the current line's series text is exactly `key`, without copying it. */
  seriesIs(key: string): boolean {
    return this.seriesEnd - this.seriesStart === key.length && this.text.startsWith(key, this.seriesStart);
  }

  /** The sample name of the current line. */
  name(): string {
    return this.text.slice(this.seriesStart, this.nameEnd);
  }

  /** Parses (and checks) the current line's labels; `__name__` first. */
  labels(): Record<string, string> {
    const labels: Record<string, string> = { __name__: this.name() };
    if (this.seriesEnd > this.nameEnd) {
      const brace = this.om ? this.nameEnd : skipBlanks(this.text, this.nameEnd, this.seriesEnd);
      scanLabels(this.text, brace, this.seriesEnd, !this.om, labels, this);
    }
    return labels;
  }

  /** One entry per family that has a TYPE, HELP or UNIT line, in order of appearance. */
  metadata(): MetricMetadata[] {
    const out: MetricMetadata[] = [];
    for (const [metric, f] of this.families) out.push({ metric, type: f.type ?? 'unknown', help: f.help ?? '', unit: f.unit ?? '' });
    return out;
  }

  /** `# HELP name text`, `# TYPE name type`; any other comment is ignored. */
  private textComment(p: number, end: number): void {
    const text = this.text;
    const kw = skipBlanks(text, p + 1, end);
    if (kw === p + 1) return; // "#foo": a comment
    const isHelp = text.startsWith('HELP', kw);
    if (!isHelp && !text.startsWith('TYPE', kw)) return;
    const afterKw = kw + 4;
    const c = text.charCodeAt(afterKw);
    if (afterKw >= end || (c !== SPACE && c !== TAB)) return; // "# HELPER ...": a comment
    const nameStart = skipBlanks(text, afterKw, end);
    const nameEnd = scanMetricName(text, nameStart, end);
    if (nameEnd === nameStart) throw parseError(`expected metric name after ${isHelp ? 'HELP' : 'TYPE'}, got ${describeChar(text, nameStart, end)}`, this, nameStart);
    if (nameEnd < end && text.charCodeAt(nameEnd) !== SPACE && text.charCodeAt(nameEnd) !== TAB) {
      throw parseError(`invalid metric name in ${isHelp ? 'HELP' : 'TYPE'}: unexpected ${describeChar(text, nameEnd, end)}`, this, nameEnd);
    }
    const name = text.slice(nameStart, nameEnd);
    const restStart = skipBlanks(text, nameEnd, end);
    const rest = text.slice(restStart, end);
    if (isHelp) {
      this.setHelp(name, unescapeHelp(rest, false), nameStart);
    } else {
      const type = TEXT_TYPES[rest.trimEnd()];
      if (type === undefined) throw parseError(`invalid metric type "${rest.trimEnd()}"`, this, restStart);
      this.setType(name, type, nameStart);
    }
  }

  private openMetricsComment(pos: number, end: number): void {
    const text = this.text;
    const kind = text.slice(pos, pos + 7);
    if (kind !== '# HELP ' && kind !== '# TYPE ' && kind !== '# UNIT ') {
      throw parseError('invalid comment: OpenMetrics allows only # HELP, # TYPE, # UNIT and # EOF', this, pos);
    }
    const nameStart = pos + 7;
    const nameEnd = scanMetricName(text, nameStart, end);
    if (nameEnd === nameStart) throw parseError(`expected metric name after ${kind.slice(2, 6)}, got ${describeChar(text, nameStart, end)}`, this, nameStart);
    if (nameEnd < end && text.charCodeAt(nameEnd) !== SPACE) throw parseError(`invalid metric name: unexpected ${describeChar(text, nameEnd, end)}`, this, nameEnd);
    const name = text.slice(nameStart, nameEnd);
    const restStart = Math.min(nameEnd + 1, end);
    const rest = text.slice(restStart, end);
    if (kind === '# HELP ') {
      this.setHelp(name, unescapeHelp(rest, true), nameStart);
    } else if (kind === '# TYPE ') {
      const type = OM_TYPES[rest];
      if (type === undefined) throw parseError(`invalid metric type "${rest}"`, this, restStart);
      this.setType(name, type, nameStart);
    } else {
      if (rest !== '' && !(name.endsWith(rest) && name.length > rest.length && name[name.length - rest.length - 1] === '_')) {
        throw parseError(`unit "${rest}" not a suffix of metric "${name}"`, this, restStart);
      }
      const f = this.family(name);
      if (f.unit !== undefined) throw parseError(`second UNIT line for metric "${name}"`, this, nameStart);
      f.unit = rest;
    }
  }

  /**
   * Index just past the `}` closing the label set that opens at `pos`, skipping quoted values
   * (with their escapes). An unterminated set is reported by scanLabels, with its exact message.
   */
  private labelSetEnd(pos: number, end: number): number {
    const text = this.text;
    let inQuote = false;
    for (let i = pos + 1; i < end; i++) {
      const c = text.charCodeAt(i);
      if (inQuote) {
        if (c === BACKSLASH) i++;
        else if (c === QUOTE) inQuote = false;
      } else if (c === QUOTE) inQuote = true;
      else if (c === RBRACE) return i + 1;
    }
    scanLabels(text, pos, end, !this.om, {}, this);
    throw parseError('unterminated label set: expected "}"', this, end);
  }

  private sampleLine(p: number, end: number): void {
    const text = this.text;
    const om = this.om;
    const nameEnd = scanMetricName(text, p, end);
    if (nameEnd === p) throw parseError(`invalid metric name: unexpected ${describeChar(text, p, end)}`, this, p);
    this.seriesStart = p;
    this.nameEnd = nameEnd;
    const expect = this.expect;
    let q: number;
    if (expect !== undefined && expect.charCodeAt(expect.length - 1) === RBRACE && text.startsWith(expect, p)) {
      // a known series text with labels: it ends at the same "}" (a valid label set closes at its first unquoted "}")
      q = p + expect.length;
      this.matched = true;
    } else {
      q = om ? nameEnd : skipBlanks(text, nameEnd, end);
      if (q < end && text.charCodeAt(q) === LBRACE) q = this.labelSetEnd(q, end);
      else q = nameEnd;
      this.matched = expect !== undefined && q - p === expect.length && text.startsWith(expect, p);
    }
    this.seriesEnd = q;

    // value
    let v0: number;
    if (om) {
      if (q >= end || text.charCodeAt(q) !== SPACE) throw parseError(`expected " " and a value after the series, got ${describeChar(text, q, end)}`, this, q);
      v0 = q + 1;
    } else {
      v0 = skipBlanks(text, q, end);
      if (v0 === q && text.charCodeAt(q - 1) !== RBRACE) throw parseError(`expected whitespace and a value after the series, got ${describeChar(text, q, end)}`, this, q);
    }
    let vEnd = v0;
    while (vEnd < end) {
      const c = text.charCodeAt(vEnd);
      if (c === SPACE || (!om && c === TAB)) break;
      vEnd++;
    }
    if (vEnd === v0) throw parseError(`expected a value, got ${describeChar(text, v0, end)}`, this, v0);
    const value = parseGoFloatSpan(text, v0, vEnd);
    if (value === undefined) throw parseError(`invalid value "${text.slice(v0, vEnd)}"`, this, v0);
    this.value = value;

    // timestamp (and, in OpenMetrics, an exemplar)
    this.hasTimestamp = false;
    if (om) {
      if (vEnd < end) {
        const t0 = vEnd + 1;
        if (text.charCodeAt(t0) === HASH) {
          this.exemplar(t0, end);
        } else {
          let tEnd = t0;
          while (tEnd < end && text.charCodeAt(tEnd) !== SPACE) tEnd++;
          const ts = parseGoFloatSpan(text, t0, tEnd);
          if (ts === undefined || !Number.isFinite(ts)) throw parseError(`invalid timestamp "${text.slice(t0, tEnd)}"`, this, t0);
          this.timestamp = Math.trunc(ts * 1000);
          this.hasTimestamp = true;
          if (tEnd < end) {
            if (text.charCodeAt(tEnd + 1) !== HASH) throw parseError(`expected end of line or an exemplar after the timestamp, got ${describeChar(text, tEnd + 1, end)}`, this, tEnd + 1);
            this.exemplar(tEnd + 1, end);
          }
        }
      }
    } else {
      const t0 = skipBlanks(text, vEnd, end);
      if (t0 < end) {
        let tEnd = t0;
        while (tEnd < end) {
          const c = text.charCodeAt(tEnd);
          if (c < 48 || c > 57) break;
          tEnd++;
        }
        if (tEnd === t0) {
          const why = text.charCodeAt(t0) === HASH ? ' (exemplars are only allowed in OpenMetrics)' : '';
          throw parseError(`invalid timestamp: unexpected ${describeChar(text, t0, end)}${why}`, this, t0);
        }
        if (tEnd - t0 > 19) throw parseError(`timestamp "${text.slice(t0, tEnd)}" out of range`, this, t0);
        const after = skipBlanks(text, tEnd, end);
        if (after < end) throw parseError(`expected end of line after the timestamp, got ${describeChar(text, after, end)}`, this, after);
        this.timestamp = parseUintSpan(text, t0, tEnd);
        this.hasTimestamp = true;
      }
    }

    const last = this.lastName;
    if (nameEnd - p !== last.length || !text.startsWith(last, p)) {
      // remember the families this sample may belong to, for the TYPE-after-samples check
      const name = text.slice(p, nameEnd);
      this.sampledFamilies.add(name);
      for (const suffix of FAMILY_SUFFIXES) if (name.endsWith(suffix)) this.sampledFamilies.add(name.slice(0, -suffix.length));
      this.lastName = name;
    }
  }

  /** Checks the syntax of ` # {labels} value [timestamp]` and ignores it, as Prometheus ingests no exemplars here. */
  private exemplar(p: number, end: number): void {
    const text = this.text;
    if (!text.startsWith('# {', p)) throw parseError('invalid exemplar: expected "# {"', this, p);
    const q = scanLabels(text, p + 2, end, false, {}, this);
    if (q >= end || text.charCodeAt(q) !== SPACE) throw parseError(`invalid exemplar: expected " " and a value, got ${describeChar(text, q, end)}`, this, q);
    let vEnd = q + 1;
    while (vEnd < end && text.charCodeAt(vEnd) !== SPACE) vEnd++;
    if (parseGoFloatSpan(text, q + 1, vEnd) === undefined) throw parseError(`invalid exemplar value "${text.slice(q + 1, vEnd)}"`, this, q + 1);
    if (vEnd < end) {
      const t0 = vEnd + 1;
      let tEnd = t0;
      while (tEnd < end && text.charCodeAt(tEnd) !== SPACE) tEnd++;
      const ts = parseGoFloatSpan(text, t0, tEnd);
      if (ts === undefined || !Number.isFinite(ts)) throw parseError(`invalid exemplar timestamp "${text.slice(t0, tEnd)}"`, this, t0);
      if (tEnd < end) throw parseError(`expected end of line after the exemplar, got ${describeChar(text, tEnd, end)}`, this, tEnd);
    }
  }

  private family(name: string): FamilyState {
    let f = this.families.get(name);
    if (!f) {
      f = {};
      this.families.set(name, f);
    }
    return f;
  }

  private setType(name: string, type: MetricType, at: number): void {
    const f = this.family(name);
    if (f.type !== undefined) throw parseError(`second TYPE line for metric "${name}"`, this, at);
    if (this.sampledFamilies.has(name)) throw parseError(`TYPE line for metric "${name}" must appear before its samples`, this, at);
    f.type = type;
  }

  private setHelp(name: string, help: string, at: number): void {
    const f = this.family(name);
    if (f.help !== undefined) throw parseError(`second HELP line for metric "${name}"`, this, at);
    f.help = help;
  }
}
