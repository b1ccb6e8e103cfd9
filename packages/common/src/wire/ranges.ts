/**
 * A set of non-negative integers kept as sorted, disjoint, non-adjacent closed ranges.
 * Used for sequence numbers: which batches the hub holds, which the agent saw acked.
 * Flat form `[a0, b0, a1, b1, ...]` is what travels on the wire and is persisted.
 */
export class RangeSet {
  private r: number[] = [];

  static fromFlat(flat: readonly number[]): RangeSet {
    const s = new RangeSet();
    for (let i = 0; i + 1 < flat.length; i += 2) s.addRange(flat[i]!, flat[i + 1]!);
    return s;
  }

  toFlat(): number[] {
    return this.r.slice();
  }

  get rangeCount(): number {
    return this.r.length / 2;
  }

  get isEmpty(): boolean {
    return this.r.length === 0;
  }

  /** Smallest member, or undefined. */
  get min(): number | undefined {
    return this.r[0];
  }

  /** Largest member, or undefined. */
  get max(): number | undefined {
    return this.r[this.r.length - 1];
  }

  /** Index of the first range whose end >= x (binary search). */
  private find(x: number): number {
    let lo = 0;
    let hi = this.r.length / 2;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.r[mid * 2 + 1]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  has(x: number): boolean {
    const i = this.find(x);
    return i < this.r.length / 2 && this.r[i * 2]! <= x;
  }

  add(x: number): void {
    this.addRange(x, x);
  }

  addRange(a: number, b: number): void {
    if (b < a) return;
    // ranges touching [a-1, b+1] merge
    let i = this.find(a - 1);
    let start = a;
    let end = b;
    let j = i;
    while (j < this.r.length / 2 && this.r[j * 2]! <= b + 1) {
      start = Math.min(start, this.r[j * 2]!);
      end = Math.max(end, this.r[j * 2 + 1]!);
      j++;
    }
    this.r.splice(i * 2, (j - i) * 2, start, end);
    i = 0;
  }

  /** Removes every member < x. */
  dropBelow(x: number): void {
    let k = 0;
    while (k < this.r.length && this.r[k + 1]! < x) k += 2;
    this.r.splice(0, k);
    if (this.r.length && this.r[0]! < x) this.r[0] = x;
  }

  /** The largest n such that every member of [from, n] is in the set; from - 1 if from is absent. */
  contiguousFrom(from: number): number {
    const i = this.find(from);
    if (i < this.r.length / 2 && this.r[i * 2]! <= from) return this.r[i * 2 + 1]!;
    return from - 1;
  }

  /** Number of members. */
  get size(): number {
    let n = 0;
    for (let i = 0; i < this.r.length; i += 2) n += this.r[i + 1]! - this.r[i]! + 1;
    return n;
  }
}
