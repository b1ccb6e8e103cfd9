import t from 'tap';
import { silentLogger } from '@vigil/common';
import type { AgentInfo } from './server.js';
import { LinkWatcher } from './linkwatch.js';

const agent = (over: Partial<AgentInfo>): AgentInfo => ({
  id: 'a1', datacenter: 'paris', connected: true, last_seen: null, watermark: null, watermark_seconds: 1000, lag_seconds: 1,
  buffered_bytes: 0, backlog_blocks: 0, samples_per_second: 0, series: 0, ...over,
} as AgentInfo);

t.test('reports a cut, the reconnection, then the landed backlog window once', async (t) => {
  let state = agent({});
  const events: string[] = [];
  const w = new LinkWatcher(() => [state], {
    agentDown: (a, dc, down) => events.push(`${a}@${dc} ${down ? 'down' : 'up'}`),
    backlogLanded: (dc, from, to) => events.push(`${dc} landed ${from}-${to}`),
  }, silentLogger);
  w.poll();
  t.same(events, []);
  state = agent({ connected: false, watermark_seconds: 1000, lag_seconds: 60 });
  w.poll();
  t.ok(w.isCut('paris'));
  t.notOk(w.isCut('berlin'));
  t.same(events, ['a1@paris down']);
  state = agent({ connected: true, watermark_seconds: 1010, lag_seconds: 600 });
  w.poll();
  t.same(events, ['a1@paris down', 'a1@paris up'], 'backlog still draining');
  state = agent({ connected: true, watermark_seconds: 1700, lag_seconds: 2 });
  w.poll();
  w.poll();
  t.same(events, ['a1@paris down', 'a1@paris up', 'paris landed 1000000-1700000']);
  t.equal(w.watermark('paris'), 1_700_000);
});
