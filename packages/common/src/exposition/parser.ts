/**
 * Parser for the Prometheus text format 0.0.4 and OpenMetrics 1.0, following what Prometheus
 * 2.42 ingests from a scrape (every sample line is a sample, `_created` lines included), and
 * refusing malformed input with a ParseError at the offending character.
 */
import { ParseError } from '../errors.js';
import type { Labels } from '../model/labels.js';
import type { MetricMetadata, MetricType } from '../model/sample.js';
import { parseGoFloat } from './float.js';
import {
  BACKSLASH, HASH, LBRACE, RBRACE, SPACE, TAB, describeChar, parseError, scanLabels, scanMetricName, skipBlanks,
  type LinePos,
} from './lexer.js';

export type ExpositionFormat = 'text' | 'openmetrics';

export interface ExpositionSample {
  /** Sample name as written (`x_bucket`, `x_total`). */
  name: string;
  /** All labels, `__name__` included. */
  labels: Labels;
  value: number;
  /** Milliseconds, when the line carries a timestamp (OpenMetrics seconds are converted). */
  timestamp?: number;
}

export interface Exposition {
  samples: ExpositionSample[];
  /** One entry per family that has a TYPE, HELP or UNIT line, in order of appearance. */
  metadata: MetricMetadata[];
}

export interface ParseOptions {
  format?: ExpositionFormat;
  /** A response's Content-Type: `application/openmetrics-text` selects OpenMetrics, anything else the text format. */
  contentType?: string;
}

/** The format Prometheus picks for a Content-Type header. */
export function formatFromContentType(contentType: string | undefined): ExpositionFormat {
  if (contentType === undefined) return 'text';
  const media = contentType.split(';')[0]!.trim().toLowerCase();
  return media === 'application/openmetrics-text' ? 'openmetrics' : 'text';
}

export function parseExposition(text: string, opts: ParseOptions = {}): Exposition {
  const format = opts.format ?? formatFromContentType(opts.contentType);
  return new ExpositionParser(text, format === 'openmetrics').parse();
}

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

class ExpositionParser implements LinePos {
  line = 0;
  lineStart = 0;
  private readonly samples: ExpositionSample[] = [];
  private readonly families = new Map<string, FamilyState>();
  private readonly sampledFamilies = new Set<string>();
  private lastName = '';

  constructor(private readonly text: string, private readonly om: boolean) {}

  parse(): Exposition {
    const text = this.text;
    const len = text.length;
    let pos = 0;
    let sawEOF = false;
    while (pos < len) {
      this.line++;
      this.lineStart = pos;
      let end = text.indexOf('\n', pos);
      if (end === -1) end = len;
      if (this.om) {
        if (end - pos === 5 && text.startsWith('# EOF', pos)) {
          if (end + 1 < len) throw new ParseError('unexpected data after # EOF', { line: this.line + 1, column: 1 });
          sawEOF = true;
          break;
        }
        this.openMetricsLine(pos, end);
      } else {
        this.textLine(pos, end);
      }
      pos = end + 1;
    }
    if (this.om && !sawEOF) {
      const position = len === 0 ? { line: 1, column: 1 }
        : text.charCodeAt(len - 1) === 10 ? { line: this.line + 1, column: 1 }
        : { line: this.line, column: len - this.lineStart + 1 };
      throw new ParseError('data does not end with # EOF', position);
    }
    const metadata: MetricMetadata[] = [];
    for (const [metric, f] of this.families) metadata.push({ metric, type: f.type ?? 'unknown', help: f.help ?? '', unit: f.unit ?? '' });
    return { samples: this.samples, metadata };
  }

