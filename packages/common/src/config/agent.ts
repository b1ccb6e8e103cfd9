/** The agent's configuration file: Prometheus' format plus Vigil's `hub`, `buffer`, `host_exporter` and `push`. */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { defaultApiConfig, readApiConfig } from './api.js';
import { readTLSConfig } from './client.js';
import { ConfigSource, type FieldReader } from './reader.js';
import { readScrapeConfig } from './scrape.js';
import type { AgentConfig } from './types.js';

export function defaultAgentConfig(): AgentConfig {
  return {
    global: { scrape_interval: 15_000, scrape_timeout: 10_000, external_labels: {} },
    scrape_configs: [],
    hub: { url: 'ws://127.0.0.1:9090' },
    buffer: { max_bytes: 1024 ** 3 },
    host_exporter: { enabled: true },
    push: {},
    api: defaultApiConfig(16 << 20),
  };
}

/** Prometheus fields that belong to the hub, refused with a hint rather than ignored. */
const HUB_ONLY = ['rule_files', 'alerting', 'remote_write', 'remote_read', 'storage', 'tracing'];

export function parseAgentConfig(text: string, file?: string): AgentConfig {
  const root = ConfigSource.parse(text, file);
  const cfg = defaultAgentConfig();
  if (file !== undefined) cfg.file = resolve(file);
  for (const key of HUB_ONLY) {
    if (root.keys().includes(key)) root.fail(`field "${key}" is not used by the agent: rules, alerting and remote write are configured on the hub`, key);
  }

  const g = root.map('global');
  if (g) {
    const interval = g.duration('scrape_interval');
    if (interval) cfg.global.scrape_interval = interval;
    const timeout = g.duration('scrape_timeout');
    if (timeout) {
      if (timeout > cfg.global.scrape_interval) g.fail('global scrape timeout greater than scrape interval', 'scrape_timeout');
      cfg.global.scrape_timeout = timeout;
    } else if (cfg.global.scrape_timeout > cfg.global.scrape_interval) {
      cfg.global.scrape_timeout = cfg.global.scrape_interval;
    }
    cfg.global.external_labels = g.get('external_labels')?.stringMap(true) ?? {};
    g.duration('evaluation_interval'); // Prometheus' field: accepted, used by the hub only
    g.done();
  }

  const jobs = new Set<string>();
  for (const item of root.list('scrape_configs') ?? []) {
    const r = item.map();
    const sc = readScrapeConfig(r, cfg.global);
    r.done();
    if (jobs.has(sc.job_name)) r.fail(`found multiple scrape configs with job name "${sc.job_name}"`, 'job_name');
    jobs.add(sc.job_name);
    cfg.scrape_configs.push(sc);
  }

  const hub = root.map('hub');
  if (hub) readHub(hub, cfg);
  const buf = root.map('buffer');
  if (buf) {
    const max = buf.size('max_bytes');
    if (max !== undefined) {
      if (max <= 0) buf.fail('buffer.max_bytes must be positive', 'max_bytes');
      cfg.buffer.max_bytes = max;
    }
    const age = buf.duration('max_age');
    if (age) cfg.buffer.max_age = age;
    buf.done();
  }
  const he = root.map('host_exporter');
  if (he) {
    cfg.host_exporter.enabled = he.bool('enabled') ?? true;
    const interval = he.duration('interval');
    if (interval) cfg.host_exporter.interval = interval;
    he.done();
  }
  const push = root.map('push');
  if (push) {
    const ttl = push.duration('ttl');
    if (ttl) cfg.push.ttl = ttl;
    push.done();
  }
  const api = root.map('api');
  if (api) readApiConfig(api, cfg.api);
  root.done();
  return cfg;
}

function readHub(r: FieldReader, cfg: AgentConfig): void {
  const urlField = r.get('url');
  if (urlField) {
    urlField.url(['ws:', 'wss:']);
    cfg.hub.url = urlField.string();
  }
  const token = r.string('token');
  const tokenFile = r.filePath('token_file');
  if (token !== undefined && tokenFile !== undefined) r.fail('at most one of hub token & token_file must be configured', 'token_file');
  if (token !== undefined) cfg.hub.token = token;
  if (tokenFile !== undefined) cfg.hub.token_file = tokenFile;
  const tls = r.map('tls');
  if (tls) {
    cfg.hub.tls = readTLSConfig(tls);
    tls.done();
  }
  r.done();
}

export async function loadAgentConfig(path: string): Promise<AgentConfig> {
  return parseAgentConfig(await readConfigFile(path), path);
}

export async function readConfigFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file: ${(err as Error).message}`, path);
  }
}
