// Query results as the bytes of Prometheus' JSON (`data` member), written straight into one growing buffer:
// no object tree, no JSON.stringify, no string per point. Sample values are Go's strconv 'f', -1 formatting
// (the shortest decimal that round-trips), timestamps seconds as Go writes float64(ms)/1000.
import type { Labels } from '@vigil/common';
import { formatGoFloat } from './format.js';
import type { QueryResult } from './value.js';

const Q = 0x22; // "
const COMMA = 0x2c;
const ZERO = 0x30;
const DOT = 0x2e;
const MINUS = 0x2d;

/** 10^0 .. 10^22: the powers of ten a double holds exactly. */
const POW10 = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));
/** Candidates with at most 15 significant digits are > 4 ulp apart, so at most one rounds to a given double. */
const DIGITS15 = 1e15;

const encoder = new TextEncoder();

/** Buffer's latin1Write (what `write(s, off, n, 'latin1')` calls, without its per-call encoding dispatch). */
interface Latin1Writable {
  latin1Write(s: string, offset: number, length: number): number;
}

/** An append-only byte buffer for ASCII-heavy JSON. */
export class JsonWriter {
  buf: Buffer<ArrayBuffer>;
  len = 0;

  constructor(capacity = 1 << 14) {
    this.buf = Buffer.allocUnsafe(capacity) as Buffer<ArrayBuffer>;
  }

  /** Makes room for `n` more bytes. */
  reserve(n: number): void {
    const need = this.len + n;
    if (need <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const next = Buffer.allocUnsafe(cap) as Buffer<ArrayBuffer>;
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  byte(b: number): void {
    if (this.len >= this.buf.length) this.reserve(1);
    this.buf[this.len++] = b;
  }

  /** Appends a string known to be ASCII (punctuation, numbers). */
  ascii(s: string): void {
    const n = s.length;
    this.reserve(n);
    if (n > 6) {
      this.len += (this.buf as unknown as Latin1Writable).latin1Write(s, this.len, n);
      return;
    }
    const b = this.buf;
    let p = this.len;
    for (let i = 0; i < n; i++) b[p++] = s.charCodeAt(i);
    this.len = p;
  }

  bytes(src: Uint8Array, start: number, end: number): void {
    const n = end - start;
    this.reserve(n);
    const b = this.buf;
    let p = this.len;
    if (n > 32) {
      b.set(src.subarray(start, end), p);
      p += n;
    } else for (let i = start; i < end; i++) b[p++] = src[i]!;
    this.len = p;
  }

  /** Appends any text as UTF-8. */
  utf8(s: string): void {
    const enc = encoder.encode(s);
    this.reserve(enc.length);
    this.buf.set(enc, this.len);
    this.len += enc.length;
  }

  /** Appends `s` as a JSON string literal, escaped exactly as JSON.stringify does. */
  string(s: string): void {
    const n = s.length;
    this.reserve(n + 2);
    const b = this.buf;
    let p = this.len;
    b[p++] = Q;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x20 || c > 0x7e || c === Q || c === 0x5c) {
        // rare: escapes or non-ASCII; let JSON.stringify and UTF-8 encoding handle the whole string
        this.utf8(JSON.stringify(s));
        return;
      }
      b[p++] = c;
    }
    b[p++] = Q;
    this.len = p;
  }

  /** Appends the non-negative integer m (< 10^15), with a decimal point `point` digits from its right. */
  private decimal(m: number, point: number): void {
    const d = String(m);
    const n = d.length;
    this.reserve(n + point + 2);
    const b = this.buf;
    let p = this.len;
    if (point <= 0) {
      for (let i = 0; i < n; i++) b[p++] = d.charCodeAt(i);
    } else if (point >= n) {
      b[p++] = ZERO;
      b[p++] = DOT;
      for (let i = n; i < point; i++) b[p++] = ZERO;
      for (let i = 0; i < n; i++) b[p++] = d.charCodeAt(i);
    } else {
      const ip = n - point;
      for (let i = 0; i < ip; i++) b[p++] = d.charCodeAt(i);
      b[p++] = DOT;
      for (let i = ip; i < n; i++) b[p++] = d.charCodeAt(i);
    }
    this.len = p;
  }

