/** Prometheus 2.42's JSON shapes for /api/v1/rules and /api/v1/alerts. */
import type { Labels } from '@vigil/common';
import { AlertingRule, type ActiveAlert } from './alerting.js';
import { formatE } from './gofmt.js';
import type { Group } from './group.js';

export type RuleTypeFilter = 'alert' | 'record' | undefined;

export interface ApiAlert {
  labels: Labels;
  annotations: Labels;
  state: string;
  activeAt?: string;
  keepFiringSince?: string;
  value: string;
}

export interface RulesData {
  groups: {
    name: string;
    file: string;
    rules: Record<string, unknown>[];
    interval: number;
    limit: number;
    evaluationTime: number;
    lastEvaluation: string;
  }[];
}

export interface AlertsData {
  alerts: ApiAlert[];
}

/** Go's time.Time in RFC3339Nano as encoding/json writes it (zero time = 0001-01-01T00:00:00Z). */
export function rfc3339(ms: number): string {
  if (ms === 0) return '0001-01-01T00:00:00Z';
  const s = new Date(ms).toISOString();
  const frac = s.slice(20, 23).replace(/0+$/, '');
  return `${s.slice(0, 19)}${frac ? '.' + frac : ''}Z`;
}

function sorted(labels: Labels): Labels {
  const out: Record<string, string> = {};
  for (const k of Object.keys(labels).sort()) out[k] = labels[k]!;
  return out;
}

function apiAlert(a: ActiveAlert): ApiAlert {
  return {
    labels: sorted(a.labels),
    annotations: sorted(a.annotations),
    state: a.state,
    activeAt: rfc3339(a.activeAt),
    ...(a.keepFiringSince ? { keepFiringSince: rfc3339(a.keepFiringSince) } : {}),
    value: formatE(a.value),
  };
}

export function rulesResponse(groups: readonly Group[], type?: RuleTypeFilter): RulesData {
  return {
    groups: groups.map((g) => ({
      name: g.name,
      file: g.file,
      rules: g.rules.filter((r) => type === undefined || (type === 'alert') === r instanceof AlertingRule).map((r) => {
        const common = {
          health: r.health,
          evaluationTime: r.evaluationTimeMs / 1000,
          lastEvaluation: rfc3339(r.lastEvaluation),
          ...(r.lastError ? { lastError: r.lastError } : {}),
        };
        if (r instanceof AlertingRule) {
          return {
            state: r.state,
            name: r.name,
            query: r.def.expr,
            duration: r.def.for / 1000,
            keepFiringFor: r.def.keep_firing_for / 1000,
            labels: sorted(r.def.labels),
            annotations: sorted(r.def.annotations),
            alerts: [...r.active.values()].filter((a) => a.state !== 'inactive').map(apiAlert),
            ...common,
            type: 'alerting',
          };
        }
        return { name: r.name, query: r.def.expr, labels: sorted(r.def.labels), ...common, type: 'recording' };
      }),
      interval: g.interval / 1000,
      limit: g.def.limit,
      evaluationTime: g.evaluationTimeMs / 1000,
      lastEvaluation: rfc3339(g.lastEvaluation),
    })),
  };
}

export function alertsResponse(groups: readonly Group[]): AlertsData {
  const alerts: ApiAlert[] = [];
  for (const g of groups) for (const r of g.rules) if (r instanceof AlertingRule) for (const a of r.active.values()) if (a.state !== 'inactive') alerts.push(apiAlert(a));
  return { alerts };
}
