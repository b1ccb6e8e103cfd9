import { type Logger, type MetricFamily, silentLogger } from '@vigil/common';
import { COLLECTORS } from './collectors/index.js';
import { gauge, single } from './collectors/family.js';
import type { Collector, CollectorContext } from './collectors/types.js';
import { VERSION } from './version.js';

export interface HostExporterOptions {
  logger?: Logger;
  /** Names of the collectors to run (keys of COLLECTORS); all of them by default. */
  collectors?: string[];
  /** Extra or replacement collectors (e.g. `filesystemCollector({ ... })` with other exclusions). */
  custom?: Collector[];
  /** Root of the host filesystem (node_exporter's --path.rootfs), `/` by default. */
  rootfs?: string;
  /** procfs mount point (--path.procfs), `/proc` by default. */
  procfs?: string;
  /** sysfs mount point (--path.sysfs), `/sys` by default. */
  sysfs?: string;
  /** Clock for node_time_seconds, ms since the epoch; tests replace it. */
  now?: () => number;
}

/**
 * Collects host metrics with node_exporter's names, types, HELP texts and labels. Collectors run
 * concurrently; one that fails is logged and reported by node_scrape_collector_success 0 without
 * failing the others.
 */
export class HostExporter {
  private readonly collectors: Collector[];
  private readonly ctx: CollectorContext;
  private readonly logger: Logger;

  constructor(opts: HostExporterOptions = {}) {
    this.logger = (opts.logger ?? silentLogger).child({ component: 'exporter-node' });
    const table = new Map(COLLECTORS);
    for (const c of opts.custom ?? []) table.set(c.name, c);
    const names = opts.collectors ?? [...table.keys()];
    this.collectors = names.map((name) => {
      const c = table.get(name);
      if (!c) throw new Error(`cannot enable collector (${name}): unknown; known: ${[...table.keys()].join(', ')}`);
      return c;
    });
    const rootfs = opts.rootfs ?? '/';
    this.ctx = {
      rootfsPath: rootfs,
      procPath: opts.procfs ?? '/proc',
      sysPath: opts.sysfs ?? '/sys',
      logger: this.logger,
      now: opts.now ?? Date.now,
    };
  }

  /** Names of the enabled collectors. */
  get collectorNames(): string[] {
    return this.collectors.map((c) => c.name);
  }

  async collect(): Promise<MetricFamily[]> {
    const duration = gauge('node_scrape_collector_duration_seconds', 'node_exporter: Duration of a collector scrape.');
    const success = gauge('node_scrape_collector_success', 'node_exporter: Whether a collector succeeded.');
    const results = await Promise.all(
      this.collectors.map(async (c) => {
        const start = process.hrtime.bigint();
        let families: MetricFamily[] = [];
        let ok = 1;
        try {
          families = await c.collect(this.ctx);
        } catch (err) {
          ok = 0;
          this.logger.error({ collector: c.name, err }, 'collector failed');
        }
        duration.add(Number(process.hrtime.bigint() - start) / 1e9, { collector: c.name });
        success.add(ok, { collector: c.name });
        return families;
      }),
    );
    for (const f of [duration.family, success.family]) f.samples.sort((a, b) => (a.labels['collector']! < b.labels['collector']! ? -1 : 1));
    return [...results.flat(), duration.family, success.family, buildInfo()];
  }
}

function buildInfo(): MetricFamily {
  return single(
    'vigil_exporter_build_info',
    'gauge',
    "A metric with a constant '1' value labeled by version, revision, branch, nodeversion, os and arch of the Vigil host exporter.",
    1,
    { version: VERSION, revision: '', branch: '', nodeversion: process.version, os: process.platform, arch: process.arch },
  );
}
