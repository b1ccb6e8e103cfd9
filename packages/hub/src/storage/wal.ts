import fs from 'node:fs';
import path from 'node:path';
import type { Labels } from '@vigil/common';
import { ByteReader, ByteWriter } from './bytes.js';

/**
 * Write-ahead log (docs/storage.md): numbered segment files `wal/00000001.log`, each a
 * sequence of records `len:u32le crc32:u32le payload`. Payload kinds:
 *   1 series   id:u32le, labels as JSON (utf8)
 *   2 samples  count:u32le, then count × (id:u32le t:f64le v:f64le flags:u8)  (flags bit0 = stale)
 *   3 columns  count:u32le, then count × id:u32le, count × t:f64le, count × v:f64le, count × flags:u8
 *              (the same samples as columns: written with four memory copies, what commits write)
 * One commit group is one write() + fdatasync(). Replay stops at the first torn or corrupt
 * record: such a record was never acknowledged.
 */
export const REC_SERIES = 1;
export const REC_SAMPLES = 2;
export const REC_COLUMNS = 3;
export const SAMPLE_BYTES = 21;
/** Typed arrays use the host's byte order; the log is little-endian. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** CRC-32 (IEEE) tables for slicing-by-4: four bytes per step. */
const CRC_TABLES = new Int32Array(4 * 256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  CRC_TABLES[n] = c;
}
for (let n = 0; n < 256; n++) {
  for (let t = 1; t < 4; t++) {
    const prev = CRC_TABLES[(t - 1) * 256 + n]!;
    CRC_TABLES[t * 256 + n] = CRC_TABLES[prev & 0xff]! ^ (prev >>> 8);
  }
}

