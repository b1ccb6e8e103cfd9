import { VigilError, type Labels, type MetricMetadata, type MetricType } from '@vigil/common';

/** A malformed remote-write payload (protobuf or snappy), answered with 400. */
export class RemoteWriteError extends VigilError {
  constructor(message: string) {
    super('ERR_REMOTE_WRITE', message);
  }
}

export interface WriteSeries {
  labels: Labels;
  timestamps: number[];
  values: number[];
  /** Indexes of samples that are Prometheus staleness markers (NaN with payload 0x7ff0000000000002). */
  stale: number[];
}

export interface WriteRequest {
  series: WriteSeries[];
  metadata: MetricMetadata[];
}

const STALE_HI = 0x7ff00000;
const STALE_LO = 0x00000002;
const METADATA_TYPES: MetricType[] = ['unknown', 'counter', 'gauge', 'histogram', 'gaugehistogram', 'summary', 'info', 'stateset'];

/**
 * Decodes a Prometheus remote-write 1.0 `WriteRequest` (prompb). Written by hand because only five small
 * messages are involved, and because the stale-marker NaN must be recognised from its bits before it
 * becomes a JavaScript number.
 */
export function decodeWriteRequest(buf: Uint8Array): WriteRequest {
  const r = new Reader(buf);
  const out: WriteRequest = { series: [], metadata: [] };
  while (!r.eof()) {
    const [field, wire] = r.tag();
    if (field === 1 && wire === 2) out.series.push(readTimeSeries(r.sub()));
    else if (field === 3 && wire === 2) out.metadata.push(readMetadata(r.sub()));
    else r.skip(wire);
  }
  return out;
}

function readTimeSeries(r: Reader): WriteSeries {
  const labels: Record<string, string> = {};
  const s: WriteSeries = { labels, timestamps: [], values: [], stale: [] };
  while (!r.eof()) {
    const [field, wire] = r.tag();
    if (field === 1 && wire === 2) {
      const l = r.sub();
      let name = '', value = '';
      while (!l.eof()) {
        const [f, w] = l.tag();
        if (f === 1 && w === 2) name = l.string();
        else if (f === 2 && w === 2) value = l.string();
        else l.skip(w);
      }
      if (name in labels) throw new RemoteWriteError(`cannot decode remote-write series: duplicate label name "${name}"`);
      labels[name] = value;
    } else if (field === 2 && wire === 2) {
      const smp = r.sub();
      let value = 0, ts = 0, stale = false;
      while (!smp.eof()) {
        const [f, w] = smp.tag();
        if (f === 1 && w === 1) {
          stale = smp.isStaleNaN();
          value = smp.double();
        } else if (f === 2 && w === 0) ts = smp.varint();
        else smp.skip(w);
      }
      if (stale) s.stale.push(s.values.length);
      s.timestamps.push(ts);
      s.values.push(value);
    } else r.skip(wire);
  }
  return s;
}

function readMetadata(r: Reader): MetricMetadata {
  const m: MetricMetadata = { metric: '', type: 'unknown', help: '', unit: '' };
  while (!r.eof()) {
    const [f, w] = r.tag();
    if (f === 1 && w === 0) m.type = METADATA_TYPES[r.varint()] ?? 'unknown';
    else if (f === 2 && w === 2) m.metric = r.string();
    else if (f === 4 && w === 2) m.help = r.string();
    else if (f === 5 && w === 2) m.unit = r.string();
    else r.skip(w);
  }
  return m;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

class Reader {
  private pos: number;
  private readonly view: DataView;
  constructor(private readonly buf: Uint8Array, start = 0, private readonly end = buf.length) {
    this.pos = start;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  eof(): boolean {
    return this.pos >= this.end;
  }
  tag(): [number, number] {
    const t = this.varint();
    return [Math.floor(t / 8), t & 7];
  }
  varint(): number {
    let result = 0, mult = 1;
    const start = this.pos;
    for (let i = 0; i < 7; i++) {
      if (this.pos >= this.end) throw new RemoteWriteError('cannot decode remote-write request: truncated varint');
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * mult;
      if (b < 0x80) return result;
      mult *= 128;
    }
    // Longer varints (int64 timestamps before 1970 use 10 bytes of two's complement) need exact 64-bit math.
    this.pos = start;
    let big = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.pos >= this.end) throw new RemoteWriteError('cannot decode remote-write request: truncated varint');
      const b = this.buf[this.pos++]!;
      big |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return Number(BigInt.asIntN(64, big));
    }
    throw new RemoteWriteError('cannot decode remote-write request: varint too long');
  }
  sub(): Reader {
    const len = this.varint();
    if (len < 0 || this.pos + len > this.end) throw new RemoteWriteError(`cannot decode remote-write request: field length ${len} past the end`);
    const r = new Reader(this.buf, this.pos, this.pos + len);
    this.pos += len;
    return r;
  }
  string(): string {
    const len = this.varint();
    if (len < 0 || this.pos + len > this.end) throw new RemoteWriteError('cannot decode remote-write request: string past the end');
    try {
      return utf8.decode(this.buf.subarray(this.pos, (this.pos += len)));
    } catch {
      throw new RemoteWriteError('cannot decode remote-write request: invalid UTF-8 in a string');
    }
  }
  isStaleNaN(): boolean {
    if (this.pos + 8 > this.end) return false;
    return this.view.getUint32(this.pos + 4, true) === STALE_HI && this.view.getUint32(this.pos, true) === STALE_LO;
  }
  double(): number {
    if (this.pos + 8 > this.end) throw new RemoteWriteError('cannot decode remote-write request: truncated double');
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }
  /**
   * Skips a field this decoder does not keep: exemplars (TimeSeries field 3), native histograms
   * (field 4) and whatever a newer sender adds.
   */
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) {
      // read the length before moving: `this.pos += this.varint()` would add it to the position before the length
      const len = this.varint();
      if (len < 0) throw new RemoteWriteError(`cannot decode remote-write request: negative field length ${len}`);
      this.pos += len;
    } else if (wire === 5) this.pos += 4;
    else throw new RemoteWriteError(`cannot decode remote-write request: unsupported wire type ${wire}`);
    if (this.pos > this.end) throw new RemoteWriteError('cannot decode remote-write request: field past the end');
  }
}
