import { performance } from 'node:perf_hooks';
import {
  dropEmpty, labelsKey, silentLogger,
  type Labels, type Logger, type MetricMetadata, type RelabelConfig, type Sample,
} from '@vigil/common';
import type { SampleSink } from '../sink.js';
import { relabel } from './relabel.js';
import { nextScrapeDelay, publicLabels } from './target.js';

/** One sample as a source hands it over: labels include `__name__`, timestamp in ms if exposed. */
export interface RawSample {
  labels: Labels;
  value: number;
  timestamp?: number;
}

export interface ScrapeResult {
  samples: RawSample[];
  metadata: MetricMetadata[];
}

/** Where a loop gets its data: an HTTP target, or an in-process collector. */
export interface ScrapeSource {
  scrape(timeoutMs: number): Promise<ScrapeResult>;
  close?(): void;
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

export interface LoopOptions {
  pool: string;
  /** Full labels after target relabeling (internal `__*` labels included). */
  labels: Labels;
  discovered: Labels;
  url: string;
  hash: number;
  intervalMs: number;
  timeoutMs: number;
  settings: LoopSettings;
  source: ScrapeSource;
  sink: SampleSink;
  externalLabels: Labels;
  logger?: Logger;
  now?: () => number;
}

export type Health = 'unknown' | 'up' | 'down';

/** Re-send metadata at least this often even when unchanged, so a restarted hub learns it again. */
const METADATA_RESEND_MS = 10 * 60_000;
/** Series not seen for this many scrapes are forgotten for `scrape_series_added`. */
const SERIES_CACHE_SCRAPES = 10;

interface SeriesState {
  labels: Labels;
  /** Last iteration that saw the series (also its duplicate check). */
  mark: number;
  /** Last iteration whose scrape wrote it. */
  written: number;
  /** Written without an explicit timestamp, so it gets staleness markers. */
  tracked: boolean;
  pendingTracked: boolean;
}

interface CacheEntry {
  /** The series, or null when metric relabeling drops it. */
  series: SeriesState | null;
  lastIteration: number;
  /** Label limits already checked. */
  checked: boolean;
}

interface IndexedEntry {
  raw: Labels;
  entry: CacheEntry;
}

/** Same names and values (in any order). */
function sameLabels(a: Labels, b: Labels): boolean {
  let n = 0;
  for (const k in a) {
    if (a[k] !== b[k]) return false;
    n++;
  }
  for (const _ in b) n--;
  return n === 0;
}

/** Identity of an exposed label set in its exposition order (cheap: no sorting). */
function rawKey(labels: Labels): string {
  return JSON.stringify(labels);
}

class LimitError extends Error {}

/**
 * The scrape loop of one target, with Prometheus' semantics: scrape at a stable offset in each
 * interval; stamp samples with the scrape's start time (or the exposed one with
 * honor_timestamps); write staleness markers for series that vanished since the last scrape, for
 * every series when a scrape fails, and (after two missed intervals) when the target goes away;
 * report `up`, `scrape_duration_seconds`, `scrape_samples_scraped`,
 * `scrape_samples_post_metric_relabeling` and `scrape_series_added`.
 */
export class ScrapeLoop {
  readonly opts: LoopOptions;
  readonly publicLabels: Labels;
  health: Health = 'unknown';
  lastError = '';
  /** Start of the last scrape (ms), 0 before the first. */
  lastScrape = 0;
  lastScrapeDurationSec = 0;

  private readonly logger: Logger;
  private readonly now: () => number;
  /**
   * Every series this loop wrote recently, by identity, with the iteration that last wrote it:
   * staleness is "written by the last successful scrape and not by this one", found without
   * building per-scrape sets.
   */
  private series = new Map<string, SeriesState>();
  /** Iteration of the last scrape that wrote samples, -1 when the last one failed or none ran. */
  private lastWritten = -1;
  /**
   * Exposed series (by their raw labels in exposition order) to their final labels and identity,
   * so a steady target costs no relabeling, sorting or escaping per sample. Entries unused for
   * SERIES_CACHE_SCRAPES scrapes are dropped; a series not in the cache counts in `scrape_series_added`.
   */
  private cache = new Map<string, CacheEntry>();
  private cacheExternal = '';
  /** The cache entries of the last scrape by position (see append). */
  private byIndex: IndexedEntry[] = [];
  private iteration = 0;
  private timer: NodeJS.Timeout | undefined;
  private nextAt = 0;
  private running: Promise<void> | undefined;
  private stopped = false;
  private staleTimer: NodeJS.Timeout | undefined;
  private metadataKey = '';
  private metadataSentAt = 0;

  constructor(opts: LoopOptions) {
    this.opts = opts;
    this.publicLabels = publicLabels(opts.labels);
    this.logger = (opts.logger ?? silentLogger).child({ target: opts.url });
    this.now = opts.now ?? Date.now;
  }

