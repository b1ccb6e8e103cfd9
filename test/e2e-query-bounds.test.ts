// One query must not take the hub down (issue 14, items 3 and 4): a subquery of billions of steps fails fast with
// a 422 instead of growing the process until the kernel kills it, 10,000 nested parentheses are a 400 instead of a
// stack overflow, and regexes that backtrack exponentially elsewhere answer at once while /-/ready stays answered.
import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, startProc, tempDir } from './lib/proc.js';

/** The process' peak resident memory in MB (Linux), or undefined where /proc is not there. */
function peakRssMb(pid: number): number | undefined {
  const file = `/proc/${pid}/status`;
  if (!existsSync(file)) return undefined;
  const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(file, 'utf8'));
  return m ? Number(m[1]) / 1024 : undefined;
}

async function query(url: string, q: string): Promise<{ status: number; ms: number; body: { errorType?: string; error?: string; data?: { result: unknown[] } } }> {
  const started = Date.now();
  const res = await fetch(`${url}/api/v1/query`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ query: q }) });
  return { status: res.status, body: (await res.json()) as never, ms: Date.now() - started };
}

t.test('queries that would exhaust memory, stack or CPU are refused or answered at once', async (t) => {
  const dir = tempDir('query-bounds');
  t.teardown(dir.remove);
  const hub = await startProc(BIN.hub, ['--listen', '127.0.0.1:0', '--data-dir', join(dir.path, 'data')]);
  t.teardown(() => hub.stop());
  const long = 'a'.repeat(4_000);
  const imported = await fetch(`${hub.url}/api/v1/import/prometheus`, { method: 'POST', body: `up{job="a"} 1\nup{job="b"} 1\nslow{v="${long}"} 1\n` });
  t.equal(imported.status, 204);

  // /-/ready is polled all along: no query may keep it waiting
  let slowestReady = 0;
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const started = Date.now();
      const res = await fetch(`${hub.url}/-/ready`);
      await res.arrayBuffer();
      slowestReady = Math.max(slowestReady, Date.now() - started);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();

  const sub = await query(hub.url, 'max_over_time(up[100y:1s])');
  t.equal(sub.status, 422);
  t.equal(sub.body.errorType, 'execution');
  t.equal(sub.body.error, 'query processing would load too many samples into memory in query execution');
  t.ok(sub.ms < 2_000, `subquery refused in ${sub.ms} ms`);

  const deep = await query(hub.url, `${'('.repeat(10_000)}up${')'.repeat(10_000)}`);
  t.equal(deep.status, 400);
  t.equal(deep.body.errorType, 'bad_data');
  t.match(deep.body.error, /^invalid parameter "query": 1:1001: parse error: expression nests too deeply/);

  for (const q of ['{__name__=~"(.*)*x"}', `slow{v=~"(a+)+b"}`, `label_replace(slow, "x", "$1", "v", "(a+)+b")`, `slow{v=~"(a|aa)+"}`]) {
    const res = await query(hub.url, q);
    t.equal(res.status, 200, q);
    t.ok(res.ms < 2_000, `${q} answered in ${res.ms} ms`);
  }
  t.equal((await query(hub.url, 'label_replace(slow, "x", "$1", "v", "(a+)+b")')).body.data?.result.length, 1);

  const look = await query(hub.url, 'up{job=~"(?=a)a"}');
  t.equal(look.status, 400);
  t.equal(look.body.error, 'invalid parameter "query": 1:4: parse error: error parsing regexp: invalid or unsupported Perl syntax: `(?=`');

  polling = false;
  await poller;
  t.ok(slowestReady < 1_000, `/-/ready answered within ${slowestReady} ms throughout`);
  const peak = peakRssMb(hub.child.pid!);
  if (peak !== undefined) t.ok(peak < 1_024, `hub peak RSS ${peak.toFixed(0)} MB`);
  t.equal((await fetch(`${hub.url}/-/healthy`)).status, 200, 'the hub is still up');
});
