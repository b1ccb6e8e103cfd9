// The hub's Session without processes or sockets: a fake socket carries the link's messages,
// MemStorage stores, and exactly-once is checked on what the store holds.
import { EventEmitter } from 'node:events';
import t from 'tap';
import { Registry } from 'prom-client';
import type WebSocket from 'ws';
import { LaneEncoder, Matcher, decodeHubMessage, encodeMessage, silentLogger, type AgentMessage, type HubMessage } from '@vigil/common';
import { MemStorage } from '../storage/mem.js';
import { AgentState } from './state.js';
import { IngestMetrics } from './metrics.js';
import { Session } from './session.js';

class FakeSocket extends EventEmitter {
  readyState = 1;
  readonly sent: HubMessage[] = [];
  private waiters: (() => void)[] = [];
  send(data: Uint8Array): void {
    this.sent.push(decodeHubMessage(data));
    for (const w of this.waiters.splice(0)) w();
  }
  close(): void { this.terminate(); }
  terminate(): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.emit('close');
  }
  /** Delivers an agent message as the socket would. */
  deliver(msg: AgentMessage): void { this.emit('message', Buffer.from(encodeMessage(msg)), true); }
  /** Resolves once `n` messages were sent to the agent. */
  async until(n: number): Promise<void> {
    while (this.sent.length < n) await new Promise<void>((r) => this.waiters.push(r));
  }
}

function session(state: AgentState, storage: MemStorage): { sock: FakeSocket; s: Session } {
  const sock = new FakeSocket();
  const s = new Session(sock as unknown as WebSocket, state, storage, new IngestMetrics(new Registry(), () => [state]), silentLogger, 1 << 20, () => undefined);
  s.start();
  return { sock, s };
}

const T0 = Date.now() - 60_000;

function batch(enc: LaneEncoder, seq: number, t: number, values: number[]): AgentMessage {
  const f = enc.encode([[{ t, ids: Int32Array.from(values.map((_, i) => i)), values: Float64Array.from(values), stale: null }]]);
  return { type: 'batch', lane: 0, reset: f.reset, seqs: [seq], samples: f.samples, body: f.body };
}

async function stored(storage: MemStorage): Promise<number> {
  const q = await storage.querier(0, Date.now() + 1);
  return (await q.select([new Matcher('=~', '__name__', '.+')])).reduce((n, d) => n + d.t.length, 0);
}

t.test('a batch is acked once durable; resent after a reconnect it is acked again and stored once', async (t) => {
  const storage = new MemStorage();
  const state = new AgentState('a1', null, 1000);
  let { sock, s } = session(state, storage);
  t.equal(sock.sent[0]?.type, 'welcome');
  sock.deliver({ type: 'series', first: 0, labels: [['__name__', 'm', 'i', '0'], ['__name__', 'm', 'i', '1']] });
  const enc = new LaneEncoder();
  sock.deliver(batch(enc, 1, T0, [1, 2]));
  sock.deliver(batch(enc, 2, T0 + 1000, [3, 4]));
  await sock.until(3);
  t.same(sock.sent.slice(1).map((m) => m.type === 'ack' && [m.seqs, m.duplicates]), [[[1, 1], 0], [[2, 2], 0]]);
  t.equal(await stored(storage), 4);
  // The link drops before the agent saw the acks: it reconnects and resends both.
  sock.terminate();
  await s.done;
  ({ sock, s } = session(state, storage));
  const welcome = sock.sent[0];
  t.same(welcome?.type === 'welcome' && welcome.acked, [1, 2], 'the welcome names what the hub holds');
  const enc2 = new LaneEncoder();
  sock.deliver(batch(enc2, 2, T0 + 1000, [3, 4]));
  await sock.until(2);
  const ack = sock.sent[1];
  t.same(ack?.type === 'ack' && [ack.seqs, ack.duplicates], [[2, 2], 2], 'acked again, counted as duplicates');
  t.equal(await stored(storage), 4, 'nothing stored twice');
  sock.terminate();
  await s.done;
});

t.test('a malformed frame is nacked, the lane refuses frames until a reset, and the link stays', async (t) => {
  const storage = new MemStorage();
  const state = new AgentState('a2', null, 1000);
  const { sock, s } = session(state, storage);
  sock.deliver({ type: 'series', first: 0, labels: [['__name__', 'x']] });
  sock.deliver({ type: 'batch', lane: 0, reset: true, seqs: [1], samples: 1, body: new Uint8Array([1, 2, 3]) });
  await sock.until(2);
  t.same(sock.sent[1]?.type === 'nack' && sock.sent[1].code, 'malformed');
  const enc = new LaneEncoder();
  enc.encode([[{ t: T0, ids: Int32Array.from([0]), values: Float64Array.from([1]), stale: null }]]);
  const f = enc.encode([[{ t: T0 + 1, ids: Int32Array.from([0]), values: Float64Array.from([2]), stale: null }]]);
  sock.deliver({ type: 'batch', lane: 0, reset: false, seqs: [2], samples: f.samples, body: f.body });
  await sock.until(3);
  t.same(sock.sent[2]?.type === 'nack' && sock.sent[2].code, 'out_of_sync');
  sock.deliver(batch(new LaneEncoder(), 2, T0 + 1, [2]));
  await sock.until(4);
  t.equal(sock.sent[3]?.type, 'ack');
  t.equal(await stored(storage), 1);
  t.equal(sock.readyState, 1, 'the connection stayed up');
  sock.terminate();
  await s.done;
});

t.test('a sequence in flight twice in one session is stored once', async (t) => {
  const storage = new MemStorage();
  const state = new AgentState('a3', null, 1000);
  const { sock, s } = session(state, storage);
  sock.deliver({ type: 'series', first: 0, labels: [['__name__', 'y']] });
  sock.deliver(batch(new LaneEncoder(), 7, T0, [5]));
  sock.deliver(batch(new LaneEncoder(), 7, T0, [5]));
  await sock.until(3);
  t.same(sock.sent.slice(1).map((m) => m.type), ['ack', 'ack']);
  t.equal(await stored(storage), 1);
  sock.terminate();
  await s.done;
});
