// The link against the real hub (vigil-hub with LevelDB): acks, the query API, tokens (refusal, reload),
// malformed and oversized batches, and a full agent buffer.
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import { encodeMessage, decodeHubMessage, LaneEncoder, STREAM_PATH, type HubMessage } from '@vigil/common';
import { IngestServer, MemStorage } from '@vigil/hub';
import { BIN, startProc, tempDir } from './lib/proc.js';
import { compareStored, hubConfig, querySamples, scrape, startAgent, tmpDir, waitFor } from './lib/link-fixtures.js';

const SELECTOR = '{__name__=~"test_metric_.*"}';

function upgradeStatus(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise<number>((resolve) => {
    const ws = new WebSocket(url + STREAM_PATH, { headers: { 'x-vigil-protocol': '1', 'x-vigil-agent-id': 'a', 'x-vigil-datacenter': 'dc1', ...headers } });
    ws.on('unexpected-response', (_q, res) => { resolve(res.statusCode ?? 0); ws.terminate(); });
    ws.on('open', () => { resolve(101); ws.close(); });
    ws.on('error', () => {});
  });
}

t.test('samples stream to the hub, are acked, released from the buffer and queryable exactly once', async (t) => {
  const dir = tempDir('link-basic');
  t.teardown(dir.remove);
  const hub = await startProc(BIN.hub, ['--config', hubConfig(dir.path, [{ token: 'tok', datacenter: 'dc1' }]), '--listen', '127.0.0.1:0',
    '--data-dir', path.join(dir.path, 'hub')]);
  t.teardown(() => hub.stop());
  const agent = await startAgent(hub.url.replace('http', 'ws'), { token: 'tok' });
  t.teardown(async () => { await agent.stop(); fs.rmSync(agent.dir, { recursive: true, force: true }); });
  const base = Date.now() - 60_000;
  const times: number[] = [];
  for (let k = 0; k < 20; k++) {
    const ts = base + k * 1000;
    times.push(ts);
    agent.streamer.write(scrape(ts, 50), k === 0 ? [{ metric: 'test_metric_0', type: 'counter', help: 'h', unit: '' }] : undefined);
  }
  t.ok(await waitFor(() => agent.buffer.unackedBlocks === 0, 10_000), 'all acked');
  const cmp = compareStored(await querySamples(hub.url, SELECTOR, base, base + 19_000), times, 50);
  t.same(cmp.problems, []);
  t.equal(cmp.stored, 1000, 'exactly once');
  t.equal(agent.streamer.stats().samplesAcked, 1000);
  const meta = (await (await fetch(`${hub.url}/api/v1/metadata?metric=test_metric_0`)).json()) as { data: Record<string, unknown[]> };
  t.ok(meta.data.test_metric_0, 'metadata carried');
  const agents = (await (await fetch(`${hub.url}/api/v1/agents`)).json()) as { data: { datacenter: string; connected: boolean }[] };
  t.equal(agents.data.length, 1);
  t.equal(agents.data[0]!.datacenter, 'dc1');
  t.equal(agents.data[0]!.connected, true);
  const metrics = await (await fetch(`${hub.url}/metrics`)).text();
  t.match(metrics, /vigil_hub_samples_ingested_total 1000/);
  t.match(metrics, /vigil_agent_connected\{agent="agent-1",datacenter="dc1"\} 1/);
  const am = await agent.streamer.registry.metrics();
  t.match(am, /vigil_agent_samples_scraped_total 1000/);
  t.match(am, /vigil_agent_wire_bytes_sent_total [1-9]/);
});

t.test('a wrong or missing token is refused with 401 at the upgrade; a token bound to another datacenter with 403', async (t) => {
  const dir = tempDir('link-token');
  t.teardown(dir.remove);
  const hub = await startProc(BIN.hub, ['--config', hubConfig(dir.path, [{ token: 'good', datacenter: 'dc1' }]), '--listen', '127.0.0.1:0',
    '--data-dir', path.join(dir.path, 'hub')]);
  t.teardown(() => hub.stop());
  const url = hub.url.replace('http', 'ws');
  t.equal(await upgradeStatus(url, {}), 401);
  t.equal(await upgradeStatus(url, { authorization: 'Bearer bad' }), 401);
  t.equal(await upgradeStatus(url, { authorization: 'Bearer good', 'x-vigil-datacenter': 'dc2' }), 403);
  t.equal(await upgradeStatus(url, { authorization: 'Bearer good' }), 101);
  // a streamer with a wrong token never delivers; its data stays buffered
  const agent = await startAgent(url, { token: 'bad' });
  agent.streamer.write(scrape(Date.now() - 1000, 3));
  await new Promise((r) => setTimeout(r, 500));
  t.equal(agent.buffer.unackedBlocks, 1, 'data stays buffered');
  t.equal(agent.streamer.stats().connected, false);
  await agent.stop();
  fs.rmSync(agent.dir, { recursive: true, force: true });
  t.same(await querySamples(hub.url, SELECTOR, Date.now() - 60_000, Date.now()), [], 'nothing stored');
  t.match(await (await fetch(`${hub.url}/metrics`)).text(), /vigil_hub_ingest_refused_connections_total\{reason="token"\} [3-9]/);
});

