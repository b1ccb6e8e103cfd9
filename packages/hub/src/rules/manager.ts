import { readFile, readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { VigilError, type Labels, type Logger } from '@vigil/common';
import { AlertingRule, type ActiveAlert } from './alerting.js';
import { AGENT_DOWN_ALERT, AgentDownRule, builtinGroupDef } from './builtin.js';
import { parseRuleFile } from './file.js';
import { Group, generatorURL, type GroupDeps } from './group.js';
import { reevaluateWindow, type LateReport } from './late.js';
import { alertsResponse, rulesResponse, type AlertsData, type RulesData, type RuleTypeFilter } from './response.js';
import { systemClock, type Clock, type RuleManagerOptions } from './types.js';

export class RuleLoadError extends VigilError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_RULE_LOAD', message, options);
  }
}

/**
 * Runs rule groups (Prometheus' rules.Manager): loads rule files, evaluates each group on
 * its interval, writes recording results and ALERTS series through `appendFn`, sends
 * alerts through `notifyFn`. Link-aware: alerts of a datacenter whose link is cut are held,
 * `VigilAgentDown` is raised by the hub, and a landed backlog is re-evaluated for late alerts.
 */
export class RuleManager {
  private groups: Group[] = [];
  private readonly builtin: Group;
  private running = false;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly deps: GroupDeps;

  constructor(private readonly opts: RuleManagerOptions) {
    this.clock = opts.clock ?? systemClock;
    this.log = opts.logger.child({ component: 'rules' });
    const isCut = opts.isDatacenterCut;
    this.deps = {
      queryFn: opts.queryFn,
      appendFn: opts.appendFn,
      notifyFn: opts.notifyFn,
      clock: this.clock,
      logger: this.log,
      externalLabels: opts.externalLabels ?? {},
      externalURL: opts.externalURL ?? '',
      resendDelayMs: opts.resendDelayMs ?? 60_000,
      resolvedRetentionMs: opts.resolvedRetentionMs ?? 15 * 60_000,
      outageToleranceMs: opts.outageToleranceMs ?? 3_600_000,
      forGracePeriodMs: opts.forGracePeriodMs ?? 600_000,
      held: (labels: Labels) => {
        const dc = labels.datacenter;
        return dc !== undefined && isCut !== undefined && labels.alertname !== AGENT_DOWN_ALERT && isCut(dc);
      },
    };
    this.builtin = new Group(builtinGroupDef(), 15_000, this.deps);
    this.builtin.rules[0] = new AgentDownRule(this.builtin.def.rules[0]!);
  }

  /** Current groups (built-in group last). */
  get ruleGroups(): readonly Group[] {
    return [...this.groups, this.builtin];
  }

  /**
   * Loads rule files (globs in the last path element allowed). All files must be valid, or
   * nothing changes. Groups and rules that keep their name keep their state.
   */
  async load(files: string[], evaluationIntervalMs: number): Promise<void> {
    const paths: string[] = [];
    for (const f of files) paths.push(...(await expandGlob(f)));
    const defs = [];
    for (const path of paths) {
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (err) {
        throw new RuleLoadError(`cannot read rule file (${path}): ${(err as Error).message}`, { cause: err });
      }
      defs.push(...parseRuleFile(text, path, this.opts.checkExpr));
    }
    const old = new Map(this.groups.map((g) => [g.key, g]));
    const next = defs.map((d) => new Group(d, d.interval ?? evaluationIntervalMs, this.deps));
    const stale = [];
    for (const g of next) {
      const o = old.get(g.key);
      if (o) {
        await o.stop();
        stale.push(...g.adopt(o));
        old.delete(g.key);
      }
    }
    for (const o of old.values()) {
      await o.stop();
      const ts = this.clock.now();
      for (const r of o.rules) stale.push(...r.staleMarkers(ts));
    }
    this.groups = next;
    const b = this.builtin;
    if (b.interval !== evaluationIntervalMs) {
      await b.stop();
      (b as { interval: number }).interval = evaluationIntervalMs;
    }
    if (stale.length > 0) await this.opts.appendFn(stale).catch((err: Error) => this.log.warn({ err: err.message }, 'cannot write staleness markers of removed rules'));
    this.log.info({ files: paths.length, groups: next.length, rules: next.reduce((n, g) => n + g.rules.length, 0) }, 'rules loaded');
    if (this.running) for (const g of this.ruleGroups) g.start();
  }

