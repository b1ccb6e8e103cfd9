/**
 * Streaming parser for bulk import (`POST /api/v1/import/prometheus`): text-format lines
 * `series value [timestamp_ms]`, comments and blank lines ignored, `\r\n` accepted.
 *
 * Built for throughput: a line whose series text was seen before costs one Map lookup (its
 * labels are parsed once and the same object is handed out again), plain decimal values are
 * parsed without allocating, and nothing is kept per sample.
 */
import type { Labels } from '../model/labels.js';
import { parseGoFloat } from './float.js';
import {
  BACKSLASH, CR, HASH, LBRACE, QUOTE, RBRACE, SPACE, TAB, describeChar, isMetricNameChar, isMetricNameStart,
  parseError, scanLabels, skipBlanks, type LinePos,
} from './lexer.js';

export type ImportSampleHandler = (key: string, labels: Labels, value: number, timestampMs: number | undefined) => void;

/** Powers of ten exactly representable as doubles (10^0 .. 10^22). */
const POW10 = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));

/** Number of distinct series texts whose labels are cached before the cache is reset. */
const MAX_CACHED_SERIES = 1_000_000;

interface CacheEntry {
  key: string;
  labels: Labels;
  next: CacheEntry | undefined;
}

export class ImportParser implements LinePos {
  line = 0;
  lineStart = 0;
  /** Lines read so far (including comments and blank lines). */
  get lines(): number {
    return this.line;
  }
  /** Samples handed to the callback so far. */
  samples = 0;

  private rest = '';
  private prevKey = '';
  private prevLabels: Labels = {};
  /** Series texts seen, by hash (collisions chained), with their labels. */
  private readonly cache = new Map<number, CacheEntry>();
  private cached = 0;
  private seriesHash = 0;

  constructor(private readonly onSample: ImportSampleHandler) {}

  /** Parses the complete lines of `chunk` (with what was left of the previous chunk). */
  push(chunk: string): void {
    let from = 0;
    if (this.rest !== '') {
      // finish the line split across chunks on its own, without copying the whole chunk
      const nl = chunk.indexOf('\n');
      if (nl === -1) {
        this.rest += chunk;
        return;
      }
      const line = this.rest + chunk.slice(0, nl + 1);
      this.rest = '';
      this.parseLines(line, 0, line.length);
      from = nl + 1;
    }
    const last = chunk.lastIndexOf('\n');
    if (last < from) {
      this.rest = chunk.slice(from);
      return;
    }
    this.rest = last + 1 < chunk.length ? chunk.slice(last + 1) : '';
    this.parseLines(chunk, from, last + 1);
  }

  /** Parses the final line, if the input did not end with a newline. */
  end(): void {
    const text = this.rest;
    this.rest = '';
    if (text !== '') this.parseLines(text + '\n', 0, text.length + 1);
  }

