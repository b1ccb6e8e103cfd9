// `vigil-hub check-rules` refuses the regexes `promtool check rules` refuses (RE2: no lookaround, no
// backreferences) and accepts RE2's own syntax. Where promtool is installed, its verdicts are checked too.
import t from 'tap';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseExpr } from '../promql/parser.js';
import { checkRuleFile } from './file.js';

const PROMTOOL = '/usr/bin/promtool';
const run = promisify(execFile);

/** [expr, valid?, what the error says] */
const CASES: [string, boolean, RegExp?][] = [
  ['up{job=~"(?=x)x"}', false, /rules-0\.yml:5: could not parse expression: 1:4: parse error: error parsing regexp: invalid or unsupported Perl syntax: `\(\?=`/],
  ['up{job=~"(?!x)y"}', false, /invalid or unsupported Perl syntax: `\(\?!`/],
  ['up{job=~"(?<=x)y"}', false, /invalid or unsupported Perl syntax: `\(\?<`/],
  ['up{job=~"(a)\\\\1"}', false, /invalid escape sequence: `\\1`/],
  ['up{job=~"(?<name>a)"}', false, /invalid or unsupported Perl syntax: `\(\?<`/],
  ['up{job=~"a{1001}"}', false, /invalid repeat count/],
  ['up{job!~"a**"}', false, /invalid nested repetition operator/],
  ['up{job=~"(?P<name>a)"}', true],
  ['up{job=~"[[:alpha:]]+"}', true],
  ['up{job=~"\\\\pL+"}', true],
  ['up{job=~"(?i:PRO).*"}', true],
  ['{__name__=~"(.*)*x"}', true],
  ['label_replace(up, "a", "$1", "job", "(a+)+b")', true],
];

function ruleFile(dir: string, i: number, expr: string): string {
  const file = join(dir, `rules-${i}.yml`);
  writeFileSync(file, `groups:\n  - name: g\n    rules:\n      - record: r\n        expr: ${JSON.stringify(expr)}\n`);
  return file;
}

const dir = mkdtempSync(join(tmpdir(), 'vigil-rules-regex-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('check-rules refuses non-RE2 regexes and accepts RE2 syntax', async (t) => {
  for (const [i, [expr, valid, message]] of CASES.entries()) {
    const errors = await checkRuleFile(ruleFile(dir, i, expr), (e) => void parseExpr(e));
    if (valid) t.same(errors, [], expr);
    else {
      t.equal(errors.length, 1, expr);
      t.match(errors[0], message!, expr);
    }
  }
});

t.test('promtool gives the same verdicts', { skip: existsSync(PROMTOOL) ? false : `promtool not installed at ${PROMTOOL} (Debian package prometheus)` }, async (t) => {
  for (const [i, [expr, valid]] of CASES.entries()) {
    const file = ruleFile(dir, i, expr);
    const ok = await run(PROMTOOL, ['check', 'rules', file], { timeout: 20_000 }).then(() => true, () => false);
    t.equal(ok, valid, `promtool check rules: ${expr}`);
  }
});
