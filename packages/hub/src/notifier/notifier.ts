import { join } from 'node:path';
import type { Labels, Logger } from '@vigil/common';
import { AGENT_DOWN_ALERT, systemClock, type Alert, type Clock } from '../rules/index.js';
import { fingerprint, isResolved, type NotifierAlert } from './alert.js';
import type { NotifierConfig } from './config.js';
import type { Integration } from './data.js';
import { Dispatcher } from './dispatch.js';
import { EmailIntegration } from './email.js';
import { AlertmanagerForwarder } from './forward.js';
import { Inhibitor } from './inhibit.js';
import { Route } from './route.js';
import { Silences } from './silences.js';
import { WebhookIntegration } from './webhook.js';

export interface NotifierOptions {
  config: NotifierConfig;
  logger: Logger;
  /** Silences are kept in `<dataDir>/silences.json` (in memory without a data dir). */
  dataDir?: string;
  clock?: Clock;
  /** The hub's URL, for notifications (`externalURL`). */
  externalURL?: string;
  /** Added to alerts from the rule manager (as Prometheus adds external labels). */
  externalLabels?: Labels;
  /** Alertmanager's resolve_timeout for alerts posted without endsAt (5m). */
  resolveTimeoutMs?: number;
  /** Link hook: alerts of a cut datacenter are inhibited (except VigilAgentDown). */
  isDatacenterCut?: (datacenter: string) => boolean;
  /** Replaces the integrations built from the receivers (tests). */
  integrations?: (receiver: string) => Integration[];
}

/** The status of an alert as the v2 API reports it. */
export interface AlertStatus {
  state: 'active' | 'suppressed' | 'unprocessed';
  silencedBy: string[];
  inhibitedBy: string[];
}

/**
 * The built-in Alertmanager: receives alerts (from the rule manager or POST /api/v2/alerts),
 * routes them into aggregation groups, mutes them with silences, inhibition and cut links,
 * and notifies the receivers; forwards the rule manager's alerts to external Alertmanagers.
 */
export class Notifier {
  readonly silences: Silences;
  readonly startedAt: number;
  private readonly store = new Map<string, NotifierAlert>();
  private readonly clock: Clock;
  private readonly log: Logger;
  private config!: NotifierConfig;
  private route!: Route;
  private inhibitor!: Inhibitor;
  private dispatcher!: Dispatcher;
  private forwarder!: AlertmanagerForwarder;
  private integrationsByReceiver = new Map<string, Integration[]>();
  private gcTimer: unknown;

  constructor(private readonly opts: NotifierOptions) {
    this.clock = opts.clock ?? systemClock;
    this.log = opts.logger.child({ component: 'notifier' });
    this.startedAt = this.clock.now();
    this.silences = new Silences(opts.dataDir ? join(opts.dataDir, 'silences.json') : undefined, () => this.clock.now());
    this.applyConfig(opts.config);
    this.scheduleGc();
  }

  get currentConfig(): NotifierConfig {
    return this.config;
  }

  /** Applies a new configuration; alerts are kept and routed again. */
  applyConfig(config: NotifierConfig): void {
    this.dispatcher?.stop();
    for (const list of this.integrationsByReceiver.values()) for (const i of list) if (i instanceof EmailIntegration) i.close();
    this.config = config;
    this.route = new Route(config.route);
    this.inhibitor = new Inhibitor(config.inhibit_rules);
    this.integrationsByReceiver = new Map(config.receivers.map((r) => [r.name, [
      ...r.webhook_configs.map((w, i) => new WebhookIntegration(w, i)),
      ...r.email_configs.map((e, i) => new EmailIntegration(e, i)),
    ]]));
    this.forwarder = new AlertmanagerForwarder(config.alertmanagers.map((a) => a.url), this.log);
    this.dispatcher = new Dispatcher(this.route, {
      clock: this.clock,
      logger: this.log,
      externalURL: this.opts.externalURL ?? '',
      integrations: this.opts.integrations ?? ((name) => this.integrationsByReceiver.get(name) ?? []),
      isMuted: (a) => this.status(a).state === 'suppressed',
    });
    for (const a of this.store.values()) if (!isResolved(a, this.clock.now())) this.dispatcher.process(a);
  }

  /** The rule manager's notify function: external labels added, forwarded, then routed here. */
  notify(alerts: readonly Alert[]): void {
    const ext = this.opts.externalLabels ?? {};
    const withExt = alerts.map((a) => ({ ...a, labels: { ...ext, ...a.labels } }));
    this.forwarder.send(withExt);
    this.receive(withExt.map((a) => ({ labels: a.labels, annotations: a.annotations, startsAt: a.startsAt, endsAt: a.endsAt, generatorURL: a.generatorURL })));
  }