  /** Parses the lines of `text` from `pos` up to `limit` (the index just past a '\n'). */
  private parseLines(text: string, pos: number, limit: number): void {
    const onSample = this.onSample;
    const cache = this.cache;
    while (pos < limit) {
      this.line++;
      let end = text.indexOf('\n', pos);
      const next = end + 1;
      if (end > pos && text.charCodeAt(end - 1) === CR) end--;
      // The column base is made relative to this text; positions are within the line anyway.
      this.lineStart = pos;
      let p = pos;
      let c = text.charCodeAt(p);
      if (c === SPACE || c === TAB) {
        p = skipBlanks(text, p, end);
        c = text.charCodeAt(p);
      }
      if (p === end || c === HASH) {
        pos = next;
        continue;
      }
      // series text: the previous line's series (imports are usually grouped by series),
      // else a metric name and an optional label set, looked up in the cache
      let key = this.prevKey;
      let labels = this.prevLabels;
      let q = p + key.length;
      // (string equality is a fast memory compare in V8; startsWith at an offset is not)
      if (key === '' || ((c = text.charCodeAt(q)) !== SPACE && c !== TAB) || text.slice(p, q) !== key) {
        q = this.scanSeries(text, p, end);
        const h = this.seriesHash;
        const text_ = text.slice(p, q);
        let e = cache.get(h);
        while (e !== undefined && e.key !== text_) e = e.next;
        if (e === undefined) {
          key = text_;
          labels = this.parseSeries(text, p, q, end);
          if (this.cached >= MAX_CACHED_SERIES) {
            cache.clear();
            this.cached = 0;
          }
          cache.set(h, { key, labels, next: cache.get(h) });
          this.cached++;
        } else {
          key = e.key;
          labels = e.labels;
        }
        this.prevKey = key;
        this.prevLabels = labels;
      }

      // value
      let v0 = q;
      while (v0 < end && ((c = text.charCodeAt(v0)) === SPACE || c === TAB)) v0++;
      if (v0 === q && text.charCodeAt(q - 1) !== RBRACE) throw parseError(`expected whitespace and a value after the series, got ${describeChar(text, q, end)}`, this, q);
      if (v0 === end) throw parseError('expected a value, got end of line', this, v0);
      // fast path: [-]digits[.digits] with at most 15 significant digits
      let i = v0;
      let neg = false;
      c = text.charCodeAt(i);
      if (c === 45) {
        neg = true;
        i++;
      }
      let mant = 0;
      let digits = 0;
      let frac = -1;
      for (; i < end; i++) {
        c = text.charCodeAt(i);
        if (c >= 48 && c <= 57) {
          mant = mant * 10 + (c - 48);
          digits++;
        } else if (c === 46 && frac === -1) {
          frac = digits;
        } else break;
      }
      let value: number;
      let vEnd = i;
      if (digits > 0 && digits <= 15 && (i === end || c === SPACE || c === TAB)) {
        value = frac === -1 ? mant : mant / POW10[digits - frac]!;
        if (neg) value = -value;
      } else {
        while (vEnd < end && (c = text.charCodeAt(vEnd)) !== SPACE && c !== TAB) vEnd++;
        const v = parseGoFloat(text.slice(v0, vEnd));
        if (v === undefined) throw parseError(`invalid value "${text.slice(v0, vEnd)}"`, this, v0);
        value = v;
      }

      // optional timestamp in milliseconds
      let ts: number | undefined;
      let t0 = vEnd;
      while (t0 < end && ((c = text.charCodeAt(t0)) === SPACE || c === TAB)) t0++;
      if (t0 < end) {
        let t = 0;
        let j = t0;
        let tneg = false;
        if (text.charCodeAt(j) === 45) {
          tneg = true;
          j++;
        }
        const digitsStart = j;
        for (; j < end; j++) {
          c = text.charCodeAt(j);
          if (c < 48 || c > 57) break;
          t = t * 10 + (c - 48);
        }
        if (j === digitsStart || j - digitsStart > 16 || (j < end && (c = text.charCodeAt(j)) !== SPACE && c !== TAB)) {
          let tokenEnd = j;
          while (tokenEnd < end && (c = text.charCodeAt(tokenEnd)) !== SPACE && c !== TAB) tokenEnd++;
          throw parseError(`invalid timestamp "${text.slice(t0, tokenEnd)}": expected integer milliseconds`, this, t0);
        }
        const after = skipBlanks(text, j, end);
        if (after < end) throw parseError(`expected end of line after the timestamp, got ${describeChar(text, after, end)}`, this, after);
        ts = tneg ? -t : t;
      }
      this.samples++;
      onSample(key, labels, value, ts);
      pos = next;
    }
  }

  /**
   * Index just past the series text at `p` (metric name and optional label set, quoted
   * values skipped; validated later, once per series), leaving its FNV-1a hash in `seriesHash`.
   */
  private scanSeries(text: string, p: number, end: number): number {
    let c = text.charCodeAt(p);
    if (!isMetricNameStart(c)) throw parseError(`invalid metric name: unexpected ${describeChar(text, p, end)}`, this, p);
    let h = 0x811c9dc5;
    let i = p;
    while (i < end && isMetricNameChar(c = text.charCodeAt(i))) {
      h = Math.imul(h ^ c, 16777619);
      i++;
    }
    if (i < end && c === LBRACE) {
      for (;;) {
        h = Math.imul(h ^ c, 16777619);
        i++;
        if (i >= end) break;
        c = text.charCodeAt(i);
        if (c === RBRACE) {
          h = Math.imul(h ^ c, 16777619);
          i++;
          break;
        }
        if (c === BACKSLASH) {
          h = Math.imul(h ^ c, 16777619);
          i++;
          if (i >= end) break;
          c = text.charCodeAt(i);
        } else if (c === QUOTE) {
          // inside a quoted value: only a backslash or the closing quote matter
          for (;;) {
            h = Math.imul(h ^ c, 16777619);
            i++;
            if (i >= end) break;
            c = text.charCodeAt(i);
            if (c === BACKSLASH) {
              h = Math.imul(h ^ c, 16777619);
              i++;
              if (i >= end) break;
              c = text.charCodeAt(i);
            } else if (c === QUOTE) {
              break;
            }
          }
          if (i >= end) break;
        }
      }
    }
    this.seriesHash = h;
    return i;
  }

  /** Parses and validates the series text `text[p, q)` into a frozen label set. */
  private parseSeries(text: string, p: number, q: number, end: number): Labels {
    let n = p + 1;
    while (n < q && isMetricNameChar(text.charCodeAt(n))) n++;
    const labels: Record<string, string> = { __name__: text.slice(p, n) };
    if (n < q) {
      const after = scanLabels(text, n, end, true, labels, this);
      if (after !== q) throw parseError(`unexpected ${describeChar(text, after, end)} after the label set`, this, after);
    }
    return Object.freeze(labels);
  }
}

