/** Exponential backoff with equal jitter: delay in [d/2, d], d = min(max, min · 2^attempt). */
export class Backoff {
  private attempt = 0;

  constructor(private readonly minMs = 100, private readonly maxMs = 1500, private readonly random: () => number = Math.random) {}

  next(): number {
    const d = Math.min(this.maxMs, this.minMs * 2 ** this.attempt);
    if (d < this.maxMs) this.attempt++;
    return d / 2 + (this.random() * d) / 2;
  }

  reset(): void {
    this.attempt = 0;
  }
}
