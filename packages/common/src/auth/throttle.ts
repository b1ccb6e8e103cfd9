export interface AuthThrottleOptions {
  /** Wrong credentials allowed from one address before it must wait (default 5). */
  freeFailures?: number;
  /** The first wait; each further failure doubles it (default 1 s). */
  baseDelayMs?: number;
  /** The longest wait (default 5 min). */
  maxDelayMs?: number;
  /** An address without failures for this long starts over (default 15 min). */
  forgetAfterMs?: number;
  /** Addresses tracked at most; the oldest is forgotten first (default 10,000). */
  maxAddresses?: number;
  now?: () => number;
}

interface Entry {
  failures: number;
  last: number;
  blockedUntil: number;
}

/**
 * Slows down guessing: after a few wrong credentials from one remote address, that address is refused
 * (429, without checking its credentials) for a delay that doubles with every further failure.
 */
export class AuthThrottle {
  private readonly entries = new Map<string, Entry>();
  private readonly free: number;
  private readonly base: number;
  private readonly max: number;
  private readonly forget: number;
  private readonly maxAddresses: number;
  private readonly now: () => number;

  constructor(opts: AuthThrottleOptions = {}) {
    this.free = opts.freeFailures ?? 5;
    this.base = opts.baseDelayMs ?? 1000;
    this.max = opts.maxDelayMs ?? 300_000;
    this.forget = opts.forgetAfterMs ?? 900_000;
    this.maxAddresses = opts.maxAddresses ?? 10_000;
    this.now = opts.now ?? Date.now;
  }

  /** Milliseconds `address` must still wait (0: it may try). */
  wait(address: string): number {
    const e = this.current(address);
    return e ? Math.max(0, e.blockedUntil - this.now()) : 0;
  }

  /** Records wrong credentials; returns the wait now imposed (0 while under the free failures). */
  fail(address: string): number {
    const now = this.now();
    let e = this.current(address);
    if (!e) {
      if (this.entries.size >= this.maxAddresses) this.entries.delete(this.entries.keys().next().value!);
      e = { failures: 0, last: now, blockedUntil: 0 };
    }
    this.entries.delete(address); // re-insert: the map stays ordered by last failure
    this.entries.set(address, e);
    e.failures++;
    e.last = now;
    const over = e.failures - this.free;
    if (over > 0) e.blockedUntil = now + Math.min(this.max, this.base * 2 ** Math.min(over - 1, 30));
    return Math.max(0, e.blockedUntil - now);
  }

  succeed(address: string): void {
    this.entries.delete(address);
  }

  private current(address: string): Entry | undefined {
    const e = this.entries.get(address);
    if (e && this.now() - e.last > this.forget && e.blockedUntil <= this.now()) {
      this.entries.delete(address);
      return undefined;
    }
    return e;
  }
}