  private textLine(pos: number, end: number): void {
    const p = skipBlanks(this.text, pos, end);
    if (p === end) return; // blank line
    if (this.text.charCodeAt(p) === HASH) this.textComment(p, end);
    else this.sampleLine(p, end);
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

  private openMetricsLine(pos: number, end: number): void {
    const text = this.text;
    if (pos === end) throw parseError('empty lines are not allowed in OpenMetrics', this, pos);
    if (text.charCodeAt(pos) !== HASH) {
      this.sampleLine(pos, end);
      return;
    }
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

  private sampleLine(p: number, end: number): void {
    const text = this.text;
    const om = this.om;
    const nameEnd = scanMetricName(text, p, end);
    if (nameEnd === p) throw parseError(`invalid metric name: unexpected ${describeChar(text, p, end)}`, this, p);
    const name = text.slice(p, nameEnd);
    const labels: Record<string, string> = { __name__: name };
    let q = om ? nameEnd : skipBlanks(text, nameEnd, end);
    if (q < end && text.charCodeAt(q) === LBRACE) q = scanLabels(text, q, end, !om, labels, this);
    else q = nameEnd;

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
    const value = parseGoFloat(text.slice(v0, vEnd));
    if (value === undefined) throw parseError(`invalid value "${text.slice(v0, vEnd)}"`, this, v0);

    // timestamp (and, in OpenMetrics, an exemplar)
    let timestamp: number | undefined;
    if (om) {
      if (vEnd < end) {
        const t0 = vEnd + 1;
        if (text.charCodeAt(t0) === HASH) {
          this.exemplar(t0, end);
        } else {
          let tEnd = t0;
          while (tEnd < end && text.charCodeAt(tEnd) !== SPACE) tEnd++;
          const ts = parseGoFloat(text.slice(t0, tEnd));
          if (ts === undefined || !Number.isFinite(ts)) throw parseError(`invalid timestamp "${text.slice(t0, tEnd)}"`, this, t0);
          timestamp = Math.trunc(ts * 1000);
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
        timestamp = Number(text.slice(t0, tEnd));
      }
    }

    if (name !== this.lastName) {
      // remember the families this sample may belong to, for the TYPE-after-samples check
      this.sampledFamilies.add(name);
      for (const suffix of FAMILY_SUFFIXES) if (name.endsWith(suffix)) this.sampledFamilies.add(name.slice(0, -suffix.length));
      this.lastName = name;
    }
    const sample: ExpositionSample = { name, labels, value };
    if (timestamp !== undefined) sample.timestamp = timestamp;
    this.samples.push(sample);
  }

  /** Checks the syntax of ` # {labels} value [timestamp]` and ignores it, as Prometheus ingests no exemplars here. */
  private exemplar(p: number, end: number): void {
    const text = this.text;
    if (!text.startsWith('# {', p)) throw parseError('invalid exemplar: expected "# {"', this, p);
    const q = scanLabels(text, p + 2, end, false, {}, this);
    if (q >= end || text.charCodeAt(q) !== SPACE) throw parseError(`invalid exemplar: expected " " and a value, got ${describeChar(text, q, end)}`, this, q);
    let vEnd = q + 1;
    while (vEnd < end && text.charCodeAt(vEnd) !== SPACE) vEnd++;
    if (parseGoFloat(text.slice(q + 1, vEnd)) === undefined) throw parseError(`invalid exemplar value "${text.slice(q + 1, vEnd)}"`, this, q + 1);
    if (vEnd < end) {
      const t0 = vEnd + 1;
      let tEnd = t0;
      while (tEnd < end && text.charCodeAt(tEnd) !== SPACE) tEnd++;
      const ts = parseGoFloat(text.slice(t0, tEnd));
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
    if (this.hasSamplesOf(name)) throw parseError(`TYPE line for metric "${name}" must appear before its samples`, this, at);
    f.type = type;
  }

  private setHelp(name: string, help: string, at: number): void {
    const f = this.family(name);
    if (f.help !== undefined) throw parseError(`second HELP line for metric "${name}"`, this, at);
    f.help = help;
  }

  private hasSamplesOf(family: string): boolean {
    return this.sampledFamilies.has(family);
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
