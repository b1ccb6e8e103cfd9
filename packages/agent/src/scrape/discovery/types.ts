import { LABEL_NAME_RE, type Labels } from '@vigil/common';

/** A group of targets sharing labels, as every service discovery mechanism produces them. */
export interface TargetGroup {
  /** Identifies the group within its discoverer (file:index, URL:index, DNS name). */
  source: string;
  /** One label set per target, each with at least `__address__`. */
  targets: Labels[];
  /** Labels common to the group's targets (a target's own labels win). */
  labels: Labels;
}

/**
 * A service discovery mechanism. `start` begins discovery and calls `update` with the
 * discoverer's complete current list of groups each time it changes; `stop` ends it.
 */
export interface Discoverer {
  start(update: (groups: TargetGroup[]) => void): void;
  stop(): void;
}

/** The label sets of a group's targets: group labels under each target's own. */
export function groupTargets(g: TargetGroup): Labels[] {
  return g.targets.map((t) => ({ ...g.labels, ...t }));
}

/**
 * Validates a list of target groups in the JSON/YAML form used by file and HTTP SD
 * (`[{targets: [...], labels: {...}}]`) and turns it into TargetGroups.
 */
export function parseTargetGroups(data: unknown, source: string, extra: Labels): TargetGroup[] {
  if (data === null || data === undefined) return [];
  if (!Array.isArray(data)) throw new Error('expected a list of target groups');
  return data.map((raw, i) => {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error(`target group ${i}: expected a mapping`);
    const g = raw as { targets?: unknown; labels?: unknown };
    const targets = g.targets ?? [];
    if (!Array.isArray(targets)) throw new Error(`target group ${i}: "targets" must be a list`);
    const labels: Record<string, string> = {};
    if (g.labels !== undefined && g.labels !== null) {
      if (typeof g.labels !== 'object' || Array.isArray(g.labels)) throw new Error(`target group ${i}: "labels" must be a mapping`);
      for (const [k, v] of Object.entries(g.labels as Record<string, unknown>)) {
        if (!LABEL_NAME_RE.test(k)) throw new Error(`target group ${i}: "${k}" is not a valid label name`);
        if (typeof v !== 'string') throw new Error(`target group ${i}: label "${k}" must be a string`);
        labels[k] = v;
      }
    }
    for (const [k, v] of Object.entries(extra)) labels[k] = v;
    return {
      source: `${source}:${i}`,
      labels,
      targets: targets.map((t, j) => {
        if (typeof t !== 'string' || t === '') throw new Error(`target group ${i}: target ${j} must be a non-empty string`);
        return { __address__: t };
      }),
    };
  });
}
