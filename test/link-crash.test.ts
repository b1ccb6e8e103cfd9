// kill -9 of the hub, and separately of the agent, mid-stream: still every sample exactly once.
import t from 'tap';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LinkTestStorage } from './lib/link-storage.js';
import { startAgent, startHub, scrape, tmpDir, verify, waitFor } from './lib/link-fixtures.js';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'lib', 'link-child.js');
const BASE = 1_700_000_000_000;
const SERIES = 30;

function child(args: string[], onLine: (l: string) => void): ChildProcess {
  const p = spawn(process.execPath, [CHILD, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let buf = '';
  p.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) { onLine(buf.slice(0, i)); buf = buf.slice(i + 1); }
  });
  return p;
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function startHubChild(port: number, dir: string): Promise<ChildProcess> {
  let ready = false;
  const p = child(['hub', String(port), dir], (l) => { if (l.startsWith('ready')) ready = true; });
  if (!(await waitFor(() => ready, 10_000))) throw new Error('hub child did not start');
  return p;
}

const killed = (p: ChildProcess) => new Promise<void>((r) => { if (p.exitCode !== null || p.signalCode) r(); else p.once('exit', () => r()); });

t.test('kill -9 of the hub mid-stream, restart: every sample exactly once', async (t) => {
  const dir = tmpDir('vigil-hubcrash-');
  const port = await freePort();
  let hub = await startHubChild(port, dir);
  const agent = await startAgent(`ws://127.0.0.1:${port}`, { heartbeatMs: 300, backoffMaxMs: 300 });
  t.teardown(async () => { await agent.stop(); hub.kill('SIGKILL'); fs.rmSync(dir, { recursive: true, force: true }); fs.rmSync(agent.dir, { recursive: true, force: true }); });
  const times: number[] = [];
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 40; i++) {
      const ts = BASE + times.length * 1000;
      times.push(ts);
      agent.streamer.write(scrape(ts, SERIES));
      await new Promise((r) => setTimeout(r, 15));
    }
    hub.kill('SIGKILL');
    await killed(hub);
    for (let i = 0; i < 20; i++) {
      const ts = BASE + times.length * 1000;
      times.push(ts);
      agent.streamer.write(scrape(ts, SERIES));
    }
    hub = await startHubChild(port, dir);
  }
  t.ok(await waitFor(() => agent.buffer.unackedBlocks === 0, 15_000), 'everything acked after the restarts');
  hub.kill('SIGTERM');
  await killed(hub);
  const stored = new LinkTestStorage(path.join(dir, 'samples.jsonl'));
  t.same(verify(stored, times, SERIES), [], `${times.length} scrapes × ${SERIES} series exactly once`);
  await stored.close();
});

t.test('kill -9 of the agent mid-stream, restart: every sample exactly once', async (t) => {
  const hub = await startHub();
  const dir = tmpDir('vigil-agentcrash-');
  t.teardown(async () => { await hub.close(); fs.rmSync(dir, { recursive: true, force: true }); });
  let from = 0;
  const END = 299;
  for (let round = 0; round < 4; round++) {
    let last = from - 1;
    let done = false;
    const p = child(['agent', hub.url, dir, String(from), String(END), String(SERIES)], (l) => {
      if (l.startsWith('wrote ')) last = Number(l.slice(6));
      if (l === 'done') done = true;
    });
    if (round < 3) {
      await waitFor(() => last >= from + 50, 20_000);
      p.kill('SIGKILL');
      await killed(p);
      from = last + 1; // a scrape written but not reported is written again: storage keeps it once
    } else {
      await waitFor(() => done, 30_000);
      await waitFor(() => hub.storage.sampleCount >= (END + 1) * SERIES, 15_000);
      p.kill('SIGTERM');
      await killed(p);
    }
  }
  const times = Array.from({ length: END + 1 }, (_, k) => BASE + k * 1000);
  t.same(verify(hub.storage, times, SERIES), [], `${END + 1} scrapes × ${SERIES} series exactly once`);
});
