/** The head's write side: an `Appender` fills a pooled batch; commit hands it to the engine's group commit. */
import type { Labels } from '@vigil/common';
import type { AppendStats, Appender, SeriesRef } from './types.js';
import type { Batch } from './head_batch.js';
import type { Engine } from './head.js';

export class EngineAppender implements Appender {
  private batch: Batch | null = null;
  constructor(private readonly engine: Engine) {}

  append(ref: SeriesRef, labels: Labels, t: number, v: number, stale?: boolean): SeriesRef {
    const batch = (this.batch ??= this.engine.takeBatch());
    let s = ref > 0 ? this.engine.index.get(ref) : undefined;
    if (s === undefined) {
      const found = this.engine.seriesFor(labels);
      if (typeof found === 'string') {
        batch.reject(found);
        return 0;
      }
      s = found;
    }
    batch.push(s.id, t, v, stale === true);
    return s.id;
  }

  commit(): Promise<AppendStats> {
    const batch = this.batch ?? this.engine.takeBatch();
    this.batch = null;
    return this.engine.enqueue(batch);
  }

  rollback(): void {
    if (this.batch !== null) this.engine.releaseBatch(this.batch);
    this.batch = null;
  }
}

