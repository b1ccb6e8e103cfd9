import { ConfigError, ConfigSource, Matcher, readSecretField, redactSecrets, type FieldReader, type HubConfig, type ValueReader } from '@vigil/common';
import { parseMatchers } from './matchers.js';

export interface RouteConfig {
  receiver?: string;
  /** Label names; `'...'` alone = group by all labels. */
  group_by?: string[];
  matchers: Matcher[];
  continue: boolean;
  group_wait?: number;
  group_interval?: number;
  repeat_interval?: number;
  routes: RouteConfig[];
}

export interface WebhookConfig {
  url: string;
  send_resolved: boolean;
  max_alerts: number;
}

export interface EmailConfig {
  to: string;
  from: string;
  smarthost: string;
  hello: string;
  auth_username?: string;
  auth_password?: string;
  require_tls: boolean;
  send_resolved: boolean;
  headers: Record<string, string>;
  html?: string;
  text?: string;
}

export interface ReceiverConfig {
  name: string;
  webhook_configs: WebhookConfig[];
  email_configs: EmailConfig[];
}

export interface InhibitRuleConfig {
  source_matchers: Matcher[];
  target_matchers: Matcher[];
  equal: string[];
}

/** The hub's `alerting` section as the built-in notifier uses it. */
export interface NotifierConfig {
  alertmanagers: { url: string }[];
  route: RouteConfig;
  receivers: ReceiverConfig[];
  inhibit_rules: InhibitRuleConfig[];
  /** The section as written, secrets as `<secret>` (for /api/v2/status). */
  original: string;
}

const DEFAULT_RECEIVER = 'vigil-default';

/**
 * Reads the `alerting` section of a hub config file, with file:line errors. Without a
 * `route`, every alert goes to a receiver with no integrations (it is kept and shown, not sent).
 */
export function parseNotifierConfig(text: string, file?: string): NotifierConfig {
  const root = ConfigSource.parse(text, file);
  const section = root.map('alerting');
  return readAlerting(section);
}

/**
 * Validates the raw values kept by the common hub config parser (`HubConfig.alerting`).
 * Errors name the field path; pass the config file's text to `parseNotifierConfig` to get lines.
 */
export function notifierConfigFromHub(alerting: HubConfig['alerting'] | undefined, file?: string): NotifierConfig {
  const text = JSON.stringify({ alerting: alerting ?? {} }, null, 1);
  try {
    return readAlerting(ConfigSource.parse(text).map('alerting'));
  } catch (err) {
    if (err instanceof ConfigError && file) throw new ConfigError(err.message.replace(/^[^:]*:\d+: /, ''), file);
    throw err;
  }
}

function readAlerting(a: FieldReader | undefined): NotifierConfig {
  if (!a) return { alertmanagers: [], route: defaultRoute(), receivers: [{ name: DEFAULT_RECEIVER, webhook_configs: [], email_configs: [] }], inhibit_rules: [], original: '' };
  const alertmanagers = a.maps('alertmanagers', (r) => {
    const v = r.require('url');
    v.url(['http:', 'https:']);
    return { url: v.string() };
  });
  const receivers = a.maps('receivers', readReceiver);
  const names = new Set<string>();
  for (const [i, r] of receivers.entries()) {
    if (names.has(r.name)) throw a.get('receivers')!.list()[i]!.error(`notification config name "${r.name}" is not unique`);
    names.add(r.name);
  }
  const routeValue = a.get('route');
  let route: RouteConfig;
  if (routeValue) {
    const rr = routeValue.map();
    route = readRoute(rr);
    rr.done();
    if (!route.receiver) rr.fail('root route must specify a default receiver');
    if (route.matchers.length > 0) rr.fail('root route must not have any matchers');
    if (route.continue) rr.fail('cannot have continue in root route');
    checkReceivers(route, names, routeValue);
  } else {
    route = defaultRoute();
    if (!names.has(DEFAULT_RECEIVER)) receivers.push({ name: DEFAULT_RECEIVER, webhook_configs: [], email_configs: [] });
  }
  const inhibit_rules = a.maps('inhibit_rules', (r) => ({
    source_matchers: [...matcherList(r, 'source_matchers'), ...legacyMatch(r, 'source_match', 'source_match_re')],
    target_matchers: [...matcherList(r, 'target_matchers'), ...legacyMatch(r, 'target_match', 'target_match_re')],
    equal: r.get('equal')?.list().map((v) => v.labelName()) ?? [],
  }));
  a.get('global');
  a.get('templates');
  const original = a.get('route') || a.get('receivers') || a.get('inhibit_rules')
    ? JSON.stringify(redactSecrets({ route: a.get('route')?.toJS(), receivers: a.get('receivers')?.toJS(), inhibit_rules: a.get('inhibit_rules')?.toJS() }))
    : '';
  a.done();
  return { alertmanagers, route, receivers, inhibit_rules, original };
}

