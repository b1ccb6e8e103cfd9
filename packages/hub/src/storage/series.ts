import type { Labels, Matcher } from '@vigil/common';
import { SampleBuf } from './samplebuf.js';

/** A persisted chunk of a series, as listed in the in-memory catalog. */
export interface ChunkMeta {
  minT: number;
  maxT: number;
  count: number;
  key: Buffer;
  bytes: number;
  /**
   * Written by a background flush for a day not complete yet, at a cheap compression level:
   * the day's compaction rewrites it even when it is alone (known for chunks written since open).
   */
  provisional?: boolean;
}

/** One series: identity, in-memory samples and the catalog of its chunks. */
export class MemSeries {
  /** Visible to queries and logged: set by the first commit with a sample of it. */
  committed = false;
  /** In-order samples since the last flush. */
  head = new SampleBuf(8);
  /** Samples older than the newest one at the time they arrived, since the last flush. */
  ooo: SampleBuf | null = null;
  /** Head and ooo being written by a running flush (still read by queries and duplicate checks). */
  frozen: SampleBuf[] | null = null;
  /** Persisted chunks, time ordered and non-overlapping. */
  chunks: ChunkMeta[] = [];
  /** Newest and oldest timestamps anywhere (head, frozen, chunks). */
  lastT = -Infinity;
  minT = Infinity;
  /** Labels and postings not yet written to LevelDB. */
  unpersisted = true;

  constructor(readonly id: number, readonly labels: Labels, readonly key: string) {}

  get diskMinT(): number {
    return this.chunks.length > 0 ? this.chunks[0]!.minT : Infinity;
  }

  get diskMaxT(): number {
    return this.chunks.length > 0 ? this.chunks[this.chunks.length - 1]!.maxT : -Infinity;
  }

  /** Index in `bufs` and position of a stored in-memory sample at `t`, or null. */
  findInMemory(t: number): { buf: SampleBuf; i: number } | null {
    let i = this.head.find(t);
    if (i >= 0) return { buf: this.head, i };
    if (this.ooo !== null && (i = this.ooo.find(t)) >= 0) return { buf: this.ooo, i };
    if (this.frozen !== null) {
      for (const b of this.frozen) if ((i = b.find(t)) >= 0) return { buf: b, i };
    }
    return null;
  }

  hasData(): boolean {
    return this.head.n > 0 || (this.ooo !== null && this.ooo.n > 0) || this.frozen !== null || this.chunks.length > 0;
  }

  recomputeRange(): void {
    let min = this.diskMinT;
    let max = this.diskMaxT;
    const bufs = [this.head, this.ooo, ...(this.frozen ?? [])];
    for (const b of bufs) {
      if (b === null || b.n === 0) continue;
      min = Math.min(min, b.minT);
      max = Math.max(max, b.maxT);
    }
    this.minT = min;
    this.lastT = max;
  }
}

/** Series by id and by label set, and the inverted index of committed series. */
export class SeriesIndex {
  readonly byKey = new Map<string, MemSeries>();
  readonly byId: (MemSeries | undefined)[] = [];
  /** label name → value → ascending series ids. */
  readonly postings = new Map<string, Map<string, number[]>>();
  count = 0;

  get(id: number): MemSeries | undefined {
    return this.byId[id];
  }

  /** Registers a series (not yet visible to `select`). */
  create(id: number, labels: Labels, key: string): MemSeries {
    const s = new MemSeries(id, labels, key);
    this.byKey.set(key, s);
    this.byId[id] = s;
    return s;
  }

  /** Makes a series visible to matchers. */
  commit(s: MemSeries): void {
    if (s.committed) return;
    s.committed = true;
    this.count++;
    for (const name in s.labels) {
      const value = s.labels[name]!;
      let values = this.postings.get(name);
      if (values === undefined) this.postings.set(name, (values = new Map()));
      const ids = values.get(value);
      if (ids === undefined) values.set(value, [s.id]);
      else insertSorted(ids, s.id);
    }
  }

  remove(s: MemSeries): void {
    this.byKey.delete(s.key);
    this.byId[s.id] = undefined;
    if (!s.committed) return;
    s.committed = false;
    this.count--;
    for (const name in s.labels) {
      const values = this.postings.get(name);
      const ids = values?.get(s.labels[name]!);
      if (values === undefined || ids === undefined) continue;
      const i = ids.indexOf(s.id);
      if (i >= 0) ids.splice(i, 1);
      if (ids.length === 0) values.delete(s.labels[name]!);
      if (values.size === 0) this.postings.delete(name);
    }
  }

  /**
   * Committed series matching every matcher. Candidates come from the smallest posting union of
   * a matcher that rejects the empty value; the other matchers filter per distinct label value.
   */
  select(matchers: readonly Matcher[]): MemSeries[] {
    let best: number[] | null = null;
    for (const m of matchers) {
      if (m.matchesEmpty()) continue;
      const values = this.postings.get(m.name);
      if (values === undefined) return [];
      let ids: number[];
      if (m.type === '=') {
        ids = values.get(m.value) ?? [];
      } else {
        const lists: number[][] = [];
        for (const [v, l] of values) if (m.matches(v)) lists.push(l);
        ids = unionSorted(lists);
      }
      if (best === null || ids.length < best.length) best = ids;
      if (best.length === 0) return [];
    }
    const out: MemSeries[] = [];
    const memo = matchers.map(() => new Map<string, boolean>());
    const check = (s: MemSeries): boolean => {
      for (let k = 0; k < matchers.length; k++) {
        const m = matchers[k]!;
        const v = s.labels[m.name] ?? '';
        let ok = memo[k]!.get(v);
        if (ok === undefined) memo[k]!.set(v, (ok = m.matches(v)));
        if (!ok) return false;
      }
      return true;
    };
    if (best !== null) {
      for (const id of best) {
        const s = this.byId[id];
        if (s !== undefined && s.committed && check(s)) out.push(s);
      }
    } else {
      for (const s of this.byId) if (s !== undefined && s.committed && check(s)) out.push(s);
    }
    return out;
  }

  *all(): IterableIterator<MemSeries> {
    for (const s of this.byId) if (s !== undefined) yield s;
  }
}

function insertSorted(ids: number[], id: number): void {
  if (ids.length === 0 || ids[ids.length - 1]! < id) {
    ids.push(id);
    return;
  }
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ids[mid]! < id) lo = mid + 1;
    else hi = mid;
  }
  if (ids[lo] !== id) ids.splice(lo, 0, id);
}

function unionSorted(lists: number[][]): number[] {
  if (lists.length === 0) return [];
  if (lists.length === 1) return lists[0]!;
  const all: number[] = [];
  for (const l of lists) for (const id of l) all.push(id);
  all.sort((a, b) => a - b);
  const out: number[] = [];
  for (const id of all) if (out.length === 0 || out[out.length - 1] !== id) out.push(id);
  return out;
}
