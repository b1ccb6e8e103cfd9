import { dropEmpty, labelsKey, type Labels } from '../model/labels.js';
import type { MetricMetadata, Sample } from '../model/sample.js';
import { silentLogger, type Logger } from '../logger.js';
import type { PushGroup, PushStore } from './store.js';
import type { SampleSink } from '../model/sink.js';

export interface PushSamplerOptions {
  store: PushStore;
  sink: SampleSink;
  /** Sampling interval (ms): the agent's scrape interval. */
  interval: number;
  /** Added to every series lacking the label, like scraped series. */
  externalLabels?: Record<string, string>;
  logger?: Logger;
  now?: () => number;
}

/**
 * Feeds pushed groups into the sink as Prometheus scraping a Pushgateway with
 * `honor_labels: true` would: every interval each group's samples (grouping labels and `job`
 * from the group, `instance` from the grouping key or absent) and its `push_time_seconds` /
 * `push_failure_time_seconds`. A group is also sampled right after each successful push, so a
 * push is in the durable pipeline at once. Series that disappear (DELETE, TTL expiry, a PUT that
 * replaced them) get a staleness marker at the next sampling.
 */
export class PushSampler {
  private readonly logger: Logger;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  /** Series written by the last sampling, by group key then series key. */
  private previous = new Map<string, Labels>();
  private metadataKey = '';

  constructor(private readonly opts: PushSamplerOptions) {
    this.logger = (opts.logger ?? silentLogger).child({ component: 'push-sampler' });
    this.now = opts.now ?? Date.now;
  }

  start(): void {
    this.unsubscribe = this.opts.store.onChange((e) => {
      if (e.kind === 'push') this.sampleGroup(e.group);
      else this.sample();
    });
    this.timer = setInterval(() => this.sample(), this.opts.interval);
    this.sample();
  }

  stop(): void {
    clearInterval(this.timer);
    this.unsubscribe?.();
  }

  private labelsOf(name: string, labels: Labels): Labels {
    const out: Record<string, string> = { ...labels, __name__: name };
    const ext = this.opts.externalLabels ?? {};
    for (const n in ext) if (!out[n]) out[n] = ext[n]!;
    return dropEmpty(out);
  }

  private groupSamples(g: PushGroup, t: number, into: Sample[], keys: Map<string, Labels>, metadata: MetricMetadata[]): void {
    for (const f of this.opts.store.groupFamilies(g)) {
      metadata.push({ metric: f.name, type: f.type, help: f.help, unit: f.unit ?? '' });
      for (const s of f.samples) {
        const labels = this.labelsOf(s.name, s.labels);
        const key = labelsKey(labels);
        keys.set(key, labels);
        into.push({ labels, t, v: s.value });
      }
    }
  }

  /** Samples one group now (after a push); its series join the tracked set. */
  sampleGroup(g: PushGroup): void {
    const t = this.now();
    const out: Sample[] = [];
    const metadata: MetricMetadata[] = [];
    const keys = new Map<string, Labels>();
    this.groupSamples(g, t, out, keys, metadata);
    for (const [k, l] of keys) this.previous.set(k, l);
    this.opts.sink.write(out, metadata);
  }

  /** Samples every group; writes staleness markers for series no longer pushed. */
  sample(): void {
    const t = this.now();
    const out: Sample[] = [];
    const metadata: MetricMetadata[] = [];
    const current = new Map<string, Labels>();
    for (const g of this.opts.store.groups()) this.groupSamples(g, t, out, current, metadata);
    for (const [k, labels] of this.previous) if (!current.has(k)) out.push({ labels, t, v: NaN, stale: true });
    this.previous = current;
    if (out.length === 0) return;
    const unique = [...new Map(metadata.map((m) => [m.metric, m])).values()];
    const mk = JSON.stringify(unique);
    const changed = mk !== this.metadataKey;
    this.metadataKey = mk;
    this.opts.sink.write(out, changed ? unique : undefined);
    this.logger.trace({ samples: out.length }, 'sampled pushed groups');
  }
}
