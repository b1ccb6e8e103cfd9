import t, { type Test } from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from '../errors.js';
import { defaultAgentConfig, loadAgentConfig, parseAgentConfig } from './agent.js';
import { defaultHubConfig, loadHubConfig, parseHubConfig } from './hub.js';
import { isLoopbackListen } from './listen.js';
import { ConfigSource } from './reader.js';

/** Asserts that `fn` throws a ConfigError at `line` whose message matches `re`. */
function throwsAt(t: Test, fn: () => unknown, line: number, re: RegExp): void {
  try {
    fn();
  } catch (err) {
    t.type(err, ConfigError);
    const e = err as ConfigError;
    t.equal(e.line, line, `line of: ${e.message}`);
    t.match(e.message, re);
    return;
  }
  t.fail('expected a ConfigError');
}

const FULL_AGENT = `
global:
  scrape_interval: 30s
  external_labels:
    region: eu
scrape_configs:
  - job_name: node
    static_configs:
      - targets: ['h1:9100', 'h2:9100']
        labels: { rack: r1 }
  - job_name: app
    scrape_interval: 5s
    metrics_path: /m
    scheme: https
    params: { module: [if_mib] }
    honor_labels: true
    honor_timestamps: false
    basic_auth: { username: u, password_file: secret.txt }
    tls_config: { ca_file: ca.pem, insecure_skip_verify: true }
    sample_limit: 1000
    file_sd_configs:
      - files: ['sd/*.json']
    http_sd_configs:
      - url: http://127.0.0.1:8000/sd
    dns_sd_configs:
      - names: [_x._tcp.example.org]
      - names: [db.example.org]
        type: A
        port: 9187
    relabel_configs:
      - source_labels: [__address__]
        regex: '(.*):\\d+'
        target_label: host
      - action: hashmod
        source_labels: [__address__]
        modulus: 4
        target_label: __tmp_hash
      - action: labeldrop
        regex: tmp_.*
    metric_relabel_configs:
      - action: drop
        source_labels: [__name__]
        regex: go_.*
hub:
  url: wss://hub.example.org:9090
  token_file: token
buffer: { max_bytes: 512MiB, max_age: 2d }
host_exporter: { enabled: false, interval: 10s }
push: { ttl: 1h }
`;

t.test('a full agent config reads with resolved paths and Prometheus defaults', async (t) => {
  const cfg = parseAgentConfig(FULL_AGENT, '/etc/vigil/agent.yml');
  t.equal(cfg.file, '/etc/vigil/agent.yml');
  t.same(cfg.global, { scrape_interval: 30_000, scrape_timeout: 10_000, external_labels: { region: 'eu' } });
  const [node, app] = cfg.scrape_configs;
  t.equal(node!.scrape_interval, 30_000);
  t.equal(node!.scrape_timeout, 10_000);
  t.equal(node!.metrics_path, '/metrics');
  t.equal(node!.scheme, 'http');
  t.equal(node!.honor_timestamps, true);
  t.same(node!.static_configs, [{ targets: ['h1:9100', 'h2:9100'], labels: { rack: 'r1' } }]);
  t.equal(app!.scrape_interval, 5000);
  t.equal(app!.scrape_timeout, 5000, 'timeout capped at the job interval');
  t.equal(app!.scheme, 'https');
  t.same(app!.params, { module: ['if_mib'] });
  t.same(app!.basic_auth, { username: 'u', password_file: '/etc/vigil/secret.txt' });
  t.same(app!.tls_config, { ca_file: '/etc/vigil/ca.pem', insecure_skip_verify: true });
  t.same(app!.file_sd_configs, [{ files: ['/etc/vigil/sd/*.json'], refresh_interval: 300_000 }]);
  t.same(app!.http_sd_configs, [{ url: 'http://127.0.0.1:8000/sd', refresh_interval: 60_000 }]);
  t.same(app!.dns_sd_configs, [
    { names: ['_x._tcp.example.org'], type: 'SRV', refresh_interval: 30_000 },
    { names: ['db.example.org'], type: 'A', port: 9187, refresh_interval: 30_000 },
  ]);
  t.same(app!.relabel_configs[0], { source_labels: ['__address__'], separator: ';', target_label: 'host', regex: '(.*):\\d+', modulus: 0, replacement: '$1', action: 'replace' });
  t.equal(app!.relabel_configs[1]!.action, 'hashmod');
  t.equal(app!.metric_relabel_configs[0]!.regex, 'go_.*');
  t.same(cfg.hub, { url: 'wss://hub.example.org:9090', token_file: '/etc/vigil/token' });
  t.same(cfg.buffer, { max_bytes: 512 * 1024 ** 2, max_age: 2 * 86_400_000 });
  t.same(cfg.host_exporter, { enabled: false, interval: 10_000 });
  t.same(cfg.push, { ttl: 3_600_000 });
});

