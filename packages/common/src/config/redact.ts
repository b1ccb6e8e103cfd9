/**
 * Secrets out of anything that shows a configuration (status API, UI, logs): every secret value prints as
 * `<secret>`, as Prometheus and Alertmanager print theirs. Works on plain values (a parsed config, a section
 * kept as written), so sections validated elsewhere (alerting, remote_write) are covered by their field names.
 */

export const SECRET = '<secret>';

/** Fields whose value is a secret wherever they appear (Prometheus' and Alertmanager's `Secret` fields). */
const SECRET_FIELDS = new Set([
  'password', 'bearer_token', 'credentials', 'client_secret', 'secret_key', 'token', 'auth_password', 'auth_secret',
  'api_key', 'api_secret', 'routing_key', 'service_key', 'user_key', 'bot_token', 'webhook_url', 'api_url', 'access_key',
]);

/** Mappings whose every value is a secret (user name to bcrypt hash). */
const SECRET_MAPS = new Set(['basic_auth_users']);

/** Receiver integrations whose `url` carries the credential (Alertmanager's `SecretURL`). */
const SECRET_URL_PARENTS = new Set(['webhook_configs', 'slack_configs', 'discord_configs', 'msteams_configs', 'webex_configs']);

/** A URL with its userinfo password replaced (`http://u:<secret>@host/`); other text unchanged. */
export function redactUrlPassword(text: string): string {
  return text.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/@:\s]*:)[^/@\s]*@/i, `$1${SECRET}@`);
}

/** A deep copy of `value` with every secret replaced by `<secret>`. */
export function redactSecrets(value: unknown): unknown {
  return walk(value, undefined, false);
}

/** `secretUrl`: inside one entry of a receiver integration list, whose `url` is a secret. */
function walk(value: unknown, key: string | undefined, secretUrl: boolean): unknown {
  if (typeof value === 'string') {
    if (key !== undefined && value !== '' && (SECRET_FIELDS.has(key) || (secretUrl && key === 'url'))) return SECRET;
    return redactUrlPassword(value);
  }
  if (Array.isArray(value)) return value.map((v) => walk(v, undefined, key !== undefined && SECRET_URL_PARENTS.has(key)));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const names = SECRET_MAPS.has(k) && v !== null && typeof v === 'object' && !Array.isArray(v);
    out[k] = names ? Object.fromEntries(Object.keys(v).map((name) => [name, SECRET])) : walk(v, k, secretUrl);
  }
  return out;
}
