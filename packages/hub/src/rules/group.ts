import type { Labels, Logger, Sample } from '@vigil/common';
import { AlertingRule, type AlertEvalContext } from './alerting.js';
import type { RuleGroupDef } from './file.js';
import { RecordingRule } from './recording.js';
import type { AppendFn, Clock, NotifyFn, QueryFn } from './types.js';

export type Rule = RecordingRule | AlertingRule;

/** What a group needs from its manager. */
export interface GroupDeps {
  queryFn: QueryFn;
  appendFn: AppendFn;
  notifyFn: NotifyFn;
  clock: Clock;
  logger: Logger;
  externalLabels: Labels;
  externalURL: string;
  resendDelayMs: number;
  resolvedRetentionMs: number;
  outageToleranceMs: number;
  forGracePeriodMs: number;
  held: (labels: Labels) => boolean;
}

/**
 * A rule group: its rules are evaluated in order, all at the same timestamp, every
 * `interval`; the first evaluation after a start restores `for` state.
 */
export class Group {
  readonly rules: Rule[];
  lastEvaluation = 0;
  evaluationTimeMs = 0;
  shouldRestore = true;
  private timer: unknown;
  private running = false;
  private inflight: Promise<void> | undefined;
  private nextAt = 0;

  constructor(readonly def: RuleGroupDef, readonly interval: number, private readonly deps: GroupDeps) {
    this.rules = def.rules.map((r) => (r.alert !== undefined ? new AlertingRule(r) : new RecordingRule(r)));
  }

  get name(): string {
    return this.def.name;
  }

  get file(): string {
    return this.def.file ?? '';
  }

  get key(): string {
    return `${this.file};${this.name}`;
  }

  /** Takes over the state of the same group before a reload. */
  adopt(old: Group): Sample[] {
    const byKey = new Map<string, Rule>();
    for (const r of old.rules) byKey.set(r.key, r);
    for (const r of this.rules) {
      const o = byKey.get(r.key);
      if (!o) continue;
      if (r instanceof AlertingRule && o instanceof AlertingRule) r.adopt(o);
      else if (r instanceof RecordingRule && o instanceof RecordingRule) r.adopt(o);
      else continue;
      byKey.delete(r.key);
    }
    this.lastEvaluation = old.lastEvaluation;
    this.evaluationTimeMs = old.evaluationTimeMs;
    this.shouldRestore = old.shouldRestore;
    const ts = this.deps.clock.now();
    return [...byKey.values()].flatMap((r) => r.staleMarkers(ts));
  }

  /** Evaluation timestamps are aligned on the interval with a per-group offset, as in Prometheus. */
  private firstEvalAt(now: number): number {
    let h = 0;
    for (const c of this.key) h = (Math.imul(h, 31) + c.charCodeAt(0)) >>> 0;
    const offset = h % this.interval;
    let at = now - ((now - offset) % this.interval);
    if (at < now) at += this.interval;
    return at;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(this.firstEvalAt(this.deps.clock.now()));
  }

  private schedule(at: number): void {
    if (!this.running) return;
    this.nextAt = at;
    this.timer = this.deps.clock.setTimeout(() => {
      const ts = this.nextAt;
      this.inflight = this.eval(ts).finally(() => {
        this.inflight = undefined;
        let next = ts + this.interval;
        const now = this.deps.clock.now();
        // Missed iterations are skipped (Prometheus counts them), not run back to back.
        if (next < now) next += Math.ceil((now - next) / this.interval) * this.interval;
        this.schedule(next);
      });
    }, Math.max(0, at - this.deps.clock.now()));
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer !== undefined) this.deps.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.inflight;
  }

  /** Resolves when the current evaluation (if any) is done. */
  async idle(): Promise<void> {
    await this.inflight;
  }

  context(): AlertEvalContext {
    return { externalLabels: this.deps.externalLabels, externalURL: this.deps.externalURL, resolvedRetentionMs: this.deps.resolvedRetentionMs, held: this.deps.held };
  }

  /** Evaluates every rule at `ts`, in order. */
  async eval(ts: number): Promise<void> {
    const started = performance.now();
    const ctx = this.context();
    const log = this.deps.logger;
    for (const rule of this.rules) {
      const t0 = performance.now();
      let samples: Sample[] = [];
      try {
        samples = rule instanceof AlertingRule ? await rule.eval(this.deps.queryFn, ts, ctx, this.def.limit) : await rule.eval(this.deps.queryFn, ts, this.def.limit);
        rule.setResult(undefined, t0, ts);
      } catch (err) {
        rule.setResult(err as Error, t0, ts);
        log.warn({ group: this.name, rule: rule.name, err: (err as Error).message }, 'rule evaluation failed');
      }
      if (rule instanceof AlertingRule) {
        if (this.shouldRestore && rule.def.for > 0) await this.restore(rule, ts);
        const alerts = rule.alertsToSend(ts, this.deps.resendDelayMs, this.interval, generatorURL(this.deps.externalURL, rule.def.expr));
        if (alerts.length > 0) this.deps.notifyFn(alerts);
      }
      if (samples.length > 0) {
        try {
          await this.deps.appendFn(samples);
        } catch (err) {
          rule.health = 'err';
          rule.lastError = `cannot append rule results (${samples.length} samples): ${(err as Error).message}`;
          log.warn({ group: this.name, rule: rule.name, err: (err as Error).message }, 'cannot append rule results');
        }
      }
    }
    this.shouldRestore = false;
    this.lastEvaluation = ts;
    this.evaluationTimeMs = performance.now() - started;
  }

  private async restore(rule: AlertingRule, ts: number): Promise<void> {
    const sel = `ALERTS_FOR_STATE{alertname=${JSON.stringify(rule.name)}}`;
    const range = `${Math.max(1, Math.round(this.deps.outageToleranceMs / 1000))}s`;
    let result: Awaited<ReturnType<QueryFn>>;
    try {
      result = await this.deps.queryFn(`last_over_time(${sel}[${range}])`, ts);
    } catch {
      try {
        result = await this.deps.queryFn(sel, ts);
      } catch (err) {
        this.deps.logger.warn({ rule: rule.name, err: (err as Error).message }, 'cannot restore alert state');
        return;
      }
    }
    if (typeof result === 'number') return;
    const n = rule.restore(result, ts, this.deps.forGracePeriodMs);
    if (n > 0) this.deps.logger.info({ rule: rule.name, restored: n }, 'restored for state of alerts');
  }
}

/** Prometheus' generator URL: the expression in the graph page. */
export function generatorURL(externalURL: string, expr: string): string {
  return `${externalURL.replace(/\/$/, '')}/graph?g0.expr=${encodeURIComponent(expr)}&g0.tab=1`;
}
