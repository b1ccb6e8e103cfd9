import t, { type Test } from 'tap';
import WebSocket from 'ws';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  LaneEncoder, Matcher, HEADER_AGENT_ID, HEADER_DATACENTER, HEADER_PROTOCOL, PROTOCOL_VERSION, STREAM_PATH, decodeHubMessage, encodeMessage,
  type HubMessage,
} from '@vigil/common';
import { listenIngest } from '../testing/ingest.js';

/** An ingest server on an ephemeral loopback port, and a raw client that speaks the link's messages. */
const TOKENS = [
  { token: 'tok-0123456789abcdef', datacenter: 'dc1' },
  { token: 'tok-dc2-0123456789ab', datacenter: 'dc2' },
  { token: 'tok-free-0123456789a' },
  { token: 'tok-bound-id-012345', agent_id: 'edge-7' },
];

async function harness(t: Test, dataDir?: string) {
  const { ingest, storage, port } = await listenIngest(t, { tokens: TOKENS, ...(dataDir ? { dataDir } : {}) });
  const connect = async (o: { token?: string; id?: string; dc?: string } = {}): Promise<{ ws: WebSocket; next: () => Promise<HubMessage> }> => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${STREAM_PATH}`, {
      headers: {
        authorization: `Bearer ${o.token ?? 'tok-0123456789abcdef'}`, [HEADER_AGENT_ID]: o.id ?? 'a1', [HEADER_DATACENTER]: o.dc ?? 'dc1',
        [HEADER_PROTOCOL]: String(PROTOCOL_VERSION),
      },
    });
    const inbox: HubMessage[] = [];
    const waiters: ((m: HubMessage) => void)[] = [];
    ws.on('message', (d: Buffer) => {
      const m = decodeHubMessage(d);
      const w = waiters.shift();
      if (w) w(m); else inbox.push(m);
    });
    await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
    t.teardown(() => ws.terminate());
    return { ws, next: () => (inbox.length ? Promise.resolve(inbox.shift()!) : new Promise((r) => waiters.push(r))) };
  };
  /** The upgrade's HTTP status (101 when accepted). */
  const status = (o: { token: string; id: string; dc: string }): Promise<number> => new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${STREAM_PATH}`, {
      headers: { authorization: `Bearer ${o.token}`, [HEADER_AGENT_ID]: o.id, [HEADER_DATACENTER]: o.dc, [HEADER_PROTOCOL]: String(PROTOCOL_VERSION) },
    });
    ws.on('unexpected-response', (_req, res) => { resolve(res.statusCode ?? 0); ws.terminate(); });
    ws.on('open', () => { resolve(101); ws.terminate(); });
    ws.on('error', () => undefined);
  });
  return { ingest, connect, port, storage, status };
}

t.test('a heartbeat with an impossible time is a nack, never a crash (security issue, defect 2)', async (t) => {
  const h = await harness(t);
  const c = await h.connect();
  t.equal((await c.next()).type, 'welcome');
  const bad: Record<string, unknown>[] = [
    { type: 'hb', t: 1e20 },
    { type: 'hb', t: -1e17 },
    { type: 'hb', t: Date.now(), oldest: 'x' },
    { type: 'hb', t: Date.now(), newest: 1e300 },
    { type: 'hb', t: Date.now(), bufferedBytes: -5 },
    { type: 'series', first: -1, labels: [] },
    { type: 'meta', metadata: [{ metric: 1 }] },
    { type: 'batch', lane: 0, reset: 'yes', seqs: [1], samples: 1, body: new Uint8Array(1) },
  ];
  for (const msg of bad) {
    c.ws.send(encodeMessage(msg as never));
    const reply = await c.next();
    t.equal(reply.type, 'nack', `${JSON.stringify(msg)} is refused`);
    if (reply.type === 'nack') t.equal(reply.code, 'malformed');
  }
  // The hub is alive, lists the agent and answers a good heartbeat.
  c.ws.send(encodeMessage({ type: 'hb', t: Date.now(), oldest: null }));
  t.equal((await c.next()).type, 'hb');
  const agents = h.ingest.agents();
  t.equal(agents.length, 1);
  t.equal(agents[0]!.connected, true);
});