export function crc32(buf: Uint8Array, start = 0, end = buf.length): number {
  const T = CRC_TABLES;
  let c = -1;
  let i = start;
  for (; i + 4 <= end; i += 4) {
    c ^= buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24);
    c = T[768 + (c & 0xff)]! ^ T[512 + ((c >>> 8) & 0xff)]! ^ T[256 + ((c >>> 16) & 0xff)]! ^ T[c >>> 24]!;
  }
  for (; i < end; i++) c = T[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

/** Builds the bytes of one commit group. */
export class WalEncoder {
  readonly w = new ByteWriter(1 << 16);
  private samplesStart = -1;
  private samplesCount = 0;

  reset(): void {
    this.w.reset();
    this.samplesStart = -1;
    this.samplesCount = 0;
  }

  get empty(): boolean {
    return this.w.len === 0;
  }

  series(id: number, labels: Labels): void {
    this.endSamples();
    const json = Buffer.from(JSON.stringify(labels), 'utf8');
    const start = this.w.len;
    this.w.u32(0);
    this.w.u32(0);
    this.w.u8(REC_SERIES);
    this.w.u32(id);
    this.w.bytes(json);
    this.seal(start);
  }

  sample(id: number, t: number, v: number, stale: boolean): void {
    if (this.samplesStart < 0) {
      this.samplesStart = this.w.len;
      this.w.u32(0);
      this.w.u32(0);
      this.w.u8(REC_SAMPLES);
      this.w.u32(0);
    }
    const w = this.w;
    w.ensure(SAMPLE_BYTES);
    w.u32(id);
    w.f64(t);
    w.f64(v);
    w.u8(stale ? 1 : 0);
    this.samplesCount++;
  }

  /** The samples [0, n) of the columns as one columnar record (little-endian hosts, as typed arrays are). */
  columns(ids: Uint32Array, t: Float64Array, v: Float64Array, flags: Uint8Array, n: number): void {
    this.endSamples();
    if (n === 0) return;
    if (!LITTLE_ENDIAN) {
      for (let i = 0; i < n; i++) this.sample(ids[i]!, t[i]!, v[i]!, flags[i] === 1);
      this.endSamples();
      return;
    }
    const w = this.w;
    const start = w.len;
    w.ensure(13 + n * SAMPLE_BYTES);
    w.u32(0);
    w.u32(0);
    w.u8(REC_COLUMNS);
    w.u32(n);
    const b = w.buf;
    let o = w.len;
    b.set(new Uint8Array(ids.buffer, ids.byteOffset, n * 4), o); o += n * 4;
    b.set(new Uint8Array(t.buffer, t.byteOffset, n * 8), o); o += n * 8;
    b.set(new Uint8Array(v.buffer, v.byteOffset, n * 8), o); o += n * 8;
    b.set(flags.subarray(0, n), o); o += n;
    w.len = o;
    this.seal(start);
  }

  private endSamples(): void {
    if (this.samplesStart < 0) return;
    const dv = new DataView(this.w.buf.buffer);
    dv.setUint32(this.samplesStart + 9, this.samplesCount, true);
    this.seal(this.samplesStart);
    this.samplesStart = -1;
    this.samplesCount = 0;
  }

  private seal(start: number): void {
    const dv = new DataView(this.w.buf.buffer);
    const payloadStart = start + 8;
    dv.setUint32(start, this.w.len - payloadStart, true);
    dv.setUint32(start + 4, crc32(this.w.buf, payloadStart, this.w.len), true);
  }

  /** The finished bytes (a view, valid until the next reset). */
  finish(): Uint8Array {
    this.endSamples();
    return this.w.buf.subarray(0, this.w.len);
  }
}

export interface WalVisitor {
  series(id: number, labels: Labels): void;
  samples(ids: Uint32Array, t: Float64Array, v: Float64Array, flags: Uint8Array, n: number): Promise<void>;
}

/** Reads one segment; returns the byte length of its valid prefix. */
export async function replaySegment(file: string, visit: WalVisitor): Promise<number> {
  const buf = fs.readFileSync(file);
  const r = new ByteReader(buf);
  let ids = new Uint32Array(1024);
  let ts = new Float64Array(1024);
  let vs = new Float64Array(1024);
  let fl = new Uint8Array(1024);
  /** Scratch columns reused by every samples record; grown to the largest record seen. */
  const grow = (n: number): void => {
    if (ids.length >= n) return;
    ids = new Uint32Array(n);
    ts = new Float64Array(n);
    vs = new Float64Array(n);
    fl = new Uint8Array(n);
  };
  while (r.remaining >= 8) {
    const start = r.pos;
    const len = r.u32();
    const crc = r.u32();
    if (len === 0 || len > r.remaining || crc32(buf, r.pos, r.pos + len) !== crc) return start;
    const end = r.pos + len;
    const kind = r.u8();
    if (kind === REC_SERIES) {
      const id = r.u32();
      const labels = JSON.parse(buf.toString('utf8', r.pos, end)) as Labels;
      visit.series(id, labels);
    } else if (kind === REC_SAMPLES) {
      const n = r.u32();
      grow(n);
      for (let i = 0; i < n; i++) {
        ids[i] = r.u32();
        ts[i] = r.f64();
        vs[i] = r.f64();
        fl[i] = r.u8();
      }
      await visit.samples(ids, ts, vs, fl, n);
    } else if (kind === REC_COLUMNS) {
      const n = r.u32();
      grow(n);
      // Copies through byte views: the columns in the file need not be aligned.
      let o = r.pos;
      if (!LITTLE_ENDIAN) {
        const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
        for (let i = 0; i < n; i++) {
          ids[i] = dv.getUint32(o + 4 * i, true);
          ts[i] = dv.getFloat64(o + 4 * n + 8 * i, true);
          vs[i] = dv.getFloat64(o + 12 * n + 8 * i, true);
          fl[i] = buf[o + 20 * n + i]!;
        }
        await visit.samples(ids, ts, vs, fl, n);
        r.pos = end;
        continue;
      }
      new Uint8Array(ids.buffer, 0, n * 4).set(buf.subarray(o, o + n * 4)); o += n * 4;
      new Uint8Array(ts.buffer, 0, n * 8).set(buf.subarray(o, o + n * 8)); o += n * 8;
      new Uint8Array(vs.buffer, 0, n * 8).set(buf.subarray(o, o + n * 8)); o += n * 8;
      fl.set(buf.subarray(o, o + n));
      await visit.samples(ids, ts, vs, fl, n);
    }
    r.pos = end;
  }
  return r.pos;
}

/** The append side: one open segment, rotated at each flush. */
export class WalWriter {
  private fd: number;
  seq: number;
  bytes = 0;

  constructor(readonly dir: string, seq: number) {
    this.seq = seq;
    this.fd = fs.openSync(segmentPath(dir, seq), 'a');
  }

  /** One write and one fdatasync for a whole commit group. */
  async append(data: Uint8Array): Promise<void> {
    const fd = this.fd;
    let off = 0;
    while (off < data.length) {
      off += await new Promise<number>((resolve, reject) =>
        fs.write(fd, data, off, data.length - off, null, (err, n) => (err ? reject(err) : resolve(n))));
    }
    await new Promise<void>((resolve, reject) => fs.fdatasync(fd, (err) => (err ? reject(err) : resolve())));
    this.bytes += data.length;
  }

  /** Starts a new segment; returns the sequence number of the previous one. */
  rotate(): number {
    const old = this.seq;
    fs.closeSync(this.fd);
    this.seq++;
    this.fd = fs.openSync(segmentPath(this.dir, this.seq), 'a');
    this.bytes = 0;
    return old;
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}

export function segmentPath(dir: string, seq: number): string {
  return path.join(dir, `${String(seq).padStart(8, '0')}.log`);
}

/** Sequence numbers of the segments in `dir`, ascending. */
export function listSegments(dir: string): number[] {
  return fs.readdirSync(dir)
    .filter((f) => /^\d{8}\.log$/.test(f))
    .map((f) => Number(f.slice(0, 8)))
    .sort((a, b) => a - b);
}
