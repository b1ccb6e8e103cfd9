/**
 * A target's scrape cache, after Prometheus' `scrapeCache`: exposed series, keyed by their raw
 * text as exposed (`name{labels}` up to the value), to their final labels and per-series state.
 * A line of a known series costs a span scan, a string compare (or one Map lookup) and a float
 * parse: no label objects, no relabeling, no canonical key. Only a series not in the cache takes
 * the full path (parse labels, target labels, honor_labels, metric relabeling, external labels).
 */
import { ExpositionReader, dropEmpty, labelsKey, type Labels, type MetricMetadata, type RelabelConfig } from '@vigil/common';
import type { SampleBatch, SeriesRef } from '../sink.js';
import { relabel } from './relabel.js';

/** One sample as an in-process source hands it over: labels include `__name__`, timestamp in ms if exposed. */
export interface RawSample {
  labels: Labels;
  value: number;
  timestamp?: number;
}

export interface LoopSettings {
  honorLabels: boolean;
  honorTimestamps: boolean;
  sampleLimit: number;
  labelLimit: number;
  labelNameLengthLimit: number;
  labelValueLengthLimit: number;
  metricRelabelConfigs: readonly RelabelConfig[];
}

/** Series not seen for this many scrapes are forgotten (and count again in `scrape_series_added`). */
export const SERIES_CACHE_SCRAPES = 10;

/** What the cache holds per exposed series text. */
interface Entry {
  /** The series text as exposed. */
  readonly raw: string;
  /** The series, or null when metric relabeling drops it. */
  readonly series: SeriesState | null;
  lastIteration: number;
  /** Label limits already checked. */
  checked: boolean;
}

/**
 * A series a loop writes, also the handle its sink sees, and (for the usual series exposed under
 * one text) its own cache entry: one object per series.
 */
export class SeriesState implements SeriesRef, Entry {
  readonly series: SeriesState = this;
  lastIteration = -1;
  checked = false;
  sinkId = -1;
  /** Last iteration that saw the series (also its duplicate check). */
  mark = -1;
  /** Last iteration whose scrape wrote it. */
  written = -1;
  /** Written without an explicit timestamp, so it gets staleness markers. */
  tracked = false;
  pendingTracked = false;
  constructor(readonly labels: Labels, readonly key: string, readonly raw: string) {}
}

/** The entry of a text whose series is dropped, or another text of a series already held. */
class CacheEntry implements Entry {
  lastIteration = -1;
  checked = false;
  constructor(readonly raw: string, readonly series: SeriesState | null) {}
}

/** A scrape over sample_limit or a label limit; `total` is the number of samples it exposed. */
export class LimitError extends Error {
  override name = 'LimitError';
  total = 0;
}

export interface AppendResult {
  /** Samples exposed (lines), for `scrape_samples_scraped`. */
  total: number;
  /** Samples appended to the batch, for `scrape_samples_post_metric_relabeling`. */
  added: number;
  seriesAdded: number;
  /** HELP/TYPE/UNIT of an exposition body. */
  metadata?: MetricMetadata[];
}

/** A copy that shares no memory with the scrape body it was sliced from (V8 keeps slices' parents alive). */
function detach(s: string): string {
  return s.length < 13 ? s : Buffer.from(s, 'utf8').toString('utf8');
}

export class ScrapeCache {
  /** Every series written recently, by canonical key: staleness is found by one pass over it. */
  series = new Map<string, SeriesState>();
  private entries = new Map<string, Entry>();
  /** Label names and values of the series held, one copy each. */
  private strings = new Map<string, string>();
  /** The entries of the last scrape by position: a steady target repeats its order. */
  private byIndex: Entry[] = [];
  private next: Entry[] = [];
  private iter = 0;
  private start = 0;
  private added = 0;
  private seriesAdded = 0;
  private batch: SampleBatch | undefined;

