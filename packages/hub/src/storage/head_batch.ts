/**
 * Samples of one appender in column arrays, and the pool that reuses them. Part of the head
 * (engine.ts): appenders fill a batch, the group commit applies it and returns it to the pool.
 */
/**
 * Samples of one appender, in column arrays (no object per sample). Batches are pooled by the
 * engine: fresh typed-array memory is costly (page faults), so a commit reuses the arrays of
 * an earlier one and steady batches never grow.
 */
export class Batch {
  ids: Uint32Array;
  t: Float64Array;
  v: Float64Array;
  f: Uint8Array;
  n = 0;
  rejected = 0;
  reasons: Record<string, number> | null = null;

  constructor(capacity: number) {
    this.ids = new Uint32Array(capacity);
    this.t = new Float64Array(capacity);
    this.v = new Float64Array(capacity);
    this.f = new Uint8Array(capacity);
  }

  push(id: number, t: number, v: number, stale: boolean): void {
    if (this.n === this.ids.length) this.grow();
    const i = this.n++;
    this.ids[i] = id;
    this.t[i] = t;
    this.v[i] = v;
    this.f[i] = stale ? 1 : 0;
  }

  private grow(): void {
    const cap = this.n * 2;
    const ids = new Uint32Array(cap); ids.set(this.ids); this.ids = ids;
    const ts = new Float64Array(cap); ts.set(this.t); this.t = ts;
    const vs = new Float64Array(cap); vs.set(this.v); this.v = vs;
    const fs = new Uint8Array(cap); fs.set(this.f); this.f = fs;
  }

  reject(reason: string): void {
    this.rejected++;
    (this.reasons ??= {})[reason] = (this.reasons[reason] ?? 0) + 1;
  }

  clear(): void {
    this.n = 0;
    this.rejected = 0;
    this.reasons = null;
  }
}

/** Keeps a few batches for reuse, sized to the largest recent commit. */
export class BatchPool {
  private readonly pool: Batch[] = [];
  /** Capacity of new batches: the largest recent commit, so that pooled batches rarely grow. */
  private capacity = 256;

  take(): Batch {
    return this.pool.pop() ?? new Batch(this.capacity);
  }

  release(b: Batch): void {
    if (b.n > this.capacity) this.capacity = Math.min(b.n, 1 << 20);
    b.clear();
    // A few batches cover the appenders that commit concurrently; larger ones are kept.
    if (this.pool.length < 8 && b.ids.length >= this.capacity >> 1) this.pool.push(b);
  }
}
