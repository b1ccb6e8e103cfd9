import zlib from 'node:zlib';
import { ByteReader, ByteWriter } from './bytes.js';

/**
 * Chunk encoding (docs/storage.md): the samples of one series over a time range.
 *
 *   byte 0          codec of the rest: 0 raw, 1 brotli, 2 deflate-raw
 *   uvarint count
 *   timestamps      zigzag t0, zigzag first delta, then run-length pairs (zigzag delta-of-delta, uvarint run)
 *   uvarint nStale  then nStale delta-coded indexes of staleness markers
 *   byte mode       0 decimal ints + delta, 1 decimal ints + delta-of-delta, 2 raw float64 XOR previous bits
 *   mode 0/1        uvarint exponent e, uvarint gcd g of the deltas, zigzag first int, byte k, then the zigzag
 *                   deltas / g (mode 1: first delta, then dods) as k byte planes of count-1 bytes, low plane first
 *   mode 2          count little-endian 8-byte words, each the XOR of the float64 with the previous one
 *
 * Decimal mode stores v * 10^e as an exact integer when every value of the chunk round-trips
 * through that scaling (VictoriaMetrics' trick); NaN, ±Inf, -0 or too many digits fall back to mode 2.
 */
export const CODEC_RAW = 0;
export const CODEC_BROTLI = 1;
export const CODEC_DEFLATE = 2;

const POW10: number[] = [];
for (let e = 0; e <= 15; e++) POW10.push(10 ** e);
const MAX_INT = 2 ** 50;

/** Decoded samples; arrays may be longer than `n` (they are reused). */
export interface ChunkSamples {
  n: number;
  t: Float64Array;
  v: Float64Array;
  /** 1 marks a staleness marker; null when the chunk has none. */
  stale: Uint8Array | null;
}

export interface EncodeOptions {
  /** Compress with brotli at this quality (0 disables), default 6. */
  brotliQuality?: number;
}

const scratch = new ByteWriter(1 << 16);
let ints = new Float64Array(1024);
let zs = new Float64Array(1024);
const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

/** Smallest power of ten that makes every (non-stale) value an exact integer, or -1. */
function decimalExponent(v: Float64Array, stale: Uint8Array | null, start: number, n: number): number {
  let e = 0;
  for (let i = start; i < start + n; i++) {
    if (stale !== null && stale[i] === 1) continue;
    const x = v[i]!;
    if (!Number.isFinite(x) || (x === 0 && 1 / x < 0)) return -1;
    for (;;) {
      const p = POW10[e]!;
      const r = Math.round(x * p);
      if (Math.abs(r) <= MAX_INT && r / p === x) break;
      if (++e > 15) return -1;
    }
  }
  return e;
}

function gcd(a: number, b: number): number {
  while (b !== 0) {
    const r = a % b;
    a = b;
    b = r;
  }
  return a;
}

function varintSize(z: number): number {
  return z < 128 ? 1 : z < 16384 ? 2 : z < 2097152 ? 3 : z < 268435456 ? 4 : 5;
}

function zz(x: number): number {
  return x >= 0 ? x * 2 : -x * 2 - 1;
}

