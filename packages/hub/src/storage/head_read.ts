/** The head's read side: a `Querier` over the in-memory index, head parts and chunks of a store. */
import type { Matcher } from '@vigil/common';
import type { Querier } from './types.js';
import type { MemSeries } from './series.js';
import type { Engine } from './head.js';
import { selectSeries } from './query.js';

/** Series whose data overlaps [mint, maxt], selected by matchers, read through the store's chunk cache. */
export function headQuerier(engine: Engine, mint: number, maxt: number): Querier {
  const inRange = (s: MemSeries): boolean => s.minT <= maxt && s.lastT >= mint;
  const seriesOf = (matchers?: readonly Matcher[]): MemSeries[] =>
    (matchers && matchers.length > 0 ? engine.index.select(matchers) : [...engine.index.all()].filter((s) => s.committed)).filter(inRange);
  return {
    select: (matchers, hints) => selectSeries(engine, seriesOf(matchers), mint, maxt, hints),
    labelNames: async (matchers) => {
      const names = new Set<string>();
      for (const s of seriesOf(matchers)) for (const n in s.labels) names.add(n);
      return [...names].sort();
    },
    labelValues: async (name, matchers) => {
      const values = new Set<string>();
      for (const s of seriesOf(matchers)) {
        const v = s.labels[name];
        if (v !== undefined) values.add(v);
      }
      return [...values].sort();
    },
    close: () => undefined,
  };
}
