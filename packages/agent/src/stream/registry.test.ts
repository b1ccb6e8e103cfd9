import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SeriesRegistry } from './registry.js';

const A = { __name__: 'a', job: 'x' };
const B = { __name__: 'b', job: 'x' };
const C = { __name__: 'c', job: 'x' };

function tmp(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-registry-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return path.join(dir, 'series.log');
}

t.test('ids are stable across reopen; a new epoch starts over', async (t) => {
  const file = tmp(t);
  const r = new SeriesRegistry(file, 'e1');
  t.equal(r.idFor(A), 0);
  t.equal(r.idFor(B), 1);
  t.equal(r.idFor({ ...A }), 0, 'same labels, another object');
  r.close();
  const r2 = new SeriesRegistry(file, 'e1');
  t.equal(r2.count, 2);
  t.same(r2.labels(1), ['__name__', 'b', 'job', 'x']);
  t.equal(r2.idFor(B), 1);
  r2.close();
  const r3 = new SeriesRegistry(file, 'e2');
  t.equal(r3.count, 0);
  r3.close();
});

t.test('compaction drops ids no unacked block references and unused for a while, keeps the rest, never reuses ids', async (t) => {
  const file = tmp(t);
  const r = new SeriesRegistry(file, 'e1');
  r.currentSeq = 1; r.currentTime = 1000;
  r.idFor(A); r.idFor(B);
  r.currentSeq = 2; r.currentTime = 5000;
  r.idFor(A); r.idFor(C);
  t.equal(r.compact(1, 3000), 0, 'block 1 is still unacked: nothing dropped');
  t.equal(r.compact(2, 500), 0, 'used recently: nothing dropped');
  t.equal(r.compact(2, 3000), 1, 'b: only in acked block 1 and idle');
  t.equal(r.liveCount, 2);
  t.equal(r.count, 3);
  t.same(r.labels(1), [], 'a dropped id has no labels');
  r.currentSeq = 3; r.currentTime = 6000;
  t.equal(r.idFor(B), 3, 'b comes back under a new id');
  t.equal(r.idFor(A), 0);
  r.close();
  const r2 = new SeriesRegistry(file, 'e1');
  t.equal(r2.count, 4, 'ids survive a reopen after compaction');
  t.equal(r2.liveCount, 3);
  t.same(r2.labels(0), ['__name__', 'a', 'job', 'x']);
  t.same(r2.labels(1), []);
  t.same(r2.labels(2), ['__name__', 'c', 'job', 'x']);
  t.same(r2.labels(3), ['__name__', 'b', 'job', 'x']);
  t.equal(r2.idFor(C), 2);
  t.equal(r2.idFor({ __name__: 'd' }), 4, 'new ids continue after the highest');
  r2.close();
  t.ok(fs.statSync(file).size < 200, 'the file was rewritten with the live ids');
});
