// Security issue, defect 5: SIGTERM while an agent is connected used to hang (60 s to 13 min,
// still acking) because the listener waited for the agent's upgraded socket before the streams
// were closed; a new hub then could not open the store.
import t from 'tap';
import { BIN, eventually, startProc, tempDir } from './lib/proc.js';

t.test('a hub with a connected agent stops on SIGTERM within seconds and the store opens again', async (t) => {
  const dir = tempDir('stop');
  t.teardown(() => dir.remove());
  const hubArgs = ['--listen', '127.0.0.1:0', '--data-dir', `${dir.path}/hub`, '--log-level', 'info'];
  const hub = await startProc(BIN.hub, hubArgs);
  t.teardown(() => hub.stop('SIGKILL'));
  const ws = hub.url.replace(/^http/, 'ws');
  const agent = await startProc(BIN.agent, [
    '--hub', ws, '--listen', '127.0.0.1:0', '--data-dir', `${dir.path}/agent`, '--datacenter', 'dc1',
  ]);
  t.teardown(() => agent.stop('SIGKILL'));
  await eventually(async () => {
    const res = await fetch(`${hub.url}/api/v1/agents`);
    const body = await res.json() as { data: { connected: boolean }[] };
    return body.data.some((a) => a.connected);
  }, 20_000);
  const started = Date.now();
  const code = await hub.stop('SIGTERM');
  const ms = Date.now() - started;
  t.equal(code, 0, 'a clean exit');
  t.ok(ms < 10_000, `stopped in ${ms} ms with the agent still connected`);
  const again = await startProc(BIN.hub, hubArgs);
  t.teardown(() => again.stop('SIGKILL'));
  const ready = await fetch(`${again.url}/-/ready`);
  t.equal(ready.status, 200, 'a new hub opens the same store');
  await again.stop('SIGTERM');
  await agent.stop('SIGTERM');
});
