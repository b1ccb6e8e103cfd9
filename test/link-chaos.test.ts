// The link through a chaos proxy: cuts, blackholes and resets, then every sample exactly once.
import t from 'tap';
import fs from 'node:fs';
import { ChaosProxy } from './lib/proxy.js';
import { startAgent, startHub, scrape, verify, waitFor } from './lib/link-fixtures.js';

const BASE = 1_700_000_000_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// seeded PRNG so a failure can be replayed
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), a | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

t.test('20 random cuts (close, blackhole, reset): every sample stored exactly once', async (t) => {
  const hub = await startHub();
  const proxy = await ChaosProxy.start({ host: '127.0.0.1', port: hub.port });
  const agent = await startAgent(proxy.url, { heartbeatMs: 200, backoffMaxMs: 400 });
  t.teardown(async () => { await agent.stop(); await proxy.close(); await hub.close(); fs.rmSync(agent.dir, { recursive: true, force: true }); });
  const SERIES = 40;
  const times: number[] = [];
  let k = 0;
  let scraping = true;
  // a scrape every 100 ms of wall time, timestamps 1 s apart (the target's clock)
  const scraper = (async () => {
    while (scraping) {
      const ts = BASE + k++ * 1000;
      times.push(ts);
      agent.streamer.write(scrape(ts, SERIES));
      await sleep(100);
    }
  })();
  const r = rng(Number(process.env.LINK_SEED ?? 7));
  const kinds = ['cut', 'blackhole', 'reset'] as const;
  for (let i = 0; i < 20; i++) {
    await sleep(300 + r() * 500);
    const kind = kinds[i % 3]!;
    if (kind === 'cut') proxy.cut();
    else if (kind === 'blackhole') proxy.blackhole();
    else proxy.reset();
    await sleep(kind === 'reset' ? 50 : 300 + r() * 900);
    proxy.heal();
  }
  scraping = false;
  await scraper;
  t.ok(await waitFor(() => agent.buffer.unackedBlocks === 0, 15_000), `backlog drained (${agent.buffer.unackedBlocks} left)`);
  t.same(verify(hub.storage, times, SERIES), [], `${times.length} scrapes × ${SERIES} series exactly once`);
  t.ok(agent.streamer.stats().reconnects >= 14, `reconnected ${agent.streamer.stats().reconnects} times`);
  t.equal(agent.buffer.stats().droppedSamples, 0);
});

t.test('after a short cut streaming resumes within 2 s; a blackholed link is declared dead within 2 heartbeats', async (t) => {
  const hub = await startHub();
  const proxy = await ChaosProxy.start({ host: '127.0.0.1', port: hub.port });
  const agent = await startAgent(proxy.url, { heartbeatMs: 300 });
  t.teardown(async () => { await agent.stop(); await proxy.close(); await hub.close(); fs.rmSync(agent.dir, { recursive: true, force: true }); });
  agent.streamer.write(scrape(BASE, 5));
  t.ok(await waitFor(() => agent.streamer.stats().connected && hub.storage.sampleCount === 5, 3000));
  proxy.blackhole();
  const t0 = Date.now();
  t.ok(await waitFor(() => !agent.streamer.stats().connected, 2000, 5));
  const detect = Date.now() - t0;
  t.ok(detect <= 2 * 300 + 100, `dead link detected after ${detect} ms (heartbeat 300 ms)`);
  proxy.cut();
  await sleep(2000);
  proxy.heal();
  const healed = Date.now();
  agent.streamer.write(scrape(BASE + 1000, 5));
  t.ok(await waitFor(() => hub.storage.sampleCount === 10, 5000, 10));
  const resume = Date.now() - healed;
  t.ok(resume < 2000, `resumed ${resume} ms after the link came back`);
});

t.test('after a 10-minute outage the newest samples arrive first while the backlog drains, then no gaps', async (t) => {
  const hub = await startHub();
  const proxy = await ChaosProxy.start({ host: '127.0.0.1', port: hub.port });
  proxy.cut();
  const SERIES = 200;
  const agent = await startAgent(proxy.url, { heartbeatMs: 300, backfillSamplesPerSec: 30_000, liveWindowMs: 2000 });
  t.teardown(async () => { await agent.stop(); await proxy.close(); await hub.close(); fs.rmSync(agent.dir, { recursive: true, force: true }); });
  // 10 minutes of 1 s scrapes buffered during the outage (synthetic clock)
  const now0 = Date.now() - 600_000;
  const times: number[] = [];
  for (let k = 0; k < 600; k++) {
    const ts = now0 + k * 1000;
    times.push(ts);
    agent.streamer.write(scrape(ts, SERIES));
  }
  proxy.heal();
  const healed = Date.now();
  let live = 0;
  const liveTimes: number[] = [];
  const liveWriter = setInterval(() => {
    const ts = Date.now() + live++;
    liveTimes.push(ts);
    agent.streamer.write(scrape(ts, SERIES));
  }, 250);
  t.teardown(() => clearInterval(liveWriter));
  const key = `__name__="test_metric_0",datacenter="dc1",idx="0"`;
  const newestStored = () => {
    const m = hub.storage.series.get(key);
    return m ? [...m.keys()].some((x) => x >= healed) : false;
  };
  t.ok(await waitFor(newestStored, 5000, 10), 'a live sample is stored within 5 s of reconnect');
  const at = Date.now() - healed;
  const backlogTotal = 600 * SERIES;
  const storedOld = [...hub.storage.series.values()].reduce((n, m) => n + [...m.keys()].filter((x) => x < healed - 1000).length, 0);
  t.ok(storedOld < backlogTotal, `backlog still draining when the live data landed after ${at} ms (${storedOld}/${backlogTotal})`);
  t.ok(await waitFor(() => agent.buffer.unackedBlocks === 0 && hub.storage.sampleCount >= backlogTotal, 30_000), 'backlog drained');
  clearInterval(liveWriter);
  await waitFor(() => agent.buffer.unackedBlocks === 0, 3000);
  t.same(verify(hub.storage, [...times, ...liveTimes], SERIES), [], 'no gaps, no duplicates');
  const caughtUp = await waitFor(() => (hub.ingest.agents()[0]?.lag_seconds ?? 1e9) < 5, 3000);
  t.ok(caughtUp, `watermark caught up (lag ${hub.ingest.agents()[0]?.lag_seconds} s)`);
  t.same(hub.ingest.warningsFor(Date.now() - 60_000, Date.now() - 10_000), [], 'no warning once complete');
});