  constructor(
    private readonly settings: LoopSettings,
    private readonly publicLabels: Labels,
    private readonly externalLabels: Labels,
  ) {}

  /** Takes over the series of a cache this one replaces (new settings): limits are checked again. */
  adopt(series: Map<string, SeriesState>): void {
    for (const st of series.values()) st.checked = false;
    this.series = series;
  }

  /**
   * Appends the samples of an exposition body to `batch`. Throws ParseError (nothing of the scrape
   * counts) or LimitError (after counting every line, as Prometheus reports them).
   */
  appendText(text: string | readonly string[], om: boolean, iter: number, start: number, batch: SampleBatch): AppendResult {
    this.begin(iter, start, batch);
    const r = new ExpositionReader(text, om);
    const byIndex = this.byIndex;
    const next = this.next;
    const honorTs = this.settings.honorTimestamps;
    let i = 0;
    let limit: LimitError | undefined;
    for (;;) {
      const hint = byIndex[i];
      if (!r.next(hint?.raw)) break;
      if (limit) {
        i++;
        continue;
      }
      let e = r.matched ? hint : this.entries.get(r.series());
      if (e === undefined) e = this.newEntry(detach(r.series()), r.labels());
      next[i++] = e;
      try {
        this.take(e, honorTs && r.hasTimestamp, r.timestamp, r.value);
      } catch (err) {
        if (!(err instanceof LimitError)) throw err;
        limit = err;
      }
    }
    if (limit) {
      limit.total = i;
      throw limit;
    }
    next.length = i;
    this.next = byIndex;
    this.byIndex = next;
    return { total: i, added: this.added, seriesAdded: this.seriesAdded, metadata: r.metadata() };
  }

  /** Appends samples an in-process source built (host exporter, pushed groups). */
  appendParsed(raw: readonly RawSample[], iter: number, start: number, batch: SampleBatch): AppendResult {
    this.begin(iter, start, batch);
    const honorTs = this.settings.honorTimestamps;
    try {
      for (const r of raw) {
        const key = JSON.stringify(r.labels);
        const e = this.entries.get(key) ?? this.newEntry(key, r.labels);
        this.take(e, honorTs && r.timestamp !== undefined, r.timestamp ?? 0, r.value);
      }
    } catch (err) {
      if (err instanceof LimitError) err.total = raw.length;
      throw err;
    }
    return { total: raw.length, added: this.added, seriesAdded: this.seriesAdded };
  }

  private begin(iter: number, start: number, batch: SampleBatch): void {
    this.iter = iter;
    this.start = start;
    this.batch = batch;
    this.added = 0;
    this.seriesAdded = 0;
  }

  private take(e: Entry, explicit: boolean, ts: number, v: number): void {
    e.lastIteration = this.iter;
    const st = e.series;
    if (st === null) return;
    if (!e.checked) {
      this.checkLabelLimits(st.labels);
      e.checked = true;
    }
    const s = this.settings;
    if (s.sampleLimit > 0 && this.added >= s.sampleLimit) throw new LimitError('sample limit exceeded');
    if (st.mark === this.iter) return; // Prometheus rejects duplicates within a scrape
    st.mark = this.iter;
    this.batch!.push(st, explicit ? ts : this.start, v);
    this.added++;
    st.pendingTracked = !explicit;
    if (st.written < 0) this.seriesAdded++;
  }

  private newEntry(raw: string, exposed: Labels): Entry {
    const labels = this.mutateSampleLabels(exposed);
    let e: Entry;
    if (labels === null) e = new CacheEntry(raw, null);
    else {
      const key = detach(labelsKey(labels));
      const held = this.series.get(key);
      if (held) e = held.raw === raw ? held : new CacheEntry(raw, held);
      else {
        const st = new SeriesState(Object.fromEntries(Object.entries(labels).map(([n, v]) => [this.intern(n), this.intern(v)])), key, raw);
        this.series.set(key, st);
        e = st;
      }
    }
    this.entries.set(raw, e);
    return e;
  }

