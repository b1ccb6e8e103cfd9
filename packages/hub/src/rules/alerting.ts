import { METRIC_NAME, labelsKey, type Labels, type Sample } from '@vigil/common';
import { expandAlertTemplate } from './expand.js';
import { RuleBase } from './recording.js';
import type { Alert, AlertState, QueryFn } from './types.js';

/** One alert of a rule, identified by its label set (Prometheus' rules.Alert). Times in ms, 0 = unset. */
export interface ActiveAlert {
  labels: Labels;
  annotations: Labels;
  value: number;
  state: AlertState;
  activeAt: number;
  firedAt: number;
  resolvedAt: number;
  lastSentAt: number;
  validUntil: number;
  keepFiringSince: number;
  /** For late alerts (found when a backlog landed): reported as firing until this time, then resolved. */
  lateUntil?: number;
}

/** What an alerting rule needs besides the query function. */
export interface AlertEvalContext {
  externalLabels: Labels;
  externalURL: string;
  resolvedRetentionMs: number;
  /** True when the alert's labels belong to a datacenter whose link is cut: its state is held. */
  held: (labels: Labels) => boolean;
}

const STATE_ORDER: Record<AlertState, number> = { inactive: 0, pending: 1, firing: 2 };

/** An alerting rule with Prometheus' state machine: inactive → pending (`for`) → firing → resolved (kept 15m). */
export class AlertingRule extends RuleBase {
  active = new Map<string, ActiveAlert>();
  /** ALERTS series written at the previous evaluation, to end them with staleness markers. */
  private written = new Map<string, Labels>();

  get name(): string {
    return this.def.alert!;
  }

  get state(): AlertState {
    let s: AlertState = 'inactive';
    for (const a of this.active.values()) if (STATE_ORDER[a.state] > STATE_ORDER[s]) s = a.state;
    return s;
  }

  /** Labels and annotations of one result sample, templated. */
  expand(sample: { labels: Labels; value: number }, ctx: AlertEvalContext): { labels: Labels; annotations: Labels } {
    const data = { labels: sample.labels, externalLabels: ctx.externalLabels, externalURL: ctx.externalURL, value: sample.value };
    const labels: Record<string, string> = { ...sample.labels };
    delete labels[METRIC_NAME];
    for (const [k, v] of Object.entries(this.def.labels)) labels[k] = expandAlertTemplate(v, this.name, data);
    labels.alertname = this.name;
    for (const [k, v] of Object.entries(labels)) if (v === '') delete labels[k];
    const annotations: Record<string, string> = {};
    for (const [k, v] of Object.entries(this.def.annotations)) annotations[k] = expandAlertTemplate(v, this.name, data);
    return { labels, annotations };
  }

  /** One evaluation at `ts`: updates the alerts and returns the ALERTS / ALERTS_FOR_STATE samples to write. */
  async eval(queryFn: QueryFn, ts: number, ctx: AlertEvalContext, limit: number): Promise<Sample[]> {
    const result = await queryFn(this.def.expr, ts);
    const vector = typeof result === 'number' ? [{ labels: {}, value: result }] : result;
    const found = new Map<string, { labels: Labels; annotations: Labels; value: number }>();
    for (const s of vector) {
      const { labels, annotations } = this.expand(s, ctx);
      const key = labelsKey(labels);
      if (found.has(key)) throw new Error('vector contains metrics with the same labelset after applying alert labels');
      found.set(key, { labels, annotations, value: s.value });
    }
    for (const [key, f] of found) {
      const a = this.active.get(key);
      if (a && a.state !== 'inactive') {
        a.value = f.value;
        a.annotations = f.annotations;
        continue;
      }
      // A datacenter whose link is cut raises nothing new: its data stopped arriving.
      if (ctx.held(f.labels)) continue;
      this.active.set(key, { labels: f.labels, annotations: f.annotations, value: f.value, state: 'pending', activeAt: ts, firedAt: 0, resolvedAt: 0, lastSentAt: 0, validUntil: 0, keepFiringSince: 0 });
    }
    let pendingOrFiring = 0;
    for (const [key, a] of this.active) {
      const held = ctx.held(a.labels);
      if (!found.has(key)) {
        if ((held && a.state !== 'inactive') || (a.lateUntil !== undefined && a.lateUntil > ts && a.state === 'firing')) {
          pendingOrFiring++;
          continue; // neither resolves nor fires while the link is cut
        }
        let keepFiring = false;
        if (a.state === 'firing' && this.def.keep_firing_for > 0) {
          if (a.keepFiringSince === 0) a.keepFiringSince = ts;
          if (ts - a.keepFiringSince < this.def.keep_firing_for) keepFiring = true;
        }
        if (a.state === 'pending' || (a.resolvedAt !== 0 && ts - a.resolvedAt > ctx.resolvedRetentionMs)) this.active.delete(key);
        if (a.state !== 'inactive' && !keepFiring) {
          a.state = 'inactive';
          a.resolvedAt = ts;
        }
        if (!keepFiring) continue;
      } else {
        a.keepFiringSince = 0;
      }
      pendingOrFiring++;
      if (a.state === 'pending' && !held && ts - a.activeAt >= this.def.for) {
        a.state = 'firing';
        a.firedAt = ts;
      }
    }
    if (limit > 0 && pendingOrFiring > limit) {
      this.active.clear();
      throw new Error(`exceeded limit of ${limit} with ${pendingOrFiring} alerts`);
    }
    return this.seriesSamples(ts);
  }

