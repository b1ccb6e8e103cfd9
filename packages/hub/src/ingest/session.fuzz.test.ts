/**
 * Session-level fuzz test of agent ingest: agents connect to an in-process IngestServer (ephemeral
 * loopback port, MemStorage) and send generated sequences of frames: valid series and batch messages,
 * mutated ones, odd msgpack maps of every type and random bytes. The hub never throws, each session
 * still answers a good heartbeat (or is closed by the hub) within a second, and the series another
 * agent stored before are intact.
 *
 * FUZZ_RUNS scales the number of frames (default at least 10,000 in 400 sessions), FUZZ_SEED replays a failure.
 */
import fc from 'fast-check';
import t, { type Test } from 'tap';
import WebSocket from 'ws';
import {
  LaneEncoder, Matcher, HEADER_AGENT_ID, HEADER_DATACENTER, HEADER_PROTOCOL, PROTOCOL_VERSION, STREAM_PATH, decodeHubMessage, encodeMessage,
  type HubMessage,
} from '@vigil/common';
import type { MemStorage } from '../storage/mem.js';
import { byteMutation, mutateBytes, type ByteMutation } from '@vigil/common/testing';
import { listenIngest } from '../testing/ingest.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 10_000);
// tap's default of 30 s per file is too short for 10,000 cases on a loaded CI machine
t.setTimeout(300_000);
const SEED = Number(process.env.FUZZ_SEED ?? 20261204);
const CASE_LIMIT_MS = 1000;
const TOKEN = 'tok-fuzz-0123456789ab';
const NOW = Date.now();

interface Conn { ws: WebSocket; next(timeoutMs: number): Promise<HubMessage | 'closed' | 'timeout'> }

