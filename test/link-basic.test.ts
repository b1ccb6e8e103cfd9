import t from 'tap';
import fs from 'node:fs';
import WebSocket from 'ws';
import { encodeMessage, decodeHubMessage, LaneEncoder, STREAM_PATH, type HubMessage } from '@vigil/common';
import { startAgent, startHub, scrape, tmpDir, verify, waitFor } from './lib/link-fixtures.js';

t.test('samples stream to the hub, are acked and released from the buffer', async (t) => {
  const hub = await startHub();
  const agent = await startAgent(hub.url);
  t.teardown(async () => { await agent.stop(); await hub.close(); fs.rmSync(agent.dir, { recursive: true, force: true }); });
  const times: number[] = [];
  for (let k = 0; k < 20; k++) {
    const ts = 1_700_000_000_000 + k * 1000;
    times.push(ts);
    agent.streamer.write(scrape(ts, 50), k === 0 ? [{ metric: 'test_metric_0', type: 'counter', help: 'h', unit: '' }] : undefined);
  }
  t.ok(await waitFor(() => hub.storage.sampleCount === 1000 && agent.buffer.unackedBlocks === 0, 5000), 'all acked');
  t.same(verify(hub.storage, times, 50), []);
  t.equal(agent.streamer.stats().samplesAcked, 1000);
  t.ok(hub.storage.metadataSeen.some((m) => m.metric === 'test_metric_0'), 'metadata carried');
  const info = hub.ingest.agents();
  t.equal(info.length, 1);
  t.equal(info[0]!.datacenter, 'dc1');
  t.equal(info[0]!.connected, true);
  const metrics = await hub.ingest.registry.metrics();
  t.match(metrics, /vigil_hub_samples_ingested_total 1000/);
  t.match(metrics, /vigil_hub_agents_connected 1/);
  const am = await agent.streamer.registry.metrics();
  t.match(am, /vigil_agent_samples_scraped_total 1000/);
  t.match(am, /vigil_agent_wire_bytes_sent_total [1-9]/);
});

t.test('a wrong or missing token is refused with 401 at the upgrade; a token bound to another datacenter with 403', async (t) => {
  const hub = await startHub({ tokens: [{ token: 'good', datacenter: 'dc1' }], allowAnonymous: false });
  t.teardown(() => hub.close());
  const status = (headers: Record<string, string>) => new Promise<number>((resolve) => {
    const ws = new WebSocket(hub.url + STREAM_PATH, { headers: { 'x-vigil-protocol': '1', 'x-vigil-agent-id': 'a', 'x-vigil-datacenter': 'dc1', ...headers } });
    ws.on('unexpected-response', (_q, res) => { resolve(res.statusCode ?? 0); ws.terminate(); });
    ws.on('open', () => { resolve(101); ws.close(); });
    ws.on('error', () => {});
  });
  t.equal(await status({}), 401);
  t.equal(await status({ authorization: 'Bearer bad' }), 401);
  t.equal(await status({ authorization: 'Bearer good', 'x-vigil-datacenter': 'dc2' }), 403);
  t.equal(await status({ authorization: 'Bearer good' }), 101);
  // a streamer with a wrong token never delivers
  const agent = await startAgent(hub.url, { token: 'bad' });
  agent.streamer.write(scrape(1000, 3));
  await new Promise((r) => setTimeout(r, 300));
  t.equal(hub.storage.sampleCount, 0);
  t.equal(agent.buffer.unackedBlocks, 1, 'data stays buffered');
  await agent.stop();
  fs.rmSync(agent.dir, { recursive: true, force: true });
});

