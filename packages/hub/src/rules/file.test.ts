import t from 'tap';
import { parseRuleFile } from './file.js';

const checkExpr = (e: string) => { if (e.includes('((')) throw new Error('unclosed left parenthesis'); };

t.test('parses recording and alerting rules with Prometheus field names', async (t) => {
  const groups = parseRuleFile([
    'groups:',
    '  - name: node',
    '    interval: 30s',
    '    rules:',
    '      - record: instance:node_cpu:rate5m',
    '        expr: rate(node_cpu_seconds_total[5m])',
    '      - alert: HostDown',
    '        expr: up == 0',
    '        for: 5m',
    '        keep_firing_for: 1m',
    '        labels: { severity: page }',
    '        annotations: { summary: "{{ $labels.instance }} is down" }',
  ].join('\n'), 'r.yml', checkExpr);
  t.equal(groups.length, 1);
  t.equal(groups[0]!.interval, 30_000);
  t.equal(groups[0]!.rules[0]!.record, 'instance:node_cpu:rate5m');
  t.equal(groups[0]!.rules[1]!.for, 300_000);
  t.equal(groups[0]!.rules[1]!.keep_firing_for, 60_000);
  t.same(groups[0]!.rules[1]!.labels, { severity: 'page' });
});

t.test('errors name the file and line', async (t) => {
  t.throws(() => parseRuleFile('groups:\n  - name: a\n    rules:\n      - record: x\n        expr: sum((up)\n', 'r.yml', checkExpr), /r\.yml:5: could not parse expression/);
  t.throws(() => parseRuleFile('groups:\n  - name: a\n    rules:\n      - expr: up\n', 'r.yml', checkExpr), /r\.yml:4: one of "record" or "alert"/);
  t.throws(() => parseRuleFile('groups:\n  - name: a\n    rules: []\n  - name: a\n    rules: []\n', 'r.yml', checkExpr), /r\.yml:4: groupname: "a" is repeated/);
  t.throws(() => parseRuleFile('groups:\n  - name: a\n    bogus: 1\n', 'r.yml', checkExpr), /r\.yml:3: unknown field "bogus"/);
  t.throws(() => parseRuleFile('groups:\n  - name: a\n    rules:\n      - record: x\n        expr: up\n        for: 1m\n', 'r.yml', checkExpr), /r\.yml:6: invalid field "for"/);
});