t.test('an empty agent config is the defaults', async (t) => {
  t.same(parseAgentConfig(''), defaultAgentConfig());
  const d = defaultAgentConfig();
  t.equal(d.global.scrape_interval, 15_000);
  t.equal(d.global.scrape_timeout, 10_000);
  t.equal(d.hub.url, 'ws://127.0.0.1:9090');
  t.equal(d.buffer.max_bytes, 1024 ** 3);
  t.equal(d.host_exporter.enabled, true);
  const small = parseAgentConfig('global: { scrape_interval: 5s }');
  t.equal(small.global.scrape_timeout, 5000, 'global timeout follows a shorter global interval');
});

t.test('YAML syntax errors name the line', async (t) => {
  throwsAt(t, () => parseAgentConfig('global:\n  scrape_interval: 15s\n bad: [\n'), 3, /cannot parse YAML/);
  throwsAt(t, () => parseAgentConfig('global: {}\nglobal: {}\n'), 2, /unique/i);
});

t.test('unknown fields are refused at their line', async (t) => {
  throwsAt(t, () => parseAgentConfig('global:\n  scrape_intervl: 15s\n'), 2, /unknown field "scrape_intervl" in global/);
  throwsAt(t, () => parseAgentConfig('scrape_configs:\n  - job_name: a\n    static_configs:\n      - targets: [a:1]\n        lables: {}\n'), 5, /unknown field "lables" in scrape_configs\[0\]\.static_configs\[0\]/);
  throwsAt(t, () => parseAgentConfig('x: 1\n'), 1, /unknown field "x"/);
  throwsAt(t, () => parseAgentConfig('\nrule_files: [a.yml]\n'), 2, /not used by the agent/);
});

t.test('wrong types and bad durations are refused at the value', async (t) => {
  throwsAt(t, () => parseAgentConfig('scrape_configs:\n  - job_name: a\n    honor_labels: maybe\n'), 3, /honor_labels must be true or false/);
  throwsAt(t, () => parseAgentConfig('scrape_configs: {}\n'), 1, /scrape_configs must be a list/);
  throwsAt(t, () => parseAgentConfig('global:\n  scrape_interval: 15x\n'), 2, /invalid duration "15x" for global\.scrape_interval/);
  throwsAt(t, () => parseAgentConfig('scrape_configs:\n  - job_name: a\n    sample_limit: -1\n'), 3, /non-negative integer/);
  throwsAt(t, () => parseAgentConfig('buffer:\n  max_bytes: lots\n'), 2, /invalid size/);
  throwsAt(t, () => parseAgentConfig('scrape_configs:\n  - job_name: a\n    scheme: ftp\n'), 3, /must be one of http, https/);
});