  /** Takes over the series state of the loop this one replaces (same target, new settings). */
  inheritState(prev: ScrapeLoop): void {
    this.series = prev.series;
    this.lastWritten = prev.lastWritten;
    this.iteration = prev.iteration;
    this.health = prev.health;
    this.lastError = prev.lastError;
    this.lastScrape = prev.lastScrape;
    this.lastScrapeDurationSec = prev.lastScrapeDurationSec;
    this.metadataKey = prev.metadataKey;
    this.metadataSentAt = prev.metadataSentAt;
    prev.series = new Map();
    prev.lastWritten = -1;
  }

  start(): void {
    const delay = nextScrapeDelay(this.opts.hash, this.opts.intervalMs, this.now());
    this.nextAt = this.now() + delay;
    this.timer = setTimeout(() => this.tick(), delay);
  }

  private tick(): void {
    if (this.stopped) return;
    // A scrape still running (a slow parse) makes this one skip, as Prometheus never overlaps scrapes.
    if (!this.running) this.running = this.scrapeAndReport().catch((err: unknown) => {
      this.logger.error({ err }, 'scrape loop iteration failed');
    }).finally(() => { this.running = undefined; });
    const now = this.now();
    do this.nextAt += this.opts.intervalMs; while (this.nextAt <= now);
    this.timer = setTimeout(() => this.tick(), this.nextAt - now);
  }

  /**
   * Stops scraping. With `staleAfterRun`, waits as Prometheus does (until the second missed
   * scrape plus 10% of the interval) and then marks every series stale at the time of the first
   * missed scrape; `cancelStaleness()` in that window (the target came back) skips the markers.
   */
  async stop(staleAfterRun: boolean): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    this.opts.source.close?.();
    if (!staleAfterRun || this.lastScrape === 0 || this.staleCancelled) return;
    const now = this.now();
    let staleTime = this.nextAt;
    while (staleTime < now) staleTime += this.opts.intervalMs;
    const wait = staleTime - now + this.opts.intervalMs + this.opts.intervalMs / 10;
    await new Promise<void>((resolve) => {
      this.staleTimer = setTimeout(() => {
        this.staleTimer = undefined;
        this.writeEndOfRunStaleness(staleTime);
        resolve();
      }, wait);
      this.cancelStale = () => { clearTimeout(this.staleTimer); this.staleTimer = undefined; resolve(); };
    });
  }

  private cancelStale: (() => void) | undefined;
  private staleCancelled = false;

  /** The same target was created again before its end-of-run staleness markers were written. */
  cancelStaleness(): void {
    this.staleCancelled = true;
    this.cancelStale?.();
    this.cancelStale = undefined;
  }

  private writeEndOfRunStaleness(t: number): void {
    const out: Sample[] = [];
    for (const st of this.series.values()) {
      if (st.tracked && st.written === this.lastWritten && this.lastWritten >= 0) out.push({ labels: st.labels, t, v: NaN, stale: true });
    }
    for (const name of REPORT_NAMES) out.push({ labels: this.reportLabels(name), t, v: NaN, stale: true });
    this.series.clear();
    this.lastWritten = -1;
    this.opts.sink.write(out);
  }

  /** One scrape, exported for tests that drive loops without timers. */
  async scrapeAndReport(): Promise<void> {
    const start = this.now();
    const t0 = performance.now();
    let err: Error | undefined;
    let result: ScrapeResult | undefined;
    try {
      result = await this.opts.source.scrape(this.opts.timeoutMs);
    } catch (e) {
      err = e instanceof Error ? e : new Error(String(e));
    }
    const durationSec = (performance.now() - t0) / 1000;
    if (this.stopped && !result && !err) return;

    let out: Sample[] = [];
    let total = 0;
    let added = 0;
    let seriesAdded = 0;
    const iter = this.iteration;
    if (result) {
      total = result.samples.length;
      try {
        const appended = this.append(result.samples, start);
        out = appended.samples;
        added = out.length;
        seriesAdded = appended.seriesAdded;
        for (const st of appended.states) {
          st.written = iter;
          st.tracked = st.pendingTracked;
        }
      } catch (e) {
        err = e as Error;
        out = [];
        added = 0;
        seriesAdded = 0;
        if (e instanceof LimitError) total = result.samples.length;
      }
    }
    const prev = this.lastWritten;
    if (prev >= 0) {
      for (const st of this.series.values()) {
        if (st.tracked && st.written === prev) out.push({ labels: st.labels, t: start, v: NaN, stale: true });
      }
    }
    this.lastWritten = err ? -1 : iter;
    if (iter % SERIES_CACHE_SCRAPES === 0) this.prune(iter);
    this.iteration++;

    this.health = err ? 'down' : 'up';
    this.lastError = err ? err.message : '';
    this.lastScrape = start;
    this.lastScrapeDurationSec = durationSec;
    if (err) this.logger.debug({ err: err.message }, 'scrape failed');

    const report: [string, number][] = [
      ['up', err ? 0 : 1],
      ['scrape_duration_seconds', durationSec],
      ['scrape_samples_scraped', total],
      ['scrape_samples_post_metric_relabeling', added],
      ['scrape_series_added', seriesAdded],
    ];
    for (const [name, v] of report) out.push({ labels: this.reportLabels(name), t: start, v });

    let metadata: MetricMetadata[] | undefined;
    if (!err && result && result.metadata.length > 0) {
      const key = JSON.stringify(result.metadata);
      if (key !== this.metadataKey || start - this.metadataSentAt >= METADATA_RESEND_MS) {
        metadata = result.metadata;
        this.metadataKey = key;
        this.metadataSentAt = start;
      }
    }
    this.opts.sink.write(out, metadata);
  }

