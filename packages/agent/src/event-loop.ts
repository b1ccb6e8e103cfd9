/**
 * `vigil_agent_event_loop_delay_seconds`: how late the agent's event loop runs timers, from
 * `perf_hooks.monitorEventLoopDelay`, as a summary. Quantiles 0.5, 0.99 and 1 (the maximum) are
 * those of the last complete window (`windowMs`, default 10 s), so every scraper sees the same
 * figures; `_sum` and `_count` add up all windows. A stall (synchronous I/O, a long loop) shows as
 * the maximum of its window.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { Registry } from 'prom-client';

export const EVENT_LOOP_DELAY_METRIC = 'vigil_agent_event_loop_delay_seconds';

export interface EventLoopDelayOptions {
  windowMs?: number;
  /** Sampling period of the monitor (ms). Default 10. */
  resolutionMs?: number;
}

export class EventLoopDelay {
  private readonly h: IntervalHistogram;
  private readonly timer: NodeJS.Timeout;
  private p50 = 0;
  private p99 = 0;
  private max = 0;
  private sum = 0;
  private count = 0;

  constructor(registry: Registry, opts: EventLoopDelayOptions = {}) {
    this.h = monitorEventLoopDelay({ resolution: opts.resolutionMs ?? 10 });
    this.h.enable();
    this.timer = setInterval(() => this.rotate(), opts.windowMs ?? 10_000);
    this.timer.unref();
    // A collector of our own: prom-client's Summary cannot take precomputed quantiles.
    const self = this;
    const help = 'Event loop delay of the agent (timer lateness, seconds): quantiles of the last window (10 s), 1 = its maximum.';
    registry.registerMetric({
      name: EVENT_LOOP_DELAY_METRIC,
      help,
      type: 'summary',
      get() {
        return {
          name: EVENT_LOOP_DELAY_METRIC,
          help,
          type: 'summary',
          aggregator: 'sum',
          values: [
            { labels: { quantile: 0.5 }, value: self.p50 },
            { labels: { quantile: 0.99 }, value: self.p99 },
            { labels: { quantile: 1 }, value: self.max },
            { metricName: `${EVENT_LOOP_DELAY_METRIC}_sum`, labels: {}, value: self.sum },
            { metricName: `${EVENT_LOOP_DELAY_METRIC}_count`, labels: {}, value: self.count },
          ],
        };
      },
      reset() { /* cumulative */ },
    } as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  /** Closes the current window: its quantiles become the reported ones. */
  rotate(): void {
    const h = this.h;
    const n = h.count;
    if (n > 0) {
      this.p50 = h.percentile(50) / 1e9;
      this.p99 = h.percentile(99) / 1e9;
      this.max = h.max / 1e9;
      this.sum += (h.mean * n) / 1e9;
      this.count += n;
    }
    h.reset();
  }

  stop(): void {
    clearInterval(this.timer);
    this.h.disable();
  }
}
