import type { TsdbStatus } from './types.js';
import type { SeriesIndex } from './series.js';

type Item = { name: string; value: number };

function top(items: Item[], limit: number): Item[] {
  return items.sort((a, b) => b.value - a.value || (a.name < b.name ? -1 : 1)).slice(0, limit);
}

/** Prometheus' /api/v1/status/tsdb data, from the in-memory index. */
export function tsdbStatus(index: SeriesIndex, limit: number, minTime: number, maxTime: number, chunkCount: number): TsdbStatus {
  const byMetric: Item[] = [];
  const valueCounts: Item[] = [];
  const memory: Item[] = [];
  const pairs: Item[] = [];
  let numLabelPairs = 0;
  for (const [name, values] of index.postings) {
    valueCounts.push({ name, value: values.size });
    numLabelPairs += values.size;
    let bytes = 0;
    for (const [value, ids] of values) {
      bytes += value.length * ids.length;
      pairs.push({ name: `${name}=${value}`, value: ids.length });
      if (name === '__name__') byMetric.push({ name: value, value: ids.length });
    }
    memory.push({ name, value: bytes });
  }
  const empty = index.count === 0 || !Number.isFinite(minTime);
  return {
    headStats: {
      numSeries: index.count,
      numLabelPairs,
      chunkCount,
      minTime: empty ? 0 : minTime,
      maxTime: empty ? 0 : maxTime,
    },
    seriesCountByMetricName: top(byMetric, limit),
    labelValueCountByLabelName: top(valueCounts, limit),
    memoryInBytesByLabelName: top(memory, limit),
    seriesCountByLabelValuePair: top(pairs, limit),
  };
}