  /**
   * Appends a float as Go's strconv.FormatFloat(v, 'f', -1, 64) (NaN, +Inf, -Inf for the specials).
   * Values that round-trip with at most 15 significant digits are written from exact integer arithmetic;
   * the others (typically 16-17 digits) take V8's shortest formatting.
   */
  goFloat(v: number): void {
    const a = v < 0 ? -v : v;
    if (Number.isInteger(a) && a < DIGITS15) {
      if (v < 0) this.byte(MINUS);
      this.decimal(a, 0);
      return;
    }
    if (a >= 1e-7 && a < DIGITS15) {
      // the 15-digit candidate m * 10^-p; both exact doubles, so m / 10^p is the correctly rounded parse
      const p = 14 - Math.floor(Math.log10(a));
      if (p > 0 && p <= 22) {
        const pow = POW10[p]!;
        let m = Math.round(a * pow);
        if (m < DIGITS15 && m / pow === a) {
          let point = p;
          if (m % 1e8 === 0) { m /= 1e8; point -= 8; }
          if (m % 1e4 === 0) { m /= 1e4; point -= 4; }
          if (m % 100 === 0) { m /= 100; point -= 2; }
          if (m % 10 === 0) { m /= 10; point--; }
          if (v < 0) this.byte(MINUS);
          this.decimal(m, point);
          return;
        }
      }
    }
    // String() writes exponents outside [1e-6, 1e21), and NaN/Infinity in JS' spelling
    this.ascii(a >= 1e-6 && a < 1e21 ? String(v) : formatGoFloat(v));
  }

  /** The bytes written so far (a view of the buffer). */
  result(): Uint8Array<ArrayBuffer> {
    return this.buf.subarray(0, this.len);
  }
}

/** `{"name":"value",...}` with names sorted, as Prometheus writes a label set. */
export function writeLabels(w: JsonWriter, l: Labels): void {
  const keys = Object.keys(l);
  if (keys.length > 1) keys.sort();
  w.byte(0x7b);
  for (let i = 0; i < keys.length; i++) {
    if (i) w.byte(COMMA);
    const k = keys[i]!;
    w.string(k);
    w.byte(0x3a);
    w.string(l[k]!);
  }
  w.byte(0x7d);
}

/** A timestamp (ms) as Prometheus writes it: seconds, shortest decimal. */
function writeTime(w: JsonWriter, ms: number): void {
  w.ascii(String(ms / 1000));
}

/** `[<t>,"<v>"]` */
function writePoint(w: JsonWriter, t: number, v: number): void {
  w.byte(0x5b);
  writeTime(w, t);
  w.byte(COMMA);
  w.byte(Q);
  w.goFloat(v);
  w.byte(Q);
  w.byte(0x5d);
}

/** Serialises a query result as the `data` member's JSON, into `w`. */
export function writeResult(w: JsonWriter, r: QueryResult): void {
  switch (r.resultType) {
    case 'scalar':
      w.ascii('{"resultType":"scalar","result":');
      writePoint(w, r.result.t, r.result.v);
      w.byte(0x7d);
      return;
    case 'string':
      w.ascii('{"resultType":"string","result":[');
      writeTime(w, r.result.t);
      w.byte(COMMA);
      w.string(r.result.v);
      w.ascii(']}');
      return;
    case 'vector':
      w.ascii('{"resultType":"vector","result":[');
      for (let i = 0; i < r.result.length; i++) {
        const s = r.result[i]!;
        if (i) w.byte(COMMA);
        w.ascii('{"metric":');
        writeLabels(w, s.metric);
        w.ascii(',"value":');
        writePoint(w, s.t, s.v);
        w.byte(0x7d);
      }
      w.ascii(']}');
      return;
    case 'matrix': {
      // A range query's points share the grid's timestamps: each `[<t>,"` prefix is formatted once.
      const g = r.grid;
      let pre: Uint8Array | null = null;
      let preOff: Int32Array | null = null;
      if (g && r.result.length > 0) {
        const pw = new JsonWriter(g.n * 16 + 16);
        preOff = new Int32Array(g.n + 1);
        for (let k = 0; k < g.n; k++) {
          preOff[k] = pw.len;
          pw.byte(0x5b);
          writeTime(pw, g.start + k * g.step);
          pw.byte(COMMA);
          pw.byte(Q);
        }
        preOff[g.n] = pw.len;
        pre = pw.buf;
      }
      w.ascii('{"resultType":"matrix","result":[');
      for (let j = 0; j < r.result.length; j++) {
        const s = r.result[j]!;
        if (j) w.byte(COMMA);
        w.ascii('{"metric":');
        writeLabels(w, s.metric);
        w.ascii(',"values":[');
        const { t, v } = s;
        for (let i = 0; i < t.length; i++) {
          if (i) w.byte(COMMA);
          const k = pre ? Math.round((t[i]! - g!.start) / g!.step) : -1;
          if (pre && k >= 0 && k < g!.n && g!.start + k * g!.step === t[i]) {
            w.bytes(pre, preOff![k]!, preOff![k + 1]!);
          } else {
            w.byte(0x5b);
            writeTime(w, t[i]!);
            w.byte(COMMA);
            w.byte(Q);
          }
          w.goFloat(v[i]!);
          w.byte(Q);
          w.byte(0x5d);
        }
        w.ascii(']}');
      }
      w.ascii(']}');
      return;
    }
  }
}
