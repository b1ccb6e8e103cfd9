import { hostname } from 'node:os';
import { formatDuration, silentLogger, type AgentConfig, type Logger, type MetricFamily, type ScrapeConfig } from '@vigil/common';
import type { SampleSink } from '../sink.js';
import type { DnsResolver } from './discovery/index.js';
import { ScrapeLoop, type ScrapeSource } from './loop.js';
import { ScrapePool } from './pool.js';
import { LocalSource } from './sources.js';
import { fnv1a } from './target.js';

export interface ScrapeManagerOptions {
  sink: SampleSink;
  logger?: Logger;
  /** Added to every series that lacks the label (as Prometheus adds them on remote write); `global.external_labels` of the applied config win over these. */
  externalLabels?: Record<string, string>;
  /** Clock in ms (tests). */
  now?: () => number;
  /** A resolver for dns_sd_configs, or the DNS servers (`host:port`) a fresh resolver should use. */
  dnsResolver?: DnsResolver;
  dnsServers?: string[];
  /** Replaces the HTTP source of targets (tests). */
  sourceFactory?: (url: string, cfg: ScrapeConfig) => ScrapeSource;
}

/** One active target as Prometheus' /api/v1/targets shows it. */
export interface ActiveTarget {
  discoveredLabels: Record<string, string>;
  labels: Record<string, string>;
  scrapePool: string;
  scrapeUrl: string;
  globalUrl: string;
  lastError: string;
  lastScrape: string;
  lastScrapeDuration: number;
  health: 'up' | 'down' | 'unknown';
  scrapeInterval: string;
  scrapeTimeout: string;
}

export interface DroppedTarget {
  discoveredLabels: Record<string, string>;
}

export interface TargetsResponse {
  activeTargets: ActiveTarget[];
  droppedTargets: DroppedTarget[];
}

const NEVER = '0001-01-01T00:00:00Z';

/** Prometheus' globalUrl: the scrape URL with a loopback host replaced by this machine's name. */
function globalURL(url: string): string {
  try {
    const u = new URL(url);
    if (['localhost', '127.0.0.1', '[::1]', '0.0.0.0', '[::]'].includes(u.hostname)) u.hostname = hostname();
    return u.toString();
  } catch {
    return url;
  }
}

/**
 * Runs the scrape pools of an agent config and in-process local targets (the host exporter),
 * writing everything into one sink. `applyConfig` may be called again to reload: unchanged
 * pools keep running untouched, changed ones keep their targets' series state, removed ones
 * stop and mark their series stale.
 */
export class ScrapeManager {
  private readonly pools = new Map<string, ScrapePool>();
  private readonly removing = new Set<ScrapePool>();
  private readonly locals = new Map<string, ScrapeLoop>();
  private readonly logger: Logger;
  /** Shared by every loop (mutated in place on reload). */
  private readonly externalLabels: Record<string, string>;

  constructor(private readonly opts: ScrapeManagerOptions) {
    this.logger = (opts.logger ?? silentLogger).child({ component: 'scrape' });
    this.externalLabels = { ...(opts.externalLabels ?? {}) };
  }

  private ctx() {
    return {
      sink: this.opts.sink,
      logger: this.logger,
      externalLabels: this.externalLabels,
      now: this.opts.now,
      dnsResolver: this.opts.dnsResolver,
      dnsServers: this.opts.dnsServers,
      sourceFactory: this.opts.sourceFactory,
    };
  }

  async applyConfig(cfg: AgentConfig): Promise<void> {
    // The config's external labels (reloadable) win over the constructor's defaults.
    const ext = { ...(this.opts.externalLabels ?? {}), ...cfg.global.external_labels };
    for (const n of Object.keys(this.externalLabels)) if (!(n in ext)) delete (this.externalLabels as Record<string, string>)[n];
    Object.assign(this.externalLabels, ext);
    const wanted = new Map(cfg.scrape_configs.map((c) => [c.job_name, c]));
    for (const [name, pool] of this.pools) {
      if (wanted.has(name)) continue;
      this.pools.delete(name);
      this.removing.add(pool);
      void pool.remove().then(() => pool.settle()).finally(() => this.removing.delete(pool));
    }
    for (const [name, sc] of wanted) {
      const pool = this.pools.get(name);
      if (!pool) {
        const p = new ScrapePool(sc, this.ctx());
        this.pools.set(name, p);
        p.start();
      } else if (JSON.stringify(pool.cfg) !== JSON.stringify(sc)) {
        this.logger.info({ scrape_pool: name }, 'reloading scrape pool');
        pool.reload(sc);
      }
    }
  }