  /** Forgets cache entries and series untouched for SERIES_CACHE_SCRAPES scrapes. */
  private prune(iter: number): void {
    for (const [k, e] of this.cache) if (iter - e.lastIteration > SERIES_CACHE_SCRAPES) this.cache.delete(k);
    for (const [k, st] of this.series) {
      if (iter - st.mark > SERIES_CACHE_SCRAPES && st.written !== this.lastWritten) this.series.delete(k);
    }
  }

  /** Labels and identity of every exposed sample; throws LimitError when a limit is exceeded. */
  private append(raw: readonly RawSample[], start: number): { samples: Sample[]; states: SeriesState[]; seriesAdded: number } {
    const s = this.opts.settings;
    const ext = JSON.stringify(this.opts.externalLabels);
    if (ext !== this.cacheExternal) {
      this.cache.clear();
      this.byIndex = [];
      this.cacheExternal = ext;
    }
    const iter = this.iteration;
    const samples: Sample[] = [];
    const states: SeriesState[] = [];
    let seriesAdded = 0;
    const byIndex = this.byIndex;
    const nextByIndex: IndexedEntry[] = new Array(raw.length);
    for (let i = 0; i < raw.length; i++) {
      const r = raw[i]!;
      // A steady target exposes the same series in the same order: compare with the entry at the
      // same position before falling back to the keyed cache.
      const hint = byIndex[i];
      let e = hint !== undefined && sameLabels(hint.raw, r.labels) ? hint.entry : undefined;
      const rk = e ? '' : rawKey(r.labels);
      if (!e) e = this.cache.get(rk);
      if (!e) {
        const labels = this.mutateSampleLabels(r.labels);
        let st: SeriesState | null = null;
        if (labels !== null) {
          const key = labelsKey(labels);
          st = this.series.get(key) ?? null;
          if (!st) {
            st = { labels, mark: -1, written: -1, tracked: false, pendingTracked: false };
            this.series.set(key, st);
          }
        }
        e = { series: st, lastIteration: -1, checked: false };
        this.cache.set(rk, e);
      }
      nextByIndex[i] = { raw: r.labels, entry: e };
      e.lastIteration = iter;
      const st = e.series;
      if (st === null) continue;
      if (!e.checked) {
        this.checkLabelLimits(st.labels);
        e.checked = true;
      }
      if (s.sampleLimit > 0 && samples.length >= s.sampleLimit) throw new LimitError('sample limit exceeded');
      if (st.mark === iter) continue; // Prometheus rejects duplicates within a scrape
      st.mark = iter;
      const explicit = s.honorTimestamps && r.timestamp !== undefined;
      samples.push({ labels: st.labels, t: explicit ? r.timestamp! : start, v: r.value });
      st.pendingTracked = !explicit;
      states.push(st);
      if (st.written < 0) seriesAdded++;
    }
    this.byIndex = nextByIndex;
    return { samples, states, seriesAdded };
  }

  private checkLabelLimits(labels: Labels): void {
    const s = this.opts.settings;
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
    if (this.opts.settings.honorLabels) {
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
    if (this.opts.settings.metricRelabelConfigs.length > 0) {
      res = relabel(res, this.opts.settings.metricRelabelConfigs);
      if (res === null || !res.__name__) return null;
      res = dropEmpty(res);
    }
    return this.withExternal(res);
  }

  private withExternal(labels: Labels): Labels {
    const ext = this.opts.externalLabels;
    let out: Record<string, string> | undefined;
    for (const n in ext) {
      if (labels[n]) continue;
      out ??= { ...labels };
      out[n] = ext[n]!;
    }
    return out ?? labels;
  }

  /** Labels of a synthetic report series: its name and the target's public labels. */
  private reportLabels(name: string): Labels {
    const lb: Record<string, string> = { __name__: name };
    for (const n in this.publicLabels) lb[n] = this.publicLabels[n]!;
    return this.withExternal(lb);
  }
}

const REPORT_NAMES = ['up', 'scrape_duration_seconds', 'scrape_samples_scraped', 'scrape_samples_post_metric_relabeling', 'scrape_series_added'];
