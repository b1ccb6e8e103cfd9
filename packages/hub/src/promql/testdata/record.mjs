#!/usr/bin/env node
// Records the answers of a real Prometheus for a query file (format of ../shared/promql-oracle/queries-public.txt)
// into an oracle golden file next to it, which oracle.test.ts then checks Vigil against.
//
//   promtool tsdb create-blocks-from openmetrics <oracle data>/dataset.om /tmp/promdata
//   prometheus --storage.tsdb.path=/tmp/promdata --storage.tsdb.retention.time=100y \
//              --web.listen-address=127.0.0.1:19391 --config.file=<empty config> &
//   node packages/hub/src/promql/testdata/record.mjs oracle-nested.txt http://127.0.0.1:19391
//
// Writes oracle-<set>.json beside the query file (<set> = the file name without "oracle-" and ".txt").
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const [file, base] = process.argv.slice(2);
if (!file || !base) {
  console.error('usage: node record.mjs QUERIES.txt PROMETHEUS_URL');
  process.exit(2);
}
const here = path.dirname(fileURLToPath(import.meta.url));
const oracle = [path.resolve(here, '../../../../../../shared/promql-oracle'), '/work/shared/promql-oracle'];
let lib;
for (const dir of oracle) {
  try { lib = await import(pathToFileURL(path.join(dir, 'lib.mjs')).href); break; } catch { /* next */ }
}
if (!lib) { console.error('record: promql-oracle/lib.mjs not found'); process.exit(2); }

const queries = path.resolve(file);
const set = path.basename(queries).replace(/^oracle-/, '').replace(/\.txt$/, '');
const parsed = lib.parseQueryFile(queries, set);
const build = await (await fetch(`${base}/api/v1/status/buildinfo`)).json();
const cases = [];
for (const c of parsed.cases) {
  const evals = [];
  for (const r of lib.requestsFor(parsed, c)) evals.push({ path: r.path, params: r.params, response: lib.storedResponse(await lib.apiGet(base, r.path, r.params)) });
  cases.push({ id: c.id, category: c.category, kind: c.kind, query: c.query, ...(c.label ? { label: c.label } : {}), evals });
}
const out = path.join(path.dirname(queries), `oracle-${set}.json`);
writeFileSync(out, JSON.stringify({
  format: 'promql-oracle-golden/1',
  set,
  reference: { prometheusVersion: build.data?.version ?? 'unknown', note: 'answers of a local Prometheus over the promql-oracle dataset' },
  instantTimes: parsed.instantTimes,
  range: parsed.range,
  metaRange: parsed.metaRange,
  cases,
}));
console.log(`record: ${cases.length} cases from ${base} written to ${out}`);