/** Encodes samples [start, start+n) of the arrays. */
export function encodeChunk(
  t: Float64Array, v: Float64Array, stale: Uint8Array | null, start: number, n: number, opts: EncodeOptions = {},
): Buffer {
  const w = scratch;
  w.reset();
  w.uvarint(n);
  // Timestamps.
  if (n > 0) w.varint(t[start]!);
  if (n > 1) {
    let prevDelta = t[start + 1]! - t[start]!;
    w.varint(prevDelta);
    let runDod = 0;
    let run = 0;
    for (let i = start + 2; i < start + n; i++) {
      const d = t[i]! - t[i - 1]!;
      const dod = d - prevDelta;
      prevDelta = d;
      if (run > 0 && dod === runDod) { run++; continue; }
      if (run > 0) { w.varint(runDod); w.uvarint(run); }
      runDod = dod;
      run = 1;
    }
    if (run > 0) { w.varint(runDod); w.uvarint(run); }
  }
  // Staleness markers.
  let nStale = 0;
  if (stale !== null) for (let i = start; i < start + n; i++) if (stale[i] === 1) nStale++;
  w.uvarint(nStale);
  if (nStale > 0) {
    let prev = 0;
    for (let i = start; i < start + n; i++) if (stale![i] === 1) { w.uvarint(i - start - prev); prev = i - start; }
  }
  // Values.
  const e = n > 0 ? decimalExponent(v, nStale > 0 ? stale : null, start, n) : 0;
  if (e < 0) {
    w.u8(2);
    w.ensure(8 * n);
    let ph = 0;
    let pl = 0;
    for (let i = start; i < start + n; i++) {
      f64[0] = nStale > 0 && stale![i] === 1 ? 0 : v[i]!;
      const lo = u32[0]!;
      const hi = u32[1]!;
      w.u32((lo ^ pl) >>> 0);
      w.u32((hi ^ ph) >>> 0);
      pl = lo;
      ph = hi;
    }
  } else {
    if (ints.length < n) ints = new Float64Array(n * 2);
    const p = POW10[e]!;
    let prev = 0;
    for (let i = 0; i < n; i++) {
      const x = v[start + i]!;
      const r = nStale > 0 && stale![start + i] === 1 ? prev : Math.round(x * p);
      ints[i] = r;
      prev = r;
    }
    // Deltas, divided by their greatest common divisor (page-sized byte counts and the like).
    let g = 0;
    for (let i = 1; i < n; i++) g = gcd(g, Math.abs(ints[i]! - ints[i - 1]!));
    if (g === 0) g = 1;
    // Pick delta or delta-of-delta by the varint bytes each needs.
    let sizeDelta = 0;
    let sizeDod = 0;
    for (let i = 1; i < n; i++) {
      const d = (ints[i]! - ints[i - 1]!) / g;
      sizeDelta += varintSize(zz(d));
      sizeDod += i === 1 ? varintSize(zz(d)) : varintSize(zz(d - (ints[i - 1]! - ints[i - 2]!) / g));
    }
    const mode = sizeDod < sizeDelta ? 1 : 0;
    w.u8(mode);
    w.uvarint(e);
    w.uvarint(g);
    if (n > 0) w.varint(ints[0]!);
    // Zigzag residuals as byte planes (all low bytes, then the next bytes...): the general
    // compressor sees each byte position's distribution on its own.
    if (zs.length < n) zs = new Float64Array(n * 2);
    let max = 0;
    let pd = 0;
    for (let i = 1; i < n; i++) {
      const d = (ints[i]! - ints[i - 1]!) / g;
      const z = zz(mode === 1 && i > 1 ? d - pd : d);
      pd = d;
      zs[i] = z;
      if (z > max) max = z;
    }
    let k = 1;
    while (k < 8 && max >= 256 ** k) k++;
    w.u8(k);
    w.ensure(k * n);
    const b = w.buf;
    let o = w.len;
    for (let p = 0; p < k; p++) {
      if (p < 3) {
        const sh = 8 * p;
        for (let i = 1; i < n; i++) { const z = zs[i]!; b[o++] = (z < 2147483648 ? z >>> sh : Math.floor(z / 2 ** sh)) & 255; }
      } else {
        const div = 2 ** (8 * p);
        for (let i = 1; i < n; i++) b[o++] = Math.floor(zs[i]! / div) % 256;
      }
    }
    w.len = o;
  }
  const raw = w.buf.subarray(0, w.len);
  const q = opts.brotliQuality ?? 6;
  if (q > 0 && raw.length > 64) {
    const packed = zlib.brotliCompressSync(raw, {
      params: {
        [zlib.constants.BROTLI_PARAM_QUALITY]: q,
        [zlib.constants.BROTLI_PARAM_SIZE_HINT]: raw.length,
        [zlib.constants.BROTLI_PARAM_LGWIN]: 22,
      },
    });
    if (packed.length + 1 < raw.length) {
      const out = Buffer.allocUnsafe(packed.length + 1);
      out[0] = CODEC_BROTLI;
      packed.copy(out, 1);
      return out;
    }
  }
  const out = Buffer.allocUnsafe(raw.length + 1);
  out[0] = CODEC_RAW;
  out.set(raw, 1);
  return out;
}

/** Decodes a chunk into `out`, growing its arrays when needed. */
export function decodeChunk(buf: Uint8Array, out: ChunkSamples): ChunkSamples {
  let body: Uint8Array;
  switch (buf[0]) {
    case CODEC_RAW: body = buf.subarray(1); break;
    case CODEC_BROTLI: body = zlib.brotliDecompressSync(buf.subarray(1)); break;
    case CODEC_DEFLATE: body = zlib.inflateRawSync(buf.subarray(1)); break;
    default: throw new Error(`cannot decode chunk (codec ${buf[0]}): unknown codec`);
  }
  const r = new ByteReader(body);
  const n = r.uvarint();
  if (out.t.length < n) {
    out.t = new Float64Array(n);
    out.v = new Float64Array(n);
  }
  out.n = n;
  const t = out.t;
  if (n > 0) t[0] = r.varint();
  if (n > 1) {
    let delta = r.varint();
    t[1] = t[0]! + delta;
    let i = 2;
    while (i < n) {
      const dod = r.varint();
      const run = r.uvarint();
      for (let k = 0; k < run; k++, i++) {
        delta += dod;
        t[i] = t[i - 1]! + delta;
      }
    }
  }
  const nStale = r.uvarint();
  if (nStale > 0) {
    if (out.stale === null || out.stale.length < out.t.length) out.stale = new Uint8Array(out.t.length);
    else out.stale.fill(0, 0, n);
    let idx = 0;
    for (let k = 0; k < nStale; k++) {
      idx += r.uvarint();
      out.stale[idx] = 1;
    }
  } else {
    out.stale = null;
  }
  const mode = r.u8();
  const v = out.v;
  if (mode === 2) {
    let pl = 0;
    let ph = 0;
    for (let i = 0; i < n; i++) {
      pl = (pl ^ r.u32()) >>> 0;
      ph = (ph ^ r.u32()) >>> 0;
      u32[0] = pl;
      u32[1] = ph;
      v[i] = f64[0]!;
    }
  } else {
    const p = POW10[r.uvarint()]!;
    const g = r.uvarint();
    let x = n > 0 ? r.varint() : 0;
    if (n > 0) {
      v[0] = x / p;
      const k = r.u8();
      const planes = r.bytes(k * (n - 1));
      const m = n - 1;
      let d = 0;
      for (let i = 1; i < n; i++) {
        let z = planes[i - 1]!;
        for (let q = 1; q < k; q++) z += planes[q * m + i - 1]! * 2 ** (8 * q);
        const c = z % 2 === 0 ? z / 2 : -(z + 1) / 2;
        d = mode === 1 && i > 1 ? d + c * g : c * g;
        x += d;
        v[i] = x / p;
      }
    }
  }
  if (nStale > 0) for (let i = 0; i < n; i++) if (out.stale![i] === 1) v[i] = NaN;
  return out;
}

export function newChunkSamples(capacity = 512): ChunkSamples {
  return { n: 0, t: new Float64Array(capacity), v: new Float64Array(capacity), stale: null };
}
