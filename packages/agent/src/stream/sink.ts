/**
 * The streamer's sink side: each write (one scrape, one push) becomes one block in the durable
 * buffer (see block.ts for its format), with agent-local series ids from the registry. A block
 * is in the buffer when `write` returns; the lanes send it from there.
 */
import type { Group, MetricMetadata, Sample } from '@vigil/common';
import type { DiskBuffer } from '../buffer/index.js';
import type { BatchSink, SampleBatch } from '../sink.js';
import { encodeBlock, groupBatch, groupSamples } from './block.js';
import type { StreamMetrics } from './metrics.js';
import type { SeriesRegistry } from './registry.js';

export interface BlockSinkHooks {
  /** Metadata that came with a write. */
  metadata(metadata: readonly MetricMetadata[]): void;
  /** A block was appended to the buffer. */
  appended(): void;
}

export class BlockSink implements BatchSink {
  /** Samples written so far. */
  scraped = 0;
  /** The newest block time (ms), null before the first block. */
  newestTime: number | null = null;

  constructor(
    private readonly buffer: DiskBuffer,
    private readonly series: SeriesRegistry,
    private readonly metrics: StreamMetrics,
    private readonly hooks: BlockSinkHooks,
  ) {}

  write(samples: readonly Sample[], metadata?: readonly MetricMetadata[]): void {
    if (metadata) this.hooks.metadata(metadata);
    if (samples.length === 0) return;
    this.begin();
    this.store(groupSamples(samples, this.series), samples.length);
  }

  /** A scrape as columns with stable series handles (the scrape loops' path): same contract as `write`. */
  writeBatch(batch: SampleBatch, metadata?: readonly MetricMetadata[]): void {
    if (metadata) this.hooks.metadata(metadata);
    if (batch.length === 0) return;
    this.begin();
    this.store(groupBatch(batch, this.series), batch.length);
  }

  /** Ids used from here on belong to the next block (the registry keeps them while it is unacked). */
  private begin(): void {
    this.series.currentSeq = this.buffer.nextSeq;
    this.series.currentTime = Date.now();
  }

  private store(groups: Group[], samples: number): void {
    let minT = Infinity;
    for (const g of groups) if (g.t < minT) minT = g.t;
    this.series.flush(); // definitions before the block that uses them
    this.buffer.append(encodeBlock(groups), { samples, time: minT });
    if (this.newestTime === null || minT > this.newestTime) this.newestTime = minT;
    this.scraped += samples;
    this.metrics.samplesScraped.inc(samples);
    this.hooks.appended();
  }
}
