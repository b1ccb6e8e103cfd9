import { hostname } from 'node:os';
import { join } from 'node:path';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { Registry, collectDefaultMetrics } from 'prom-client';
import {
  AuthThrottle, ConfigError, Credentials, applyWebConfigFile, defaultAgentConfig, httpAuth, limitBody, listenAuthProblem, loadAgentConfig,
  PushStore, pushRoutes, type AgentConfig, type Logger,
} from '@vigil/common';
import { HostExporter } from '@vigil/exporter-node';
import { ScrapeManager, targetsRoutes } from './scrape/index.js';
import { openBuffer } from './buffer/index.js';
import { Streamer } from './stream/index.js';
import { PushSampler } from './push/index.js';
import { toHttpError } from './errors.js';
import { EventLoopDelay } from './event-loop.js';

/** What the command line may set over the config file. */
export interface AgentFlags {
  configFile?: string;
  hub?: string;
  token?: string;
  datacenter?: string;
  /** Prometheus' web config file (`--web.config.file`), merged into `api`. */
  webConfigFile?: string;
  /** The HTTP listen address: off loopback, the API needs credentials (or `api.insecure_open`). */
  listen?: string;
}

/**
 * The config file (or defaults) with the command-line flags applied; `datacenter` becomes an external label.
 * Start, reload and check-config all read it here, so they refuse the same things.
 */
export async function readAgentConfig(flags: AgentFlags): Promise<AgentConfig> {
  const config = flags.configFile ? await loadAgentConfig(flags.configFile) : defaultAgentConfig();
  if (flags.hub) config.hub.url = flags.hub;
  if (flags.token) config.hub.token = flags.token;
  if (flags.webConfigFile) applyWebConfigFile(config.api, flags.webConfigFile);
  const problem = flags.listen === undefined ? undefined : listenAuthProblem(flags.listen, config.api);
  if (problem) throw new ConfigError(problem, flags.configFile);
  const datacenter = flags.datacenter ?? config.global.external_labels.datacenter ?? 'default';
  config.global.external_labels = { ...config.global.external_labels, datacenter };
  return config;
}

/** A stable identity kept in the data dir, so that a restarted agent resumes its own stream. */
async function agentId(dataDir: string): Promise<string> {
  const file = join(dataDir, 'agent-id');
  try {
    const id = (await readFile(file, 'utf8')).trim();
    if (id) return id;
  } catch { /* first start */ }
  const id = `${hostname()}-${randomBytes(3).toString('hex')}`;
  await writeFile(file, `${id}\n`);
  return id;
}

export interface Agent {
  id: string;
  datacenter: string;
  app: Hono;
  streamer: Streamer;
  scrape: ScrapeManager;
  reload(): Promise<void>;
  close(): Promise<void>;
}

/** Wires an agent from a validated config: buffer → streamer, scrape manager, host exporter, push. */
export async function startAgent(opts: { config: AgentConfig; flags: AgentFlags; dataDir: string; logger: Logger }): Promise<Agent> {
  const { logger, dataDir, flags } = opts;
  let config = opts.config;
  await mkdir(dataDir, { recursive: true });
  const id = await agentId(dataDir);
  const datacenter = config.global.external_labels.datacenter!;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const loopDelay = new EventLoopDelay(registry);

  const buffer = await openBuffer({
    dir: join(dataDir, 'buffer'), maxBytes: config.buffer.max_bytes, maxAgeMs: config.buffer.max_age, logger,
  });
  const token = config.hub.token ?? (config.hub.token_file ? (await readFile(config.hub.token_file, 'utf8')).trim() : undefined);
  const tls = config.hub.tls;
  const streamer = new Streamer({
    hubUrl: config.hub.url, token, agentId: id, datacenter, buffer, registry, logger,
    tls: tls && {
      ca: tls.ca_file ? await readFile(tls.ca_file) : undefined,
      cert: tls.cert_file ? await readFile(tls.cert_file) : undefined,
      key: tls.key_file ? await readFile(tls.key_file) : undefined,
      servername: tls.server_name,
      rejectUnauthorized: !tls.insecure_skip_verify,
    },
  });
  const scrape = new ScrapeManager({ sink: streamer, logger, externalLabels: config.global.external_labels });
  const host = new HostExporter({ logger });
  const instance = hostname();
  const push = new PushStore({ file: join(dataDir, 'push.json'), ttl: config.push.ttl, logger });
  push.load();
  let sampler: PushSampler | undefined;

  const apply = async (cfg: AgentConfig) => {
    await scrape.applyConfig(cfg);
    if (cfg.host_exporter.enabled) {
      scrape.addLocalTarget('node', instance, cfg.host_exporter.interval ?? cfg.global.scrape_interval, () => host.collect());
    } else {
      await scrape.removeLocalTarget('node', instance);
    }
    sampler?.stop();
    sampler = new PushSampler({
      store: push, sink: streamer, interval: cfg.global.scrape_interval, externalLabels: cfg.global.external_labels, logger,
    });
    sampler.start();
  };
  await apply(config);
  streamer.start();
  // The hub lists every agent's targets: each carries the agent and its datacenter.
  const publishTargets = () => streamer.setTargets(scrape.targets().activeTargets.map((t) => ({ ...t, agent: id, datacenter })));
  const targetsTimer = setInterval(publishTargets, 5000);
  targetsTimer.unref();
  publishTargets();

  const reload = async () => {
    if (!flags.configFile) return;
    const next = await readAgentConfig(flags);
    await apply(next);
    credentials = new Credentials(next.api);
    config = next;
    logger.info({ file: flags.configFile }, 'configuration reloaded');
  };

  // Off loopback every endpoint but health needs credentials with the route's scope (see routeScope); bodies are
  // bounded (push is the only endpoint with one).
  let credentials = new Credentials(config.api);
  const app = new Hono();
  app.use('*', httpAuth({ credentials: () => credentials, realm: 'vigil agent', throttle: new AuthThrottle(), logger }));
  app.use('*', limitBody(config.api.max_body_bytes));
  app.onError((err, c) => {
    const e = toHttpError(err);
    if (e.status >= 500) logger.error({ err, path: c.req.path }, 'request failed');
    return c.text(e.text, e.status as ContentfulStatusCode, e.headers);
  });
  app.get('/-/healthy', (c) => c.text('Vigil agent is Healthy.\n'));
  app.get('/-/ready', (c) => c.text('Vigil agent is Ready.\n'));
  app.post('/-/reload', async (c) => {
    try {
      await reload();
      return c.text('');
    } catch (err) {
      logger.error({ err }, 'reload failed, keeping the old configuration');
      return c.text(`failed to reload config: ${(err as Error).message}\n`, 500);
    }
  });
  app.get('/metrics', async (c) => c.body(await registry.metrics(), 200, { 'Content-Type': registry.contentType }));
  app.route('/', targetsRoutes(scrape));
  app.route('/', pushRoutes(push, logger, { metricsListing: false }));

  return {
    id,
    datacenter,
    app,
    streamer,
    scrape,
    reload,
    close: async () => {
      clearInterval(targetsTimer);
      loopDelay.stop();
      sampler?.stop();
      await scrape.stop();
      push.close();
      await streamer.stop();
      await buffer.close();
    },
  };
}
