import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { openStorage } from './db.js';
import { storageConformance } from './conformance.js';

const dirs: string[] = [];
t.teardown(() => { for (const d of dirs) fs.rmSync(d, { recursive: true, force: true }); });

function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-db-'));
  dirs.push(d);
  return d;
}

storageConformance(t, async (opts) => openStorage({ dir: tempDir(), ...opts }));

function dirBytes(dir: string): number {
  let n = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    n += e.isDirectory() ? dirBytes(p) : fs.statSync(p).size;
  }
  return n;
}

t.test('retention deletes old chunks and frees disk space', async (t) => {
  const dir = tempDir();
  const storage = await openStorage({ dir, retentionMs: 86_400_000 });
  const base = Date.UTC(2024, 0, 1);
  let v = 0;
  for (let day = 0; day < 3; day++) {
    const app = storage.appender();
    for (let s = 0; s < 20; s++) {
      let ref = 0;
      for (let i = 0; i < 1440; i++) ref = app.append(ref, { __name__: 'r', s: String(s) }, base + day * 86_400_000 + i * 60_000, (v = (v * 1103515245 + 12345) % 2147483648));
    }
    await app.commit();
    await storage.flush();
  }
  const before = dirBytes(dir);
  const app = storage.appender();
  app.append(0, { __name__: 'fresh' }, base + 10 * 86_400_000, 1);
  await app.commit();
  await storage.flush();
  const after = dirBytes(dir);
  t.ok(after < before / 4, `data dir shrank from ${before} to ${after} bytes`);
  const q = await storage.querier(0, 1e15);
  const { Matcher } = await import('@vigil/common');
  t.same((await q.select([new Matcher('=', '__name__', 'r')])).length, 0, 'expired series are gone');
  t.same(await q.labelValues('__name__'), ['fresh']);
  await storage.close();
  const reopened = await openStorage({ dir, retentionMs: 86_400_000 });
  t.teardown(() => reopened.close());
  t.same(await (await reopened.querier(0, 1e15)).labelValues('__name__'), ['fresh'], 'deletion is durable');
});

t.test('close leaves the data compacted with an empty log', async (t) => {
  const dir = tempDir();
  const storage = await openStorage({ dir });
  const app = storage.appender();
  let ref = 0;
  for (let i = 0; i < 1000; i++) ref = app.append(ref, { __name__: 'z' }, 1_700_000_000_000 + i * 15_000, i);
  await app.commit();
  await storage.close();
  t.same(fs.readdirSync(path.join(dir, 'wal')), [], 'no log segment left');
  const again = await openStorage({ dir });
  t.teardown(() => again.close());
  const { Matcher } = await import('@vigil/common');
  const got = await (await again.querier(0, 1e15)).select([new Matcher('=', '__name__', 'z')]);
  t.equal(got[0]?.t.length, 1000);
});

t.test('background flushes write chunks and merge each finished day', async (t) => {
  const dir = tempDir();
  const storage = await openStorage({ dir, walMaxBytes: 1 });
  t.teardown(() => storage.close());
  const base = Date.UTC(2024, 0, 1);
  let ref = 0;
  let n = 0;
  for (let block = 0; block < 27; block++) {
    const app = storage.appender();
    for (let i = 0; i < 120; i++, n++) ref = app.append(ref, { __name__: 'bg' }, base + n * 60_000, n);
    const flushes = storage.stats().flushes;
    await app.commit();
    while (storage.stats().flushes === flushes) await new Promise((r) => setTimeout(r, 5));
  }
  const st = storage.stats();
  t.equal(st.chunks, 5, "one chunk per finished day, three 2 h chunks for the last 6 h");
  const { Matcher } = await import('@vigil/common');
  const got = await (await storage.querier(0, 1e15)).select([new Matcher('=', '__name__', 'bg')]);
  t.equal(got[0]?.t.length, n);
  t.ok(got[0]!.v.every((v, i) => v === i), 'every sample in order');
});

t.test('cached chunks are not served after a flush rewrote them', async (t) => {
  const dir = tempDir();
  const storage = await openStorage({ dir });
  t.teardown(() => storage.close());
  const { Matcher } = await import('@vigil/common');
  const sel = [new Matcher('=', '__name__', 'c')];
  const base = Date.UTC(2024, 0, 1);
  let app = storage.appender();
  let ref = 0;
  for (let i = 0; i < 100; i++) ref = app.append(ref, { __name__: 'c' }, base + i * 60_000, i);
  await app.commit();
  await storage.flush();
  const read = async (): Promise<{ t: number[]; v: number[] }> => {
    const [s] = await (await storage.querier(base, base + 86_400_000)).select(sel);
    return { t: [...s!.t], v: [...s!.v] };
  };
  const first = await read();
  t.equal(first.t.length, 100);
  t.same(await read(), first, 'a second read (from the cache) is the same');
  // Backfill between the persisted samples, a duplicate and a conflict, then rewrite the day chunk.
  app = storage.appender();
  app.append(ref, { __name__: 'c' }, base + 30_000, -1);
  app.append(ref, { __name__: 'c' }, base + 60_000, 1);
  app.append(ref, { __name__: 'c' }, base + 120_000, 99);
  const stats = await app.commit();
  t.match(stats, { appended: 1, duplicates: 1, conflicts: 1 });
  t.equal((await read()).t.length, 101, 'the out-of-order sample is merged from the head');
  await storage.flush();
  const after = await read();
  t.equal(after.t.length, 101, 'and read from the rewritten chunk');
  t.equal(after.t[1], base + 30_000);
  t.equal(after.v[1], -1);
  t.equal(after.v[2], 1, 'the first value stays');
  t.equal(after.v[3], 2);
});

