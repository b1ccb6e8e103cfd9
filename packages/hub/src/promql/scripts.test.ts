// Runs every PromQL test script under src/promql/testdata/ (read from the source tree).
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runScript } from './testing/script.js';

const dir = fileURLToPath(new URL('../../src/promql/testdata/', import.meta.url));

for (const file of readdirSync(dir).filter((f) => f.endsWith('.test')).sort()) {
  await t.test(`promql script ${file}`, async (t) => {
    const { evals, failures } = await runScript(readFileSync(dir + file, 'utf8'));
    for (const f of failures) t.fail(`${file}:${f.line}: ${f.command}: ${f.message}`);
    t.ok(evals > 0, `${file} ran ${evals} evals`);
  });
}

t.test('script driver expands series notation', async (t) => {
  const { expandValues } = await import('./testing/script.js');
  t.same(expandValues(['0+10x2', '_', 'stale', '1x1', '5-1x2', '_x2']), [0, 10, 20, null, 'stale', 1, 1, 5, 4, 3, null, null]);
});

t.test('script driver reports a wrong expectation', async (t) => {
  const { failures } = await runScript('load 1m\n  m 1\n\neval instant at 0 m\n  m 2\n');
  t.equal(failures.length, 1);
  t.match(failures[0]!.message, /expected 2, got 1/);
});
