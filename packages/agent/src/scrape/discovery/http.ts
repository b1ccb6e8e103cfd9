import { silentLogger, type HttpSDConfig, type Logger } from '@vigil/common';
import { HttpScraper } from '../scraper.js';
import { parseTargetGroups, type Discoverer, type TargetGroup } from './types.js';

const CONTENT_TYPE_RE = /^application\/json(;\s*charset=("utf-8"|utf-8))?$/i;

/**
 * `http_sd_configs`: polls a URL returning Prometheus' HTTP SD JSON (a list of target groups)
 * every `refresh_interval`. A failed poll (transport error, non-200, wrong content type, bad
 * JSON) keeps the last good list and logs; each group gets `__meta_url`.
 */
export class HttpDiscoverer implements Discoverer {
  private readonly logger: Logger;
  private readonly client: HttpScraper;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private inFlight = false;
  lastError = '';

  constructor(private readonly cfg: HttpSDConfig, logger: Logger = silentLogger) {
    this.logger = logger.child({ discovery: 'http', url: cfg.url });
    this.client = new HttpScraper({ basic_auth: cfg.basic_auth, bearer_token: cfg.bearer_token, tls_config: cfg.tls_config });
  }

  start(update: (groups: TargetGroup[]) => void): void {
    const poll = async (): Promise<void> => {
      if (this.stopped || this.inFlight) return;
      this.inFlight = true;
      try {
        const groups = await this.fetchGroups();
        this.lastError = '';
        if (!this.stopped) update(groups);
      } catch (err) {
        this.lastError = (err as Error).message;
        this.logger.error({ err: this.lastError }, 'cannot refresh HTTP SD targets; keeping the last good list');
      } finally {
        this.inFlight = false;
      }
    };
    void poll();
    this.timer = setInterval(() => void poll(), this.cfg.refresh_interval);
    this.timer.unref?.();
  }

  private async fetchGroups(): Promise<TargetGroup[]> {
    const timeout = Math.max(1000, Math.min(this.cfg.refresh_interval, 30_000));
    const res = await this.client.fetch(this.cfg.url, timeout, 'application/json');
    if (!CONTENT_TYPE_RE.test(res.contentType.trim())) throw new Error(`unsupported content type "${res.contentType}"`);
    let data: unknown;
    try {
      data = JSON.parse(res.body);
    } catch (err) {
      throw new Error(`cannot parse HTTP SD response: ${(err as Error).message}`);
    }
    return parseTargetGroups(data, this.cfg.url, { __meta_url: this.cfg.url });
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    this.client.close();
  }
}
