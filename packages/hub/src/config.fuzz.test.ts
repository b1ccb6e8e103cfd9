/**
 * Fuzz tests of configuration files (hub, agent, alerting) and rule files: random YAML documents
 * built from the keys these files use, mutated valid files and random text give a config or a
 * ConfigError naming the file (and the line, where the document has one), never another
 * exception, within a second.
 *
 * FUZZ_RUNS scales the number of cases (default 10,000), FUZZ_SEED replays a failure.
 */
import fc from 'fast-check';
import t from 'tap';
import { ConfigError, parseAgentConfig, parseHubConfig } from '@vigil/common';
import { parseNotifierConfig } from './notifier/config.js';
import { parseExpr } from './promql/parser.js';
import { parseRuleFile } from './rules/file.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 10_000);
// tap's default of 30 s per file is too short for 10,000 cases on a loaded CI machine
t.setTimeout(300_000);
const SEED = Number(process.env.FUZZ_SEED ?? 20261204);
const CASE_LIMIT_MS = 1000;
const FILE = 'fuzz.yml';

const PARSERS: [string, (text: string) => unknown][] = [
  ['hub', (text) => parseHubConfig(text, FILE)],
  ['agent', (text) => parseAgentConfig(text, FILE)],
  ['alerting', (text) => parseNotifierConfig(text, FILE)],
  ['rules', (text) => parseRuleFile(text, FILE, (e) => parseExpr(e))],
];

const stats = { configs: 0, errors: 0 };
function loadsOrRefuses(text: string): void {
  for (const [what, parse] of PARSERS) {
    const start = performance.now();
    try {
      parse(text);
      stats.configs++;
    } catch (err) {
      if (!(err instanceof ConfigError)) throw new Error(`${what}: ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`, { cause: err });
      if (err.file !== FILE) throw new Error(`${what}: a ConfigError without the file: ${err.message}`);
      stats.errors++;
      if (err.line === undefined) throw new Error(`${what}: a ConfigError without the line: ${err.message}`);
    }
    const ms = performance.now() - start;
    if (ms > CASE_LIMIT_MS) throw new Error(`${what}: one case took ${ms.toFixed(0)} ms`);
  }
}

const KEYS = ['global', 'scrape_interval', 'scrape_timeout', 'evaluation_interval', 'external_labels', 'scrape_configs', 'job_name', 'static_configs',
  'targets', 'labels', 'relabel_configs', 'metric_relabel_configs', 'source_labels', 'separator', 'regex', 'replacement', 'action', 'target_label',
  'modulus', 'file_sd_configs', 'files', 'refresh_interval', 'http_sd_configs', 'dns_sd_configs', 'names', 'type', 'port', 'url', 'tls_config',
  'ca_file', 'cert_file', 'key_file', 'insecure_skip_verify', 'basic_auth', 'username', 'password', 'password_file', 'bearer_token',
  'bearer_token_file', 'authorization', 'credentials', 'listen', 'data_dir', 'retention', 'retention_size', 'hub', 'agent', 'id', 'datacenter',
  'token', 'token_file', 'tokens', 'agents', 'push', 'ttl', 'buffer', 'max_size', 'rule_files', 'alerting', 'route', 'receiver', 'receivers',
  'routes', 'matchers', 'group_by', 'group_wait', 'group_interval', 'repeat_interval', 'continue', 'inhibit_rules', 'source_matchers',
  'target_matchers', 'equal', 'webhook_configs', 'email_configs', 'to', 'from', 'smarthost', 'auth_password', 'send_resolved', 'groups', 'name',
  'interval', 'limit', 'rules', 'record', 'alert', 'expr', 'for', 'keep_firing_for', 'annotations', 'query_offset', 'insecure_open', 'web'];
