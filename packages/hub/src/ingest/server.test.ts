import http from 'node:http';
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import WebSocket from 'ws';
import {
  HEADER_AGENT_ID, HEADER_DATACENTER, HEADER_PROTOCOL, PROTOCOL_VERSION, STREAM_PATH, decodeHubMessage, encodeMessage, silentLogger,
  type HubMessage,
} from '@vigil/common';
import { MemStorage } from '../storage/mem.js';
import { IngestServer } from './server.js';

/** An ingest server on an ephemeral loopback port, and a raw client that speaks the link's messages. */
async function harness(t: Test) {
  const storage = new MemStorage();
  const ingest = new IngestServer({ storage, tokens: [{ token: 'tok-0123456789abcdef', datacenter: 'dc1' }], logger: silentLogger });
  const server = http.createServer((_req, res) => res.end('ok'));
  server.on('upgrade', (req, socket, head) => { if (!ingest.handleUpgrade(req, socket, head)) socket.destroy(); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  t.teardown(async () => {
    await ingest.close();
    await new Promise((r) => server.close(r));
    await storage.close();
  });
  const connect = async (): Promise<{ ws: WebSocket; next: () => Promise<HubMessage> }> => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${STREAM_PATH}`, {
      headers: {
        authorization: 'Bearer tok-0123456789abcdef', [HEADER_AGENT_ID]: 'a1', [HEADER_DATACENTER]: 'dc1', [HEADER_PROTOCOL]: String(PROTOCOL_VERSION),
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
  return { ingest, connect, port };
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
