import { formatGoFloat } from '../exposition/float.js';
import type { FamilySample, MetricFamily, MetricType } from '../model/sample.js';
import { PushError } from './grouping.js';

/**
 * Decoder for the Prometheus protobuf exposition (`io.prometheus.client.MetricFamily`,
 * varint-length-delimited), the format client_golang's push package sends by default.
 * Only what the Pushgateway needs: names, help, types, labels, values, timestamps; exemplars and
 * native histogram fields are skipped.
 */

class Reader {
  pos: number;
  constructor(readonly buf: Uint8Array, pos = 0, readonly end = buf.length) {
    this.pos = pos;
  }

  done(): boolean {
    return this.pos >= this.end;
  }

  varint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= this.end) throw new PushError('cannot decode protobuf push body: truncated varint');
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
      if (shift > 63) throw new PushError('cannot decode protobuf push body: varint too long');
    }
  }

  double(): number {
    if (this.pos + 8 > this.end) throw new PushError('cannot decode protobuf push body: truncated double');
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8).getFloat64(0, true);
    this.pos += 8;
    return v;
  }

  bytes(): Reader {
    const len = this.varint();
    if (this.pos + len > this.end) throw new PushError('cannot decode protobuf push body: truncated field');
    const r = new Reader(this.buf, this.pos, this.pos + len);
    this.pos += len;
    return r;
  }

  string(): string {
    const r = this.bytes();
    return Buffer.from(r.buf.buffer, r.buf.byteOffset + r.pos, r.end - r.pos).toString('utf8');
  }

  skip(wire: number): void {
    switch (wire) {
      case 0: this.varint(); return;
      case 1: this.pos += 8; return;
      case 2: this.bytes(); return;
      case 5: this.pos += 4; return;
      default: throw new PushError(`cannot decode protobuf push body: unsupported wire type ${wire}`);
    }
  }

  /** Iterates the fields of this message. */
  *fields(): Generator<[number, number]> {
    while (!this.done()) {
      const tag = this.varint();
      yield [Math.floor(tag / 8), tag & 7];
    }
  }
}

const TYPES: Record<number, MetricType> = { 0: 'counter', 1: 'gauge', 2: 'summary', 3: 'unknown', 4: 'histogram', 5: 'gaugehistogram' };

/** Reads `value` (field 1, double) of a Gauge/Counter/Untyped message. */
function simpleValue(r: Reader): number {
  let v = 0;
  for (const [f, w] of r.fields()) {
    if (f === 1 && w === 1) v = r.double();
    else r.skip(w);
  }
  return v;
}

function decodeMetric(r: Reader, family: string, type: MetricType, out: FamilySample[]): void {
  const labels: Record<string, string> = {};
  let value: number | undefined;
  let timestamp: number | undefined;
  let count = 0;
  let sum = 0;
  const quantiles: [number, number][] = [];
  const buckets: [number, number][] = [];
  let complex = false;
  for (const [f, w] of r.fields()) {
    if (f === 1 && w === 2) {
      const lp = r.bytes();
      let name = '';
      let val = '';
      for (const [lf, lw] of lp.fields()) {
        if (lf === 1 && lw === 2) name = lp.string();
        else if (lf === 2 && lw === 2) val = lp.string();
        else lp.skip(lw);
      }
      labels[name] = val;
    } else if ((f === 2 || f === 3 || f === 5) && w === 2) {
      value = simpleValue(r.bytes());
    } else if ((f === 4 || f === 7) && w === 2) {
      complex = true;
      const m = r.bytes();
      for (const [mf, mw] of m.fields()) {
        if (mf === 1 && mw === 0) count = m.varint();
        else if (mf === 2 && mw === 1) sum = m.double();
        else if (f === 7 && mf === 4 && mw === 1) count = m.double();
        else if (mf === 3 && mw === 2) {
          const q = m.bytes();
          let a = 0;
          let b = 0;
          for (const [qf, qw] of q.fields()) {
            if (f === 4 && qf === 1 && qw === 1) a = q.double(); // quantile
            else if (f === 4 && qf === 2 && qw === 1) b = q.double(); // value
            else if (f === 7 && qf === 1 && qw === 0) b = q.varint(); // cumulative_count
            else if (f === 7 && qf === 4 && qw === 1) b = q.double(); // cumulative_count_float
            else if (f === 7 && qf === 2 && qw === 1) a = q.double(); // upper_bound
            else q.skip(qw);
          }
          (f === 4 ? quantiles : buckets).push([a, b]);
        } else m.skip(mw);
      }
    } else if (f === 6 && w === 0) {
      timestamp = r.varint();
    } else r.skip(w);
  }
  const push = (name: string, extra: Record<string, string>, v: number): void => {
    const s: FamilySample = { name, labels: { ...labels, ...extra }, value: v };
    if (timestamp !== undefined) s.timestamp = timestamp;
    out.push(s);
  };
  if (!complex) {
    push(family, {}, value ?? 0);
    return;
  }
  if (type === 'summary') {
    for (const [q, v] of quantiles) push(family, { quantile: formatGoFloat(q) }, v);
  } else {
    let hasInf = false;
    for (const [le, c] of buckets) {
      if (le === Infinity) hasInf = true;
      push(`${family}_bucket`, { le: formatGoFloat(le) }, c);
    }
    if (!hasInf) push(`${family}_bucket`, { le: '+Inf' }, count);
  }
  push(`${family}_sum`, {}, sum);
  push(`${family}_count`, {}, count);
}

/** Decodes a delimited stream of MetricFamily messages. */
export function decodeProtobufFamilies(body: Uint8Array): MetricFamily[] {
  const top = new Reader(body);
  const out: MetricFamily[] = [];
  while (!top.done()) {
    const msg = top.bytes();
    let name = '';
    let help = '';
    let type: MetricType = 'unknown';
    const metrics: Reader[] = [];
    for (const [f, w] of msg.fields()) {
      if (f === 1 && w === 2) name = msg.string();
      else if (f === 2 && w === 2) help = msg.string();
      else if (f === 3 && w === 0) type = TYPES[msg.varint()] ?? 'unknown';
      else if (f === 4 && w === 2) metrics.push(msg.bytes());
      else msg.skip(w);
    }
    if (name === '') throw new PushError('cannot decode protobuf push body: metric family without a name');
    const samples: FamilySample[] = [];
    for (const m of metrics) decodeMetric(m, name, type, samples);
    out.push({ name, type, help, samples });
  }
  return out;
}

/** True for the Content-Type of the delimited protobuf exposition. */
export function isProtobufContentType(contentType: string | undefined): boolean {
  return !!contentType && /^\s*application\/vnd\.google\.protobuf/i.test(contentType);
}