t.test('a malformed or oversized batch is nacked with a reason; the connection and good data survive', async (t) => {
  const hub = await startHub({ limits: { maxFrameBytes: 4096 } });
  t.teardown(() => hub.close());
  const ws = new WebSocket(hub.url + STREAM_PATH, { headers: { 'x-vigil-protocol': '1', 'x-vigil-agent-id': 'raw', 'x-vigil-datacenter': 'dc9', 'x-vigil-heartbeat-ms': '5000' } });
  const msgs: HubMessage[] = [];
  ws.on('message', (d: Buffer) => msgs.push(decodeHubMessage(d)));
  await new Promise((r) => ws.once('open', r));
  t.ok(await waitFor(() => msgs.some((m) => m.type === 'welcome'), 2000));
  ws.send(encodeMessage({ type: 'series', first: 0, labels: [['__name__', 'good', 'datacenter', 'dc9'], ['__name__', 'other', 'datacenter', 'dc9']] }));
  const enc = new LaneEncoder();
  const good = enc.encode([[{ t: 5000, ids: Int32Array.from([0, 1]), values: Float64Array.from([1, 2]), stale: null }]]);
  ws.send(encodeMessage({ type: 'batch', lane: 0, reset: good.reset, seqs: [1], samples: 2, body: good.body }));
  ws.send(new Uint8Array([0xc1, 0x00, 0x01]));                                                              // not msgpack
  ws.send(encodeMessage({ type: 'batch', lane: 0, reset: true, seqs: [2], samples: 5, body: new Uint8Array([1, 1, 0, 0, 0]) })); // bad body
  const huge = new Uint8Array(10_000);
  ws.send(encodeMessage({ type: 'batch', lane: 1, reset: true, seqs: [3], samples: 1, body: huge }));          // too large
  const enc2 = new LaneEncoder();
  const good2 = enc2.encode([[{ t: 6000, ids: Int32Array.from([0, 1]), values: Float64Array.from([3, 4]), stale: null }]]);
  ws.send(encodeMessage({ type: 'batch', lane: 0, reset: true, seqs: [4], samples: 2, body: good2.body }));
  t.ok(await waitFor(() => msgs.filter((m) => m.type === 'ack').length === 2 && msgs.filter((m) => m.type === 'nack').length === 3, 3000));
  const nacks = msgs.filter((m): m is Extract<HubMessage, { type: 'nack' }> => m.type === 'nack');
  t.same(nacks.map((n) => n.code), ['malformed', 'malformed', 'too_large']);
  for (const n of nacks) t.ok(n.reason.length > 10, `reason: ${n.reason}`);
  t.same(nacks[1]!.seqs, [2, 2]);
  t.equal(ws.readyState, WebSocket.OPEN, 'connection survives');
  t.equal(hub.storage.sampleCount, 4, 'good data kept');
  t.match(await hub.ingest.registry.metrics(), /vigil_hub_ingest_nacks_total\{code="malformed"\} 2/);
  ws.close();
});

t.test('a full buffer drops the oldest data only, counted in a metric and logged', async (t) => {
  const dir = tmpDir('vigil-agent-full-');
  const lines: string[] = [];
  const { createLogger } = await import('@vigil/common');
  const logger = createLogger({ level: 'warn', destination: { write: (s: string) => { lines.push(s); return true; } } as never });
  // no hub: everything stays in the buffer
  const agent = await startAgent('ws://127.0.0.1:1', { dir, maxBytes: 64 * 1024, logger });
  t.teardown(async () => { await agent.stop(); fs.rmSync(dir, { recursive: true, force: true }); });
  for (let k = 0; k < 1000; k++) agent.streamer.write(scrape(1_700_000_000_000 + k * 1000, 20));
  const st = agent.buffer.stats();
  t.ok(st.bytes <= 64 * 1024);
  t.ok(st.droppedSamples > 0);
  t.equal(st.droppedSamples, (st.firstSeq - 1) * 20, `only the oldest blocks were dropped ${JSON.stringify(st)}`);
  t.equal(agent.buffer.info(1000)?.samples, 20, 'newest kept');
  t.match(await agent.streamer.registry.metrics(), new RegExp(`vigil_agent_buffer_dropped_samples_total ${st.droppedSamples}`));
  t.ok(lines.some((l) => l.includes('dropped the oldest unsent samples')), 'logged');
});
