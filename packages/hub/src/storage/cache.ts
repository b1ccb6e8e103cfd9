import type { ChunkSamples } from './chunk.js';
import type { ChunkMeta } from './series.js';

/**
 * Decoded chunks kept for queries and duplicate checks, least recently used first out, bounded
 * by the bytes of their arrays. Entries are keyed by the catalog entry (`ChunkMeta`), which a
 * rewrite replaces: a rewritten or deleted chunk is never served again, and `drop` frees it at once.
 * The cached arrays are exact-size and shared: readers must not write to them.
 */
export class ChunkCache {
  private readonly map = new Map<ChunkMeta, ChunkSamples>();
  bytes = 0;
  hits = 0;
  misses = 0;

  constructor(readonly maxBytes: number) {}

  /** The decoded chunk, marked as recently used; undefined when absent. */
  get(meta: ChunkMeta): ChunkSamples | undefined {
    const c = this.map.get(meta);
    if (c === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.map.delete(meta);
    this.map.set(meta, c);
    return c;
  }

  put(meta: ChunkMeta, c: ChunkSamples): void {
    const size = sizeOf(c);
    if (size > this.maxBytes) return;
    const old = this.map.get(meta);
    if (old !== undefined) {
      this.bytes -= sizeOf(old);
      this.map.delete(meta);
    }
    this.map.set(meta, c);
    this.bytes += size;
    if (this.bytes <= this.maxBytes) return;
    for (const [m, x] of this.map) {
      if (this.bytes <= this.maxBytes) break;
      this.map.delete(m);
      this.bytes -= sizeOf(x);
    }
  }

  drop(meta: ChunkMeta): void {
    const c = this.map.get(meta);
    if (c === undefined) return;
    this.map.delete(meta);
    this.bytes -= sizeOf(c);
  }

  get size(): number {
    return this.map.size;
  }
}

function sizeOf(c: ChunkSamples): number {
  return c.t.byteLength + c.v.byteLength + (c.stale?.byteLength ?? 0) + 64;
}
