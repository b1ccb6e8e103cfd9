import { performance } from 'node:perf_hooks';
import {
  labelsKey, silentLogger, type ExpositionFormat, type Labels, type Logger, type MetricMetadata,
} from '@vigil/common';
import { SampleBatch, writeBatchTo, type SampleSink } from '../sink.js';
import { LimitError, ScrapeCache, SERIES_CACHE_SCRAPES, SeriesState, withExternal, type AppendResult, type LoopSettings, type RawSample } from './cache.js';
import { nextScrapeDelay, publicLabels } from './target.js';

export type { LoopSettings, RawSample } from './cache.js';

/** Samples an in-process source built. */
export interface ParsedScrape {
  samples: RawSample[];
  metadata: MetricMetadata[];
}

/** An exposition body as fetched: the loop parses it against its scrape cache. */
export interface ExpositionScrape {
  /** The body, whole or as pieces that end at line ends. */
  text: string | readonly string[];
  format: ExpositionFormat;
}

export type ScrapeResult = ParsedScrape | ExpositionScrape;

/** Where a loop gets its data: an HTTP target, or an in-process collector. */
export interface ScrapeSource {
  scrape(timeoutMs: number): Promise<ScrapeResult>;
  close?(): void;
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
   * The scrape cache (exposed series by raw text, to their final labels and state). Its `series`
   * map holds every series this loop wrote recently, with the iteration that last wrote it:
   * staleness is "written by the last successful scrape and not by this one", found without
   * building per-scrape sets.
   */
  private cache: ScrapeCache;
  private cacheExternal: string;
  /** Iteration of the last scrape that wrote samples, -1 when the last one failed or none ran. */
  private lastWritten = -1;
  /** The columns handed to the sink, reused by every scrape. */
  private readonly batch = new SampleBatch();
  /** The report series (`up`, ...), stable handles like any other series. */
  private reports: SeriesState[];
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
    this.cache = new ScrapeCache(opts.settings, this.publicLabels, opts.externalLabels);
    this.cacheExternal = JSON.stringify(opts.externalLabels);
    this.reports = this.reportSeries();
  }

  /** Takes over the series state of the loop this one replaces (same target, new settings). */
  inheritState(prev: ScrapeLoop): void {
    this.cache.adopt(prev.cache.series);
    this.lastWritten = prev.lastWritten;
    this.iteration = prev.iteration;
    this.health = prev.health;
    this.lastError = prev.lastError;
    this.lastScrape = prev.lastScrape;
    this.lastScrapeDurationSec = prev.lastScrapeDurationSec;
    this.metadataKey = prev.metadataKey;
    this.metadataSentAt = prev.metadataSentAt;
    prev.cache.series = new Map();
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
    const batch = this.batch;
    batch.clear();
    if (this.lastWritten >= 0) {
      for (const st of this.cache.series.values()) if (st.tracked && st.written === this.lastWritten) batch.pushStale(st, t);
    }
    for (const st of this.reports) batch.pushStale(st, t);
    this.cache.series.clear();
    this.lastWritten = -1;
    writeBatchTo(this.opts.sink, batch);
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

    const batch = this.batch;
    batch.clear();
    let res: AppendResult = { total: 0, added: 0, seriesAdded: 0 };
    const iter = this.iteration;
    let metadata: MetricMetadata[] | undefined;
    if (result) {
      try {
        res = this.append(result, iter, start);
        // the scrape succeeded: its series are written by this iteration
        for (let i = 0; i < res.added; i++) {
          const st = batch.refs[i] as SeriesState;
          st.written = iter;
          st.tracked = st.pendingTracked;
        }
        metadata = res.metadata ?? ('text' in result ? undefined : result.metadata);
      } catch (e) {
        err = e instanceof Error ? e : new Error(String(e));
        batch.clear();
        res = { total: e instanceof LimitError ? e.total : 0, added: 0, seriesAdded: 0 };
      }
    }
    const prev = this.lastWritten;
    if (prev >= 0) {
      for (const st of this.cache.series.values()) if (st.tracked && st.written === prev) batch.pushStale(st, start);
    }
    this.lastWritten = err ? -1 : iter;
    if (iter % SERIES_CACHE_SCRAPES === 0) this.cache.prune(iter, this.lastWritten);
    this.iteration++;

    this.health = err ? 'down' : 'up';
    this.lastError = err ? err.message : '';
    this.lastScrape = start;
    this.lastScrapeDurationSec = durationSec;
    if (err) this.logger.debug({ err: err.message }, 'scrape failed');

    const r = this.reports;
    batch.push(r[0]!, start, err ? 0 : 1);
    batch.push(r[1]!, start, durationSec);
    batch.push(r[2]!, start, res.total);
    batch.push(r[3]!, start, res.added);
    batch.push(r[4]!, start, res.seriesAdded);

    let send: MetricMetadata[] | undefined;
    if (!err && metadata && metadata.length > 0) {
      const key = JSON.stringify(metadata);
      if (key !== this.metadataKey || start - this.metadataSentAt >= METADATA_RESEND_MS) {
        send = metadata;
        this.metadataKey = key;
        this.metadataSentAt = start;
      }
    }
    writeBatchTo(this.opts.sink, batch, send);
  }

  /** Appends a scrape's samples to the batch; throws ParseError or LimitError. */
  private append(result: ScrapeResult, iter: number, start: number): AppendResult {
    const ext = JSON.stringify(this.opts.externalLabels);
    if (ext !== this.cacheExternal) {
      const series = this.cache.series;
      this.cache = new ScrapeCache(this.opts.settings, this.publicLabels, this.opts.externalLabels);
      this.cache.adopt(series);
      this.cacheExternal = ext;
      this.reports = this.reportSeries();
    }
    if ('text' in result) {
      return this.cache.appendText(result.text, result.format === 'openmetrics', iter, start, this.batch);
    }
    return this.cache.appendParsed(result.samples, iter, start, this.batch);
  }

  /** Handles of the five report series: their name and the target's public labels. */
  private reportSeries(): SeriesState[] {
    return REPORT_NAMES.map((name) => {
      const lb: Record<string, string> = { __name__: name };
      for (const n in this.publicLabels) lb[n] = this.publicLabels[n]!;
      const labels = withExternal(lb, this.opts.externalLabels);
      return new SeriesState(labels, labelsKey(labels), '');
    });
  }
}

const REPORT_NAMES = ['up', 'scrape_duration_seconds', 'scrape_samples_scraped', 'scrape_samples_post_metric_relabeling', 'scrape_series_added'];
