/**
 * Fuzz tests of the agent↔hub stream: every message type, as arbitrary msgpack maps and as
 * mutated valid frames, decodes to a valid message or throws a WireError, never another
 * exception; so does a batch body (LaneDecoder), random or mutated, within a second.
 *
 * FUZZ_RUNS scales the number of cases (default 10,000), FUZZ_SEED replays a failure.
 */
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import t from 'tap';
import { WireError } from './bytes.js';
import { decodeAgentMessage, decodeHubMessage, encodeMessage } from './codec.js';
import { LaneDecoder, LaneEncoder, type Group } from './columns.js';
import type { Message } from './messages.js';
import { byteMutation, mutateBytes } from '../testing/fuzz.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 10_000);
// tap's default of 30 s per file is too short for 10,000 cases on a loaded CI machine
t.setTimeout(300_000);
const SEED = Number(process.env.FUZZ_SEED ?? 20261204);
const CASE_LIMIT_MS = 1000;
const packr = new Packr({ useRecords: false, moreTypes: false, bundleStrings: false });

function decodesOrRefuses(fn: () => unknown): void {
  const start = performance.now();
  try {
    fn();
  } catch (err) {
    if (!(err instanceof WireError)) throw err;
  }
  const ms = performance.now() - start;
  if (ms > CASE_LIMIT_MS) throw new Error(`one case took ${ms.toFixed(0)} ms`);
}


