import zlib from 'node:zlib';
import { ByteReader, ByteWriter } from './bytes.js';

/**
 * Chunk encoding (docs/storage.md): the samples of one series over a time range.
 *
 *   byte 0          codec of the rest: 0 raw, 1 brotli, 2 deflate-raw
 *   uvarint count
 *   timestamps      byte 0: zigzag t0, zigzag first delta, then run-length pairs (zigzag delta-of-delta, uvarint run)
 *                   byte 1: zigzag t0, zigzag interval (median delta), count-1 uvarint grid steps, then the zigzag
 *                   offsets from the grid slots as byte planes (scrape jitter around a schedule, with gaps)
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

function planeBytes(max: number): number {
  let k = 1;
  while (k < 8 && max >= 256 ** k) k++;
  return k;
}

/** Writes k and zs[1..n) as k byte planes, low plane first. */
function writePlanes(w: ByteWriter, z: Float64Array, n: number, k: number): void {
  w.u8(k);
  w.ensure(k * n);
  const b = w.buf;
  let o = w.len;
  for (let p = 0; p < k; p++) {
    if (p < 3) {
      const sh = 8 * p;
      for (let i = 1; i < n; i++) { const x = z[i]!; b[o++] = (x < 2147483648 ? x >>> sh : Math.floor(x / 2 ** sh)) & 255; }
    } else {
      const div = 2 ** (8 * p);
      for (let i = 1; i < n; i++) b[o++] = Math.floor(z[i]! / div) % 256;
    }
  }
  w.len = o;
}

/** Reads what writePlanes wrote into z[1..n). */
function readPlanes(r: ByteReader, z: Float64Array, n: number): number {
  const k = r.u8();
  const m = n - 1;
  const p = r.bytes(k * m);
  // Up to three planes fit a small integer: shifts instead of float arithmetic.
  if (k === 1) {
    for (let i = 1; i < n; i++) z[i] = p[i - 1]!;
  } else if (k === 2) {
    for (let i = 1; i < n; i++) z[i] = p[i - 1]! | (p[m + i - 1]! << 8);
  } else if (k === 3) {
    for (let i = 1; i < n; i++) z[i] = p[i - 1]! | (p[m + i - 1]! << 8) | (p[2 * m + i - 1]! << 16);
  } else {
    for (let i = 1; i < n; i++) {
      let x = p[i - 1]! | (p[m + i - 1]! << 8) | (p[2 * m + i - 1]! << 16);
      let mul = 16777216;
      for (let q = 3; q < k; q++, mul *= 256) x += p[q * m + i - 1]! * mul;
      z[i] = x;
    }
  }
  return k;
}

function unzz(z: number): number {
  return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
}

/** Bytes of the run-length delta-of-delta timestamp coding. */
function rleSize(t: Float64Array, start: number, n: number): number {
  let size = 0;
  let prevDelta = t[start + 1]! - t[start]!;
  let runDod = 0;
  let run = 0;
  for (let i = start + 2; i < start + n; i++) {
    const d = t[i]! - t[i - 1]!;
    const dod = d - prevDelta;
    prevDelta = d;
    if (run > 0 && dod === runDod) { run++; continue; }
    if (run > 0) size += varintSize(zz(runDod)) + varintSize(run);
    runDod = dod;
    run = 1;
  }
  return size + varintSize(zz(runDod)) + varintSize(run);
}