const scalar = fc.oneof(
  fc.constantFrom('15s', '1m', '0s', '-1s', '1y', '99999999999999d', '0', '1', '-1', '1e400', 'true', 'false', 'null', '~', '', 'up', 'sum(x)',
    'sum(', '127.0.0.1:9090', '0.0.0.0:0', ':99999', 'http://127.0.0.1:1/x', 'keep', 'drop', 'replace', 'hashmod', 'labelmap', '(a+)+b', '[',
    'a=~"x"', 'job="a"', '/tmp/x', '*.yml', '.', '..', '10GB', '1KiB', 'x'.repeat(300), '&a', '*a', '!!binary', '{{ $labels.x }}', 'é', '"', "'"),
  fc.integer().map(String), fc.double().map(String), fc.string({ maxLength: 10 }),
);
/** A YAML value tree: scalars, maps of the known keys, lists. */
type Tree = string | Tree[] | { [k: string]: Tree };
const tree: fc.Arbitrary<Tree> = fc.letrec<{ node: Tree }>((tie) => ({
  node: fc.oneof({ depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.dictionary(fc.oneof(fc.constantFrom(...KEYS), fc.string({ maxLength: 5 })), tie('node'), { maxKeys: 5 }),
    fc.array(tie('node'), { maxLength: 4 })),
})).node;
const document = fc.dictionary(fc.constantFrom(...KEYS), tree, { maxKeys: 6 });

/** YAML block style, every scalar quoted or plain at random (plain ones may be YAML errors: that is the point). */
function emit(v: Tree, indent: string, quote: (s: string) => string): string {
  if (typeof v === 'string') return ` ${quote(v)}\n`;
  if (Array.isArray(v)) {
    if (v.length === 0) return ' []\n';
    return '\n' + v.map((x) => `${indent}-${emit(x, indent + '  ', quote).replace(/^\n\s*/, ' ')}`).join('');
  }
  const keys = Object.keys(v);
  if (keys.length === 0) return ' {}\n';
  return '\n' + keys.map((k) => `${indent}${quote(k)}:${emit(v[k]!, indent + '  ', quote)}`).join('');
}
const yamlText = fc.tuple(document, fc.constantFrom('json', 'plain', 'mixed')).map(([d, style]) => {
  let n = 0;
  const quote = (s: string): string => (style === 'json' || (style === 'mixed' && n++ % 2 === 0) ? JSON.stringify(s) : s);
  return emit(d, '', quote).replace(/^\n/, '');
});

const VALID = [
  'listen: 127.0.0.1:9090\ndata_dir: /tmp/vigil-fuzz\nretention: 15d\nevaluation_interval: 30s\nrule_files: ["/tmp/vigil-fuzz/*.yml"]\n',
  'hub:\n  url: ws://127.0.0.1:9090\n  token: abcdefghijklmnop\npush:\n  ttl: 1h\nscrape_configs:\n  - job_name: node\n    scrape_interval: 10s\n    file_sd_configs:\n      - files: ["/tmp/*.json"]\n',
  'route:\n  receiver: team\n  group_by: [alertname]\n  routes:\n    - matchers: [\'severity="page"\']\n      receiver: pager\nreceivers:\n  - name: team\n    webhook_configs:\n      - url: http://127.0.0.1:5001/\n  - name: pager\ninhibit_rules:\n  - source_matchers: [severity="page"]\n    target_matchers: [severity="warn"]\n    equal: [job]\n',
  'groups:\n  - name: g\n    interval: 30s\n    rules:\n      - record: job:up:sum\n        expr: sum by (job) (up)\n      - alert: Down\n        expr: up == 0\n        for: 5m\n        labels:\n          severity: page\n        annotations:\n          summary: "{{ $labels.job }} is down"\n',
];
const edit = fc.record({ at: fc.nat(), kind: fc.nat(3), text: fc.oneof(fc.constantFrom('\n', ' ', '  ', '- ', ': ', '"', "'", '{', '[', '#', '&x ', '*x', '\t', '|', '>', '---\n', '...'), fc.string({ maxLength: 4 })), len: fc.integer({ min: 1, max: 10 }) });
function mutate(s0: string, es: readonly { at: number; kind: number; text: string; len: number }[]): string {
  let s = s0;
  for (const e of es) {
    const at = e.at % (s.length + 1);
    if (e.kind === 0) s = s.slice(0, at) + e.text + s.slice(at);
    else if (e.kind === 1) s = s.slice(0, at) + s.slice(at + e.len);
    else if (e.kind === 2) s = s.slice(0, at) + e.text + s.slice(at + e.text.length);
    else s = s.slice(0, at) + s.slice(at, at + e.len * 4) + s.slice(at);
  }
  return s;
}

t.test('the valid files load', async (t) => {
  t.ok(parseHubConfig(VALID[0]!, FILE));
  t.ok(parseAgentConfig(VALID[1]!, FILE));
  t.ok(parseNotifierConfig(VALID[2]!, FILE));
  t.equal(parseRuleFile(VALID[3]!, FILE, (e) => parseExpr(e)).length, 1);
});

t.test('random YAML documents: a config or a ConfigError with the file', async (t) => {
  fc.assert(fc.property(yamlText, loadsOrRefuses), { numRuns: RUNS, seed: SEED, includeErrorInReport: true });
  t.pass(`${RUNS} documents, each given to 4 loaders: ${JSON.stringify(stats)}`);
});

t.test('mutated valid files and random text: a config or a ConfigError with the file', async (t) => {
  fc.assert(fc.property(fc.constantFrom(...VALID), fc.array(edit, { minLength: 1, maxLength: 4 }), (v, es) => loadsOrRefuses(mutate(v, es))),
    { numRuns: RUNS, seed: SEED, includeErrorInReport: true });
  fc.assert(fc.property(fc.string({ maxLength: 60 }), loadsOrRefuses), { numRuns: RUNS / 2, seed: SEED, includeErrorInReport: true });
  t.pass(`${RUNS * 1.5} texts: ${JSON.stringify(stats)}`);
});
