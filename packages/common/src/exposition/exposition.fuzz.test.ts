/**
 * Property and fuzz tests of the exposition parsers (text 0.0.4, OpenMetrics 1.0, bulk import):
 * any input gives a result or a ParseError with a position, never another exception, in under
 * a second; what the writers write parses back to the same samples.
 *
 * FUZZ_RUNS scales the number of cases (default 10,000 per class), FUZZ_SEED replays a failure.
 */
import fc from 'fast-check';
import t from 'tap';
import { ParseError } from '../errors.js';
import type { MetricFamily } from '../model/sample.js';
import { ImportParser } from './import.js';
import { parseExposition, type ExpositionSample } from './parser.js';
import { writeOpenMetrics, writeText } from './writer.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 10_000);
// tap's default of 30 s per file is too short for 10,000 cases on a loaded CI machine
t.setTimeout(300_000);
const SEED = Number(process.env.FUZZ_SEED ?? 20261204);
const CASE_LIMIT_MS = 1000;

/** Runs `fn`; a ParseError with a position is an answer, any other exception or a slow case fails. */
function parsesOrRefuses(fn: () => void): void {
  const start = performance.now();
  try {
    fn();
  } catch (err) {
    if (!(err instanceof ParseError)) throw err;
    if (!err.position || err.position.line < 1 || err.position.column < 1) throw new Error(`ParseError without a position: ${err.message}`);
  }
  const ms = performance.now() - start;
  if (ms > CASE_LIMIT_MS) throw new Error(`one case took ${ms.toFixed(0)} ms`);
}

function importAll(text: string): void {
  const p = new ImportParser(() => {});
  // split in two at a third so the line carried across chunks is exercised too
  const cut = Math.floor(text.length / 3);
  p.push(text.slice(0, cut));
  p.push(text.slice(cut));
  p.end();
}

function parseAll(text: string): void {
  parsesOrRefuses(() => parseExposition(text, { format: 'text' }));
  parsesOrRefuses(() => parseExposition(text, { format: 'openmetrics' }));
  parsesOrRefuses(() => importAll(text));
}

const metricName = fc.stringMatching(/^[a-zA-Z_:][a-zA-Z0-9_:]{0,12}$/);
const labelName = fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,8}$/).filter((n) => !n.startsWith('__'));
const labelValue = fc.oneof(fc.string({ maxLength: 12 }), fc.string({ unit: 'grapheme', maxLength: 6 }), fc.constantFrom('\\', '"', '\n', '\\n', ' '))
  .filter((v) => v !== '');
const labels = fc.dictionary(labelName, labelValue, { maxKeys: 4 });
const value = fc.oneof(fc.double(), fc.integer(), fc.constantFrom(0, -0, Infinity, -Infinity, NaN, 1e-300, 5e-324));
/** Milliseconds (OpenMetrics writes them as seconds with up to three decimals); like Prometheus, the text format has no negative ones. */
const timestamp = fc.option(fc.integer({ min: 0, max: 1e13 }), { nil: undefined });

/** Gauge and untyped families (sample name = family name), each series once. */
const families = fc.uniqueArray(
  fc.record({
    name: metricName,
    type: fc.constantFrom('gauge' as const, 'unknown' as const),
    help: fc.string({ maxLength: 20 }),
    series: fc.uniqueArray(fc.record({ labels, value, timestamp }), { maxLength: 4, selector: (s) => JSON.stringify(Object.entries(s.labels).sort()) }),
  }),
  { maxLength: 5, selector: (f) => f.name },
).map((fs) => fs.map((f): MetricFamily => ({
  name: f.name, type: f.type, help: f.help,
  samples: f.series.map((s) => ({ name: f.name, labels: s.labels, value: s.value, ...(s.timestamp === undefined ? {} : { timestamp: s.timestamp }) })),
})));

/** The samples the writers should produce, as the parser reports them. */
function expected(fs: readonly MetricFamily[]): ExpositionSample[] {
  return fs.flatMap((f) => f.samples.map((s) => {
    const out: ExpositionSample = { name: s.name, labels: { __name__: s.name, ...s.labels }, value: s.value };
    if (s.timestamp !== undefined) out.timestamp = s.timestamp;
    return out;
  }));
}

