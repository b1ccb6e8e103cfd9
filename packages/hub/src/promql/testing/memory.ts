// A minimal in-memory Queryable for PromQL tests: series kept as sorted typed arrays.
import { labelsKey, matchLabels, type Labels, type Matcher } from '@vigil/common';
import type { Querier, Queryable, SeriesData } from '../../storage/types.js';

interface Building { labels: Labels; t: number[]; v: number[]; stale: number[] }

export class MemQueryable implements Queryable {
  private readonly building = new Map<string, Building>();
  private series: SeriesData[] = [];
  private dirty = false;

  /** Adds one sample; samples of a series may come in any order (duplicates keep the first). */
  add(labels: Labels, t: number, v: number, stale = false): void {
    const key = labelsKey(labels);
    let b = this.building.get(key);
    if (!b) {
      const clean: Record<string, string> = {};
      for (const [k, val] of Object.entries(labels)) if (val !== '') clean[k] = val;
      this.building.set(key, (b = { labels: clean, t: [], v: [], stale: [] }));
    }
    b.t.push(t);
    b.v.push(v);
    b.stale.push(stale ? 1 : 0);
    this.dirty = true;
  }

  private seal(): SeriesData[] {
    if (!this.dirty) return this.series;
    this.series = [...this.building.values()].map((b) => {
      const idx = b.t.map((_, i) => i).sort((x, y) => b.t[x]! - b.t[y]! || x - y);
      const t: number[] = [], v: number[] = [], st: number[] = [];
      for (const i of idx) {
        if (t.length && t[t.length - 1] === b.t[i]) continue;
        t.push(b.t[i]!); v.push(b.v[i]!); st.push(b.stale[i]!);
      }
      return { labels: b.labels, t: Float64Array.from(t), v: Float64Array.from(v), stale: st.includes(1) ? Uint8Array.from(st) : null };
    });
    this.dirty = false;
    return this.series;
  }

  async querier(mint: number, maxt: number): Promise<Querier> {
    const all = this.seal();
    const lower = (a: Float64Array, x: number): number => {
      let lo = 0, hi = a.length;
      while (lo < hi) { const m = (lo + hi) >> 1; if (a[m]! < x) lo = m + 1; else hi = m; }
      return lo;
    };
    const matching = (ms: readonly Matcher[] | undefined): SeriesData[] => all.filter((s) => !ms || matchLabels(ms, s.labels));
    return {
      async select(ms) {
        const out: SeriesData[] = [];
        for (const s of matching(ms)) {
          const lo = lower(s.t, mint);
          const hi = lower(s.t, maxt + 1);
          if (hi <= lo) continue;
          out.push({ labels: s.labels, t: s.t.subarray(lo, hi), v: s.v.subarray(lo, hi), stale: s.stale ? s.stale.subarray(lo, hi) : null });
        }
        return out;
      },
      async labelNames(ms) {
        const names = new Set<string>();
        for (const s of matching(ms)) {
          const lo = lower(s.t, mint);
          if (lo < s.t.length && s.t[lo]! <= maxt) for (const k of Object.keys(s.labels)) names.add(k);
        }
        return [...names].sort();
      },
      async labelValues(name, ms) {
        const vals = new Set<string>();
        for (const s of matching(ms)) {
          const lo = lower(s.t, mint);
          if (lo < s.t.length && s.t[lo]! <= maxt && s.labels[name] !== undefined) vals.add(s.labels[name]!);
        }
        return [...vals].sort();
      },
      close() {},
    };
  }
}
