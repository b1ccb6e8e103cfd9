/** `scrape_configs` entries and their service discovery blocks, with Prometheus' defaults and checks. */
import { readHttpClientFields } from './client.js';
import type { FieldReader } from './reader.js';
import { readRelabelConfig } from './relabel.js';
import type { DnsSDConfig, FileSDConfig, HttpSDConfig, ScrapeConfig, StaticConfig } from './types.js';

export interface ScrapeDefaults {
  scrape_interval: number;
  scrape_timeout: number;
}

export function readScrapeConfig(r: FieldReader, global: ScrapeDefaults): ScrapeConfig {
  const jobName = r.string('job_name');
  if (jobName === undefined || jobName === '') r.fail('job_name is empty', 'job_name');
  const interval = r.duration('scrape_interval') || global.scrape_interval;
  const explicitTimeout = r.duration('scrape_timeout') ?? 0;
  if (explicitTimeout > interval) r.fail(`scrape timeout greater than scrape interval for scrape config with job name "${jobName}"`, 'scrape_timeout');
  const timeout = explicitTimeout || Math.min(global.scrape_timeout, interval);

  const metricsPath = r.string('metrics_path') ?? '/metrics';
  if (!metricsPath.startsWith('/')) r.fail(`metrics_path "${metricsPath}" must start with "/"`, 'metrics_path');
  const params: Record<string, string[]> = {};
  const p = r.map('params');
  if (p) {
    for (const k of p.keys()) params[k] = p.get(k)?.stringList() ?? [];
    p.done(true);
  }
  const client = readHttpClientFields(r);
  const sc: ScrapeConfig = {
    job_name: jobName,
    scrape_interval: interval,
    scrape_timeout: timeout,
    metrics_path: metricsPath,
    scheme: r.oneOf('scheme', ['http', 'https'] as const) ?? 'http',
    params,
    honor_labels: r.bool('honor_labels') ?? false,
    honor_timestamps: r.bool('honor_timestamps') ?? true,
    ...client,
    sample_limit: r.count('sample_limit') ?? 0,
    label_limit: r.count('label_limit') ?? 0,
    label_name_length_limit: r.count('label_name_length_limit') ?? 0,
    label_value_length_limit: r.count('label_value_length_limit') ?? 0,
    static_configs: r.maps('static_configs', readStaticConfig),
    file_sd_configs: r.maps('file_sd_configs', readFileSDConfig),
    http_sd_configs: r.maps('http_sd_configs', readHttpSDConfig),
    dns_sd_configs: r.maps('dns_sd_configs', readDnsSDConfig),
    relabel_configs: r.maps('relabel_configs', readRelabelConfig),
    metric_relabel_configs: r.maps('metric_relabel_configs', readRelabelConfig),
  };
  // Prometheus refuses URLs in static targets unless relabeling may rewrite them.
  if (sc.relabel_configs.length === 0) {
    r.list('static_configs')?.forEach((item) => {
      item.map().list('targets')?.forEach((t) => {
        const target = t.string();
        if (target.includes('/')) t.fail(`"${target}" is not a valid hostname`);
      });
    });
  }
  return sc;
}

export function readStaticConfig(r: FieldReader): StaticConfig {
  return { targets: r.stringList('targets') ?? [], labels: r.get('labels')?.stringMap(true) ?? {} };
}

export function readFileSDConfig(r: FieldReader): FileSDConfig {
  const files = r.list('files') ?? [];
  if (files.length === 0) r.fail('file service discovery config must contain at least one path name', 'files');
  const out: string[] = [];
  for (const f of files) {
    const name = f.string();
    if (!/\.(json|ya?ml)$/.test(name)) f.fail(`path name "${name}" is not valid for file discovery (must end in .json, .yml or .yaml)`);
    out.push(f.filePath());
  }
  return { files: out, refresh_interval: r.duration('refresh_interval') || 300_000 };
}

export function readHttpSDConfig(r: FieldReader): HttpSDConfig {
  const urlField = r.require('url');
  urlField.url(['http:', 'https:']);
  const url = urlField.string();
  const client = readHttpClientFields(r, false);
  const out: HttpSDConfig = { url, refresh_interval: r.duration('refresh_interval') || 60_000 };
  if (client.basic_auth) out.basic_auth = client.basic_auth;
  if (client.bearer_token !== undefined) out.bearer_token = client.bearer_token;
  if (client.tls_config) out.tls_config = client.tls_config;
  return out;
}

export function readDnsSDConfig(r: FieldReader): DnsSDConfig {
  const names = r.stringList('names') ?? [];
  if (names.length === 0) r.fail('DNS-SD config must contain at least one SRV record name', 'names');
  const typeField = r.get('type');
  const type = (typeField?.string() ?? 'SRV').toUpperCase();
  if (type !== 'SRV' && type !== 'A' && type !== 'AAAA') throw typeField!.error(`invalid DNS-SD records type ${type} (must be SRV, A or AAAA)`);
  const port = r.count('port');
  if (type !== 'SRV' && !port) r.fail('a port is required in DNS-SD configs for all record types except SRV', r.has('port') ? 'port' : 'type');
  if (port !== undefined && port > 65535) r.fail(`port ${port} is out of range`, 'port');
  const out: DnsSDConfig = { names, type, refresh_interval: r.duration('refresh_interval') || 30_000 };
  if (port !== undefined) out.port = port;
  return out;
}