t.test('queries running during a flush that rewrites chunks see every sample once', async (t) => {
  const dir = tempDir();
  const storage = await openStorage({ dir });
  t.teardown(() => storage.close());
  const { Matcher } = await import('@vigil/common');
  const sel = [new Matcher('=', '__name__', 'q')];
  const base = Date.UTC(2024, 0, 1);
  const SERIES = 50;
  const write = async (from: number, to: number, step: number): Promise<void> => {
    const app = storage.appender();
    for (let s = 0; s < SERIES; s++) for (let i = from; i < to; i += step) app.append(0, { __name__: 'q', s: String(s) }, base + i * 60_000, i);
    await app.commit();
  };
  await write(0, 600, 2); // even minutes, flushed to chunks
  await storage.flush();
  let expected = 300;
  for (let round = 0; round < 3; round++) {
    // Odd minutes of a slice of the day land between persisted samples: the flush rewrites the day chunk.
    await write(1 + round * 200, 200 + round * 200, 2);
    expected += 100;
    const flushing = storage.flush();
    const counts: number[] = [];
    let done = false;
    void flushing.then(() => { done = true; });
    while (!done) {
      const data = await (await storage.querier(base, base + 86_400_000)).select(sel);
      counts.push(data.length === SERIES ? Math.min(...data.map((d) => d.t.length)) : -1);
      const d = data[0]!;
      for (let i = 1; i < d.t.length; i++) if (d.t[i]! <= d.t[i - 1]!) t.fail('timestamps not strictly increasing');
      // Cached reads never wait for I/O: let the flush's LevelDB callbacks run.
      await new Promise((r) => setImmediate(r));
    }
    await flushing;
    t.ok(counts.length > 0);
    t.ok(counts.every((c) => c === expected), `every read during flush ${round} saw ${expected} samples per series (${counts.length} reads)`);
  }
});

t.test('chunks of a day still being written are stored uncompressed until the day is compacted', async (t) => {
  const dir = tempDir();
  const storage = await openStorage({ dir, walMaxBytes: 1 });
  const { Matcher } = await import('@vigil/common');
  const base = Date.UTC(2024, 0, 1, 6);
  let ref = 0;
  const app = storage.appender();
  for (let i = 0; i < 600; i++) ref = app.append(ref, { __name__: 'p' }, base + i * 15_000, (i * 7) % 100);
  await app.commit();
  // The commit passed the 1-byte log bound: a background flush follows, writing one chunk alone in its day.
  for (let w = 0; w < 200 && storage.stats().flushes < 1; w++) await new Promise((r) => setTimeout(r, 10));
  t.equal(storage.stats().flushes, 1, 'a background flush ran');
  t.equal(storage.stats().chunks, 1);
  const read = async (s: typeof storage): Promise<number> => (await (await s.querier(0, 1e15)).select([new Matcher('=', '__name__', 'p')]))[0]!.t.length;
  t.equal(await read(storage), 600);
  const { Level } = await import('level');
  await storage.close();
  const db = new Level<Buffer, Buffer>(path.join(dir, 'index'), { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  await db.open();
  const codecs: number[] = [];
  for await (const v of db.values({ gte: Buffer.from('c'), lt: Buffer.from('d') })) codecs.push(v[0]!);
  await db.close();
  t.same(codecs, [1], 'close rewrote the lone uncompressed chunk with brotli');
  const reopened = await openStorage({ dir });
  t.teardown(() => reopened.close());
  t.equal(await read(reopened), 600);
});

t.test('a far-future sample already on disk (written before validation) does not wipe the store after a reopen', async (t) => {
  const dir = tempDir();
  const now = Date.now();
  const { Matcher } = await import('@vigil/common');
  // An old store that accepted a timestamp of year 318857 (no future bound at the time).
  const old = await openStorage({ dir, retentionMs: 86_400_000, maxFutureMs: Infinity });
  const app = old.appender();
  app.append(0, { __name__: 'kept' }, now - 60_000, 1);
  app.append(0, { __name__: 'bad' }, 9_999_999_999_999, 1);
  await app.commit();
  await old.close();
  const s = await openStorage({ dir, retentionMs: 86_400_000 });
  t.teardown(() => s.close());
  await s.flush();
  const q = await s.querier(0, 1e16);
  t.equal((await q.select([new Matcher('=', '__name__', 'kept')]))[0]?.t.length, 1, 'data of the present survives');
  const a2 = s.appender();
  a2.append(0, { __name__: 'kept' }, now, 2);
  const st = await a2.commit();
  t.equal(st.appended, 1, 'new samples are accepted');
});
