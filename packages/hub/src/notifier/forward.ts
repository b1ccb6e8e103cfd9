import type { Logger } from '@vigil/common';
import type { Alert } from '../rules/index.js';

/** Prometheus' payload for an Alertmanager's POST /api/v2/alerts. */
export function toPostableAlerts(alerts: readonly Alert[]): unknown[] {
  return alerts.map((a) => ({
    labels: a.labels,
    annotations: a.annotations,
    startsAt: new Date(a.startsAt).toISOString(),
    endsAt: a.endsAt ? new Date(a.endsAt).toISOString() : undefined,
    generatorURL: a.generatorURL,
  }));
}

/** The alerts endpoint of an Alertmanager base URL (a URL already ending in /api/v2/alerts is kept). */
export function alertsEndpoint(url: string): string {
  if (/\/api\/v2\/alerts\/?$/.test(url)) return url;
  return url.replace(/\/$/, '') + '/api/v2/alerts';
}

/**
 * Forwards alerts to external Alertmanagers as Prometheus does: batches of at most 64 alerts
 * POSTed to each one; a queue of bounded size drops the oldest alerts when they are down.
 */
export class AlertmanagerForwarder {
  private queue: Alert[] = [];
  private sending: Promise<void> | undefined;
  dropped = 0;
  sent = 0;
  errors = 0;

  constructor(private readonly urls: string[], private readonly log: Logger, private readonly capacity = 10_000, private readonly timeoutMs = 10_000) {}

  get enabled(): boolean {
    return this.urls.length > 0;
  }

  send(alerts: readonly Alert[]): void {
    if (!this.enabled || alerts.length === 0) return;
    this.queue.push(...alerts);
    if (this.queue.length > this.capacity) {
      this.dropped += this.queue.length - this.capacity;
      this.queue.splice(0, this.queue.length - this.capacity);
    }
    if (!this.sending) this.sending = this.drain().finally(() => { this.sending = undefined; });
  }

  /** Resolves when the queue is empty (tests, shutdown). */
  async flush(): Promise<void> {
    while (this.sending) await this.sending;
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, 64);
      const body = JSON.stringify(toPostableAlerts(batch));
      let ok = false;
      await Promise.all(this.urls.map(async (url) => {
        const endpoint = alertsEndpoint(url);
        try {
          const res = await fetch(endpoint, { method: 'POST', headers: { 'Content-Type': 'application/json', 'User-Agent': 'Vigil' }, body, signal: AbortSignal.timeout(this.timeoutMs) });
          await res.arrayBuffer().catch(() => undefined);
          if (res.status < 200 || res.status > 299) throw new Error(`bad response status ${res.status}`);
          ok = true;
        } catch (err) {
          this.errors++;
          this.log.warn({ alertmanager: endpoint, alerts: batch.length, err: (err as Error).message }, 'cannot send alerts to Alertmanager');
        }
      }));
      if (ok) this.sent += batch.length;
    }
  }
}