/** Comparable form: label sets sorted, -0 and 0 kept apart, NaN equal to itself. */
function normal(samples: readonly ExpositionSample[]): string {
  return JSON.stringify(samples.map((s) => [s.name, Object.entries(s.labels).sort(), Object.is(s.value, -0) ? '-0' : String(s.value), s.timestamp ?? null]));
}

/**
 * OpenMetrics seconds become milliseconds as Prometheus does it, `int64(ts * 1000)`, which can
 * lose one (544109760.606 s gives 544109760605 ms): the expected timestamps that are one more
 * than the parsed ones are taken as the parsed ones.
 */
function withOpenMetricsRounding(want: readonly ExpositionSample[], got: readonly ExpositionSample[]): ExpositionSample[] {
  return want.map((s, i) => {
    const g = got[i]?.timestamp;
    return s.timestamp !== undefined && g === s.timestamp - 1 ? { ...s, timestamp: g } : s;
  });
}

/** Edits that keep most of a valid exposition and break a little of it. */
const interesting = fc.constantFrom('{', '}', '"', '\\', '\n', ' ', '\t', '=', ',', '#', '# EOF\n', '# TYPE ', '# HELP ', '# UNIT ', 'NaN', '+Inf',
  '1e400', '-', '.', '\r', '\u0000', '\uFFFD', '\uD800', 'é', '_total', '_bucket{le="', '9999999999999999999999', ' 1 2 3');
const mutation = fc.record({ at: fc.nat(), kind: fc.constantFrom('insert', 'delete', 'replace', 'duplicate'), text: fc.oneof(interesting, fc.string({ maxLength: 4 })), len: fc.integer({ min: 1, max: 8 }) });

function mutate(text: string, ms: readonly { at: number; kind: string; text: string; len: number }[]): string {
  let s = text;
  for (const m of ms) {
    const at = s.length === 0 ? 0 : m.at % (s.length + 1);
    if (m.kind === 'insert') s = s.slice(0, at) + m.text + s.slice(at);
    else if (m.kind === 'delete') s = s.slice(0, at) + s.slice(at + m.len);
    else if (m.kind === 'replace') s = s.slice(0, at) + m.text + s.slice(at + m.text.length);
    else s = s.slice(0, at) + s.slice(at, at + m.len * 4) + s.slice(at);
  }
  return s;
}

const opts = (n: number) => ({ numRuns: n, seed: SEED, includeErrorInReport: true });

t.test('arbitrary bytes: a result or a ParseError with a position', async (t) => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
    const buf = Buffer.from(bytes);
    parseAll(buf.toString('utf8'));
    parseAll(buf.toString('latin1'));
  }), opts(RUNS));
  fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), parseAll), opts(RUNS));
  t.pass(`${RUNS * 2} byte strings, ${RUNS} unicode strings`);
});

t.test('mutated valid expositions: a result or a ParseError with a position', async (t) => {
  fc.assert(fc.property(families, fc.array(mutation, { minLength: 1, maxLength: 4 }), (fs, ms) => {
    parseAll(mutate(writeText(fs), ms));
    parseAll(mutate(writeOpenMetrics(fs), ms));
  }), opts(RUNS));
  t.pass(`${RUNS} mutated expositions in each format`);
});

t.test('round trip: write then parse gives the same samples', async (t) => {
  fc.assert(fc.property(families, (fs) => {
    const want = normal(expected(fs));
    const text = parseExposition(writeText(fs), { format: 'text' });
    if (normal(text.samples) !== want) throw new Error(`text round trip: ${normal(text.samples)} != ${want}`);
    const om = parseExposition(writeOpenMetrics(fs), { format: 'openmetrics' });
    if (normal(om.samples) !== normal(withOpenMetricsRounding(expected(fs), om.samples))) throw new Error(`OpenMetrics round trip: ${normal(om.samples)} != ${want}`);
    const imported: ExpositionSample[] = [];
    const p = new ImportParser((_key, labels, value, timestamp) => {
      const s: ExpositionSample = { name: labels.__name__!, labels, value };
      if (timestamp !== undefined) s.timestamp = timestamp;
      imported.push(s);
    });
    p.push(writeText(fs));
    p.end();
    if (normal(imported) !== want) throw new Error(`import round trip: ${normal(imported)} != ${want}`);
  }), opts(RUNS));
  t.pass(`${RUNS} generated expositions`);
});