/** Values that break validation: wrong types, out-of-range numbers, nesting. */
const oddValue = fc.oneof(
  fc.constantFrom(null, undefined, true, '', 'x', -1, 1e20, -1e17, 2 ** 53, NaN, Infinity, -0, 0.5, [], {}, [1, -1], ['a'], [['a']], [['a', 1]], new Uint8Array(3)),
  fc.double(), fc.integer(), fc.string({ maxLength: 8 }), fc.array(fc.integer(), { maxLength: 4 }),
  fc.uint8Array({ maxLength: 16 }), fc.array(fc.array(fc.string({ maxLength: 3 }), { maxLength: 4 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 4 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
);
const TYPES = ['batch', 'series', 'hb', 'meta', 'targets', 'welcome', 'ack', 'nack', 'x', '', '__proto__', 'constructor'];
const FIELDS = ['lane', 'reset', 'seqs', 'body', 'samples', 'first', 'labels', 't', 'oldest', 'newest', 'bufferedBytes', 'backlogBlocks',
  'metadata', 'targets', 'v', 'acked', 'seriesKnown', 'heartbeatMs', 'maxFrameBytes', 'duplicates', 'code', 'reason', '__proto__', 'constructor'];
const oddMap = fc.record({
  type: fc.oneof(fc.constantFrom(...TYPES), oddValue),
  fields: fc.dictionary(fc.oneof(fc.constantFrom(...FIELDS), fc.string({ maxLength: 4 })), oddValue, { maxKeys: 8 }),
}).map(({ type, fields }) => ({ ...fields, type }));

const time = fc.oneof(fc.integer({ min: 0, max: 2 ** 45 }), fc.constant(null));
const validMessage: fc.Arbitrary<Message> = fc.oneof(
  fc.record({ type: fc.constant('batch' as const), lane: fc.constantFrom(0 as const, 1 as const), reset: fc.boolean(), seqs: fc.array(fc.nat(), { minLength: 1, maxLength: 4 }), samples: fc.nat(100), body: fc.uint8Array({ maxLength: 32 }) }),
  fc.record({ type: fc.constant('series' as const), first: fc.nat(1000), labels: fc.array(fc.array(fc.string({ maxLength: 6 }), { maxLength: 6 }).map((l) => (l.length % 2 ? l.slice(1) : l)), { maxLength: 4 }) }),
  fc.record({ type: fc.constant('hb' as const), t: fc.integer({ min: 0, max: 2 ** 45 }), oldest: time, newest: time, bufferedBytes: fc.nat(), backlogBlocks: fc.nat() }),
  fc.record({ type: fc.constant('meta' as const), metadata: fc.array(fc.record({ metric: fc.string({ maxLength: 6 }), type: fc.constantFrom('counter' as const, 'gauge' as const, 'unknown' as const), help: fc.string({ maxLength: 6 }), unit: fc.string({ maxLength: 3 }) }), { maxLength: 3 }) }),
  fc.record({ type: fc.constant('targets' as const), targets: fc.jsonValue({ maxDepth: 2 }) }),
  fc.record({ type: fc.constant('welcome' as const), v: fc.nat(3), acked: fc.array(fc.nat(), { maxLength: 4 }), seriesKnown: fc.nat(), heartbeatMs: fc.nat(), maxFrameBytes: fc.nat() }),
  fc.record({ type: fc.constant('ack' as const), seqs: fc.array(fc.nat(), { maxLength: 4 }), samples: fc.nat(), duplicates: fc.nat() }),
  fc.record({ type: fc.constant('nack' as const), seqs: fc.array(fc.nat(), { maxLength: 4 }), code: fc.constantFrom('malformed' as const, 'too_large' as const), reason: fc.string({ maxLength: 8 }) }),
);

function decodeBoth(buf: Uint8Array): void {
  decodesOrRefuses(() => decodeAgentMessage(buf));
  decodesOrRefuses(() => decodeHubMessage(buf));
}

t.test('arbitrary msgpack maps and values: a message or a WireError', async (t) => {
  fc.assert(fc.property(oddMap, (m) => decodeBoth(packr.pack(m))), { numRuns: RUNS, seed: SEED, includeErrorInReport: true });
  fc.assert(fc.property(fc.oneof(oddValue, fc.jsonValue()), (v) => decodeBoth(packr.pack(v))), { numRuns: RUNS / 2, seed: SEED, includeErrorInReport: true });
  fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (b) => decodeBoth(b)), { numRuns: RUNS / 2, seed: SEED, includeErrorInReport: true });
  t.pass(`${RUNS} maps, ${RUNS / 2} values, ${RUNS / 2} byte strings`);
});

t.test('mutated valid frames of every message type: a message or a WireError', async (t) => {
  fc.assert(fc.property(validMessage, fc.array(byteMutation, { minLength: 1, maxLength: 4 }), (m, ms) => {
    // the unmutated frame of an agent message decodes
    if (['batch', 'series', 'hb', 'meta', 'targets'].includes(m.type)) decodeAgentMessage(encodeMessage(m));
    else decodeHubMessage(encodeMessage(m));
    decodeBoth(mutateBytes(encodeMessage(m), ms));
  }), { numRuns: RUNS, seed: SEED, includeErrorInReport: true });
  t.pass(`${RUNS} frames`);
});

const group = fc.record({
  t: fc.integer({ min: 0, max: 2 ** 45 }),
  ids: fc.uniqueArray(fc.nat(50), { minLength: 1, maxLength: 6 }),
}).chain(({ t, ids }) => fc.record({
  values: fc.array(fc.oneof(fc.double(), fc.integer({ min: -1000, max: 1000 }), fc.constantFrom(0.5, 1.25, 100)), { minLength: ids.length, maxLength: ids.length }),
  stale: fc.option(fc.array(fc.constantFrom(0, 1), { minLength: ids.length, maxLength: ids.length }), { nil: null }),
}).map(({ values, stale }): Group => ({ t, ids: Int32Array.from(ids), values: Float64Array.from(values), stale: stale ? Uint8Array.from(stale) : null })));

t.test('batch bodies, random and mutated: a frame or a WireError; valid ones round-trip', async (t) => {
  fc.assert(fc.property(fc.array(fc.array(group, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 3 }), fc.array(byteMutation, { maxLength: 4 }), fc.nat(60),
    (blocks, ms, maxId) => {
      const enc = new LaneEncoder();
      const { body, samples } = enc.encode(blocks);
      const d = new LaneDecoder().decode(body, samples, 51);
      const want = blocks.flat().flatMap((g) => [...g.values].map((v, i) => (g.stale?.[i] ? 'stale' : Object.is(v, -0) ? '-0' : String(v))));
      const got = [...d.v].map((v, i) => (d.stale[i] ? 'stale' : Object.is(v, -0) ? '-0' : String(v)));
      if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(`values ${JSON.stringify(got)} != ${JSON.stringify(want)}`);
      const dec = new LaneDecoder();
      decodesOrRefuses(() => dec.decode(mutateBytes(body, ms), samples, maxId));
      decodesOrRefuses(() => dec.decode(body, samples + (ms.length % 2), maxId)); // the state after an error, and a wrong count
    }), { numRuns: RUNS, seed: SEED, includeErrorInReport: true });
  fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat(1000), fc.nat(100), (b, samples, maxId) => {
    decodesOrRefuses(() => new LaneDecoder().decode(b, samples, maxId));
    decodesOrRefuses(() => new LaneDecoder().decode(Uint8Array.from([1, ...b]), b.length, maxId));
  }), { numRuns: RUNS, seed: SEED, includeErrorInReport: true });
  t.pass(`${RUNS} encoded and mutated bodies, ${RUNS * 2} random ones`);
});
