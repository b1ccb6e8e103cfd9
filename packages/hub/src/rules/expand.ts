import type { Labels } from '@vigil/common';
import { Template } from './template.js';

/** What alert templates see: `.Labels`, `.ExternalLabels`, `.ExternalURL`, `.Value` and the `$` shorthands. */
export interface AlertTemplateData {
  labels: Labels;
  externalLabels: Labels;
  externalURL: string;
  value: number;
}

const cache = new Map<string, Template>();

/**
 * Expands one label or annotation template as Prometheus does; a template that does not
 * parse or fails expands to `<error expanding template: ...>` (the alert still fires).
 */
export function expandAlertTemplate(text: string, name: string, data: AlertTemplateData): string {
  if (!text.includes('{{')) return text;
  try {
    let t = cache.get(text);
    if (!t) {
      t = new Template(`__alert_${name}`, text);
      if (cache.size > 5000) cache.clear();
      cache.set(text, t);
    }
    const dot = { Labels: data.labels, ExternalLabels: data.externalLabels, ExternalURL: data.externalURL, Value: data.value };
    return t.execute(dot, { $labels: data.labels, $externalLabels: data.externalLabels, $externalURL: data.externalURL, $value: data.value });
  } catch (err) {
    return `<error expanding template: ${(err as Error).message}>`;
  }
}
