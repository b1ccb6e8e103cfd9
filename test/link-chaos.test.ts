// The link through a chaos proxy, with the real programs: vigil-agent scrapes a deterministic target
// every second and streams through the proxy to vigil-hub (LevelDB); the proxy cuts the link 20 times
// at random for 1–15 s; the hub's query API must then return every sample served exactly once.
import t from 'tap';
import path from 'node:path';
import { ChaosProxy } from './lib/proxy.js';
import { BIN, eventually, startProc, tempDir, type Proc } from './lib/proc.js';
import { DeterministicTarget, agentConfig, compareStored, hubConfig, querySamples } from './lib/link-fixtures.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// seeded PRNG so a failure can be replayed (LINK_SEED=...)
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), a | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

async function agentMetric(agent: Proc, name: string): Promise<number> {
  const text = await (await fetch(`${agent.url}/metrics`)).text();
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

t.test('20 random cuts of 1–15 s (close, RST, blackhole) while scraping at 1 s: the hub holds every sample exactly once', async (t) => {
  const SERIES = 10;
  const dir = tempDir('link-chaos');
  t.teardown(dir.remove);
  const target = await DeterministicTarget.start(SERIES);
  t.teardown(() => target.close());
  const hub = await startProc(BIN.hub, ['--config', hubConfig(dir.path, [{ token: 'chaos-token', datacenter: 'dc-chaos' }]),
    '--listen', '127.0.0.1:0', '--data-dir', path.join(dir.path, 'hub')]);
  t.teardown(() => hub.stop());
  const proxy = await ChaosProxy.start({ host: '127.0.0.1', port: Number(new URL(hub.url).port) });
  t.teardown(() => proxy.close());
  const agent = await startProc(BIN.agent, ['--config', agentConfig(dir.path, target.address), '--hub', proxy.url, '--token', 'chaos-token',
    '--listen', '127.0.0.1:0', '--data-dir', path.join(dir.path, 'agent'), '--datacenter', 'dc-chaos']);
  t.teardown(() => agent.stop());

  await eventually(async () => (await querySamples(hub.url, 'link_value', Date.now() - 60_000, Date.now())).length === SERIES, 20_000);
  const r = rng(Number(process.env.LINK_SEED ?? 11));
  const kinds = ['close', 'rst', 'blackhole'] as const;
  let outage = 0;
  for (let i = 0; i < 20; i++) {
    await sleep(1500 + r() * 1000);
    const kind = kinds[i % 3]!;
    const ms = 1000 + Math.round(r() * 14_000);
    outage += ms;
    if (kind === 'blackhole') proxy.blackhole();
    else proxy.cut(kind === 'rst');
    await sleep(ms);
    proxy.heal();
  }
  const end = Date.now();
  const times = target.served.filter((x) => x <= end);
  const from = times[0]!;
  t.comment(`${times.length} scrapes over ${Math.round((end - from) / 1000)} s, link down ${Math.round(outage / 1000)} s in 20 cuts`);

  let result = await querySamples(hub.url, 'link_value', from, end);
  const complete = await eventually(async () => {
    result = await querySamples(hub.url, 'link_value', from, end);
    return result.reduce((n, s) => n + s.values.length, 0) >= times.length * SERIES;
  }, 45_000, 500).then(() => true, () => false);
  t.ok(complete, 'the backlog landed');
  const cmp = compareStored(result, times, SERIES);
  t.same(cmp.problems, [], `${times.length} scrapes × ${SERIES} series: ${cmp.stored} stored`);
  t.equal(cmp.stored, times.length * SERIES, 'count: exactly once');
  t.ok(proxy.connections >= 15, `the agent reconnected (${proxy.connections} connections)`);
  t.equal(await agentMetric(agent, 'vigil_agent_buffer_dropped_samples_total'), 0, 'nothing dropped from the buffer');
});