  /** One detached copy of each label name and value (most repeat across a target's series). */
  private intern(s: string): string {
    let v = this.strings.get(s);
    if (v === undefined) {
      // bounded: under label churn the table starts over (held series keep their copies)
      if (this.strings.size > 4 * this.series.size + 10_000) this.strings.clear();
      v = detach(s);
      this.strings.set(v, v);
    }
    return v;
  }

  /** Forgets entries and series untouched for SERIES_CACHE_SCRAPES scrapes (series last written by `lastWritten` stay). */
  prune(iter: number, lastWritten: number): void {
    for (const [k, e] of this.entries) if (iter - e.lastIteration > SERIES_CACHE_SCRAPES) this.entries.delete(k);
    for (const [k, st] of this.series) {
      if (iter - st.mark > SERIES_CACHE_SCRAPES && st.written !== lastWritten) this.series.delete(k);
    }
  }

  private checkLabelLimits(labels: Labels): void {
    const s = this.settings;
    if (s.labelLimit === 0 && s.labelNameLengthLimit === 0 && s.labelValueLengthLimit === 0) return;
    const met = (labels.__name__ ?? '').slice(0, 50);
    const names = Object.keys(labels);
    if (s.labelLimit > 0 && names.length > s.labelLimit) {
      throw new LimitError(`label_limit exceeded (metric: ${met}, number of labels: ${names.length}, limit: ${s.labelLimit})`);
    }
    for (const n of names) {
      if (s.labelNameLengthLimit > 0 && n.length > s.labelNameLengthLimit) {
        throw new LimitError(`label_name_length_limit exceeded (metric: ${met}, label name: ${n.slice(0, 50)}, length: ${n.length}, limit: ${s.labelNameLengthLimit})`);
      }
      const v = labels[n]!;
      if (s.labelValueLengthLimit > 0 && v.length > s.labelValueLengthLimit) {
        throw new LimitError(`label_value_length_limit exceeded (metric: ${met}, label name: ${n.slice(0, 50)}, value: ${JSON.stringify(v.slice(0, 50))}, length: ${v.length}, limit: ${s.labelValueLengthLimit})`);
      }
    }
  }

  /** Prometheus' mutateSampleLabels: target labels, honor_labels or `exported_*`, metric relabeling, external labels. */
  private mutateSampleLabels(exposed: Labels): Labels | null {
    const lb: Record<string, string> = { ...exposed };
    const target = this.publicLabels;
    if (this.settings.honorLabels) {
      for (const n in target) if (!exposed[n]) lb[n] = target[n]!;
    } else {
      const conflicts: [string, string][] = [];
      for (const n in target) {
        const existing = exposed[n];
        if (existing) conflicts.push([n, existing]);
        lb[n] = target[n]!;
      }
      if (conflicts.length > 0) {
        conflicts.sort((a, b) => a[0].length - b[0].length);
        const taken = new Set<string>();
        for (const c of conflicts) {
          let name = c[0];
          for (;;) {
            name = 'exported_' + name;
            if (!exposed[name] && !target[name] && !taken.has(name)) break;
          }
          taken.add(name);
          c[0] = name;
        }
        for (const [n, v] of conflicts) lb[n] = v;
      }
    }
    let res: Labels | null = dropEmpty(lb);
    if (this.settings.metricRelabelConfigs.length > 0) {
      res = relabel(res, this.settings.metricRelabelConfigs);
      if (res === null || !res.__name__) return null;
      res = dropEmpty(res);
    }
    return withExternal(res, this.externalLabels);
  }
}

/** `labels` plus the external labels it does not set itself. */
export function withExternal(labels: Labels, ext: Labels): Labels {
  let out: Record<string, string> | undefined;
  for (const n in ext) {
    if (labels[n]) continue;
    out ??= { ...labels };
    out[n] = ext[n]!;
  }
  return out ?? labels;
}
