// Outages against the real hub (vigil-hub, LevelDB, query API) through the chaos proxy: resume after a
// short cut, dead-link detection, and a 10-minute backlog drained behind fresh samples.
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { ChaosProxy } from './lib/proxy.js';
import { BIN, startProc, tempDir } from './lib/proc.js';
import { compareStored, hubConfig, querySamples, scrape, startAgent, waitFor } from './lib/link-fixtures.js';

const SELECTOR = '{__name__=~"test_metric_.*"}';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function hubWithProxy(t: { teardown(fn: () => unknown): void }, name: string) {
  const dir = tempDir(name);
  t.teardown(dir.remove);
  const hub = await startProc(BIN.hub, ['--config', hubConfig(dir.path, [{ token: 'tok' }]), '--listen', '127.0.0.1:0',
    '--data-dir', path.join(dir.path, 'hub')]);
  t.teardown(() => hub.stop());
  const proxy = await ChaosProxy.start({ host: '127.0.0.1', port: Number(new URL(hub.url).port) });
  t.teardown(() => proxy.close());
  return { hub, proxy };
}

t.test('after a short cut streaming resumes within 2 s; a blackholed link is declared dead within 2 heartbeats', async (t) => {
  const { hub, proxy } = await hubWithProxy(t, 'link-resume');
  const agent = await startAgent(proxy.url, { token: 'tok', heartbeatMs: 300 });
  t.teardown(async () => { await agent.stop(); fs.rmSync(agent.dir, { recursive: true, force: true }); });
  const t0 = Date.now() - 10_000;
  agent.streamer.write(scrape(t0, 5));
  t.ok(await waitFor(() => agent.streamer.stats().connected && agent.buffer.unackedBlocks === 0, 5000));
  proxy.blackhole();
  const b0 = Date.now();
  t.ok(await waitFor(() => !agent.streamer.stats().connected, 2000, 5));
  const detect = Date.now() - b0;
  t.ok(detect <= 2 * 300 + 100, `dead link detected after ${detect} ms (heartbeat 300 ms)`);
  proxy.cut();
  await sleep(2000);
  proxy.heal();
  const healed = Date.now();
  agent.streamer.write(scrape(t0 + 1000, 5));
  t.ok(await waitFor(() => agent.buffer.unackedBlocks === 0, 5000, 10));
  const resume = Date.now() - healed;
  t.ok(resume < 2000, `resumed ${resume} ms after the link came back`);
  const cmp = compareStored(await querySamples(hub.url, SELECTOR, t0, t0 + 1000), [t0, t0 + 1000], 5);
  t.same(cmp.problems, []);
  t.equal(cmp.stored, 10);
});

t.test('after a 10-minute outage the newest samples are queryable within 5 s while the backlog drains, then no gaps', async (t) => {
  const { hub, proxy } = await hubWithProxy(t, 'link-outage');
  proxy.cut();
  const SERIES = 200;
  const agent = await startAgent(proxy.url, { token: 'tok', heartbeatMs: 300, backfillSamplesPerSec: 20_000, liveWindowMs: 2000 });
  t.teardown(async () => { await agent.stop(); fs.rmSync(agent.dir, { recursive: true, force: true }); });
  // 10 minutes of 1 s scrapes buffered during the outage (written at once: the agent's clock is the block time)
  const now0 = Date.now() - 600_000;
  const times: number[] = [];
  for (let k = 0; k < 600; k++) {
    const ts = now0 + k * 1000;
    times.push(ts);
    agent.streamer.write(scrape(ts, SERIES));
  }
  proxy.heal();
  const healed = Date.now();
  const liveTimes: number[] = [];
  const liveWriter = setInterval(() => {
    const ts = Date.now();
    liveTimes.push(ts);
    agent.streamer.write(scrape(ts, SERIES));
  }, 250);
  t.teardown(() => clearInterval(liveWriter));
  let storedOld = 0;
  const fresh = await (async () => {
    const end = healed + 5000;
    while (Date.now() < end) {
      const r = await querySamples(hub.url, 'test_metric_0{idx="0"}', now0, Date.now());
      const vals = r[0]?.values ?? [];
      if (vals.some(([ts]) => ts >= healed)) {
        storedOld = (await querySamples(hub.url, SELECTOR, now0, healed - 1000)).reduce((n, s) => n + s.values.length, 0);
        return true;
      }
      await sleep(100);
    }
    return false;
  })();
  const at = Date.now() - healed;
  t.ok(fresh, `a live sample is queryable ${at} ms after reconnect`);
  const backlogTotal = 600 * SERIES;
  t.ok(storedOld < backlogTotal, `the backlog was still draining then (${storedOld}/${backlogTotal} stored)`);
  t.ok(await waitFor(() => agent.buffer.unackedBlocks === 0, 40_000), 'backlog drained');
  clearInterval(liveWriter);
  await waitFor(() => agent.buffer.unackedBlocks === 0, 3000);
  const all = [...times, ...liveTimes];
  const cmp = compareStored(await querySamples(hub.url, SELECTOR, now0, all[all.length - 1]!), all, SERIES);
  t.same(cmp.problems, [], 'no gaps, no duplicates');
  t.equal(cmp.stored, all.length * SERIES, `${all.length} scrapes × ${SERIES} series exactly once`);
  const agents = async () => ((await (await fetch(`${hub.url}/api/v1/agents`)).json()) as { data: { lag_seconds: number }[] }).data;
  let lag = Infinity;
  for (let i = 0; i < 20 && lag >= 5; i++) {
    lag = (await agents())[0]?.lag_seconds ?? Infinity;
    if (lag >= 5) await sleep(200);
  }
  t.ok(lag < 5, `watermark caught up (lag ${lag} s)`);
});
