// The RE2 cases of testdata/regex.test answer as Prometheus does: the script is turned into a
// `promtool test rules` unit test (same series notation) and run by Prometheus' own evaluator.
// scripts.test.ts runs the same script through Vigil. Runs only where promtool is installed.
import t from 'tap';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const PROMTOOL = '/usr/bin/promtool';
const run = promisify(execFile);
const SCRIPT = fileURLToPath(new URL('../../src/promql/testdata/regex.test', import.meta.url));

interface Eval { fail: boolean; at: string; expr: string; expected: { labels: string; value: string }[] }

/** The subset of the script language regex.test uses: one `load`, then instant evals. */
function parseScript(text: string): { interval: string; series: { labels: string; values: string }[]; evals: Eval[] } {
  const lines = text.split('\n');
  let interval = '1m';
  const series: { labels: string; values: string }[] = [];
  const evals: Eval[] = [];
  const split = (l: string) => { const k = l.trimEnd().lastIndexOf(' '); return [l.slice(0, k).trim(), l.slice(k + 1).trim()] as const; };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const body: string[] = [];
    while (i + 1 < lines.length && /^\s+\S/.test(lines[i + 1]!)) body.push(lines[++i]!.trim());
    const load = /^load\s+(\S+)$/.exec(line);
    if (load) {
      interval = load[1]!;
      for (const b of body) { const [labels, values] = split(b); series.push({ labels, values }); }
      continue;
    }
    const ev = /^(eval|eval_fail)\s+instant\s+at\s+(\S+)\s+(.+)$/.exec(line);
    if (ev) evals.push({ fail: ev[1] === 'eval_fail', at: ev[2]!, expr: ev[3]!, expected: body.map((b) => { const [labels, value] = split(b); return { labels, value }; }) });
  }
  return { interval, series, evals };
}

function unitTest(interval: string, series: { labels: string; values: string }[], evals: Eval[]): string {
  const out = ['rule_files: []', 'evaluation_interval: 1m', 'tests:', `  - interval: ${interval}`, '    input_series:'];
  for (const s of series) out.push(`      - series: ${JSON.stringify(s.labels)}`, `        values: ${JSON.stringify(s.values)}`);
  out.push('    promql_expr_test:');
  for (const e of evals) {
    out.push(`      - expr: ${JSON.stringify(e.expr)}`, `        eval_time: ${e.at}`, `        exp_samples:${e.expected.length ? '' : ' []'}`);
    for (const x of e.expected) out.push(`          - labels: ${JSON.stringify(x.labels)}`, `            value: ${x.value}`);
  }
  return out.join('\n') + '\n';
}

if (!existsSync(PROMTOOL)) {
  t.test('regex.test against promtool', { skip: `promtool not installed at ${PROMTOOL} (Debian package prometheus)` }, async () => {});
} else {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-regex-promtool-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const { interval, series, evals } = parseScript(readFileSync(SCRIPT, 'utf8'));
  const promtool = async (name: string, cases: Eval[]) => {
    const file = join(dir, name);
    writeFileSync(file, unitTest(interval, series, cases));
    return run(PROMTOOL, ['test', 'rules', file], { timeout: 30_000 }).then(
      (r) => ({ ok: true, out: r.stdout + r.stderr }),
      (err: { stdout?: string; stderr?: string }) => ({ ok: false, out: `${err.stdout ?? ''}${err.stderr ?? ''}` }),
    );
  };

  t.test('promtool gives the answers regex.test expects', async (t) => {
    const good = evals.filter((e) => !e.fail);
    t.ok(good.length >= 10, `${good.length} evals`);
    const res = await promtool('answers.yml', good);
    t.ok(res.ok, res.out);
  });

  t.test('promtool refuses what regex.test expects to fail', async (t) => {
    const bad = evals.filter((e) => e.fail);
    t.ok(bad.length >= 4, `${bad.length} eval_fail cases`);
    for (const [i, e] of bad.entries()) {
      const res = await promtool(`fail-${i}.yml`, [{ ...e, fail: false }]);
      t.notOk(res.ok, e.expr);
      t.match(res.out, /err: .*(error parsing regexp|invalid regular expression)/, e.expr);
    }
  });
}
