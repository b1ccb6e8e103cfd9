import { Engine, type EngineOptions } from './head.js';
import type { ChunkMeta } from './series.js';

/**
 * The in-memory store: the same semantics as the LevelDB store (it shares the engine) with
 * every sample kept in the head and nothing durable. For tests and ephemeral hubs.
 */
export class MemStorage extends Engine {
  constructor(opts: EngineOptions = {}) {
    super(opts);
  }

  protected async durable(): Promise<void> {
    // Nothing to make durable.
  }

  protected async readChunkValues(metas: readonly ChunkMeta[]): Promise<(Uint8Array | undefined)[]> {
    return metas.map(() => undefined);
  }

  /** Applies retention: drops samples older than the newest minus retention, and empty series. */
  async flush(): Promise<void> {
    await this.exclusive(() => {
      const cutoff = this.cutoff();
      for (const s of [...this.index.all()]) {
        if (!s.committed) continue;
        if (s.minT < cutoff) {
          s.head.dropBefore(cutoff);
          s.ooo?.dropBefore(cutoff);
          s.recomputeRange();
        }
        if (!s.hasData()) this.index.remove(s);
      }
      this.counters.flushes++;
    });
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
