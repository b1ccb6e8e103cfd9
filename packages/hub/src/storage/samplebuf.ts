/**
 * A growable, time-sorted run of samples in typed arrays: the in-memory head of a series.
 * Appends in time order are O(1); an older timestamp is inserted in place.
 */
/**
 * Float64Arrays of heads, carved from 1 MiB slabs (as Node pools small Buffers): a typed array of
 * its own costs an ArrayBuffer object and a malloc'd store, at 100k series 200k of each, and
 * fragmented the hub's heap across flush periods. Heads of a period are allocated together and
 * dropped together at the next flush, so their slab is freed as a whole; space is never reused
 * (a view is zeroed memory). Tiny arrays stay on V8's heap; large ones get their own buffer.
 */
export class F64Pool {
  private slab = new ArrayBuffer(0);
  private used = 0;

  constructor(private readonly slabBytes = 1 << 20, private readonly maxPooledBytes = 8 << 10) {}

  alloc(n: number): Float64Array {
    const bytes = n * 8;
    if (n <= 8 || bytes > this.maxPooledBytes) return new Float64Array(n);
    if (this.used + bytes > this.slab.byteLength) {
      this.slab = new ArrayBuffer(this.slabBytes);
      this.used = 0;
    }
    const a = new Float64Array(this.slab, this.used, n);
    this.used += bytes;
    return a;
  }
}

/** The pool of every head (one per process: slabs are shared by all stores). */
const headArrays = new F64Pool();

export class SampleBuf {
  t: Float64Array;
  v: Float64Array;
  /** Staleness flags, allocated on the first stale sample. */
  f: Uint8Array | null = null;
  n = 0;

  constructor(capacity = 16) {
    this.t = headArrays.alloc(capacity);
    this.v = headArrays.alloc(capacity);
  }

  get minT(): number {
    return this.n > 0 ? this.t[0]! : Infinity;
  }

  get maxT(): number {
    return this.n > 0 ? this.t[this.n - 1]! : -Infinity;
  }

  /**
   * Doubles. (It used to jump to two hours of samples at the first growth: 64 KiB per series at
   * a 1 s interval, which at 100k series was gigabytes of fresh memory and half the hub's CPU in
   * page faults; the head is now flushed long before two hours at such rates.)
   */
  private grow(): void {
    const cap = Math.max(16, this.t.length * 2);
    const t = headArrays.alloc(cap);
    t.set(this.t);
    this.t = t;
    const v = headArrays.alloc(cap);
    v.set(this.v);
    this.v = v;
    if (this.f !== null) {
      const f = new Uint8Array(cap);
      f.set(this.f);
      this.f = f;
    }
  }

  /** Index of the sample at `t`, or -1. */
  find(t: number): number {
    let lo = 0;
    let hi = this.n - 1;
    const ts = this.t;
    if (hi < 0 || t < ts[0]! || t > ts[hi]!) return -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const x = ts[mid]!;
      if (x === t) return mid;
      if (x < t) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** First index with timestamp >= t. */
  lowerBound(t: number): number {
    return lowerBound(this.t, this.n, t);
  }

  isStale(i: number): boolean {
    return this.f !== null && this.f[i] === 1;
  }

  /** Adds a sample whose timestamp is not present yet. */
  add(t: number, v: number, stale: boolean): void {
    if (this.n === this.t.length) this.grow();
    let i = this.n;
    if (i > 0 && t < this.t[i - 1]!) {
      i = this.lowerBound(t);
      this.t.copyWithin(i + 1, i, this.n);
      this.v.copyWithin(i + 1, i, this.n);
      if (this.f !== null) this.f.copyWithin(i + 1, i, this.n);
    }
    this.t[i] = t;
    this.v[i] = v;
    if (stale) {
      if (this.f === null) this.f = new Uint8Array(this.t.length);
      this.f[i] = 1;
    } else if (this.f !== null) {
      this.f[i] = 0;
    }
    this.n++;
  }

  /** Drops samples older than `t`. */
  dropBefore(t: number): void {
    const i = this.lowerBound(t);
    if (i === 0) return;
    this.t.copyWithin(0, i, this.n);
    this.v.copyWithin(0, i, this.n);
    if (this.f !== null) this.f.copyWithin(0, i, this.n);
    this.n -= i;
  }

  bytes(): number {
    return this.t.byteLength + this.v.byteLength + (this.f?.byteLength ?? 0);
  }
}

/** First index i < n with t[i] >= x (n when none): binary search over a sorted timestamp column. */
export function lowerBound(t: Float64Array, n: number, x: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (t[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