  start(): void {
    this.running = true;
    for (const g of this.ruleGroups) g.start();
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.ruleGroups.map((g) => g.stop()));
  }

  /** Resolves when no evaluation is running (tests). */
  async idle(): Promise<void> {
    await Promise.all(this.ruleGroups.map((g) => g.idle()));
  }

  /** Evaluates every group once at `ts` (default now), in order: for tests and tools. */
  async evaluateAt(ts = this.clock.now()): Promise<void> {
    for (const g of this.ruleGroups) await g.eval(ts);
  }

  /**
   * Raises (`down`) or clears the built-in `VigilAgentDown` alert of one agent. It fires once
   * per cut: repeated calls while the agent stays down change nothing.
   */
  setAgentDown(agent: string, datacenter: string, down: boolean): void {
    const rule = this.builtin.rules[0] as AgentDownRule;
    const had = rule.down.has(agent);
    if (down && !had) rule.down.set(agent, { agent, datacenter, since: this.clock.now() });
    else if (!down && had) rule.down.delete(agent);
    else return;
    if (this.running) void this.builtin.eval(this.clock.now()).catch((err: Error) => this.log.warn({ err: err.message }, 'cannot evaluate built-in alerts'));
  }

  /**
   * After the backlog of `datacenter` landed: evaluates the alerting rules over
   * [fromMs, toMs] (capped at the datacenter's watermark) at each group interval and
   * reports conditions that held during the cut (see docs/alerting.md, "Late alerts").
   */
  async reevaluateWindow(datacenter: string, fromMs: number, toMs: number): Promise<LateReport> {
    const wm = this.opts.watermark?.(datacenter);
    const to = wm !== undefined ? Math.min(toMs, wm) : toMs;
    const report = await reevaluateWindow(this.groups, datacenter, fromMs, to, {
      queryFn: this.opts.queryFn,
      now: this.clock.now(),
      lateFiringMs: this.opts.lateFiringMs ?? 5 * 60_000,
      logger: this.log,
    });
    if (report.late.length > 0 || report.ongoing.length > 0) {
      this.log.info({ datacenter, from: new Date(fromMs).toISOString(), to: new Date(to).toISOString(), late: report.late.length, ongoing: report.ongoing.length }, 'backfilled window re-evaluated');
      // Send at once: late alerts start in the past, so the notifier's group_wait is already over.
      for (const g of this.groups) {
        for (const r of g.rules) {
          if (!(r instanceof AlertingRule)) continue;
          const alerts = r.alertsToSend(this.clock.now(), this.deps.resendDelayMs, g.interval, generatorURL(this.deps.externalURL, r.def.expr));
          if (alerts.length > 0) this.opts.notifyFn(alerts);
        }
      }
    }
    return report;
  }

  rulesResponse(type?: RuleTypeFilter): RulesData {
    return rulesResponse(this.ruleGroups, type);
  }

  alertsResponse(): AlertsData {
    return alertsResponse(this.ruleGroups);
  }

  /** Every pending or firing alert with its rule name (UI). */
  activeAlerts(): { rule: string; alert: ActiveAlert }[] {
    const out = [];
    for (const g of this.ruleGroups) for (const r of g.rules) if (r instanceof AlertingRule) for (const a of r.active.values()) if (a.state !== 'inactive') out.push({ rule: r.name, alert: a });
    return out;
  }
}

/** Expands `*` and `?` in the file name part of a path (Prometheus allows globs in rule_files). */
export async function expandGlob(path: string): Promise<string[]> {
  const name = basename(path);
  if (!/[*?[]/.test(name)) return [path];
  const dir = dirname(path);
  const re = new RegExp('^' + name.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]') + '$');
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (err) {
    throw new RuleLoadError(`cannot list rule files (${path}): ${(err as Error).message}`, { cause: err });
  }
  return entries.filter((e) => re.test(e)).sort().map((e) => join(dir, e));
}
