import type { Labels } from '@vigil/common';
import { formatLabelSet, goTime, isResolved, type NotifierAlert } from './alert.js';

/** One alert in a notification (Alertmanager's template.Alert). */
export interface WebhookAlert {
  status: 'firing' | 'resolved';
  labels: Labels;
  annotations: Labels;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  fingerprint: string;
}

/** Alertmanager's webhook payload, version 4 (also the data emails are rendered from). */
export interface WebhookMessage {
  receiver: string;
  status: 'firing' | 'resolved';
  alerts: WebhookAlert[];
  groupLabels: Labels;
  commonLabels: Labels;
  commonAnnotations: Labels;
  externalURL: string;
  version: '4';
  groupKey: string;
  truncatedAlerts: number;
}

function common(sets: Labels[]): Labels {
  if (sets.length === 0) return {};
  const out: Record<string, string> = { ...sets[0]! };
  for (const s of sets.slice(1)) for (const k of Object.keys(out)) if (s[k] !== out[k]) delete out[k];
  return sorted(out);
}

function sorted(l: Labels): Labels {
  const out: Record<string, string> = {};
  for (const k of Object.keys(l).sort()) out[k] = l[k]!;
  return out;
}

/** Builds the notification for a group: firing alerts first in Alertmanager's order (by labels). */
export function buildMessage(receiver: string, groupKey: string, groupLabels: Labels, alerts: NotifierAlert[], externalURL: string, now: number): WebhookMessage {
  const items = alerts.map((a): WebhookAlert => {
    const resolved = isResolved(a, now);
    return {
      status: resolved ? 'resolved' : 'firing',
      labels: sorted(a.labels),
      annotations: sorted(a.annotations),
      startsAt: goTime(a.startsAt),
      // As Alertmanager: the end of a firing alert is not exposed.
      endsAt: resolved ? goTime(a.endsAt) : '0001-01-01T00:00:00Z',
      generatorURL: a.generatorURL,
      fingerprint: a.fingerprint,
    };
  });
  items.sort((x, y) => formatLabelSet(x.labels).localeCompare(formatLabelSet(y.labels)));
  return {
    receiver,
    status: items.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
    alerts: items,
    groupLabels: sorted(groupLabels),
    commonLabels: common(alerts.map((a) => a.labels)),
    commonAnnotations: common(alerts.map((a) => a.annotations)),
    externalURL,
    version: '4',
    groupKey,
    truncatedAlerts: 0,
  };
}

/** An integration of a receiver (one entry of webhook_configs, email_configs...). */
export interface Integration {
  readonly name: string;
  readonly index: number;
  readonly sendResolved: boolean;
  notify(msg: WebhookMessage): Promise<void>;
}