function defaultRoute(): RouteConfig {
  return { receiver: DEFAULT_RECEIVER, matchers: [], continue: false, routes: [] };
}

function checkReceivers(route: RouteConfig, names: Set<string>, at: ValueReader): void {
  if (route.receiver !== undefined && !names.has(route.receiver)) at.fail(`undefined receiver "${route.receiver}" used in route`);
  for (const r of route.routes) checkReceivers(r, names, at);
}

function matcherList(r: FieldReader, key: string): Matcher[] {
  const v = r.get(key);
  if (!v) return [];
  return v.list().flatMap((item) => {
    try {
      return parseMatchers(item.string());
    } catch (err) {
      return item.fail(`invalid matcher in ${item.path}: ${(err as Error).message}`);
    }
  });
}

function legacyMatch(r: FieldReader, eqKey: string, reKey: string): Matcher[] {
  const out: Matcher[] = [];
  for (const [name, value] of Object.entries(r.get(eqKey)?.stringMap(true) ?? {})) out.push(new Matcher('=', name, value));
  const re = r.get(reKey);
  for (const [name, value] of Object.entries(re?.stringMap(true) ?? {})) {
    try {
      out.push(new Matcher('=~', name, value));
    } catch (err) {
      re!.fail(`invalid regex in ${re!.path}.${name}: ${(err as Error).message}`);
    }
  }
  return out;
}

function readRoute(r: FieldReader): RouteConfig {
  const groupBy = r.get('group_by');
  let group_by: string[] | undefined;
  if (groupBy) {
    group_by = groupBy.stringList();
    if (group_by.includes('...') && group_by.length > 1) groupBy.fail('cannot have wildcard group_by (`...`) and other labels at the same time');
    for (const l of group_by) if (l !== '...' && !/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(l)) groupBy.fail(`invalid label name "${l}" in group_by list`);
    if (new Set(group_by).size !== group_by.length) groupBy.fail('duplicated label in group_by');
  }
  const route: RouteConfig = {
    receiver: r.string('receiver'),
    group_by,
    matchers: [...matcherList(r, 'matchers'), ...legacyMatch(r, 'match', 'match_re')],
    continue: r.bool('continue') ?? false,
    group_wait: r.duration('group_wait'),
    group_interval: r.duration('group_interval'),
    repeat_interval: r.duration('repeat_interval'),
    routes: r.maps('routes', readRoute),
  };
  if (route.group_interval === 0) r.fail('group_interval cannot be zero', 'group_interval');
  if (route.repeat_interval === 0) r.fail('repeat_interval cannot be zero', 'repeat_interval');
  r.get('mute_time_intervals');
  r.get('active_time_intervals');
  return route;
}

function readReceiver(r: FieldReader): ReceiverConfig {
  const name = r.require('name').string();
  const webhook_configs = r.maps('webhook_configs', (w) => {
    w.get('url')?.url(['http:', 'https:']);
    const url = readSecretField(w, 'url', 'url_file', true).value!;
    if (!w.has('url') && !/^https?:\/\/[^/]/.test(url)) w.fail('the URL in url_file must be an absolute http:// or https:// URL', 'url_file');
    w.get('http_config');
    return { url, send_resolved: w.bool('send_resolved') ?? true, max_alerts: w.count('max_alerts') ?? 0 };
  });
  const email_configs = r.maps('email_configs', (e) => {
    const to = e.require('to').string();
    const from = e.require('from').string();
    const smart = e.require('smarthost');
    const smarthost = smart.string();
    if (!/^(?:\[[^\]]+\]|[^:]+):\d+$/.test(smarthost)) smart.fail(`invalid smarthost "${smarthost}": must be host:port`);
    return {
      to, from, smarthost,
      hello: e.string('hello') ?? 'localhost',
      auth_username: e.string('auth_username'),
      auth_password: readSecretField(e, 'auth_password', 'auth_password_file', false).value,
      require_tls: e.bool('require_tls') ?? true,
      send_resolved: e.bool('send_resolved') ?? false,
      headers: e.get('headers')?.stringMap() ?? {},
      html: e.string('html'),
      text: e.string('text'),
    };
  });
  for (const other of ['slack_configs', 'pagerduty_configs', 'opsgenie_configs', 'pushover_configs', 'victorops_configs', 'wechat_configs', 'telegram_configs', 'sns_configs', 'webex_configs', 'discord_configs', 'msteams_configs']) {
    if (r.has(other)) r.fail(`${other} are not supported by Vigil's notifier: forward to an Alertmanager (alerting.alertmanagers) or use a webhook`, other);
  }
  return { name, webhook_configs, email_configs };
}
