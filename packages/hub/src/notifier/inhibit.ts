import { matchLabels, type Labels } from '@vigil/common';
import type { InhibitRuleConfig } from './config.js';
import { isResolved, type NotifierAlert } from './alert.js';

/**
 * Alertmanager's inhibitor: an alert matching `target_matchers` is muted while a firing alert
 * matches `source_matchers` with the same values for the `equal` labels. An alert that
 * matches both sides does not inhibit itself.
 */
export class Inhibitor {
  constructor(private readonly rules: InhibitRuleConfig[]) {}

  /** Fingerprints of the firing alerts that inhibit `target`. */
  inhibitedBy(target: NotifierAlert, alerts: Iterable<NotifierAlert>, now: number): string[] {
    const out = new Set<string>();
    for (const rule of this.rules) {
      if (!matchLabels(rule.target_matchers, target.labels)) continue;
      for (const src of alerts) {
        if (src.fingerprint === target.fingerprint) continue;
        if (isResolved(src, now)) continue;
        if (!matchLabels(rule.source_matchers, src.labels)) continue;
        if (!equalOn(rule.equal, src.labels, target.labels)) continue;
        out.add(src.fingerprint);
      }
    }
    return [...out].sort();
  }
}

function equalOn(names: string[], a: Labels, b: Labels): boolean {
  for (const n of names) if ((a[n] ?? '') !== (b[n] ?? '')) return false;
  return true;
}
