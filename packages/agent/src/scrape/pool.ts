import { dropEmpty, labelsKey, parseDuration, type Labels, type Logger, type ScrapeConfig } from '@vigil/common';
import type { SampleSink } from '../sink.js';
import { DnsDiscoverer, FileDiscoverer, HttpDiscoverer, StaticDiscoverer, groupTargets, type Discoverer, type DnsResolver, type TargetGroup } from './discovery/index.js';
import { ScrapeLoop, type LoopSettings, type ScrapeSource } from './loop.js';
import { HttpSource } from './sources.js';
import { SCRAPE_INTERVAL_LABEL, SCRAPE_TIMEOUT_LABEL, populateLabels, targetHash, targetURL } from './target.js';

/** Hooks shared by every pool of a manager. */
export interface PoolContext {
  sink: SampleSink;
  logger: Logger;
  externalLabels: Labels;
  now?: () => number;
  dnsResolver?: DnsResolver;
  dnsServers?: string[];
  /** Builds the source of an HTTP target (tests replace the network). */
  sourceFactory?: (url: string, cfg: ScrapeConfig) => ScrapeSource;
}

export function loopSettings(cfg: ScrapeConfig): LoopSettings {
  return {
    honorLabels: cfg.honor_labels,
    honorTimestamps: cfg.honor_timestamps,
    sampleLimit: cfg.sample_limit,
    labelLimit: cfg.label_limit,
    labelNameLengthLimit: cfg.label_name_length_limit,
    labelValueLengthLimit: cfg.label_value_length_limit,
    metricRelabelConfigs: cfg.metric_relabel_configs,
  };
}

/**
 * The targets of one scrape config: runs its discoverers, turns their groups into targets
 * (relabeling), and keeps one scrape loop per distinct target. Re-syncing keeps the loops of
 * unchanged targets, starts new ones and stops vanished ones (which then write staleness markers).
 */
export class ScrapePool {
  cfg: ScrapeConfig;
  loops = new Map<string, ScrapeLoop>();
  dropped: Labels[] = [];
  private discoverers: Discoverer[] = [];
  private groups: TargetGroup[][] = [];
  private readonly logger: Logger;
  /** Loops stopped by a sync whose end-of-run staleness markers are still pending. */
  private readonly stopping = new Map<string, ScrapeLoop>();
  private readonly background = new Set<Promise<void>>();

  constructor(cfg: ScrapeConfig, private readonly ctx: PoolContext) {
    this.cfg = cfg;
    this.logger = ctx.logger.child({ scrape_pool: cfg.job_name });
  }

  private buildDiscoverers(cfg: ScrapeConfig): Discoverer[] {
    const d: Discoverer[] = [];
    if (cfg.static_configs.length > 0) d.push(new StaticDiscoverer(cfg.static_configs));
    for (const c of cfg.file_sd_configs) d.push(new FileDiscoverer(c, this.logger));
    for (const c of cfg.http_sd_configs) d.push(new HttpDiscoverer(c, this.logger));
    for (const c of cfg.dns_sd_configs) d.push(new DnsDiscoverer(c, { logger: this.logger, resolver: this.ctx.dnsResolver, servers: this.ctx.dnsServers }));
    return d;
  }

  start(): void {
    this.discoverers = this.buildDiscoverers(this.cfg);
    this.groups = this.discoverers.map(() => []);
    this.discoverers.forEach((d, i) => d.start((groups) => {
      this.groups[i] = groups;
      this.sync();
    }));
    if (this.discoverers.length === 0) this.sync();
  }

  /**
   * Applies a changed config: discovery restarts, and targets that keep their identity keep
   * their series state (no spurious staleness) in a loop built with the new settings.
   */
  reload(cfg: ScrapeConfig): void {
    const sameDiscovery = discoveryKey(cfg) === discoveryKey(this.cfg);
    this.cfg = cfg;
    if (sameDiscovery) {
      this.sync();
      return;
    }
    for (const d of this.discoverers) d.stop();
    this.start();
  }

