/**
 * The `api` section shared by the hub and agent configs (who may use the HTTP server) and Prometheus'
 * web config file (`basic_auth_users`, `tls_server_config`), which merges into it.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import { isLoopbackListen } from './listen.js';
import { ConfigSource, type FieldReader } from './reader.js';
import type { ApiConfig, ApiScope, ApiToken, WebTLSServerConfig } from './types.js';

export const API_SCOPES: readonly ApiScope[] = ['read', 'write', 'admin'];
/** Shortest token accepted for the API (and for agent tokens off loopback). */
export const MIN_TOKEN_LENGTH = 16;
const BCRYPT_RE = /^\$2[abxy]?\$\d{2}\$[./A-Za-z0-9]{53}$/;

export function defaultApiConfig(maxBodyBytes: number): ApiConfig {
  return { basic_auth_users: {}, tokens: [], insecure_open: false, max_body_bytes: maxBodyBytes };
}

/** Reads the fields of an `api` mapping into `api` (defaults already there) and finishes the mapping. */
export function readApiConfig(r: FieldReader, api: ApiConfig): void {
  const users = r.get('basic_auth_users');
  if (users) readBasicAuthUsers(users.map(), api.basic_auth_users);
  api.tokens = r.maps('tokens', readApiToken);
  const seen = new Set<string>();
  for (const [i, t] of api.tokens.entries()) {
    if (seen.has(t.token)) throw r.get('tokens')!.list()[i]!.error('the same token is configured twice in api.tokens');
    seen.add(t.token);
  }
  api.insecure_open = r.bool('insecure_open') ?? false;
  const max = r.size('max_body_bytes');
  if (max !== undefined) {
    if (max <= 0) r.fail('api.max_body_bytes must be positive', 'max_body_bytes');
    api.max_body_bytes = max;
  }
  const web = r.get('web_config_file');
  if (web) applyWebConfigFile(api, web.existingFile());
  r.done();
}

/**
 * A secret written inline (`key`) or in a file (`fileKey`, read now and trimmed, so a missing file is a
 * config error with its line). Exactly one must be set when `required`.
 */
export function readSecretField(r: FieldReader, key: string, fileKey: string, required: boolean): { value?: string; file?: string } {
  const inline = r.string(key);
  const fileField = r.get(fileKey);
  if (inline !== undefined && fileField) r.fail(`at most one of ${key} & ${fileKey} must be configured`, fileKey);
  if (fileField) {
    const file = fileField.existingFile();
    let value = '';
    try {
      value = readFileSync(file, 'utf8').trim();
    } catch (err) {
      fileField.fail(`cannot read ${fileKey} "${file}": ${(err as Error).message}`);
    }
    if (value === '') fileField.fail(`${fileKey} "${file}" is empty`);
    return { value, file };
  }
  if (inline === undefined) {
    if (required) r.fail(`${key} or ${fileKey} is required in ${r.path || 'the configuration'}`);
    return {};
  }
  if (inline === '') r.fail(`${key} must not be empty`, key);
  return { value: inline };
}

function readApiToken(r: FieldReader): ApiToken {
  const { value, file } = readSecretField(r, 'token', 'token_file', true);
  const token = value!;
  if (token.length < MIN_TOKEN_LENGTH) {
    r.fail(`API token is too short (${token.length} characters): use at least ${MIN_TOKEN_LENGTH}, e.g. from openssl rand -hex 32`, file ? 'token_file' : 'token');
  }
  const scopesField = r.require('scopes');
  const scopes = scopesField.list().map((v) => {
    const s = v.string();
    if (!(API_SCOPES as readonly string[]).includes(s)) v.fail(`unknown scope "${s}": must be one of ${API_SCOPES.join(', ')}`);
    return s as ApiScope;
  });
  if (scopes.length === 0) scopesField.fail('scopes must name at least one of read, write, admin');
  return file ? { token, token_file: file, scopes } : { token, scopes };
}

function readBasicAuthUsers(m: FieldReader, into: Record<string, string>): void {
  for (const name of m.keys()) {
    const hash = m.require(name).string();
    if (!BCRYPT_RE.test(hash)) m.fail(`password of basic_auth_users "${name}" must be a bcrypt hash (e.g. from htpasswd -nBC 10)`, name);
    if (into[name] !== undefined) m.fail(`basic_auth_users "${name}" is configured twice (api section and web config file)`, name);
    into[name] = hash;
  }
  m.done(true);
}

/**
 * Merges Prometheus' web config file (`--web.config.file`) into `api`: its `basic_auth_users` join the section's,
 * its `tls_server_config` serves HTTPS. Errors name the web config file and line.
 */
export function applyWebConfigFile(api: ApiConfig, path: string): void {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read web config file: ${(err as Error).message}`, path);
  }
  const root = ConfigSource.parse(text, path);
  const users = root.get('basic_auth_users');
  if (users) readBasicAuthUsers(users.map(), api.basic_auth_users);
  const tls = root.map('tls_server_config');
  if (tls) {
    api.tls_server_config = readTLSServerConfig(tls);
    tls.done();
  }
  const http = root.map('http_server_config');
  if (http) {
    http.bool('http2'); // Vigil serves HTTP/1.1 either way
    if (http.has('headers')) http.fail('http_server_config.headers is not supported by Vigil', 'headers');
    http.done();
  }
  root.done();
  api.web_config_file = path;
}

function readTLSServerConfig(r: FieldReader): WebTLSServerConfig {
  if (r.has('cert') || r.has('key')) r.fail('inline cert and key are not supported: use cert_file and key_file', r.has('cert') ? 'cert' : 'key');
  const cert = r.existingFile('cert_file');
  const key = r.existingFile('key_file');
  if (cert === undefined) r.fail('tls_server_config.cert_file is required');
  if (key === undefined) r.fail('tls_server_config.key_file is required');
  const out: WebTLSServerConfig = { cert_file: cert, key_file: key, client_auth_type: 'NoClientCert' };
  const type = r.oneOf('client_auth_type', ['NoClientCert', 'RequestClientCert', 'RequireAnyClientCert', 'VerifyClientCertIfGiven', 'RequireAndVerifyClientCert'] as const);
  if (type !== undefined && type !== 'NoClientCert' && type !== 'RequireAndVerifyClientCert') {
    r.fail(`client_auth_type "${type}" is not supported by Vigil: use NoClientCert or RequireAndVerifyClientCert`, 'client_auth_type');
  }
  if (type) out.client_auth_type = type;
  const ca = r.existingFile('client_ca_file');
  if (ca !== undefined) out.client_ca_file = ca;
  if (out.client_auth_type === 'RequireAndVerifyClientCert' && ca === undefined) r.fail('client_auth_type RequireAndVerifyClientCert needs client_ca_file', 'client_auth_type');
  return out;
}

export function hasCredentials(api: ApiConfig): boolean {
  return Object.keys(api.basic_auth_users).length > 0 || api.tokens.length > 0;
}

/**
 * Why a server may not listen on `listen` with `api` (undefined when it may): off loopback every endpoint but
 * health needs credentials, so some must be configured, unless `insecure_open` says to serve anyone.
 */
export function listenAuthProblem(listen: string, api: ApiConfig): string | undefined {
  if (isLoopbackListen(listen) || hasCredentials(api) || api.insecure_open) return undefined;
  return `refusing to listen on ${listen} (off loopback) without credentials: configure api.basic_auth_users, `
    + 'api.tokens or a web config file with basic_auth_users, or set api.insecure_open: true to serve everyone who can reach it';
}