t.test('relabel configs are validated as Prometheus does', async (t) => {
  const job = (rc: string) => `scrape_configs:\n  - job_name: a\n    relabel_configs:\n${rc}`;
  throwsAt(t, () => parseAgentConfig(job('      - source_labels: [a]\n        regex: "a("\n        target_label: b\n')), 5, /invalid regex "a\("/);
  // RE2, as Prometheus: no lookaround, no backreferences, no (?<name>...) in Go 1.19
  throwsAt(t, () => parseAgentConfig(job('      - source_labels: [a]\n        regex: "(?=x)x"\n        target_label: b\n')), 5, /invalid regex "\(\?=x\)x" .*: error parsing regexp: invalid or unsupported Perl syntax: `\(\?=`/);
  throwsAt(t, () => parseAgentConfig(job('      - source_labels: [a]\n        regex: "(a)\\\\1"\n        target_label: b\n')), 5, /error parsing regexp: invalid escape sequence: `\\1`/);
  throwsAt(t, () => parseAgentConfig(job('      - action: labeldrop\n        regex: "(?<n>x)"\n')), 5, /invalid or unsupported Perl syntax: `\(\?<`/);
  t.doesNotThrow(() => parseAgentConfig(job('      - source_labels: [a]\n        regex: "[[:alpha:]]+|\\\\pL|(?i:PRO).*|(?P<n>x)"\n        target_label: b\n')));
  throwsAt(t, () => parseAgentConfig(job('      - source_labels: [a]\n        action: replace\n')), 5, /requires 'target_label' value/);
  throwsAt(t, () => parseAgentConfig(job('      - source_labels: [a]\n        action: hashmod\n        target_label: h\n')), 5, /hashmod requires non-zero modulus/);
  throwsAt(t, () => parseAgentConfig(job('      - source_labels: [a-b]\n        target_label: c\n')), 4, /"a-b" is not a valid label name/);
  throwsAt(t, () => parseAgentConfig(job('      - action: labeldrop\n        regex: x\n        target_label: y\n')), 6, /requires only 'regex'/);
  throwsAt(t, () => parseAgentConfig(job('      - action: frobnicate\n')), 4, /unknown relabel action "frobnicate"/);
  const ok = parseAgentConfig(job('      - action: Keep\n        source_labels: [a]\n        regex: x\n'));
  t.equal(ok.scrape_configs[0]!.relabel_configs[0]!.action, 'keep', 'actions are case-insensitive');
});

t.test('job names, label names and targets are checked', async (t) => {
  throwsAt(t, () => parseAgentConfig('scrape_configs:\n  - job_name: a\n  - job_name: a\n'), 3, /multiple scrape configs with job name "a"/);
  throwsAt(t, () => parseAgentConfig('scrape_configs:\n  - scrape_interval: 5s\n'), 2, /job_name is empty/);
  throwsAt(t, () => parseAgentConfig('global:\n  external_labels:\n    1dc: x\n'), 3, /"1dc" is not a valid label name/);
  throwsAt(t, () => parseAgentConfig('scrape_configs:\n  - job_name: a\n    static_configs:\n      - targets:\n        - http://h:9100/metrics\n'), 5, /not a valid hostname/);
  throwsAt(t, () => parseAgentConfig('scrape_configs:\n  - job_name: a\n    scrape_interval: 5s\n    scrape_timeout: 10s\n'), 4, /scrape timeout greater than scrape interval/);
  throwsAt(t, () => parseAgentConfig('scrape_configs:\n  - job_name: a\n    dns_sd_configs:\n      - names: [x]\n        type: A\n'), 5, /port is required/);
  throwsAt(t, () => parseAgentConfig('hub:\n  url: http://h:9090\n'), 2, /ws:\/\/ or wss:\/\//);
  throwsAt(t, () => parseAgentConfig('scrape_configs:\n  - job_name: a\n    bearer_token: x\n    basic_auth: { username: u }\n'), 4, /at most one of basic_auth/);
});

t.test('hub config: full file, defaults, token files and relative paths', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-config-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'dc1.token'), 's3cret-of-dc1-and-more\n');
  fs.mkdirSync(path.join(dir, 'tls'));
  fs.writeFileSync(path.join(dir, 'tls/c.pem'), '');
  fs.writeFileSync(path.join(dir, 'tls/k.pem'), '');
  const hash = '$2y$10$' + 'a'.repeat(53);
  fs.writeFileSync(path.join(dir, 'hub.yml'), `
listen: 0.0.0.0:9090
data_dir: data
retention: 30d
retention_size: 10GB
agents:
  tokens:
    - token_file: dc1.token
      datacenter: dc1
    - token: plain-but-long-enough
api:
  basic_auth_users: { admin: '${hash}' }
tls: { cert_file: tls/c.pem, key_file: tls/k.pem }
rule_files: ['rules/*.yml']
evaluation_interval: 30s
alerting:
  alertmanagers:
    - url: http://am:9093
    - static_configs: [{ targets: ['am2:9093'] }]
  route: { receiver: web, group_by: [alertname] }
  receivers: [{ name: web, webhook_configs: [{ url: 'http://127.0.0.1:5001/' }] }]
remote_write: [{ url: 'http://x/api/v1/write' }]
limits: { max_series_per_agent: 5000 }
`);
  const cfg = await loadHubConfig(path.join(dir, 'hub.yml'));
  t.equal(cfg.listen, '0.0.0.0:9090');
  t.equal(cfg.data_dir, path.join(dir, 'data'));
  t.equal(cfg.retention, 30 * 86_400_000);
  t.equal(cfg.retention_size, 10 * 1024 ** 3);
  t.same(cfg.agents.tokens, [{ token: 's3cret-of-dc1-and-more', datacenter: 'dc1' }, { token: 'plain-but-long-enough' }]);
  t.same(cfg.api.basic_auth_users, { admin: hash });
  t.same(cfg.tls, { cert_file: path.join(dir, 'tls/c.pem'), key_file: path.join(dir, 'tls/k.pem') });
  t.same(cfg.rule_files, [path.join(dir, 'rules/*.yml')]);
  t.equal(cfg.evaluation_interval, 30_000);
  t.same(cfg.alerting.alertmanagers, [{ url: 'http://am:9093' }, { url: 'http://am2:9093' }]);
  t.same(cfg.alerting.route, { receiver: 'web', group_by: ['alertname'] });
  t.equal(cfg.alerting.receivers?.length, 1);
  t.same(cfg.remote_write, [{ url: 'http://x/api/v1/write' }]);
  t.equal(cfg.limits.max_series_per_agent, 5000);
  t.equal(cfg.limits.max_labels_per_series, 64);
  t.same(parseHubConfig('# nothing\n'), defaultHubConfig());
});