  private sync(): void {
    const wanted = new Map<string, { labels: Labels; discovered: Labels; url: string; hash: number }>();
    const dropped: Labels[] = [];
    for (const groups of this.groups) {
      for (const g of groups) {
        for (const raw of groupTargets(g)) {
          const res = populateLabels(dropEmpty(raw), this.cfg);
          if (res.kind === 'dropped') { dropped.push(res.discovered); continue; }
          if (res.kind === 'error') {
            this.logger.warn({ target: res.discovered, err: res.error }, 'cannot create target');
            continue;
          }
          const url = targetURL(res.labels, this.cfg.params);
          const key = labelsKey(res.labels) + ' ' + url;
          if (!wanted.has(key)) wanted.set(key, { labels: res.labels, discovered: res.discovered, url, hash: targetHash(res.labels, url) });
        }
      }
    }
    this.dropped = dropped;

    const next = new Map<string, ScrapeLoop>();
    const identity = JSON.stringify(this.cfg);
    for (const [key, t] of wanted) {
      const existing = this.loops.get(key);
      if (existing && configIdentity.get(existing) === identity) {
        next.set(key, existing);
        continue;
      }
      const loop = new ScrapeLoop({
        pool: this.cfg.job_name,
        labels: t.labels,
        discovered: t.discovered,
        url: t.url,
        hash: t.hash,
        intervalMs: parseDuration(t.labels[SCRAPE_INTERVAL_LABEL]!),
        timeoutMs: parseDuration(t.labels[SCRAPE_TIMEOUT_LABEL]!),
        settings: loopSettings(this.cfg),
        source: this.ctx.sourceFactory ? this.ctx.sourceFactory(t.url, this.cfg) : new HttpSource(t.url, this.cfg),
        sink: this.ctx.sink,
        externalLabels: this.ctx.externalLabels,
        logger: this.logger,
        now: this.ctx.now,
      });
      configIdentity.set(loop, identity);
      const predecessor = existing ?? this.stopping.get(key);
      if (predecessor) {
        predecessor.cancelStaleness();
        this.stopping.delete(key);
        loop.inheritState(predecessor);
        if (existing) this.stopInBackground(key, existing, false);
      }
      next.set(key, loop);
      loop.start();
    }
    for (const [key, loop] of this.loops) {
      if (!wanted.has(key)) this.stopInBackground(key, loop, true);
    }
    this.loops = next;
  }

  private stopInBackground(key: string, loop: ScrapeLoop, stale: boolean): void {
    if (stale) this.stopping.set(key, loop);
    const p = loop.stop(stale).finally(() => {
      this.background.delete(p);
      if (this.stopping.get(key) === loop) this.stopping.delete(key);
    });
    this.background.add(p);
  }

  /** Removes every target (the config dropped this job): their series go stale as Prometheus does. */
  async remove(): Promise<void> {
    for (const d of this.discoverers) d.stop();
    for (const [key, loop] of this.loops) this.stopInBackground(key, loop, true);
    this.loops.clear();
  }

  /** Shutdown: stop everything without staleness markers, cancelling pending ones. */
  async stop(): Promise<void> {
    for (const d of this.discoverers) d.stop();
    for (const loop of this.stopping.values()) loop.cancelStaleness();
    this.stopping.clear();
    await Promise.all([...this.loops.values()].map((l) => l.stop(false)));
    this.loops.clear();
    await Promise.all([...this.background]);
  }

  /** Waits for pending end-of-run staleness markers (tests). */
  async settle(): Promise<void> {
    await Promise.all([...this.background]);
  }
}

const configIdentity = new WeakMap<ScrapeLoop, string>();

/** The service discovery part of a scrape config: when it is unchanged, discovery keeps running. */
function discoveryKey(cfg: ScrapeConfig): string {
  return JSON.stringify([cfg.static_configs, cfg.file_sd_configs, cfg.http_sd_configs, cfg.dns_sd_configs]);
}