  /**
   * Adds an in-process target (the host exporter): `collect` is called every `interval` ms and
   * its families get `job`/`instance` labels, the synthetic series and staleness like any target.
   * Adding the same job/instance again with the same interval is a no-op (the first collector stays).
   */
  addLocalTarget(job: string, instance: string, interval: number, collect: () => Promise<MetricFamily[]>): void {
    const key = `${job}/${instance}`;
    const existing = this.locals.get(key);
    // Re-adding the same target (a reload) keeps it running; a new interval keeps its series state.
    if (existing && existing.opts.intervalMs === interval) return;
    if (existing) void existing.stop(false);
    const url = `local://${job}/${instance}`;
    const labels = { job, instance };
    const source: ScrapeSource = new LocalSource(collect);
    const loop = new ScrapeLoop({
      pool: job,
      labels,
      discovered: { __address__: instance, job },
      url,
      hash: fnv1a(key),
      intervalMs: interval,
      timeoutMs: interval,
      settings: {
        honorLabels: false, honorTimestamps: true, sampleLimit: 0, labelLimit: 0,
        labelNameLengthLimit: 0, labelValueLengthLimit: 0, metricRelabelConfigs: [],
      },
      source,
      sink: this.opts.sink,
      externalLabels: this.externalLabels,
      logger: this.logger,
      now: this.opts.now,
    });
    if (existing) loop.inheritState(existing);
    this.locals.set(key, loop);
    loop.start();
  }

  /** Removes a local target; its series go stale like a removed target's. */
  async removeLocalTarget(job: string, instance: string): Promise<void> {
    const key = `${job}/${instance}`;
    const loop = this.locals.get(key);
    if (!loop) return;
    this.locals.delete(key);
    await loop.stop(true);
  }

  /** Stops every loop without staleness markers (a restarted agent resumes the same series). */
  async stop(): Promise<void> {
    const all = [...this.pools.values(), ...this.removing];
    this.pools.clear();
    await Promise.all(all.map((p) => p.stop()));
    await Promise.all([...this.locals.values()].map((l) => l.stop(false)));
    this.locals.clear();
  }

  /** Waits until removed targets have written their staleness markers (tests). */
  async settle(): Promise<void> {
    await Promise.all([...this.pools.values(), ...this.removing].map((p) => p.settle()));
  }

  /** The data of Prometheus' /api/v1/targets. */
  targets(): TargetsResponse {
    const active: ActiveTarget[] = [];
    const dropped: DroppedTarget[] = [];
    const view = (loop: ScrapeLoop): ActiveTarget => ({
      discoveredLabels: { ...loop.opts.discovered },
      labels: { ...loop.publicLabels },
      scrapePool: loop.opts.pool,
      scrapeUrl: loop.opts.url,
      globalUrl: globalURL(loop.opts.url),
      lastError: loop.lastError,
      lastScrape: loop.lastScrape ? new Date(loop.lastScrape).toISOString() : NEVER,
      lastScrapeDuration: loop.lastScrapeDurationSec,
      health: loop.health,
      scrapeInterval: formatDuration(loop.opts.intervalMs),
      scrapeTimeout: formatDuration(loop.opts.timeoutMs),
    });
    for (const pool of this.pools.values()) {
      for (const loop of pool.loops.values()) active.push(view(loop));
      for (const d of pool.dropped) dropped.push({ discoveredLabels: { ...d } });
    }
    for (const loop of this.locals.values()) active.push(view(loop));
    return { activeTargets: active, droppedTargets: dropped };
  }
}
