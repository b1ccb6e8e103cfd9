// Shared pieces of the link tests: a hub (IngestServer on a real HTTP server), an agent
// (DiskBuffer + Streamer) and a deterministic source whose values are a function of time.
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openBuffer, Streamer, type DiskBuffer, type StreamerOptions } from '@vigil/agent';
import { IngestServer, type IngestServerOptions } from '@vigil/hub';
import type { Sample } from '@vigil/common';
import { LinkTestStorage } from './link-storage.js';

export function tmpDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface TestHub {
  ingest: IngestServer;
  storage: LinkTestStorage;
  server: http.Server;
  port: number;
  url: string;
  close(): Promise<void>;
}

export async function startHub(opts: Partial<IngestServerOptions> & { storage?: LinkTestStorage; port?: number } = {}): Promise<TestHub> {
  const storage = opts.storage ?? new LinkTestStorage();
  const ingest = new IngestServer({ tokens: [], allowAnonymous: true, ...opts, storage });
  const server = http.createServer((_req, res) => res.writeHead(404).end());
  server.on('upgrade', (req, socket, head) => {
    if (!ingest.handleUpgrade(req, socket, head)) socket.destroy();
  });
  await new Promise<void>((r) => server.listen(opts.port ?? 0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  return {
    ingest, storage, server, port, url: `ws://127.0.0.1:${port}`,
    async close() {
      await ingest.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

export interface TestAgent {
  buffer: DiskBuffer;
  streamer: Streamer;
  dir: string;
  stop(): Promise<void>;
}

export async function startAgent(hubUrl: string, opts: Partial<StreamerOptions> & { dir?: string; maxBytes?: number } = {}): Promise<TestAgent> {
  const dir = opts.dir ?? tmpDir('vigil-agent-');
  const buffer = await openBuffer({ dir, maxBytes: opts.maxBytes ?? 64 << 20, ...(opts.logger ? { logger: opts.logger } : {}) });
  const streamer = new Streamer({ hubUrl, agentId: 'agent-1', datacenter: 'dc1', heartbeatMs: 300, ...opts, buffer });
  streamer.start();
  return {
    buffer, streamer, dir,
    async stop() {
      await streamer.stop();
      await buffer.close();
    },
  };
}

/** The value of series `i` at time `t` (ms): counters, gauges with decimals, a constant. */
export function expectedValue(i: number, t: number): number {
  const s = t / 1000;
  switch (i % 4) {
    case 0: return Math.floor(s) * (i + 1);
    case 1: return Math.round(Math.sin(s / 10 + i) * 1000) / 100;
    case 2: return 42;
    default: return (s * 7 + i) / 8;
  }
}

export function scrape(t: number, series: number, extra: Record<string, string> = {}): Sample[] {
  const out: Sample[] = [];
  for (let i = 0; i < series; i++) {
    out.push({ labels: { __name__: `test_metric_${i % 4}`, idx: String(i), datacenter: 'dc1', ...extra }, t, v: expectedValue(i, t) });
  }
  return out;
}

/** Checks storage holds exactly the expected samples: returns a list of problems (empty = exact). */
export function verify(storage: LinkTestStorage, times: number[], series: number): string[] {
  const problems: string[] = [];
  let total = 0;
  for (let i = 0; i < series; i++) {
    const key = `__name__="test_metric_${i % 4}",datacenter="dc1",idx="${i}"`;
    const m = storage.series.get(key);
    if (!m) {
      problems.push(`series ${i} missing`);
      continue;
    }
    for (const t of times) {
      const v = m.get(t);
      if (v === undefined) problems.push(`series ${i} t=${t} missing`);
      else if (v !== expectedValue(i, t)) problems.push(`series ${i} t=${t} value ${v} != ${expectedValue(i, t)}`);
    }
    total += m.size;
  }
  if (total !== times.length * series) problems.push(`stored ${total} samples, expected ${times.length * series}`);
  return problems.slice(0, 20);
}

export async function waitFor(cond: () => boolean, timeoutMs: number, stepMs = 20): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return cond();
}
