import type { StaticConfig } from '@vigil/common';
import type { Discoverer, TargetGroup } from './types.js';

/** `static_configs`: the groups are known up front and never change. */
export class StaticDiscoverer implements Discoverer {
  constructor(private readonly configs: readonly StaticConfig[], private readonly name = 'static') {}

  start(update: (groups: TargetGroup[]) => void): void {
    update(this.configs.map((c, i) => ({
      source: `${this.name}:${i}`,
      labels: { ...c.labels },
      targets: c.targets.map((t) => ({ __address__: t })),
    })));
  }

  stop(): void {}
}
