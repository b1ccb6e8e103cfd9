import { type MetricFamily, type MetricMetadata } from '@vigil/common';
import type { RawSample, ScrapeResult, ScrapeSource } from './loop.js';
import { isAscii } from 'node:buffer';
import { HttpScraper, type HttpClientOptions } from './scraper.js';

/** Body pieces stay under V8's large-object size (128 KiB), so they are cheap young-generation strings. */
const PIECE_BYTES = 60 << 10;

/**
 * A body as strings that end at line ends. ASCII (the usual body) decodes as latin1, a plain
 * copy, several times faster than UTF-8 decoding; a newline byte never splits a UTF-8 sequence.
 */
export function bodyPieces(data: Buffer): string[] {
  const enc = isAscii(data) ? 'latin1' : 'utf8';
  const out: string[] = [];
  let start = 0;
  while (start < data.length) {
    let end = start + PIECE_BYTES;
    if (end >= data.length) end = data.length;
    else {
      const nl = data.indexOf(10, end - 1);
      end = nl === -1 ? data.length : nl + 1;
    }
    out.push(data.toString(enc, start, end));
    start = end;
  }
  return out;
}

/** Scrapes an HTTP(S) endpoint and parses the exposition format its Content-Type names. */
export class HttpSource implements ScrapeSource {
  private readonly client: HttpScraper;

  constructor(private readonly url: string, opts: HttpClientOptions) {
    this.client = new HttpScraper(opts);
  }

  async scrape(timeoutMs: number): Promise<ScrapeResult> {
    const res = await this.client.fetchBytes(this.url, timeoutMs);
    const format = /^\s*application\/openmetrics-text/i.test(res.contentType) ? 'openmetrics' : 'text';
    // parsed by the loop, against its scrape cache
    return { text: bodyPieces(res.data), format };
  }

  close(): void {
    this.client.close();
  }
}

/** Turns metric families (the host exporter's, or pushed groups) into raw samples and metadata. */
export function familiesToResult(families: readonly MetricFamily[]): ScrapeResult {
  const samples: RawSample[] = [];
  const metadata: MetricMetadata[] = [];
  for (const f of families) {
    metadata.push({ metric: f.name, type: f.type, help: f.help, unit: f.unit ?? '' });
    for (const s of f.samples) {
      const labels = { ...s.labels, __name__: s.name };
      samples.push(s.timestamp === undefined ? { labels, value: s.value } : { labels, value: s.value, timestamp: s.timestamp });
    }
  }
  return { samples, metadata };
}

/** An in-process target: calls a collector instead of fetching over HTTP. */
export class LocalSource implements ScrapeSource {
  constructor(private readonly collect: () => Promise<MetricFamily[]>) {}

  async scrape(timeoutMs: number): Promise<ScrapeResult> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`local collection timed out after ${timeoutMs}ms`)), timeoutMs);
    });
    try {
      return familiesToResult(await Promise.race([this.collect(), timeout]));
    } finally {
      clearTimeout(timer);
    }
  }
}
