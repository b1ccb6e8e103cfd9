/**
 * Where scrape loops hand their samples. Every sink takes `Sample` objects (`SampleSink`, shared
 * with the hub's own producers); a sink on the hot path also takes a scrape as columns
 * (`BatchSink.writeBatch`): stable per-series handles plus times, values and stale flags, so a
 * steady scrape allocates nothing per sample and the sink never re-derives a series' identity.
 */
import type { Labels, MetricMetadata, Sample, SampleSink } from '@vigil/common';

export type { SampleSink } from '@vigil/common';

/**
 * A series as a scrape loop holds it across scrapes: its final labels, their canonical key
 * (`labelsKey`), and a slot where the sink keeps its id for the series (-1 until it has one).
 * Only one sink may use the slot of a handle.
 */
export interface SeriesRef {
  readonly labels: Labels;
  readonly key: string;
  sinkId: number;
}

/** One scrape's samples as columns. The loop reuses it: a sink must not keep it past the call. */
export class SampleBatch {
  refs: SeriesRef[] = [];
  t = new Float64Array(256);
  v = new Float64Array(256);
  stale = new Uint8Array(256);
  length = 0;
  staleCount = 0;

  clear(): void {
    this.length = 0;
    this.staleCount = 0;
  }

  push(ref: SeriesRef, t: number, v: number): void {
    const i = this.length;
    if (i === this.t.length) this.grow();
    this.refs[i] = ref;
    this.t[i] = t;
    this.v[i] = v;
    this.stale[i] = 0;
    this.length = i + 1;
  }

  /** A staleness marker (its value is ignored). */
  pushStale(ref: SeriesRef, t: number): void {
    this.push(ref, t, NaN);
    this.stale[this.length - 1] = 1;
    this.staleCount++;
  }

  /** Drops the samples from `n` on (a scrape that failed after appending some). */
  truncate(n: number): void {
    for (let i = n; i < this.length; i++) if (this.stale[i]) this.staleCount--;
    this.length = Math.min(this.length, n);
  }

  /** The batch as Sample objects, for sinks without `writeBatch`. */
  toSamples(): Sample[] {
    const out: Sample[] = new Array<Sample>(this.length);
    for (let i = 0; i < this.length; i++) {
      const labels = this.refs[i]!.labels;
      out[i] = this.stale[i] ? { labels, t: this.t[i]!, v: NaN, stale: true } : { labels, t: this.t[i]!, v: this.v[i]! };
    }
    return out;
  }

  private grow(): void {
    const n = this.t.length * 2;
    const t = new Float64Array(n); t.set(this.t); this.t = t;
    const v = new Float64Array(n); v.set(this.v); this.v = v;
    const s = new Uint8Array(n); s.set(this.stale); this.stale = s;
  }
}

export interface BatchSink extends SampleSink {
  writeBatch(batch: SampleBatch, metadata?: readonly MetricMetadata[]): void;
}

function isBatchSink(sink: SampleSink): sink is BatchSink {
  return typeof (sink as Partial<BatchSink>).writeBatch === 'function';
}

/** Hands a batch to any sink: as columns when it takes them, as Sample objects otherwise. */
export function writeBatchTo(sink: SampleSink, batch: SampleBatch, metadata?: readonly MetricMetadata[]): void {
  if (isBatchSink(sink)) sink.writeBatch(batch, metadata);
  else sink.write(batch.toSamples(), metadata);
}