  /** Alerts as posted to /api/v2/alerts (times in ms; 0 = not given). */
  receive(alerts: readonly { labels: Labels; annotations?: Labels; startsAt?: number; endsAt?: number; generatorURL?: string }[]): void {
    const now = this.clock.now();
    const resolveTimeout = this.opts.resolveTimeoutMs ?? 5 * 60_000;
    for (const input of alerts) {
      const labels: Record<string, string> = {};
      for (const [k, v] of Object.entries(input.labels)) if (v !== '') labels[k] = v;
      const fp = fingerprint(labels);
      let a: NotifierAlert = {
        labels,
        annotations: input.annotations ?? {},
        startsAt: input.startsAt || now,
        endsAt: input.endsAt || now + resolveTimeout,
        generatorURL: input.generatorURL ?? '',
        updatedAt: now,
        timeout: !input.endsAt,
        fingerprint: fp,
      };
      if (!input.startsAt && input.endsAt && input.endsAt < now) a.startsAt = input.endsAt;
      const old = this.store.get(fp);
      if (old && ((a.endsAt > old.startsAt && a.endsAt < old.endsAt) || (a.startsAt > old.startsAt && a.startsAt < old.endsAt))) a = merge(old, a, now);
      this.store.set(fp, a);
      this.dispatcher.process(a);
    }
  }

  /** Silenced, inhibited (inhibit_rules, or a cut link) or active. */
  status(a: NotifierAlert): AlertStatus {
    const now = this.clock.now();
    const silencedBy = this.silences.silencedBy(a.labels);
    const inhibitedBy = this.inhibitor.inhibitedBy(a, this.store.values(), now);
    const dc = a.labels.datacenter;
    if (dc !== undefined && a.labels.alertname !== AGENT_DOWN_ALERT && this.opts.isDatacenterCut?.(dc)) {
      const down = [...this.store.values()].filter((x) => x.labels.alertname === AGENT_DOWN_ALERT && x.labels.datacenter === dc && !isResolved(x, now)).map((x) => x.fingerprint);
      inhibitedBy.push(...(down.length ? down : [`link-cut:${dc}`]));
    }
    return { state: silencedBy.length || inhibitedBy.length ? 'suppressed' : 'active', silencedBy, inhibitedBy: [...new Set(inhibitedBy)].sort() };
  }

  /** Alerts that are not resolved. */
  alerts(): NotifierAlert[] {
    const now = this.clock.now();
    return [...this.store.values()].filter((a) => !isResolved(a, now));
  }

  receivers(a: NotifierAlert): string[] {
    return this.dispatcher.receivers(a.labels);
  }

  groups(): { labels: Labels; receiver: string; alerts: NotifierAlert[] }[] {
    const now = this.clock.now();
    return [...this.dispatcher.groups.values()].map((g) => ({ labels: g.labels, receiver: g.route.receiver, alerts: [...g.alerts.values()].filter((a) => !isResolved(a, now)) }));
  }

  /** Forwarding counters (sent, dropped, errors). */
  forwarding(): { sent: number; dropped: number; errors: number } {
    return { sent: this.forwarder.sent, dropped: this.forwarder.dropped, errors: this.forwarder.errors };
  }

  /** Resolves when no notification is in flight (tests, shutdown). */
  async idle(): Promise<void> {
    await this.dispatcher.idle();
    await this.forwarder.flush();
  }

  async stop(): Promise<void> {
    if (this.gcTimer !== undefined) this.clock.clearTimeout(this.gcTimer);
    this.gcTimer = undefined;
    this.dispatcher.stop();
    await this.idle();
    for (const list of this.integrationsByReceiver.values()) for (const i of list) if (i instanceof EmailIntegration) i.close();
  }

  private scheduleGc(): void {
    this.gcTimer = this.clock.setTimeout(() => {
      const now = this.clock.now();
      for (const [fp, a] of this.store) if (isResolved(a, now) && now - a.endsAt > 15 * 60_000) this.store.delete(fp);
      this.scheduleGc();
    }, 30 * 60_000);
  }
}

/** Alertmanager's Alert.Merge: the younger update wins, the earliest start is kept. */
function merge(a: NotifierAlert, o: NotifierAlert, now: number): NotifierAlert {
  if (o.updatedAt < a.updatedAt) [a, o] = [o, a];
  const res = { ...o };
  if (a.startsAt < o.startsAt) res.startsAt = a.startsAt;
  if (isResolved(o, now)) {
    if (isResolved(a, now) && a.endsAt > o.endsAt) res.endsAt = a.endsAt;
  } else if (a.endsAt > o.endsAt && !a.timeout) res.endsAt = a.endsAt;
  return res;
}
