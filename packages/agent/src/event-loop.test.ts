import t from 'tap';
import { Registry } from 'prom-client';
import { EVENT_LOOP_DELAY_METRIC, EventLoopDelay } from './event-loop.js';

t.test('a blocked event loop shows as the maximum of its window', async (t) => {
  const registry = new Registry();
  const d = new EventLoopDelay(registry, { windowMs: 60_000, resolutionMs: 5 });
  t.teardown(() => d.stop());
  await new Promise((r) => setTimeout(r, 30));
  const until = Date.now() + 120;
  while (Date.now() < until) { /* a stall */ }
  await new Promise((r) => setTimeout(r, 30));
  d.rotate();
  const text = await registry.metrics();
  t.match(text, `# TYPE ${EVENT_LOOP_DELAY_METRIC} summary`);
  const max = Number(new RegExp(`^${EVENT_LOOP_DELAY_METRIC}\\{quantile="1"\\} (\\S+)$`, 'm').exec(text)?.[1]);
  t.ok(max >= 0.1 && max < 5, `max ${max} s covers the 120 ms stall`);
  t.match(text, new RegExp(`^${EVENT_LOOP_DELAY_METRIC}\\{quantile="0.5"\\} `, 'm'));
  t.match(text, new RegExp(`^${EVENT_LOOP_DELAY_METRIC}_count [1-9]`, 'm'));
});
