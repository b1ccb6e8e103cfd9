import { join } from 'node:path';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { stringify } from 'yaml';
import { AuthThrottle, ConfigError, Credentials, applyWebConfigFile, formatDuration, hubListenProblem, loadHubConfig, redactSecrets, PushSampler, PushStore, pushRoutes, type HubConfig, type Logger, type Sample, type MetricMetadata, type SampleSink } from '@vigil/common';
import { openStorage, type Storage } from './storage/index.js';
import { registerStorageMetrics } from './storage/metrics.js';
import { Engine } from './promql/index.js';
import { queryRoutes, agentRoutes } from './api/index.js';
import { importRoutes } from './api/import.js';
import { IngestServer } from './ingest/index.js';
import { remoteWriteRoutes } from './remote/write.js';
import { createHubApp } from './app.js';
import { uiRoutes } from './ui/routes.js';
import { RuleManager, ruleRoutes, type QueryFn } from './rules/index.js';
import { Notifier, notifierRoutes, notifierConfigFromHub, parseNotifierConfig } from './notifier/index.js';
import { LinkWatcher } from './ingest/linkwatch.js';
import { parseExpr } from './promql/index.js';
import { readFile } from 'node:fs/promises';

export interface Hub {
  app: ReturnType<typeof createHubApp>;
  ingest: IngestServer;
  storage: Storage;
  registry: Registry;
  setReady(): void;
  reload(): Promise<void>;
  close(): Promise<void>;
}

export interface HubOptions {
  /** Prometheus' web config file named on the command line, merged into `api` again on every reload. */
  webConfigFile?: string;
}

