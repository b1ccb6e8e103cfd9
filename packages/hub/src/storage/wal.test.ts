import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import t from 'tap';
import { crc32, replaySegment, WalEncoder } from './wal.js';

t.test('crc32 is the IEEE CRC-32', async (t) => {
  t.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
  const data = Buffer.from(Array.from({ length: 1001 }, (_, i) => (i * 37) & 255));
  const z = zlib as unknown as { crc32?: (b: Uint8Array) => number };
  if (z.crc32) t.equal(crc32(data), z.crc32(data));
  t.equal(crc32(data, 3, 10), crc32(data.subarray(3, 10)));
});

t.test('replay stops at a torn record', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-wal-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const enc = new WalEncoder();
  enc.series(1, { __name__: 'a' });
  enc.sample(1, 1000, 1.5, false);
  enc.sample(1, 2000, NaN, true);
  const first = Buffer.from(enc.finish());
  enc.reset();
  enc.sample(1, 3000, 3, false);
  const second = Buffer.from(enc.finish());
  const file = path.join(dir, '00000001.log');
  fs.writeFileSync(file, Buffer.concat([first, second.subarray(0, second.length - 3)]));
  const seen: string[] = [];
  const valid = await replaySegment(file, {
    series: (id, labels) => { seen.push(`series ${id} ${labels.__name__}`); },
    samples: async (ids, ts, vs, fl, n) => { for (let i = 0; i < n; i++) seen.push(`${ids[i]} ${ts[i]} ${vs[i]} ${fl[i]}`); },
  });
  t.same(seen, ['series 1 a', '1 1000 1.5 0', '1 2000 NaN 1']);
  t.equal(valid, first.length);
});

t.test('columnar sample records replay as written', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-wal-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const enc = new WalEncoder();
  enc.series(7, { __name__: 'b' });
  // Offsets that leave the columns unaligned in the file.
  const ids = new Uint32Array([7, 7, 7, 9]);
  const ts = new Float64Array([1000, 2000, 3000, 4000]);
  const vs = new Float64Array([0.1, NaN, -Infinity, 4]);
  const fl = new Uint8Array([0, 1, 0, 0]);
  enc.columns(ids, ts, vs, fl, 3);
  enc.sample(7, 5000, 5, false);
  const file = path.join(dir, '00000001.log');
  fs.writeFileSync(file, enc.finish());
  const seen: string[] = [];
  await replaySegment(file, {
    series: (id, labels) => { seen.push(`series ${id} ${labels.__name__}`); },
    samples: async (ids, ts, vs, fl, n) => { for (let i = 0; i < n; i++) seen.push(`${ids[i]} ${ts[i]} ${vs[i]} ${fl[i]}`); },
  });
  t.same(seen, ['series 7 b', '7 1000 0.1 0', '7 2000 NaN 1', '7 3000 -Infinity 0', '7 5000 5 0']);
});