  private seriesSamples(ts: number): Sample[] {
    const out: Sample[] = [];
    const now = new Map<string, Labels>();
    for (const a of this.active.values()) {
      if (a.state === 'inactive') continue;
      const alerts = { ...a.labels, [METRIC_NAME]: 'ALERTS', alertstate: a.state };
      const forState = { ...a.labels, [METRIC_NAME]: 'ALERTS_FOR_STATE' };
      out.push({ labels: alerts, t: ts, v: 1 }, { labels: forState, t: ts, v: Math.floor(a.activeAt / 1000) });
      now.set(labelsKey(alerts), alerts);
      now.set(labelsKey(forState), forState);
    }
    for (const [key, labels] of this.written) if (!now.has(key)) out.push({ labels, t: ts, v: 0, stale: true });
    this.written = now;
    return out;
  }

  staleMarkers(ts: number): Sample[] {
    return [...this.written.values()].map((labels) => ({ labels, t: ts, v: 0, stale: true }));
  }

  /** Alerts due for (re)sending at `ts` (Prometheus' sendAlerts with its resend delay). */
  alertsToSend(ts: number, resendDelayMs: number, intervalMs: number, generatorURL: string): Alert[] {
    const out: Alert[] = [];
    for (const a of this.active.values()) {
      if (a.state === 'pending') continue;
      const due = a.resolvedAt > a.lastSentAt || a.lastSentAt + resendDelayMs < ts || a.lastSentAt === 0;
      if (!due) continue;
      a.lastSentAt = ts;
      a.validUntil = ts + 4 * Math.max(resendDelayMs, intervalMs);
      out.push({ labels: a.labels, annotations: a.annotations, startsAt: a.firedAt, endsAt: a.state === 'inactive' ? a.resolvedAt : a.validUntil, generatorURL });
    }
    return out;
  }

  /**
   * Restores `for` state after a restart from `ALERTS_FOR_STATE` (value = activeAt in seconds):
   * a pending alert found there keeps its original activeAt, pushed forward so that at least
   * `gracePeriodMs` of its `for` remains (Prometheus' for-grace-period).
   */
  restore(series: { labels: Labels; value: number }[], ts: number, gracePeriodMs: number): number {
    if (this.def.for === 0) return 0;
    const byKey = new Map<string, number>();
    for (const s of series) {
      const labels: Record<string, string> = { ...s.labels };
      delete labels[METRIC_NAME];
      byKey.set(labelsKey(labels), s.value * 1000);
    }
    let restored = 0;
    for (const [key, a] of this.active) {
      if (a.state !== 'pending') continue;
      let activeAt = byKey.get(key);
      if (activeAt === undefined || !Number.isFinite(activeAt) || activeAt > ts) continue;
      const remaining = this.def.for - (ts - activeAt);
      if (remaining > 0 && remaining < gracePeriodMs) activeAt = ts + gracePeriodMs - this.def.for;
      a.activeAt = activeAt;
      restored++;
    }
    return restored;
  }

  adopt(old: AlertingRule): void {
    this.active = old.active;
    this.written = old.written;
    this.health = old.health;
    this.lastError = old.lastError;
    this.lastEvaluation = old.lastEvaluation;
    this.evaluationTimeMs = old.evaluationTimeMs;
  }
}
