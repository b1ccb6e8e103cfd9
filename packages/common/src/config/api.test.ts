import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from '../errors.js';
import { parseAgentConfig } from './agent.js';
import { listenAuthProblem } from './api.js';
import { hubListenProblem, parseHubConfig } from './hub.js';
import { redactSecrets, SECRET } from './redact.js';

const HASH = '$2y$10$' + 'a'.repeat(53);
const TOKEN = 'abcdefghijklmnop';

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

t.test('api section: tokens with scopes, token files, insecure_open, body limit', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-api-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'w.token'), `${TOKEN}-file\n`);
  const file = path.join(dir, 'hub.yml');
  const text = `api:\n  tokens:\n    - { token: ${TOKEN}, scopes: [read] }\n    - { token_file: w.token, scopes: [read, write] }\n  max_body_bytes: 1MiB\n`;
  const cfg = parseHubConfig(text, file);
  t.same(cfg.api.tokens, [{ token: TOKEN, scopes: ['read'] }, { token: `${TOKEN}-file`, token_file: path.join(dir, 'w.token'), scopes: ['read', 'write'] }]);
  t.equal(cfg.api.max_body_bytes, 1 << 20);
  t.equal(cfg.api.insecure_open, false);
  t.equal(parseAgentConfig('').api.max_body_bytes, 16 << 20, 'agent default 16 MiB');
  t.equal(parseAgentConfig('api:\n  insecure_open: true\n').api.insecure_open, true);

  t.match(errorOf(() => parseHubConfig('api:\n  tokens:\n    - { token: x, scopes: [read] }\n')), { line: 3, message: /too short \(1 characters\)/ });
  t.match(errorOf(() => parseHubConfig(`api:\n  tokens:\n    - { token: ${TOKEN} }\n`)), { line: 3, message: /missing required field "scopes"/ });
  t.match(errorOf(() => parseHubConfig(`api:\n  tokens:\n    - token: ${TOKEN}\n      scopes: [root]\n`)), { line: 4, message: /unknown scope "root"/ });
  t.match(errorOf(() => parseHubConfig('api:\n  tokens:\n    - token_file: /nonexistent/t\n      scopes: [read]\n')), { line: 3, message: /cannot read token_file "\/nonexistent\/t".*ENOENT/ });
  t.match(errorOf(() => parseHubConfig(`api:\n  tokens:\n    - { token: ${TOKEN}, scopes: [read] }\n    - { token: ${TOKEN}, scopes: [write] }\n`)), { line: 4, message: /twice/ });
  t.match(errorOf(() => parseHubConfig('retention: 0s\n')), { line: 1, message: /retention must be longer than 0/ });
  t.match(errorOf(() => parseHubConfig('tls: { cert_file: /nonexistent/c.pem, key_file: /nonexistent/k.pem }\n')), { line: 1, message: /cannot read cert_file/ });
});

t.test('web config file: basic_auth_users and tls_server_config, errors with its own file:line', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-web-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'c.pem'), '');
  fs.writeFileSync(path.join(dir, 'k.pem'), '');
  fs.writeFileSync(path.join(dir, 'web.yml'), `basic_auth_users:\n  bob: '${HASH}'\ntls_server_config:\n  cert_file: c.pem\n  key_file: k.pem\n`);
  const cfg = parseAgentConfig('api:\n  web_config_file: web.yml\n', path.join(dir, 'agent.yml'));
  t.same(cfg.api.basic_auth_users, { bob: HASH });
  t.same(cfg.api.tls_server_config, { cert_file: path.join(dir, 'c.pem'), key_file: path.join(dir, 'k.pem'), client_auth_type: 'NoClientCert' });
  t.equal(cfg.api.web_config_file, path.join(dir, 'web.yml'));
  fs.writeFileSync(path.join(dir, 'bad.yml'), 'tls_server_config:\n  cert_file: missing.pem\n  key_file: k.pem\n');
  const err = errorOf(() => parseAgentConfig('api:\n  web_config_file: bad.yml\n', path.join(dir, 'agent.yml')));
  t.equal(err.file, path.join(dir, 'bad.yml'));
  t.equal(err.line, 2);
  t.match(errorOf(() => parseAgentConfig('api:\n  web_config_file: none.yml\n', path.join(dir, 'agent.yml'))), { line: 2, message: /cannot read web_config_file/ });
});

