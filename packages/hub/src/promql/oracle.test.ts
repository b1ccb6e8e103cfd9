// The acceptance test of the query engine: the oracle's dataset, loaded into memory, must give the
// answers real Prometheus 2.42 gave (shared/promql-oracle/golden-public.json), through the HTTP API.
// testdata/oracle-*.json hold ~370 more cases answered by a local Prometheus 2.42 over the same data
// (queries in the matching .txt files).
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { queryRoutes } from '../api/query.js';
import { openStorage } from '../storage/index.js';
import type { Storage } from '../storage/types.js';
import { Engine } from './engine.js';
import { loadImportText, parseImportLine } from './testing/dataset.js';

/** Cases that do not match yet, with the reason. The test asserts all others match. */
const KNOWN_FAILURES: Record<string, string> = {};

const here = path.dirname(fileURLToPath(import.meta.url));
const candidates = [path.resolve(here, '../../../../../shared/promql-oracle'), '/work/shared/promql-oracle'];
const oracleDir = candidates.find((d) => existsSync(path.join(d, 'golden-public.json')));

interface Golden {
  dataset: { sha256: Record<string, string> };
  cases: { id: string; category: string; kind: string; query: string; evals: { path: string; params: Record<string, string>; response: unknown }[] }[];
}

function datasetText(golden: Golden): string {
  const want = golden.dataset.sha256['dataset.prom']!;
  const cache = path.join(os.tmpdir(), `vigil-promql-oracle-${want.slice(0, 12)}`);
  const file = path.join(cache, 'dataset.prom');
  if (existsSync(file)) {
    const text = readFileSync(file);
    if (createHash('sha256').update(text).digest('hex') === want) return text.toString('utf8');
  }
  mkdirSync(cache, { recursive: true });
  execFileSync(process.execPath, [path.join(oracleDir!, 'gen-dataset.mjs'), '--out', cache], { stdio: 'ignore' });
  return readFileSync(file, 'utf8');
}

if (!oracleDir) {
  t.test('oracle', { skip: 'promql-oracle not found beside the repository (../shared/promql-oracle)' }, async () => {});
} else {
  const golden = JSON.parse(readFileSync(path.join(oracleDir, 'golden-public.json'), 'utf8')) as Golden;
  const lib = (await import(pathToFileURL(path.join(oracleDir, 'lib.mjs')).href)) as {
    compareResponse: (kind: string, query: string, golden: unknown, actual: unknown) => string | null;
    storedResponse: (r: { httpStatus: number; body: unknown; text?: string }) => unknown;
  };
  const text = datasetText(golden);
  const mem = loadImportText(text);
  const memStorage = {
    querier: (a: number, b: number) => mem.querier(a, b),
    metadata: async () => ({}),
    status: async () => ({}),
  } as unknown as Storage;
  // The same data in the hub's LevelDB store, imported through its appender, as the hub would hold it.
  const levelDir = mkdtempSync(path.join(os.tmpdir(), 'vigil-oracle-level-'));
  const level = await openStorage({ dir: levelDir });
  t.teardown(async () => {
    await level.close();
    rmSync(levelDir, { recursive: true, force: true });
  });
  {
    let app = level.appender();
    let n = 0;
    for (const line of text.split('\n')) {
      const s = parseImportLine(line);
      if (!s || s.t === null) continue;
      app.append(0, s.labels, s.t, s.v);
      if (++n % 50_000 === 0) {
        await app.commit();
        app = level.appender();
      }
    }
    await app.commit();
    await level.flush();
  }
  const stores = [
    ['memory', queryRoutes({ queryable: mem, storage: memStorage, engine: new Engine() })],
    ['leveldb', queryRoutes({ queryable: level, storage: level, engine: new Engine() })],
  ] as const;

  const testdata = new URL('../../src/promql/testdata/', import.meta.url);
  const extras = readdirSync(testdata)
    .filter((f) => /^oracle-.*\.json$/.test(f))
    .sort()
    .map((f) => JSON.parse(readFileSync(new URL(f, testdata), 'utf8')) as Golden & { set: string });
  const byCategory = new Map<string, Golden['cases']>();
  for (const [prefix, set] of [['', golden] as const, ...extras.map((e) => [`${e.set} `, e] as const)]) {
    for (const c of set.cases) {
      const list = byCategory.get(prefix + c.category) ?? [];
      list.push(c);
      byCategory.set(prefix + c.category, list);
    }
  }
  const extraCount = extras.reduce((n, e) => n + e.cases.length, 0);
  const total = golden.cases.length + extraCount;
  for (const [store, app] of stores) {
    let passed = 0;
    let failedUnexpected = 0;
    for (const [category, cases] of byCategory) {
      await t.test(`oracle (${store} store) ${category}: every case matches Prometheus 2.42`, async (t) => {
        for (const c of cases) {
          let reason: string | null = null;
          for (const ev of c.evals) {
            const qs = new URLSearchParams(ev.params).toString();
            const res = await app.request(`${ev.path}?${qs}`);
            const body = await res.text();
            let json: unknown = null;
            try { json = JSON.parse(body); } catch { json = null; }
            const actual = lib.storedResponse({ httpStatus: res.status, body: json, text: body });
            reason = lib.compareResponse(c.kind, c.query, ev.response, actual);
            if (reason) { reason = `${ev.params.time ? `@${ev.params.time}: ` : ''}${reason}`; break; }
          }
          const known = KNOWN_FAILURES[c.id];
          if (!reason) {
            passed++;
            if (known) t.comment(`${c.id} now passes; remove it from KNOWN_FAILURES`);
          } else if (known) {
            t.comment(`known failure ${c.id} ${c.kind} ${c.query}: ${known}`);
          } else {
            failedUnexpected++;
            t.fail(`${c.id} ${c.kind} ${c.query}: ${reason}`);
          }
        }
        t.pass(`${category} checked`);
      });
    }
    t.comment(`oracle (${store} store): ${passed}/${total} cases match (${golden.cases.length} public, ${extraCount} recorded locally), ${Object.keys(KNOWN_FAILURES).length} known failures, ${failedUnexpected} unexpected`);
  }
}