/** Wires the hub's components together from a validated config; `main.ts` adds the listening socket. */
export async function startHub(config: HubConfig, logger: Logger, configFile?: string, opts: HubOptions = {}): Promise<Hub> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const storage = await openStorage({
    dir: join(config.data_dir, 'tsdb'),
    retentionMs: config.retention,
    retentionBytes: config.retention_size,
    maxFutureMs: config.limits.max_future,
    logger,
    limits: {
      maxLabelsPerSeries: config.limits.max_labels_per_series,
      maxLabelNameLength: config.limits.max_label_name_length,
      maxLabelValueLength: config.limits.max_label_value_length,
    },
  });
  registerStorageMetrics(storage, registry);
  const ingest = new IngestServer({
    storage,
    tokens: config.agents.tokens,
    allowAnonymous: config.agents.tokens.length === 0,
    limits: { maxSeriesPerAgent: config.limits.max_series_per_agent },
    logger,
    dataDir: join(config.data_dir, 'ingest'),
    registry,
  });
  const engine = new Engine({ logger });

  // Rules and notifications, tied to the links: alerts of a cut datacenter hold their state, VigilAgentDown fires
  // once per cut, and the window of a landed backlog is evaluated late.
  const links = new LinkWatcher(() => ingest.agents(), {
    agentDown: (agent, dc, down) => rules.setAgentDown(agent, dc, down),
    backlogLanded: (dc, from, to) => void rules.reevaluateWindow(dc, from, to).catch((err) => logger.error({ err, datacenter: dc }, 'cannot evaluate rules over the landed backlog')),
  }, logger.child({ component: 'links' }));
  const externalURL = `http://${config.listen}`;
  const readNotifierConfig = async (cfg: HubConfig, file?: string) =>
    file ? parseNotifierConfig(await readFile(file, 'utf8'), file) : notifierConfigFromHub(cfg.alerting);
  const notifier = new Notifier({
    config: await readNotifierConfig(config, configFile),
    logger: logger.child({ component: 'notifier' }),
    dataDir: config.data_dir,
    externalURL,
    isDatacenterCut: (dc) => links.isCut(dc),
  });
  const queryFn: QueryFn = async (expr, t) => {
    const r = await engine.instantQuery(storage, expr, t);
    if (r.resultType === 'vector') return r.result.map((s) => ({ labels: s.metric, value: s.v }));
    if (r.resultType === 'scalar') return r.result.v;
    throw new Error(`rule expression must give a vector or a scalar, not a ${r.resultType}`);
  };
  const rules = new RuleManager({
    queryFn,
    appendFn: async (samples) => { await storeSamples(storage, samples); },
    notifyFn: (alerts) => notifier.notify(alerts),
    checkExpr: (e) => void parseExpr(e),
    logger: logger.child({ component: 'rules' }),
    externalURL,
    isDatacenterCut: (dc) => links.isCut(dc),
    watermark: (dc) => links.watermark(dc),
  });
  await rules.load(config.rule_files, config.evaluation_interval);
  const push = new PushStore({ file: join(config.data_dir, 'push.json'), logger });
  push.load();
  const pushWriter = new StorageWriter(storage, logger);

  let ready = false;
  let current = config;
  let credentials = new Credentials(config.api);
  // SIGHUP and POST /-/reload (which the API guards with the admin scope) both land here.
  const reload = async () => {
    if (!configFile) return;
    const next = await loadHubConfig(configFile);
    if (opts.webConfigFile) applyWebConfigFile(next.api, opts.webConfigFile);
    const problem = hubListenProblem({ ...next, listen: current.listen });
    if (problem) throw new ConfigError(problem, configFile);
    const notifierConfig = await readNotifierConfig(next, configFile);
    await rules.load(next.rule_files, next.evaluation_interval);
    notifier.applyConfig(notifierConfig);
    ingest.setTokens(next.agents.tokens, next.agents.tokens.length === 0);
    credentials = new Credentials(next.api);
    current = { ...next, listen: current.listen, data_dir: current.data_dir };
    logger.info({ file: configFile }, 'configuration reloaded');
  };
  const app = createHubApp({
    logger,
    registry,
    routers: [
      queryRoutes({ queryable: storage, storage, engine, logger, warnings: (m, mint, maxt) => ingest.warningsFor(mint, maxt, m) }),
      importRoutes({ storage, logger }),
      remoteWriteRoutes({ storage, logger }),
      agentRoutes(ingest),
      pushRoutes(push, logger),
      ruleRoutes(rules),
      notifierRoutes(notifier),
    ],
    ui: uiRoutes(),
    ready: () => ready,
    configYaml: () => stringify(redactSecrets(current)),
    flags: {
      'config.file': configFile ?? '',
      'web.listen-address': config.listen,
      'storage.tsdb.path': config.data_dir,
      'storage.tsdb.retention.time': formatDuration(config.retention),
      'query.lookback-delta': '5m',
      'query.timeout': '2m',
      'query.max-samples': '50000000',
      'rules.evaluation-interval': formatDuration(config.evaluation_interval),
    },
    reload,
    flush: () => storage.flush(),
    targets: () => ({ activeTargets: ingest.targets(), droppedTargets: [] }),
    alertmanagers: () => current.alerting.alertmanagers.map((a) => a.url),
    auth: { credentials: () => credentials, throttle: new AuthThrottle() },
    maxBodyBytes: config.api.max_body_bytes,
  });
  rules.start();
  links.start();
  // Groups pushed straight to the hub are sampled into the store like an agent samples its own, with staleness
  // markers when a group is deleted or expires.
  const pushSampler = new PushSampler({ store: push, sink: pushWriter, interval: config.evaluation_interval, logger });
  pushSampler.start();
  return {
    app,
    ingest,
    storage,
    registry,
    setReady: () => { ready = true; },
    reload,
    close: async () => {
      ready = false;
      pushSampler.stop();
      links.stop();
      await rules.stop();
      await notifier.stop();
      await ingest.close();
      push.close();
      await pushWriter.idle();
      await storage.close();
    },
  };
}

/** Appends samples made on the hub (rule results, pushed groups) and commits them durably. */
async function storeSamples(storage: Storage, samples: readonly Sample[]): Promise<void> {
  const app = storage.appender();
  for (const s of samples) app.append(0, s.labels, s.t, s.v, s.stale);
  await app.commit();
}

/** A sink into the store for the hub's own producers; commits one batch at a time. */
class StorageWriter implements SampleSink {
  private chain: Promise<void> = Promise.resolve();
  constructor(private readonly storage: Storage, private readonly logger: Logger) {}
  write(samples: readonly Sample[], metadata?: readonly MetricMetadata[]): void {
    this.chain = this.chain.then(async () => {
      await storeSamples(this.storage, samples);
      if (metadata?.length) this.storage.setMetadata(metadata);
    }).catch((err) => this.logger.error({ err }, 'cannot store pushed samples'));
  }
  idle(): Promise<void> {
    return this.chain;
  }
}