t.test('an agent clock far ahead never puts its watermark ahead of the hub clock', async (t) => {
  const h = await harness(t);
  const c = await h.connect();
  await c.next();
  c.ws.send(encodeMessage({ type: 'hb', t: Date.now() + 365 * 86_400_000 }));
  t.equal((await c.next()).type, 'hb');
  const a = h.ingest.agents()[0]!;
  t.ok(a.watermark_seconds! * 1000 <= Date.now(), `watermark ${a.watermark} is not in the future`);
  t.same(h.ingest.warningsFor(0, Date.now() + 3_600_000), [], 'no warning: connected and current');
});

t.test('a token bound to a datacenter stores every series of its agents under that datacenter (security issue, defect 7)', async (t) => {
  const h = await harness(t);
  const c = await h.connect({ token: 'tok-dc2-0123456789ab', id: 'spoof', dc: 'dc2' });
  t.equal((await c.next()).type, 'welcome');
  c.ws.send(encodeMessage({ type: 'series', first: 0, labels: [['__name__', 'xdc_forged', 'datacenter', 'legit'], ['__name__', 'plain']] }));
  const enc = new LaneEncoder();
  const now = Date.now();
  const frame = enc.encode([[{ t: now, ids: Int32Array.from([0, 1]), values: Float64Array.from([-999, 1]), stale: null }]]);
  c.ws.send(encodeMessage({ type: 'batch', lane: 0, reset: frame.reset, seqs: [1], samples: frame.samples, body: frame.body }));
  const ack = await c.next();
  t.equal(ack.type, 'ack');
  const q = await h.storage.querier(0, now + 1);
  const got = (await q.select([new Matcher('=~', '__name__', 'xdc_forged|plain')])).map((d) => d.labels.datacenter).sort();
  t.same(got, ['dc2', 'dc2'], 'the spoofed and the missing datacenter are both the token\'s');
  t.same(await q.select([new Matcher('=', 'datacenter', 'legit')]), [], 'nothing reaches datacenter "legit"');
  t.equal(h.ingest.agents()[0]!.id, 'spoof');
});

t.test('agent ids are validated, bound by tokens, and owned by the token that first used them', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-ingest-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const h = await harness(t, dir);
  for (const id of ['.', '..', '../x', 'a/b', '']) {
    t.equal(await h.status({ token: 'tok-free-0123456789a', id, dc: 'd' }), 400, `id ${JSON.stringify(id)} refused`);
  }
  t.same(fs.readdirSync(dir).filter((f) => f !== 'agents'), [], 'nothing written outside the agents folder');
  t.equal(await h.status({ token: 'tok-free-0123456789a', id: 'victim', dc: 'd' }), 101);
  await new Promise((r) => setTimeout(r, 100));
  t.equal(await h.status({ token: 'tok-dc2-0123456789ab', id: 'victim', dc: 'dc2' }), 403, 'another token cannot take over an id');
  const c = await h.connect({ token: 'tok-bound-id-012345', id: 'anything', dc: 'x' });
  await c.next();
  t.ok(h.ingest.agents().some((a) => a.id === 'edge-7'), 'the token decides the agent id');
  t.notOk(h.ingest.agents().some((a) => a.id === 'anything'));
});

t.test('wrong tokens are throttled per address (security issue, item 12)', async (t) => {
  const h = await harness(t);
  const codes: number[] = [];
  for (let i = 0; i < 7; i++) codes.push(await h.status({ token: `wrong-${i}`, id: 'x', dc: 'd' }));
  t.same(codes.slice(0, 5), [401, 401, 401, 401, 401]);
  t.same(codes.slice(5), [429, 429], 'then wrong tokens from the address get 429');
  t.equal(await h.status({ token: 'tok-free-0123456789a', id: 'x', dc: 'd' }), 101, 'a valid token from the same address (NAT) still gets in');
  const { AuthThrottle } = await import('@vigil/common');
  let now = 0;
  const th = new AuthThrottle({ freeFailures: 4, now: () => now });
  for (let i = 0; i < 6; i++) th.fail('a');
  t.equal(th.wait('a'), 2000, 'doubling after each further failure');
  t.equal(th.wait('b'), 0, 'other addresses are not affected');
  now += 2000;
  t.equal(th.wait('a'), 0);
});
