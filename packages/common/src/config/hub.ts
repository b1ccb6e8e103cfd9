/** The hub's configuration file. */
import { resolve } from 'node:path';
import { readConfigFile } from './agent.js';
import { defaultApiConfig, listenAuthProblem, MIN_TOKEN_LENGTH, readApiConfig, readSecretField } from './api.js';
import { isLoopbackListen, splitHostPort } from './listen.js';
import { ConfigSource, type FieldReader } from './reader.js';
import type { HubConfig } from './types.js';

export function defaultHubConfig(): HubConfig {
  return {
    listen: '127.0.0.1:9090',
    data_dir: './data/hub',
    retention: 15 * 86_400_000,
    agents: { tokens: [] },
    api: defaultApiConfig(64 << 20),
    rule_files: [],
    evaluation_interval: 15_000,
    alerting: { alertmanagers: [] },
    remote_write: [],
    limits: { max_series_per_agent: 1_000_000, max_labels_per_series: 64, max_label_name_length: 256, max_label_value_length: 4096, max_future: 600_000 },
  };
}

/** Agent ids: they name a folder at the hub, so no path separators and no `.`/`..`. */
export const AGENT_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export function parseHubConfig(text: string, file?: string): HubConfig {
  const root = ConfigSource.parse(text, file);
  const cfg = defaultHubConfig();
  if (file !== undefined) cfg.file = resolve(file);

  const listen = root.get('listen');
  if (listen) {
    cfg.listen = listen.string();
    if (!splitHostPort(cfg.listen)) listen.fail(`invalid listen address "${cfg.listen}": use host:port, e.g. 127.0.0.1:9090`);
  }
  cfg.data_dir = root.filePath('data_dir') ?? cfg.data_dir;
  const retention = root.duration('retention');
  if (retention === 0) root.fail('retention must be longer than 0: it is how long samples are kept', 'retention');
  if (retention !== undefined) cfg.retention = retention;
  const size = root.size('retention_size');
  if (size) cfg.retention_size = size;

  const agents = root.map('agents');
  if (agents) {
    cfg.agents.tokens = agents.maps('tokens', readAgentToken);
    agents.done();
  }
  const api = root.map('api');
  if (api) readApiConfig(api, cfg.api);
  const problem = hubListenProblem(cfg);
  if (problem) root.fail(problem, root.has('listen') ? 'listen' : undefined);

  const tls = root.map('tls');
  if (tls) {
    const cert = tls.existingFile('cert_file');
    const key = tls.existingFile('key_file');
    if (cert === undefined) throw tls.error('tls.cert_file is required when tls is set', 'cert_file');
    if (key === undefined) throw tls.error('tls.key_file is required when tls is set', 'key_file');
    cfg.tls = { cert_file: cert, key_file: key };
    tls.done();
    if (cfg.api.tls_server_config) root.fail('at most one of tls & api.web_config_file tls_server_config must be configured', 'tls');
  }

  cfg.rule_files = (root.list('rule_files') ?? []).map((v) => v.filePath());
  cfg.evaluation_interval = root.duration('evaluation_interval') || cfg.evaluation_interval;

  const alerting = root.map('alerting');
  if (alerting) {
    cfg.alerting.alertmanagers = alerting.maps('alertmanagers', readAlertmanagers).flat();
    const route = alerting.get('route');
    if (route) cfg.alerting.route = route.map() && route.toJS();
    const receivers = alerting.get('receivers');
    if (receivers) cfg.alerting.receivers = receivers.list().map((v) => v.toJS());
    const inhibit = alerting.get('inhibit_rules');
    if (inhibit) cfg.alerting.inhibit_rules = inhibit.list().map((v) => v.toJS());
    alerting.done();
  }
  cfg.remote_write = (root.list('remote_write') ?? []).map((v) => v.toJS());

  const limits = root.map('limits');
  if (limits) {
    for (const key of ['max_series_per_agent', 'max_labels_per_series', 'max_label_name_length', 'max_label_value_length'] as const) {
      const v = limits.count(key);
      if (v !== undefined) cfg.limits[key] = v;
    }
    const future = limits.duration('max_future');
    if (future !== undefined) cfg.limits.max_future = future;
    limits.done();
  }
  root.done();
  return cfg;
}

function readAgentToken(r: FieldReader): HubConfig['agents']['tokens'][number] {
  const { value } = readSecretField(r, 'token', 'token_file', true);
  const out: HubConfig['agents']['tokens'][number] = { token: value! };
  const dc = r.string('datacenter');
  if (dc !== undefined) out.datacenter = dc;
  const id = r.string('agent_id');
  if (id !== undefined) {
    if (!AGENT_ID_RE.test(id)) r.fail(`invalid agent_id "${id}": use letters, digits, '.', '_', ':' or '-', starting with a letter or digit (at most 128)`, 'agent_id');
    out.agent_id = id;
  }
  return out;
}

/**
 * Why the hub may not serve its config on its listen address (undefined when it may). Off loopback, agents
 * must authenticate (with tokens long enough to resist guessing) and so must API clients (see
 * listenAuthProblem). Start and check-config both ask this, after the command-line flags are applied.
 */
export function hubListenProblem(cfg: HubConfig): string | undefined {
  if (isLoopbackListen(cfg.listen)) return undefined;
  if (cfg.agents.tokens.length === 0) {
    return `refusing to listen on ${cfg.listen} (off loopback) without agents.tokens: configure at least one agent token`;
  }
  const short = cfg.agents.tokens.find((t) => t.token.length < MIN_TOKEN_LENGTH);
  if (short) {
    return `refusing to listen on ${cfg.listen} (off loopback) with an agent token of ${short.token.length} characters`
      + `${short.datacenter ? ` (datacenter ${short.datacenter})` : ''}: use at least ${MIN_TOKEN_LENGTH}`;
  }
  return listenAuthProblem(cfg.listen, cfg.api);
}

/** `{url}`, or Prometheus' form `{scheme, path_prefix, static_configs: [{targets}]}` (one URL per target). */
function readAlertmanagers(r: FieldReader): { url: string }[] {
  const url = r.get('url');
  const scheme = r.oneOf('scheme', ['http', 'https'] as const) ?? 'http';
  const prefix = r.string('path_prefix') ?? '';
  r.duration('timeout');
  r.oneOf('api_version', ['v2'] as const);
  const statics = r.maps('static_configs', (s) => s.stringList('targets') ?? []);
  const out: { url: string }[] = [];
  if (url) {
    url.url(['http:', 'https:']);
    const u = url.string();
    out.push({ url: u.replace(/\/+$/, '') });
  }
  for (const targets of statics) for (const t of targets) out.push({ url: `${scheme}://${t}${prefix.replace(/\/+$/, '')}` });
  if (out.length === 0) r.fail('an alertmanagers entry needs url or static_configs targets');
  return out;
}

export async function loadHubConfig(path: string): Promise<HubConfig> {
  return parseHubConfig(await readConfigFile(path), path);
}
