// kill -9 of vigil-hub, and separately of vigil-agent, mid-stream, then restart: the hub's query API
// still returns every sample served by the deterministic target exactly once.
import t from 'tap';
import path from 'node:path';
import { BIN, eventually, freePort, startProc, tempDir, type Proc } from './lib/proc.js';
import { DeterministicTarget, agentConfig, compareStored, hubConfig, querySamples } from './lib/link-fixtures.js';

const SERIES = 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function kill9(p: Proc): Promise<void> {
  await p.stop('SIGKILL');
}

async function waitComplete(hubUrl: string, times: number[]): Promise<ReturnType<typeof querySamples>> {
  const from = times[0]!;
  const to = times[times.length - 1]!;
  let result = await querySamples(hubUrl, 'link_value', from, to);
  await eventually(async () => {
    result = await querySamples(hubUrl, 'link_value', from, to);
    return result.reduce((n, s) => n + s.values.length, 0) >= times.length * SERIES;
  }, 30_000, 300).catch(() => undefined);
  return result;
}

t.test('kill -9 of the hub mid-stream, three times, restart: every sample exactly once', async (t) => {
  const dir = tempDir('link-hubcrash');
  t.teardown(dir.remove);
  const target = await DeterministicTarget.start(SERIES);
  t.teardown(() => target.close());
  const port = await freePort();
  const hubArgs = ['--config', hubConfig(dir.path, [{ token: 'tok' }]), '--listen', `127.0.0.1:${port}`,
    '--data-dir', path.join(dir.path, 'hub')];
  let hub = await startProc(BIN.hub, hubArgs);
  t.teardown(() => hub.stop());
  const agent = await startProc(BIN.agent, ['--config', agentConfig(dir.path, target.address), '--hub', `ws://127.0.0.1:${port}`,
    '--token', 'tok', '--listen', '127.0.0.1:0', '--data-dir', path.join(dir.path, 'agent'), '--datacenter', 'dc1']);
  t.teardown(() => agent.stop());
  await eventually(async () => (await querySamples(hub.url, 'link_value', Date.now() - 60_000, Date.now())).length === SERIES, 20_000);
  for (let round = 0; round < 3; round++) {
    await sleep(2000 + round * 500);
    await kill9(hub);
    await sleep(1500);
    hub = await startProc(BIN.hub, hubArgs);
  }
  await sleep(3000);
  const end = Date.now();
  const times = target.served.filter((x) => x <= end);
  const cmp = compareStored(await waitComplete(hub.url, times), times, SERIES);
  t.same(cmp.problems, [], `${times.length} scrapes × ${SERIES} series`);
  t.equal(cmp.stored, times.length * SERIES, 'exactly once');
});

t.test('kill -9 of the agent mid-stream, three times, restart: every buffered sample exactly once', async (t) => {
  const dir = tempDir('link-agentcrash');
  t.teardown(dir.remove);
  const target = await DeterministicTarget.start(SERIES);
  t.teardown(() => target.close());
  const hub = await startProc(BIN.hub, ['--config', hubConfig(dir.path, [{ token: 'tok' }]), '--listen', '127.0.0.1:0',
    '--data-dir', path.join(dir.path, 'hub')]);
  t.teardown(() => hub.stop());
  const agentArgs = ['--config', agentConfig(dir.path, target.address), '--hub', hub.url.replace('http', 'ws'), '--token', 'tok',
    '--listen', '127.0.0.1:0', '--data-dir', path.join(dir.path, 'agent'), '--datacenter', 'dc1'];
  let agent = await startProc(BIN.agent, agentArgs);
  t.teardown(() => agent.stop());
  await eventually(async () => (await querySamples(hub.url, 'link_value', Date.now() - 60_000, Date.now())).length === SERIES, 20_000);
  // a scrape answered in the last moment before a kill may not have reached the buffer yet: that one
  // (and only that one) may be missing
  const mayMiss = new Set<number>();
  for (let round = 0; round < 3; round++) {
    await sleep(2500 + round * 500);
    const before = target.served.length;
    await kill9(agent);
    const killedAt = Date.now();
    for (const x of target.served.slice(Math.max(0, before - 1))) if (x > killedAt - 1000) mayMiss.add(x);
    agent = await startProc(BIN.agent, agentArgs);
  }
  await sleep(3000);
  const end = Date.now();
  const times = target.served.filter((x) => x <= end);
  const result = await waitComplete(hub.url, times.filter((x) => !mayMiss.has(x)));
  const cmp = compareStored(result, times, SERIES, mayMiss);
  t.same(cmp.problems, [], `${times.length} scrapes × ${SERIES} series`);
  t.ok(cmp.missing <= 3 * SERIES, `at most the scrape in flight at each kill is missing (${cmp.missing / SERIES} scrapes)`);
  t.equal(cmp.stored + cmp.missing, times.length * SERIES, 'exactly once');
});
