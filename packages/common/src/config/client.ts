/** Readers for the HTTP client blocks shared by scrape configs, service discovery and the hub link. */
import type { FieldReader } from './reader.js';
import type { BasicAuth, TLSConfig } from './types.js';

export function readTLSConfig(r: FieldReader): TLSConfig {
  const tls: TLSConfig = { insecure_skip_verify: r.bool('insecure_skip_verify') ?? false };
  const ca = r.filePath('ca_file');
  const cert = r.filePath('cert_file');
  const key = r.filePath('key_file');
  const name = r.string('server_name');
  if (ca !== undefined) tls.ca_file = ca;
  if (cert !== undefined) tls.cert_file = cert;
  if (key !== undefined) tls.key_file = key;
  if (name !== undefined) tls.server_name = name;
  if (cert !== undefined && key === undefined) r.fail(`client cert file "${cert}" specified without client key file`, 'cert_file');
  if (key !== undefined && cert === undefined) r.fail(`client key file "${key}" specified without client cert file`, 'key_file');
  return tls;
}

export function readBasicAuth(r: FieldReader): BasicAuth {
  const auth: BasicAuth = { username: r.string('username') ?? '' };
  const password = r.string('password');
  const file = r.filePath('password_file');
  if (password !== undefined) auth.password = password;
  if (file !== undefined) auth.password_file = file;
  if (password !== undefined && file !== undefined) r.fail('at most one of basic_auth password & password_file must be configured', 'password_file');
  return auth;
}

/** The HTTP client options of a scrape config or an SD config, read from fields of `r`. */
export interface HttpClientFields {
  basic_auth?: BasicAuth;
  bearer_token?: string;
  bearer_token_file?: string;
  tls_config?: TLSConfig;
}

/**
 * Reads `basic_auth`, `bearer_token`, `bearer_token_file`, `authorization` (type Bearer,
 * mapped onto the bearer token fields) and `tls_config`, refusing more than one kind of auth.
 */
export function readHttpClientFields(r: FieldReader, allowTokenFile = true): HttpClientFields {
  const out: HttpClientFields = {};
  const ba = r.map('basic_auth');
  if (ba) {
    out.basic_auth = readBasicAuth(ba);
    ba.done();
  }
  const token = r.string('bearer_token');
  if (token !== undefined) out.bearer_token = token;
  if (allowTokenFile) {
    const file = r.filePath('bearer_token_file');
    if (file !== undefined) out.bearer_token_file = file;
  }
  const authz = r.map('authorization');
  if (authz) {
    const type = authz.string('type') ?? 'Bearer';
    if (type.toLowerCase() !== 'bearer') authz.fail(`authorization type "${type}" is not supported (only Bearer)`, 'type');
    const cred = authz.string('credentials');
    const credFile = allowTokenFile ? authz.filePath('credentials_file') : undefined;
    if (cred !== undefined && credFile !== undefined) authz.fail('at most one of authorization credentials & credentials_file must be configured', 'credentials_file');
    authz.done();
    if (out.bearer_token !== undefined || out.bearer_token_file !== undefined) r.fail('at most one of bearer_token, bearer_token_file & authorization must be configured', 'authorization');
    if (cred !== undefined) out.bearer_token = cred;
    if (credFile !== undefined) out.bearer_token_file = credFile;
  }
  if (out.bearer_token !== undefined && out.bearer_token_file !== undefined) {
    r.fail('at most one of bearer_token & bearer_token_file must be configured', 'bearer_token_file');
  }
  if (out.basic_auth && (out.bearer_token !== undefined || out.bearer_token_file !== undefined)) {
    r.fail('at most one of basic_auth, bearer_token & bearer_token_file must be configured', 'basic_auth');
  }
  const tls = r.map('tls_config');
  if (tls) {
    out.tls_config = readTLSConfig(tls);
    tls.done();
  }
  return out;
}