t.test('hub config errors name file and line', async (t) => {
  throwsAt(t, () => parseHubConfig('data_dir: x\nlisten: 0.0.0.0:9090\n'), 2, /refusing to listen on 0\.0\.0\.0:9090/);
  throwsAt(t, () => parseHubConfig('listen: ":9090"\n'), 1, /off loopback/);
  t.equal(parseHubConfig('listen: "[::1]:9090"\n').listen, '[::1]:9090');
  throwsAt(t, () => parseHubConfig('listen: nowhere\n'), 1, /invalid listen address/);
  throwsAt(t, () => parseHubConfig('agents:\n  tokens:\n    - token_file: /nonexistent/vigil.token\n'), 3, /cannot read token_file/);
  throwsAt(t, () => parseHubConfig('api:\n  basic_auth_users:\n    admin: plaintext\n'), 3, /bcrypt/);
  throwsAt(t, () => parseHubConfig('retention: 15days\n'), 1, /invalid duration/);
  throwsAt(t, () => parseHubConfig('limits:\n  max_series: 5\n'), 2, /unknown field "max_series" in limits/);
  try {
    parseHubConfig('a: 1\n', '/etc/vigil/hub.yml');
    t.fail('expected an error');
  } catch (err) {
    t.equal((err as ConfigError).message, '/etc/vigil/hub.yml:1: unknown field "a" in the configuration');
  }
  await t.rejects(loadAgentConfig('/nonexistent/agent.yml'), { code: 'ERR_CONFIG' });
  t.ok(isLoopbackListen('localhost:1'));
  t.notOk(isLoopbackListen('10.0.0.1:1'));
});

t.test('the field reader serves other config formats', async (t) => {
  const root = ConfigSource.parse('groups:\n  - name: g\n    interval: 1m\n    extra: 1\n', 'r.yml');
  const groups = root.list('groups')!;
  const g = groups[0]!.map();
  t.equal(g.string('name'), 'g');
  t.equal(g.duration('interval'), 60_000);
  t.throws(() => g.done(), { message: 'r.yml:4: unknown field "extra" in groups[0]' });
});
