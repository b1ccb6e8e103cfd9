import { matchLabels, type Labels, type Matcher } from '@vigil/common';
import type { RouteConfig } from './config.js';
import { formatMatchers } from './matchers.js';

/** Alertmanager's defaults for the root route. */
export const DEFAULT_GROUP_WAIT = 30_000;
export const DEFAULT_GROUP_INTERVAL = 5 * 60_000;
export const DEFAULT_REPEAT_INTERVAL = 4 * 3_600_000;

/** A node of the routing tree with its settings inherited from its parents. */
export class Route {
  readonly receiver: string;
  /** Label names to group by; `all` for `...`. */
  readonly groupBy: string[] | 'all';
  readonly matchers: Matcher[];
  readonly continue: boolean;
  readonly groupWait: number;
  readonly groupInterval: number;
  readonly repeatInterval: number;
  readonly routes: Route[];
  readonly key: string;

  constructor(cfg: RouteConfig, readonly parent?: Route) {
    this.receiver = cfg.receiver ?? parent?.receiver ?? '';
    this.groupBy = cfg.group_by ? (cfg.group_by.includes('...') ? 'all' : cfg.group_by) : (parent?.groupBy ?? []);
    this.matchers = cfg.matchers;
    this.continue = cfg.continue;
    this.groupWait = cfg.group_wait ?? parent?.groupWait ?? DEFAULT_GROUP_WAIT;
    this.groupInterval = cfg.group_interval ?? parent?.groupInterval ?? DEFAULT_GROUP_INTERVAL;
    this.repeatInterval = cfg.repeat_interval ?? parent?.repeatInterval ?? DEFAULT_REPEAT_INTERVAL;
    this.key = (parent ? parent.key + '/' : '') + formatMatchers(this.matchers);
    this.routes = cfg.routes.map((c) => new Route(c, this));
  }

  /** The routes an alert goes to: the deepest matching nodes, siblings tried in order until one matches without `continue`. */
  match(labels: Labels): Route[] {
    if (!matchLabels(this.matchers, labels)) return [];
    const all: Route[] = [];
    for (const child of this.routes) {
      const m = child.match(labels);
      all.push(...m);
      if (m.length > 0 && !child.continue) break;
    }
    if (all.length === 0) all.push(this);
    return all;
  }

  /** The labels of `labels` that this route groups by. */
  groupLabels(labels: Labels): Labels {
    if (this.groupBy === 'all') return { ...labels };
    const out: Record<string, string> = {};
    for (const n of this.groupBy) if (labels[n] !== undefined && labels[n] !== '') out[n] = labels[n];
    return out;
  }
}