t.test('setTokens (config reload): new tokens are accepted, revoked ones refused and their agents disconnected', async (t) => {
  const ingest = new IngestServer({ storage: new MemStorage(), tokens: [{ token: 'old' }] });
  const http = await import('node:http');
  const server = http.createServer((_q, res) => res.writeHead(404).end());
  server.on('upgrade', (req, socket, head) => { if (!ingest.handleUpgrade(req, socket, head)) socket.destroy(); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `ws://127.0.0.1:${(server.address() as { port: number }).port}`;
  const agent = await startAgent(url, { token: 'old' });
  t.teardown(async () => {
    await agent.stop();
    await ingest.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    fs.rmSync(agent.dir, { recursive: true, force: true });
  });
  t.ok(await waitFor(() => agent.streamer.stats().connected, 3000), 'connected with the old token');
  t.equal(await upgradeStatus(url, { authorization: 'Bearer new' }), 401);
  ingest.setTokens([{ token: 'new', datacenter: 'dc1' }]);
  t.ok(await waitFor(() => !agent.streamer.stats().connected, 3000), 'the agent with a revoked token is disconnected');
  t.equal(await upgradeStatus(url, { authorization: 'Bearer old' }), 401, 'old token refused');
  t.equal(await upgradeStatus(url, { authorization: 'Bearer new' }), 101, 'new token accepted');
  t.equal(await upgradeStatus(url, { authorization: 'Bearer new', 'x-vigil-datacenter': 'dc2' }), 403, 'new binding applies');
  await new Promise((r) => setTimeout(r, 500));
  t.equal(agent.streamer.stats().connected, false, 'stays out');
  ingest.setTokens([{ token: 'old' }, { token: 'new' }]);
  agent.streamer.write(scrape(Date.now(), 2));
  t.ok(await waitFor(() => agent.streamer.stats().connected && agent.buffer.unackedBlocks === 0, 5000), 'back once the token is valid again');
});

t.test('a malformed or oversized batch is nacked with a reason; the connection and good data survive', async (t) => {
  const dir = tempDir('link-nack');
  t.teardown(dir.remove);
  const hub = await startProc(BIN.hub, ['--config', hubConfig(dir.path, [{ token: 'tok' }]), '--listen', '127.0.0.1:0',
    '--data-dir', path.join(dir.path, 'hub')]);
  t.teardown(() => hub.stop());
  const ws = new WebSocket(hub.url.replace('http', 'ws') + STREAM_PATH, { headers: {
    authorization: 'Bearer tok', 'x-vigil-protocol': '1', 'x-vigil-agent-id': 'raw', 'x-vigil-datacenter': 'dc9', 'x-vigil-heartbeat-ms': '30000' } });
  const msgs: HubMessage[] = [];
  ws.on('message', (d: Buffer) => msgs.push(decodeHubMessage(d)));
  await new Promise((r) => ws.once('open', r));
  t.ok(await waitFor(() => msgs.some((m) => m.type === 'welcome'), 2000));
  const welcome = msgs.find((m): m is Extract<HubMessage, { type: 'welcome' }> => m.type === 'welcome')!;
  const now = Date.now();
  ws.send(encodeMessage({ type: 'series', first: 0, labels: [['__name__', 'test_metric_0', 'idx', '0'], ['__name__', 'test_metric_1', 'idx', '1']] }));
  const enc = new LaneEncoder();
  const good = enc.encode([[{ t: now - 2000, ids: Int32Array.from([0, 1]), values: Float64Array.from([1, 2]), stale: null }]]);
  ws.send(encodeMessage({ type: 'batch', lane: 0, reset: good.reset, seqs: [1], samples: 2, body: good.body }));
  ws.send(new Uint8Array([0xc1, 0x00, 0x01]));                                                                  // not msgpack
  ws.send(encodeMessage({ type: 'batch', lane: 0, reset: true, seqs: [2], samples: 5, body: new Uint8Array([1, 1, 0, 0, 0]) })); // bad body
  const huge = new Uint8Array(welcome.maxFrameBytes + 1024);
  ws.send(encodeMessage({ type: 'batch', lane: 1, reset: true, seqs: [3], samples: 1, body: huge }));           // too large
  const enc2 = new LaneEncoder();
  const good2 = enc2.encode([[{ t: now - 1000, ids: Int32Array.from([0, 1]), values: Float64Array.from([3, 4]), stale: null }]]);
  ws.send(encodeMessage({ type: 'batch', lane: 0, reset: true, seqs: [4], samples: 2, body: good2.body }));
  t.ok(await waitFor(() => msgs.filter((m) => m.type === 'ack').length === 2 && msgs.filter((m) => m.type === 'nack').length === 3, 10_000));
  const nacks = msgs.filter((m): m is Extract<HubMessage, { type: 'nack' }> => m.type === 'nack');
  t.same(nacks.map((n) => n.code), ['malformed', 'malformed', 'too_large']);
  for (const n of nacks) t.ok(n.reason.length > 10, `reason: ${n.reason}`);
  t.same(nacks[1]!.seqs, [2, 2]);
  t.same(nacks[2]!.seqs, [3, 3]);
  t.equal(ws.readyState, WebSocket.OPEN, 'connection survives');
  const stored = await querySamples(hub.url, SELECTOR, now - 10_000, now);
  t.same(stored.map((s) => s.values.map((x) => x[1])), [[1, 3], [2, 4]], 'good data kept, each sample once');
  t.match(await (await fetch(`${hub.url}/metrics`)).text(), /vigil_hub_ingest_nacks_total\{code="malformed"\} 2/);
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

t.test('a refused frame is handled without reconnecting: oversized blocks released, the frames behind them resent with reset', async (t) => {
  const storage = new MemStorage();
  const ingest = new IngestServer({ storage, tokens: [], allowAnonymous: true, limits: { maxFrameBytes: 4096 } });
  const http = await import('node:http');
  const server = http.createServer((_q, res) => res.writeHead(404).end());
  server.on('upgrade', (req, socket, head) => { if (!ingest.handleUpgrade(req, socket, head)) socket.destroy(); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const agent = await startAgent(`ws://127.0.0.1:${(server.address() as { port: number }).port}`, { maxInFlight: 8 });
  t.teardown(async () => {
    await agent.stop();
    await ingest.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    fs.rmSync(agent.dir, { recursive: true, force: true });
  });
  t.ok(await waitFor(() => agent.streamer.stats().connected, 3000));
  const base = Date.now() - 60_000;
  // a small scrape, one far over the hub's frame limit, then small ones right behind it (in flight
  // before the nack comes back: the hub refuses them as out of sync until a frame with reset)
  agent.streamer.write(scrape(base, 5));
  const big = [];
  for (let j = 0; j < 1000; j++) big.push(...scrape(base + 1000 + j, 5)); // 1,000 timestamps of the same 5 series
  agent.streamer.write(big);
  for (let k = 2; k < 8; k++) agent.streamer.write(scrape(base + k * 1000, 5));
  t.ok(await waitFor(() => agent.buffer.unackedBlocks === 0, 5000), 'everything acked or released');
  const st = agent.streamer.stats();
  t.equal(st.reconnects, 0, 'no reconnect');
  t.equal(st.samplesRejected, 5000, 'the oversized block is released and counted');
  t.equal(st.samplesAcked, 7 * 5, 'every other sample acked');
  const metrics = await ingest.registry.metrics();
  t.match(metrics, /vigil_hub_samples_ingested_total 35/, 'the hub stored the 35 good samples once');
  t.match(await agent.streamer.registry.metrics(), /vigil_agent_nacks_total\{code="too_large"\} 1/);
});

t.test('query warnings name a disconnected agent only for selectors that can match its series (datacenter and metric name)', async (t) => {
  const { Matcher } = await import('@vigil/common');
  const ingest = new IngestServer({ storage: new MemStorage(), tokens: [], allowAnonymous: true });
  const http = await import('node:http');
  const server = http.createServer((_q, res) => res.writeHead(404).end());
  server.on('upgrade', (req, socket, head) => { if (!ingest.handleUpgrade(req, socket, head)) socket.destroy(); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const agent = await startAgent(`ws://127.0.0.1:${(server.address() as { port: number }).port}`);
  t.teardown(async () => {
    await ingest.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    fs.rmSync(agent.dir, { recursive: true, force: true });
  });
  agent.streamer.write(scrape(Date.now() - 1000, 8));
  t.ok(await waitFor(() => agent.buffer.unackedBlocks === 0, 3000));
  await new Promise((r) => setTimeout(r, 400)); // a heartbeat sets the watermark
  await agent.stop();
  t.ok(await waitFor(() => ingest.agents()[0]?.connected === false, 3000), 'disconnected');
  const now = Date.now() + 60_000;
  const warn = (...ms: InstanceType<typeof Matcher>[]) => ingest.warningsFor(now - 300_000, now, [ms]);
  t.match(warn(new Matcher('=', '__name__', 'test_metric_0'))[0], /datacenter "dc1" \(agent "agent-1"\) is disconnected/);
  t.equal(warn(new Matcher('=~', '__name__', 'test_metric_[12]')).length, 1, 'a name regex that matches');
  t.equal(warn(new Matcher('=', 'idx', '3')).length, 1, 'no name matcher: may match');
  t.same(warn(new Matcher('=', '__name__', 'node_load1')), [], 'a metric the agent never sent');
  t.same(warn(new Matcher('=~', '__name__', 'node_.*')), [], 'a name regex that matches none of its metrics');
  t.same(warn(new Matcher('=', '__name__', 'test_metric_0'), new Matcher('=', 'datacenter', 'dc2')), [], 'another datacenter');
  t.equal(ingest.warningsFor(now - 300_000, now, [[new Matcher('=', '__name__', 'nope')], [new Matcher('=', '__name__', 'test_metric_3')]]).length, 1,
    'any selector of the query that can match');
});
