import type { Logger, MetricFamily } from '@vigil/common';

/** Where a collector reads the host from: node_exporter's --path.procfs, --path.sysfs, --path.rootfs. */
export interface CollectorContext {
  /** Mount point of procfs, `/proc` on a live host. */
  procPath: string;
  /** Mount point of sysfs, `/sys` on a live host. */
  sysPath: string;
  /** Prefix of the host's root filesystem, `/` on a live host (`/host` when run in a container). */
  rootfsPath: string;
  logger: Logger;
  /** The clock, in milliseconds since the epoch; tests replace it. */
  now: () => number;
}

/** One collector: a name (the `collector` label of node_scrape_collector_*) and a function producing families. */
export interface Collector {
  name: string;
  collect(ctx: CollectorContext): Promise<MetricFamily[]>;
}
