import t from 'tap';
import { ChunkCache } from './cache.js';
import { newChunkSamples } from './chunk.js';
import type { ChunkMeta } from './series.js';

function meta(i: number): ChunkMeta {
  return { minT: i, maxT: i, count: 100, key: Buffer.from([i]), bytes: 0 };
}

t.test('the least recently used chunks leave first when the bytes pass the bound', async (t) => {
  // Each entry: 100 samples × 16 bytes + 64 bytes of overhead = 1664 bytes.
  const cache = new ChunkCache(1664 * 3);
  const m = [meta(0), meta(1), meta(2), meta(3)];
  for (let i = 0; i < 3; i++) cache.put(m[i]!, newChunkSamples(100));
  t.equal(cache.size, 3);
  t.ok(cache.get(m[0]!), 'entry 0 is used again');
  cache.put(m[3]!, newChunkSamples(100));
  t.equal(cache.size, 3);
  t.equal(cache.get(m[1]!), undefined, 'entry 1 was the least recently used');
  t.ok(cache.get(m[0]!));
  t.ok(cache.get(m[3]!));
  t.equal(cache.bytes, 1664 * 3);
  t.equal(cache.hits, 3);
  t.equal(cache.misses, 1);
});

t.test('drop frees an entry at once; an entry larger than the bound is not kept', async (t) => {
  const cache = new ChunkCache(10_000);
  const a = meta(1);
  cache.put(a, newChunkSamples(100));
  cache.drop(a);
  t.equal(cache.get(a), undefined);
  t.equal(cache.bytes, 0);
  cache.put(a, newChunkSamples(1000));
  t.equal(cache.size, 0);
  const off = new ChunkCache(0);
  off.put(a, newChunkSamples(1));
  t.equal(off.size, 0, 'a zero bound disables the cache');
});
