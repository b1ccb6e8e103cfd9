import type { Labels, Logger } from '@vigil/common';
import type { Clock } from '../rules/index.js';
import { formatLabelSet, isResolved, type NotifierAlert } from './alert.js';
import { buildMessage, type Integration } from './data.js';
import type { Route } from './route.js';

/** What the dispatcher needs from the notifier. */
export interface DispatchDeps {
  clock: Clock;
  logger: Logger;
  externalURL: string;
  integrations: (receiver: string) => Integration[];
  isMuted: (alert: NotifierAlert) => boolean;
}

interface LogEntry {
  firing: Set<string>;
  resolved: Set<string>;
  at: number;
}

/**
 * One aggregation group: the alerts of one route with the same group labels. It waits
 * `group_wait` before the first notification, then flushes every `group_interval`; a
 * notification is sent only when the firing set grew, something resolved (for integrations
 * with send_resolved) or `repeat_interval` passed, as Alertmanager's dedup stage decides.
 */
export class AggregationGroup {
  readonly alerts = new Map<string, NotifierAlert>();
  private timer: unknown;
  private hasFlushed = false;
  private flushing: Promise<void> | undefined;
  private readonly log = new Map<string, LogEntry>();

  constructor(readonly route: Route, readonly labels: Labels, readonly key: string, private readonly deps: DispatchDeps, private readonly onEmpty: (g: AggregationGroup) => void) {
    this.arm(route.groupWait);
  }

  insert(a: NotifierAlert): void {
    this.alerts.set(a.fingerprint, a);
    // An alert that started long enough ago needs no group_wait (e.g. after a restart).
    if (!this.hasFlushed && a.startsAt + this.route.groupWait <= this.deps.clock.now()) this.arm(0);
  }

  private arm(ms: number): void {
    if (this.timer !== undefined) this.deps.clock.clearTimeout(this.timer);
    this.timer = this.deps.clock.setTimeout(() => {
      this.timer = undefined;
      this.flushing = this.flush().finally(() => { this.flushing = undefined; });
    }, ms);
  }

  stop(): void {
    if (this.timer !== undefined) this.deps.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  async idle(): Promise<void> {
    await this.flushing;
  }

  async flush(): Promise<void> {
    this.hasFlushed = true;
    const now = this.deps.clock.now();
    const all = [...this.alerts.values()];
    const resolvedNow = all.filter((a) => isResolved(a, now));
    const unmuted = all.filter((a) => !this.deps.isMuted(a));
    const ok = await this.notify(unmuted, now);
    if (ok) {
      // Resolved alerts were delivered: forget them unless they changed meanwhile.
      for (const a of resolvedNow) if (this.alerts.get(a.fingerprint) === a) this.alerts.delete(a.fingerprint);
    }
    if (this.alerts.size === 0) {
      this.onEmpty(this);
      return;
    }
    this.arm(this.route.groupInterval);
  }

  private async notify(alerts: NotifierAlert[], now: number): Promise<boolean> {
    const firing = new Set(alerts.filter((a) => !isResolved(a, now)).map((a) => a.fingerprint));
    const resolved = new Set(alerts.filter((a) => isResolved(a, now)).map((a) => a.fingerprint));
    let ok = true;
    for (const integ of this.deps.integrations(this.route.receiver)) {
      const logKey = `${integ.name}/${integ.index}`;
      const entry = this.log.get(logKey);
      if (!needsUpdate(entry, firing, resolved, integ.sendResolved, this.route.repeatInterval, now)) continue;
      const toSend = integ.sendResolved ? alerts : alerts.filter((a) => firing.has(a.fingerprint));
      if (toSend.length > 0) {
        try {
          await integ.notify(buildMessage(this.route.receiver, this.key, this.labels, toSend, this.deps.externalURL, now));
        } catch (err) {
          ok = false;
          this.deps.logger.warn({ receiver: this.route.receiver, integration: logKey, groupKey: this.key, err: (err as Error).message }, 'notify failed, retrying at the next group interval');
          continue;
        }
      }
      this.log.set(logKey, { firing, resolved, at: now });
    }
    return ok;
  }
}

/** Alertmanager's DedupStage.needsUpdate. */
function needsUpdate(entry: LogEntry | undefined, firing: Set<string>, resolved: Set<string>, sendResolved: boolean, repeat: number, now: number): boolean {
  if (!entry) return firing.size > 0;
  for (const fp of firing) if (!entry.firing.has(fp)) return true;
  if (firing.size === 0) return entry.firing.size > 0;
  if (sendResolved) for (const fp of resolved) if (!entry.resolved.has(fp)) return true;
  return entry.at <= now - repeat;
}

/** Routes alerts into aggregation groups (Alertmanager's dispatcher). */
export class Dispatcher {
  readonly groups = new Map<string, AggregationGroup>();

  constructor(private readonly route: Route, private readonly deps: DispatchDeps) {}

  process(a: NotifierAlert): string[] {
    const receivers: string[] = [];
    for (const r of this.route.match(a.labels)) {
      const labels = r.groupLabels(a.labels);
      const key = `${r.key}:${formatLabelSet(labels)}`;
      let g = this.groups.get(key);
      if (!g) {
        // A resolved alert does not open a group.
        if (isResolved(a, this.deps.clock.now())) continue;
        g = new AggregationGroup(r, labels, key, this.deps, (x) => {
          if (this.groups.get(x.key) === x) this.groups.delete(x.key);
        });
        this.groups.set(key, g);
      }
      g.insert(a);
      receivers.push(r.receiver);
    }
    return receivers;
  }

  /** Receiver names an alert routes to. */
  receivers(labels: Labels): string[] {
    return [...new Set(this.route.match(labels).map((r) => r.receiver))];
  }

  stop(): void {
    for (const g of this.groups.values()) g.stop();
  }

  async idle(): Promise<void> {
    await Promise.all([...this.groups.values()].map((g) => g.idle()));
  }
}
