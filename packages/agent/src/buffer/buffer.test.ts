import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openBuffer } from './queue.js';

function tmp(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-buffer-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const block = (n: number, size = 100): Uint8Array => new Uint8Array(size).fill(n & 0xff);

t.test('blocks survive a reopen with their sequence numbers and ack state', async (t) => {
  const dir = tmp(t);
  const b = await openBuffer({ dir, maxBytes: 1 << 20 });
  for (let i = 0; i < 10; i++) t.equal(b.append(block(i), { samples: 5, time: 1000 + i }), i + 1);
  b.ack([1, 3, 6, 6]);
  t.equal(b.nextUnacked(1), 4);
  t.equal(b.nextUnacked(6), 7);
  t.equal(b.unackedBlocks, 6);
  t.equal(b.oldestUnackedTime(), 1003);
  await b.close();
  const c = await openBuffer({ dir, maxBytes: 1 << 20 });
  t.equal(c.epoch, b.epoch);
  t.equal(c.nextSeq, 11);
  t.equal(c.unackedBlocks, 6);
  t.same(Array.from(c.read(4)!), Array.from(block(3)));
  t.same(c.info(10), { samples: 5, time: 1009, bytes: 100 });
  t.equal(c.append(block(99), { samples: 1, time: 2000 }), 11);
  await c.close();
});

t.test('a torn tail after a crash is cut and the valid blocks kept', async (t) => {
  const dir = tmp(t);
  const b = await openBuffer({ dir, maxBytes: 1 << 20 });
  for (let i = 0; i < 3; i++) b.append(block(i), { samples: 1, time: i });
  await b.close();
  const seg = fs.readdirSync(dir).find((f) => f.endsWith('.seg'))!;
  fs.appendFileSync(path.join(dir, seg), Buffer.from([50, 0, 0, 0, 1, 2, 3])); // half a record
  const c = await openBuffer({ dir, maxBytes: 1 << 20 });
  t.equal(c.nextSeq, 4);
  t.equal(c.unackedBlocks, 3);
  t.equal(c.append(block(7), { samples: 1, time: 9 }), 4);
  t.same(Array.from(c.read(4)!), Array.from(block(7)));
  await c.close();
});

t.test('a full buffer drops the oldest segments only and counts their unacked samples', async (t) => {
  const dir = tmp(t);
  const b = await openBuffer({ dir, maxBytes: 10_000, segmentBytes: 1200 });
  const drops: number[] = [];
  b.onDrop((samples) => drops.push(samples));
  for (let i = 1; i <= 200; i++) b.append(block(i), { samples: 10, time: i });
  t.ok(b.bytes <= 10_000, `bytes ${b.bytes}`);
  const s = b.stats();
  t.ok(s.droppedSamples > 0);
  t.equal(s.droppedSamples, drops.reduce((a, x) => a + x, 0));
  t.equal(s.droppedSamples, (s.firstSeq - 1) * 10, 'every dropped block is older than every kept one');
  t.equal(b.nextUnacked(1), s.firstSeq);
  t.same(Array.from(b.read(200)!), Array.from(block(200)));
  t.equal(b.read(1), undefined);
  await b.close();
});

t.test('acked segments are deleted and sequence numbers never restart', async (t) => {
  const dir = tmp(t);
  const b = await openBuffer({ dir, maxBytes: 1 << 20, segmentBytes: 500 });
  for (let i = 1; i <= 50; i++) b.append(block(i), { samples: 1, time: i });
  const before = fs.readdirSync(dir).filter((f) => f.endsWith('.seg')).length;
  b.ack([1, 50]);
  const after = fs.readdirSync(dir).filter((f) => f.endsWith('.seg')).length;
  t.ok(before > 3 && after === 1, `${before} -> ${after} segments`);
  t.equal(b.unackedBlocks, 0);
  t.equal(b.oldestUnackedTime(), null);
  await b.close();
  const c = await openBuffer({ dir, maxBytes: 1 << 20 });
  t.equal(c.append(block(1), { samples: 1, time: 1 }), 51);
  t.equal(c.unackedBlocks, 1);
  await c.close();
});

t.test('max_age drops old segments and counts them', async (t) => {
  const dir = tmp(t);
  const b = await openBuffer({ dir, maxBytes: 1 << 20, segmentBytes: 500, maxAgeMs: 1000 });
  for (let i = 1; i <= 20; i++) b.append(block(i), { samples: 2, time: i * 100 });
  t.ok(b.stats().droppedSamples > 0);
  t.ok(b.info(b.firstSeq)!.time >= 2000 - 1000 - 500);
  await b.close();
});

t.test('blocks are written in the background: writtenSeq says which are in the kernel', async (t) => {
  const dir = tmp(t);
  const b = await openBuffer({ dir, maxBytes: 1 << 20, segmentBytes: 2000 });
  let notified = 0;
  b.onWritten(() => notified++);
  const first = b.append(block(1), { samples: 1, time: 1 });
  for (let i = 2; i <= 40; i++) b.append(block(i), { samples: 1, time: i });
  t.equal(b.writtenSeq, first, 'append returns before the write(2)');
  t.ok(b.read(first), 'a block not yet written is readable (from memory)');
  await new Promise<void>((resolve) => {
    const check = () => (b.writtenSeq === b.nextSeq ? resolve() : setTimeout(check, 2));
    check();
  });
  t.ok(notified > 0);
  b.ack([first, first + 30]); // drops fully acked segments, maybe while a write or sync of theirs runs
  await b.flush();
  await b.close();
  const c = await openBuffer({ dir, maxBytes: 1 << 20 });
  t.equal(c.writtenSeq, c.nextSeq);
  t.equal(c.unackedBlocks, 9);
  t.same(Buffer.from(c.read(first + 39)!), Buffer.from(block(40)));
  await c.close();
});