async function harness(t: Test) {
  const { ingest, storage, port } = await listenIngest(t, { tokens: [{ token: TOKEN, datacenter: 'dc1' }] });
  const connect = async (id: string): Promise<Conn> => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${STREAM_PATH}`, {
      headers: { authorization: `Bearer ${TOKEN}`, [HEADER_AGENT_ID]: id, [HEADER_DATACENTER]: 'dc1', [HEADER_PROTOCOL]: String(PROTOCOL_VERSION) },
    });
    const inbox: (HubMessage | 'closed')[] = [];
    const waiters: ((m: HubMessage | 'closed') => void)[] = [];
    const deliver = (m: HubMessage | 'closed') => { const w = waiters.shift(); if (w) w(m); else inbox.push(m); };
    ws.on('message', (d: Buffer) => deliver(decodeHubMessage(d)));
    ws.on('close', () => deliver('closed'));
    ws.on('error', () => undefined);
    await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
    const next = (timeoutMs: number) => (inbox.length ? Promise.resolve(inbox.shift()!) : new Promise<HubMessage | 'closed' | 'timeout'>((r) => {
      const timer = setTimeout(() => { const i = waiters.indexOf(w); if (i >= 0) waiters.splice(i, 1); r('timeout'); }, timeoutMs);
      const w = (m: HubMessage | 'closed') => { clearTimeout(timer); r(m); };
      waiters.push(w);
    }));
    return { ws, next };
  };
  return { storage, connect };
}


const odd = fc.oneof(fc.constantFrom(null, true, '', 'x', -1, 1e20, -1e17, 2 ** 53, NaN, Infinity, 0.5, [], {}, [1, -1], [['a']], [['a', 1]]),
  fc.integer(), fc.double(), fc.array(fc.nat(20), { maxLength: 3 }), fc.uint8Array({ maxLength: 16 }));
/** A frame description; batches are encoded with the session's own LaneEncoder so that some of them decode. */
type Frame =
  | { kind: 'series'; first: number; n: number }
  | { kind: 'batch'; ids: number[]; t: number; values: number[]; seq: number; ms: ByteMutation[] }
  | { kind: 'hb'; t: number; oldest: number | null }
  | { kind: 'odd'; type: string; fields: Record<string, unknown> }
  | { kind: 'bytes'; b: Uint8Array };
const frame: fc.Arbitrary<Frame> = fc.oneof(
  fc.record({ kind: fc.constant('series' as const), first: fc.nat(8), n: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ kind: fc.constant('batch' as const), ids: fc.uniqueArray(fc.nat(8), { minLength: 1, maxLength: 4 }), t: fc.integer({ min: NOW - 3_600_000, max: NOW }),
    values: fc.array(fc.double(), { minLength: 4, maxLength: 4 }), seq: fc.nat(50), ms: fc.array(byteMutation, { maxLength: 2 }) }),
  fc.record({ kind: fc.constant('hb' as const), t: fc.integer({ min: 0, max: NOW * 2 }), oldest: fc.option(fc.nat(), { nil: null }) }),
  fc.record({ kind: fc.constant('odd' as const), type: fc.constantFrom('batch', 'series', 'hb', 'meta', 'targets', 'ack', 'x'),
    fields: fc.dictionary(fc.constantFrom('lane', 'reset', 'seqs', 'body', 'samples', 'first', 'labels', 't', 'oldest', 'newest', 'metadata', 'targets'), odd, { maxKeys: 6 }) }),
  fc.record({ kind: fc.constant('bytes' as const), b: fc.uint8Array({ maxLength: 64 }) }),
);

function encodeFrame(f: Frame, enc: LaneEncoder): Uint8Array {
  switch (f.kind) {
    case 'series':
      return encodeMessage({ type: 'series', first: f.first, labels: Array.from({ length: f.n }, (_, i) => ['__name__', `fuzz_s${f.first + i}`, 'job', 'fz']) });
    case 'batch': {
      const e = enc.encode([[{ t: f.t, ids: Int32Array.from(f.ids), values: Float64Array.from(f.values.slice(0, f.ids.length)), stale: null }]]);
      const body = f.ms.length ? mutateBytes(e.body, f.ms) : e.body;
      return encodeMessage({ type: 'batch', lane: 0, reset: e.reset, seqs: [f.seq], samples: e.samples, body });
    }
    case 'hb':
      return encodeMessage({ type: 'hb', t: f.t, oldest: f.oldest });
    case 'odd':
      return encodeMessage({ ...f.fields, type: f.type } as never);
    case 'bytes':
      return f.b;
  }
}

async function keptSeries(storage: MemStorage): Promise<string> {
  const q = await storage.querier(0, NOW + 3_600_000);
  return JSON.stringify((await q.select([new Matcher('=', '__name__', 'session_keep')])).map((d) => [d.labels, [...d.t], [...d.v]]));
}

t.test('generated frame sequences: no exception, every session answers or is closed, stored series intact', async (t) => {
  const h = await harness(t);
  const keep = await h.connect('keeper');
  t.equal((await keep.next(5000) as HubMessage).type, 'welcome');
  keep.ws.send(encodeMessage({ type: 'series', first: 0, labels: [['__name__', 'session_keep', 'job', 'k']] }));
  const e = new LaneEncoder().encode([[{ t: NOW - 60_000, ids: Int32Array.from([0]), values: Float64Array.from([42]), stale: null }]]);
  keep.ws.send(encodeMessage({ type: 'batch', lane: 0, reset: e.reset, seqs: [1], samples: e.samples, body: e.body }));
  t.equal((await keep.next(5000) as HubMessage).type, 'ack');
  keep.ws.close();
  const kept = await keptSeries(h.storage);
  t.match(kept, /\[42\]/);

  const sessions = Math.max(1, Math.round(RUNS / 25));
  let frames = 0;
  const endings = { answered: 0, closed: 0 };
  let n = 0;
  await fc.assert(fc.asyncProperty(fc.array(frame, { minLength: 30, maxLength: 60 }), async (fs) => {
    const c = await h.connect(`fz-${n++ % 7}`);
    const first = await c.next(CASE_LIMIT_MS);
    if (first === 'timeout' || first === 'closed' || first.type !== 'welcome') throw new Error(`no welcome: ${JSON.stringify(first)}`);
    const enc = new LaneEncoder();
    for (const f of fs) {
      if (c.ws.readyState !== WebSocket.OPEN) break;
      c.ws.send(encodeFrame(f, enc));
      frames++;
    }
    if (c.ws.readyState === WebSocket.OPEN) c.ws.send(encodeMessage({ type: 'hb', t: Date.now(), oldest: null }));
    const start = performance.now();
    for (;;) {
      const left = CASE_LIMIT_MS - (performance.now() - start);
      const m = await c.next(Math.max(1, left));
      if (m === 'timeout') throw new Error(`no answer to a good heartbeat within ${CASE_LIMIT_MS} ms after ${fs.length} frames`);
      if (m === 'closed') { endings.closed++; break; }
      if (m.type === 'hb') { endings.answered++; break; }
    }
    c.ws.terminate();
    if (await keptSeries(h.storage) !== kept) throw new Error('session_keep changed');
  }), { numRuns: sessions, seed: SEED, includeErrorInReport: true });
  const again = await h.connect('keeper');
  t.equal((await again.next(5000) as HubMessage).type, 'welcome', 'the hub still welcomes an agent');
  again.ws.terminate();
  t.equal(await keptSeries(h.storage), kept, 'session_keep intact');
  t.ok(frames >= RUNS, `${frames} frames in ${sessions} sessions: ${JSON.stringify(endings)}`);
});
