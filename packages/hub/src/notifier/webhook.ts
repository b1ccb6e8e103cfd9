import type { WebhookConfig } from './config.js';
import type { Integration, WebhookMessage } from './data.js';

/** Posts Alertmanager's webhook JSON (version 4) to a URL; a non-2xx answer is an error. */
export class WebhookIntegration implements Integration {
  readonly name = 'webhook';
  readonly sendResolved: boolean;
  constructor(private readonly cfg: WebhookConfig, readonly index: number, private readonly timeoutMs = 10_000) {
    this.sendResolved = cfg.send_resolved;
  }

  async notify(msg: WebhookMessage): Promise<void> {
    let body = msg;
    if (this.cfg.max_alerts > 0 && msg.alerts.length > this.cfg.max_alerts) {
      body = { ...msg, alerts: msg.alerts.slice(0, this.cfg.max_alerts), truncatedAlerts: msg.alerts.length - this.cfg.max_alerts };
    }
    let res: Response;
    try {
      res = await fetch(this.cfg.url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'User-Agent': 'Vigil-Alertmanager/0.25.0' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new Error(`cannot send webhook notification (${redact(this.cfg.url)}): ${(err as Error).message}`);
    }
    await res.arrayBuffer().catch(() => undefined);
    if (res.status < 200 || res.status > 299) throw new Error(`cannot send webhook notification (${redact(this.cfg.url)}): unexpected status code ${res.status}`);
  }
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = 'xxx';
    return u.toString();
  } catch {
    return url;
  }
}