t.test('off loopback needs credentials unless insecure_open; agent tokens long enough', async (t) => {
  const api = parseAgentConfig('').api;
  t.equal(listenAuthProblem('127.0.0.1:9091', api), undefined);
  t.match(listenAuthProblem('0.0.0.0:9091', api), /refusing to listen on 0\.0\.0\.0:9091 \(off loopback\) without credentials/);
  t.match(listenAuthProblem(':9091', api), /off loopback/);
  t.equal(listenAuthProblem('0.0.0.0:9091', { ...api, insecure_open: true }), undefined);
  t.equal(listenAuthProblem('0.0.0.0:9091', { ...api, tokens: [{ token: TOKEN, scopes: ['read'] }] }), undefined);
  const agents = `agents:\n  tokens:\n    - { token: ${TOKEN}, datacenter: a }\n`;
  t.match(errorOf(() => parseHubConfig(`listen: 0.0.0.0:9090\n${agents}`)), { line: 1, message: /without credentials/ });
  t.match(errorOf(() => parseHubConfig(`listen: 0.0.0.0:9090\nagents:\n  tokens: [{ token: x }]\napi: { insecure_open: true }\n`)), { line: 1, message: /agent token of 1 characters/ });
  const open = parseHubConfig(`listen: 0.0.0.0:9090\n${agents}api:\n  insecure_open: true\n`);
  t.equal(hubListenProblem(open), undefined);
  t.equal(parseHubConfig(`${agents}api:\n  tokens: [{ token: x-${TOKEN}, scopes: [read] }]\n`).listen, '127.0.0.1:9090');
});

t.test('secrets print as <secret>', async (t) => {
  const config = {
    agents: { tokens: [{ token: 'agent-secret', datacenter: 'a' }] },
    api: { basic_auth_users: { admin: HASH }, tokens: [{ token: 'api-secret', token_file: '/etc/t', scopes: ['read'] }] },
    alerting: {
      alertmanagers: [{ url: 'http://am:9093' }],
      receivers: [{
        name: 'r',
        webhook_configs: [{ url: 'https://hooks.example/T0/B0/xyzzy', http_config: { bearer_token: 'bt', basic_auth: { username: 'u', password: 'p' } } }],
        email_configs: [{ to: 'a@b', auth_username: 'u', auth_password: 'mail-secret' }],
        slack_configs: [{ api_url: 'https://slack/secret' }],
      }],
    },
    remote_write: [{ url: 'https://user:pw@rw.example/api/v1/write', authorization: { credentials: 'cred' }, oauth2: { client_secret: 'cs' } }],
  };
  const out = JSON.stringify(redactSecrets(config));
  for (const secret of ['agent-secret', HASH, 'api-secret', 'xyzzy', '"bt"', '"p"', 'mail-secret', 'slack/secret', 'pw@', '"cred"', '"cs"']) {
    t.notOk(out.includes(secret), `${secret} hidden`);
  }
  const r = redactSecrets(config) as typeof config;
  t.equal(r.api.tokens[0]!.token, SECRET);
  t.equal(r.api.tokens[0]!.token_file, '/etc/t', 'file paths are not secrets');
  t.equal(r.alerting.alertmanagers[0]!.url, 'http://am:9093', 'plain URLs stay');
  t.equal(r.remote_write[0]!.url, `https://user:${SECRET}@rw.example/api/v1/write`);
  t.equal(r.alerting.receivers[0]!.email_configs[0]!.auth_username, 'u');
});