function writeRle(w: ByteWriter, t: Float64Array, start: number, n: number): void {
  if (n > 0) w.varint(t[start]!);
  if (n <= 1) return;
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

let steps = new Float64Array(1024);
let sorted = new Float64Array(1024);

/**
 * Grid coding of timestamps: interval = median delta; each sample sits at grid slot g[i] =
 * round((t[i] - t0) / interval) plus an offset. Fills steps[1..n) with g[i] - g[i-1] and
 * zs[1..n) with the zigzag offsets; returns the interval and the raw bytes, or null when the
 * offsets are too large to be worth it.
 */
function gridResiduals(t: Float64Array, start: number, n: number): { interval: number; bytes: number } | null {
  if (zs.length < n) zs = new Float64Array(n * 2);
  if (steps.length < n) steps = new Float64Array(n * 2);
  if (sorted.length < n) sorted = new Float64Array(n * 2);
  for (let i = 1; i < n; i++) sorted[i - 1] = t[start + i]! - t[start + i - 1]!;
  const deltas = sorted.subarray(0, n - 1).sort();
  const median = deltas[(n - 1) >>> 1]!;
  if (median <= 0) return null;
  const t0 = t[start]!;
  // Refine: the slot count of the whole span by the median, then the exact mean interval.
  const span = t[start + n - 1]! - t0;
  const interval = Math.round(span / Math.max(1, Math.round(span / median)));
  let max = 0;
  let bytes = 0;
  let pg = 0;
  for (let i = 1; i < n; i++) {
    const off = t[start + i]! - t0;
    const g = Math.round(off / interval);
    const z = zz(off - g * interval);
    if (z > 65535 || g < pg) return null;
    steps[i] = g - pg;
    bytes += varintSize(g - pg);
    pg = g;
    zs[i] = z;
    if (z > max) max = z;
  }
  return { interval, bytes: bytes + planeBytes(max) * (n - 1) };
}

/** Encodes samples [start, start+n) of the arrays. */
export function encodeChunk(
  t: Float64Array, v: Float64Array, stale: Uint8Array | null, start: number, n: number, opts: EncodeOptions = {},
): Buffer {
  const w = scratch;
  w.reset();
  w.uvarint(n);
  // Timestamps: run-length delta-of-delta (regular intervals), or offsets from a grid of the
  // mean interval as byte planes (scrape jitter around a fixed schedule), whichever is smaller.
  // Raw sizes are similar for jitter; after compression the grid's steps (mostly 1) and small
  // offsets are far cheaper, so run-length wins only when it is already tiny (regular intervals,
  // checked first: the grid needs a sort).
  const grid = n > 2 && rleSize(t, start, n) >= n / 4 ? gridResiduals(t, start, n) : null;
  if (grid === null) {
    w.u8(0);
    writeRle(w, t, start, n);
  } else {
    w.u8(1);
    w.varint(t[start]!);
    w.varint(grid.interval);
    for (let i = 1; i < n; i++) w.uvarint(steps[i]!);
    let max = 0;
    for (let i = 1; i < n; i++) if (zs[i]! > max) max = zs[i]!;
    writePlanes(w, zs, n, planeBytes(max));
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
    for (let i = 1; i < n && g !== 1; i++) g = gcd(g, Math.abs(ints[i]! - ints[i - 1]!));
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
    writePlanes(w, zs, n, planeBytes(max));
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
  const tmode = r.u8();
  if (tmode === 1) {
    const t0 = r.varint();
    const interval = r.varint();
    if (zs.length < n) zs = new Float64Array(n * 2);
    if (steps.length < n) steps = new Float64Array(n * 2);
    for (let i = 1; i < n; i++) steps[i] = r.uvarint();
    readPlanes(r, zs, n);
    t[0] = t0;
    let g = 0;
    for (let i = 1; i < n; i++) {
      g += steps[i]!;
      t[i] = t0 + g * interval + unzz(zs[i]!);
    }
  } else {
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
      if (zs.length < n) zs = new Float64Array(n * 2);
      const k = readPlanes(r, zs, n);
      // Zigzag of at most three bytes: integer ops; wider values need float arithmetic.
      if (k <= 3) for (let i = 1; i < n; i++) { const z = zs[i]!; zs[i] = (z >>> 1) ^ -(z & 1); }
      else for (let i = 1; i < n; i++) zs[i] = unzz(zs[i]!);
      if (mode === 1) {
        let d = n > 1 ? zs[1]! * g : 0;
        for (let i = 1; i < n; i++) {
          if (i > 1) d += zs[i]! * g;
          x += d;
          v[i] = x / p;
        }
      } else {
        for (let i = 1; i < n; i++) {
          x += zs[i]! * g;
          v[i] = x / p;
        }
      }
    }
  }
  if (nStale > 0) for (let i = 0; i < n; i++) if (out.stale![i] === 1) v[i] = NaN;
  return out;
}

export function newChunkSamples(capacity = 512): ChunkSamples {
  return { n: 0, t: new Float64Array(capacity), v: new Float64Array(capacity), stale: null };
}
