/**
 * Typed, validated configuration of the agent and the hub. Durations are milliseconds, sizes
 * bytes, and relative paths are already resolved against the config file's directory.
 * Field names and defaults follow Prometheus' configuration file.
 */

export type RelabelAction =
  | 'replace' | 'keep' | 'drop' | 'keepequal' | 'dropequal' | 'hashmod'
  | 'labelmap' | 'labeldrop' | 'labelkeep' | 'lowercase' | 'uppercase';

export interface RelabelConfig {
  source_labels: string[];
  /** Default `;`. */
  separator: string;
  target_label: string;
  /** Unanchored regex text as written (default `(.*)`); anchor it as `^(?:regex)$` when compiling. */
  regex: string;
  modulus: number;
  /** Default `$1`. */
  replacement: string;
  action: RelabelAction;
}

export interface TLSConfig {
  ca_file?: string;
  cert_file?: string;
  key_file?: string;
  server_name?: string;
  insecure_skip_verify: boolean;
}

export interface BasicAuth {
  username: string;
  password?: string;
  password_file?: string;
}

export interface StaticConfig {
  targets: string[];
  labels: Record<string, string>;
}

export interface FileSDConfig {
  files: string[];
  /** Default 5m. */
  refresh_interval: number;
}

export interface HttpSDConfig {
  url: string;
  /** Default 60s. */
  refresh_interval: number;
  basic_auth?: BasicAuth;
  bearer_token?: string;
  tls_config?: TLSConfig;
}

export interface DnsSDConfig {
  names: string[];
  type: 'SRV' | 'A' | 'AAAA';
  port?: number;
  /** Default 30s. */
  refresh_interval: number;
}

export interface ScrapeConfig {
  job_name: string;
  scrape_interval: number;
  scrape_timeout: number;
  metrics_path: string;
  scheme: 'http' | 'https';
  params: Record<string, string[]>;
  honor_labels: boolean;
  /** Default true. */
  honor_timestamps: boolean;
  basic_auth?: BasicAuth;
  bearer_token?: string;
  bearer_token_file?: string;
  tls_config?: TLSConfig;
  /** 0 = no limit (same for the other limits). */
  sample_limit: number;
  label_limit: number;
  label_name_length_limit: number;
  label_value_length_limit: number;
  static_configs: StaticConfig[];
  file_sd_configs: FileSDConfig[];
  http_sd_configs: HttpSDConfig[];
  dns_sd_configs: DnsSDConfig[];
  relabel_configs: RelabelConfig[];
  metric_relabel_configs: RelabelConfig[];
}

export interface AgentConfig {
  /** Absolute path of the file this config was read from. */
  file?: string;
  global: {
    /** Default 15s. */
    scrape_interval: number;
    /** Default 10s. */
    scrape_timeout: number;
    external_labels: Record<string, string>;
  };
  scrape_configs: ScrapeConfig[];
  hub: {
    /** Default `ws://127.0.0.1:9090`. */
    url: string;
    token?: string;
    token_file?: string;
    tls?: TLSConfig;
  };
  buffer: {
    /** Default 1 GiB. */
    max_bytes: number;
    max_age?: number;
  };
  host_exporter: {
    /** Default true. */
    enabled: boolean;
    /** Defaults to the global scrape_interval (left undefined here). */
    interval?: number;
  };
  push: {
    ttl?: number;
  };
  api: ApiConfig;
}

/** What an API credential may do: `read` (queries, status, UI), `write` (import, remote write, push, alerts,
 * silences), `admin` (`/-/reload`, `/api/v1/admin/*`). Scopes are independent: `admin` does not imply `read`. */
export type ApiScope = 'read' | 'write' | 'admin';

export interface ApiToken {
  /** The secret (read from `token_file` when the config names a file). */
  token: string;
  token_file?: string;
  scopes: ApiScope[];
}

/** Prometheus' `tls_server_config` (web.config.file) as far as Vigil serves it. */
export interface WebTLSServerConfig {
  cert_file: string;
  key_file: string;
  client_ca_file?: string;
  /** `NoClientCert` (default) or `RequireAndVerifyClientCert`. */
  client_auth_type: 'NoClientCert' | 'RequireAndVerifyClientCert';
}

/** Who may use an HTTP server (hub or agent): the `api` section plus Prometheus' web config file. */
export interface ApiConfig {
  /** User name to bcrypt hash; each user has every scope (as Prometheus' `basic_auth_users`). */
  basic_auth_users: Record<string, string>;
  tokens: ApiToken[];
  /** Prometheus' web config file (`basic_auth_users`, `tls_server_config`), merged into this section. */
  web_config_file?: string;
  tls_server_config?: WebTLSServerConfig;
  /** Listen off loopback without any credential (refused unless true). */
  insecure_open: boolean;
  /** Largest request body (hub 64 MiB, agent 16 MiB); the hub's streaming import is exempt. */
  max_body_bytes: number;
}

export interface HubAgentToken {
  /** The secret (read from `token_file` when the config names a file). */
  token: string;
  /** Every series of agents with this token carries this datacenter (overriding what they send). */
  datacenter?: string;
  /** Agents with this token are this agent, whatever id they send. */
  agent_id?: string;
}

export interface HubConfig {
  file?: string;
  /** Default `127.0.0.1:9090`. */
  listen: string;
  /** Default `./data/hub`. */
  data_dir: string;
  /** Default 15d. */
  retention: number;
  retention_size?: number;
  agents: { tokens: HubAgentToken[] };
  api: ApiConfig;
  tls?: { cert_file: string; key_file: string };
  rule_files: string[];
  /** Default 15s. */
  evaluation_interval: number;
  alerting: {
    alertmanagers: { url: string }[];
    /** Alertmanager's own routing tree, receivers and inhibit rules, for the built-in notifier (validated there). */
    route?: unknown;
    receivers?: unknown[];
    inhibit_rules?: unknown[];
  };
  remote_write: unknown[];
  limits: {
    /** Default 1,000,000. */
    max_series_per_agent: number;
    /** Default 64. */
    max_labels_per_series: number;
    /** Default 256. */
    max_label_name_length: number;
    /** Default 4096. */
    max_label_value_length: number;
    /** Samples further ahead of the hub's clock are refused (ms; default 10 minutes). */
    max_future: number;
  };
}
