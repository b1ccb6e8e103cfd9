import { labelsKey, type Labels, type Logger } from '@vigil/common';
import { AlertingRule } from './alerting.js';
import type { Group } from './group.js';
import type { QueryFn } from './types.js';

/** An episode found in a backfilled window: the condition held for `for` and fired at `firedAt`. */
export interface LateEpisode {
  rule: string;
  labels: Labels;
  activeAt: number;
  firedAt: number;
  /** When the condition stopped holding inside the window; 0 when it still held at the end. */
  resolvedAt: number;
}

export interface LateReport {
  datacenter: string;
  from: number;
  to: number;
  evaluations: number;
  errors: string[];
  /** Episodes that ended inside the window: reported as alerts labelled `late="true"`. */
  late: LateEpisode[];
  /** Episodes still holding at the end of the window: the live alert takes their true start. */
  ongoing: LateEpisode[];
}

interface SimAlert {
  labels: Labels;
  annotations: Labels;
  value: number;
  activeAt: number;
  firedAt: number;
}

/**
 * Replays the alerting rules of `groups` over [from, to] at each group's interval, for the
 * alerts of one datacenter, starting from the state held at the cut. See docs/alerting.md.
 */
export async function reevaluateWindow(
  groups: readonly Group[], datacenter: string, from: number, to: number,
  opts: { queryFn: QueryFn; now: number; lateFiringMs: number; logger: Logger },
): Promise<LateReport> {
  const report: LateReport = { datacenter, from, to, evaluations: 0, errors: [], late: [], ongoing: [] };
  if (!(to >= from)) return report;
  for (const g of groups) {
    const ctx = { ...g.context(), held: () => false };
    for (const rule of g.rules) {
      if (!(rule instanceof AlertingRule)) continue;
      // Start from what was held when the link was cut.
      const sim = new Map<string, SimAlert>();
      for (const [key, a] of rule.active) {
        if (a.labels.datacenter !== datacenter || a.state === 'inactive' || a.lateUntil !== undefined) continue;
        sim.set(key, { labels: a.labels, annotations: a.annotations, value: a.value, activeAt: a.activeAt, firedAt: a.firedAt });
      }
      const wasFiring = new Set([...sim].filter(([, a]) => a.firedAt !== 0).map(([k]) => k));
      const episodes: { key: string; a: SimAlert; resolvedAt: number }[] = [];
      for (let ts = from; ts <= to; ts += g.interval) {
        let vector;
        try {
          const r = await opts.queryFn(rule.def.expr, ts);
          vector = typeof r === 'number' ? [{ labels: {}, value: r }] : r;
        } catch (err) {
          report.errors.push(`${rule.name} at ${new Date(ts).toISOString()}: ${(err as Error).message}`);
          continue;
        }
        report.evaluations++;
        const seen = new Set<string>();
        for (const s of vector) {
          const { labels, annotations } = rule.expand(s, ctx);
          if (labels.datacenter !== datacenter) continue;
          const key = labelsKey(labels);
          seen.add(key);
          const a = sim.get(key);
          if (a) {
            a.value = s.value;
            a.annotations = annotations;
          } else sim.set(key, { labels, annotations, value: s.value, activeAt: ts, firedAt: 0 });
        }
        for (const [key, a] of sim) {
          if (!seen.has(key)) {
            if (a.firedAt !== 0 && !wasFiring.has(key)) episodes.push({ key, a, resolvedAt: ts });
            sim.delete(key);
            wasFiring.delete(key);
            continue;
          }
          if (a.firedAt === 0 && ts - a.activeAt >= rule.def.for) a.firedAt = ts;
        }
      }
      for (const e of episodes) {
        report.late.push({ rule: rule.name, labels: e.a.labels, activeAt: e.a.activeAt, firedAt: e.a.firedAt, resolvedAt: e.resolvedAt });
        addLateAlert(rule, e.a, e.resolvedAt, opts.now, opts.lateFiringMs);
      }
      for (const [key, a] of sim) {
        if (a.firedAt === 0 || wasFiring.has(key)) continue;
        report.ongoing.push({ rule: rule.name, labels: a.labels, activeAt: a.activeAt, firedAt: a.firedAt, resolvedAt: 0 });
        const live = rule.active.get(key);
        if (live && live.state === 'firing') continue;
        rule.active.set(key, {
          labels: a.labels, annotations: a.annotations, value: a.value, state: 'firing', activeAt: a.activeAt, firedAt: a.firedAt,
          resolvedAt: 0, lastSentAt: 0, validUntil: 0, keepFiringSince: 0,
        });
      }
    }
  }
  return report;
}

const iso = (ms: number) => new Date(ms).toISOString();

function addLateAlert(rule: AlertingRule, a: SimAlert, resolvedAt: number, now: number, lateFiringMs: number): void {
  const labels = { ...a.labels, late: 'true' };
  const annotations = { ...a.annotations, late: 'true', late_started_at: iso(a.firedAt), late_resolved_at: iso(resolvedAt) };
  const key = labelsKey(labels);
  const existing = rule.active.get(key);
  if (existing && existing.state === 'firing' && existing.firedAt === a.firedAt) return;
  rule.active.set(key, {
    labels, annotations, value: a.value, state: 'firing', activeAt: a.activeAt, firedAt: a.firedAt,
    resolvedAt: 0, lastSentAt: 0, validUntil: 0, keepFiringSince: 0, lateUntil: now + lateFiringMs,
  });
}
