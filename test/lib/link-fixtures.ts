// Shared pieces of the link tests: an in-process agent (DiskBuffer + Streamer), deterministic
// sources whose values are a function of time, configs for the real programs, and reading the
// stored samples back through the hub's query API.
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openBuffer, Streamer, type DiskBuffer, type StreamerOptions } from '@vigil/agent';
import type { Sample } from '@vigil/common';

export function tmpDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
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

export async function waitFor(cond: () => boolean, timeoutMs: number, stepMs = 20): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return cond();
}

// ---- real programs: vigil-hub and vigil-agent binaries, a deterministic target, the query API ----

/**
 * A scrape target whose every value is a known function of the time it was scraped: each response
 * carries `link_value{idx="i"} expectedValue(i, t) t` with t = the time (ms) of the request, so the
 * agent stores it at t (honor_timestamps). `served` lists every t answered.
 */
export class DeterministicTarget {
  readonly served: number[] = [];
  private server: http.Server;
  private last = 0;

  private constructor(readonly series: number) {
    this.server = http.createServer((req, res) => {
      let t = Date.now();
      if (t <= this.last) t = this.last + 1; // one timestamp per scrape
      this.last = t;
      this.served.push(t);
      let body = '# TYPE link_value gauge\n';
      for (let i = 0; i < this.series; i++) body += `link_value{idx="${i}"} ${expectedValue(i, t)} ${t}\n`;
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(body);
    });
  }

  static async start(series: number): Promise<DeterministicTarget> {
    const target = new DeterministicTarget(series);
    await new Promise<void>((r) => target.server.listen(0, '127.0.0.1', () => r()));
    return target;
  }

  get address(): string {
    return `127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

/** Writes a vigil-agent config that scrapes `target` every second (no host exporter). */
export function agentConfig(dir: string, target: string, extra = ''): string {
  const file = path.join(dir, 'agent.yml');
  fs.writeFileSync(file, [
    'global:',
    '  scrape_interval: 1s',
    '  scrape_timeout: 1s',
    'host_exporter:',
    '  enabled: false',
    'scrape_configs:',
    '  - job_name: det',
    '    static_configs:',
    `      - targets: ['${target}']`,
    extra,
    '',
  ].join('\n'));
  return file;
}

/** Writes a vigil-hub config with agent tokens (and optional TLS). */
export function hubConfig(dir: string, tokens: { token: string; datacenter?: string }[], extra = ''): string {
  const file = path.join(dir, 'hub.yml');
  const lines = ['agents:', '  tokens:'];
  for (const t of tokens) {
    lines.push(`    - token: ${JSON.stringify(t.token)}`);
    if (t.datacenter) lines.push(`      datacenter: ${JSON.stringify(t.datacenter)}`);
  }
  fs.writeFileSync(file, lines.join('\n') + '\n' + extra + '\n');
  return file;
}

/** Every raw sample of `selector` with a timestamp in [fromMs, toMs], through the hub's query API (a range vector). */
export async function querySamples(hubUrl: string, selector: string, fromMs: number, toMs: number, init?: RequestInit):
  Promise<{ metric: Record<string, string>; values: [number, number][] }[]> {
  const rangeS = Math.ceil((toMs - fromMs) / 1000) + 1;
  const q = `${selector}[${rangeS}s]`;
  const res = await fetch(`${hubUrl}/api/v1/query?query=${encodeURIComponent(q)}&time=${(toMs / 1000).toFixed(3)}`, init);
  const body = (await res.json()) as { status: string; error?: string; data: { result: { metric: Record<string, string>; values: [number, string][] }[] } };
  if (body.status !== 'success') throw new Error(`query ${q} failed: ${body.error}`);
  return body.data.result.map((r) => ({
    metric: r.metric,
    values: r.values.map(([t, v]) => [Math.round(t * 1000), Number(v)] as [number, number]).filter(([t]) => t >= fromMs),
  }));
}

/**
 * Compares what the hub's query API returns for `link_value` (series idx 0..series-1) with the
 * samples served at `times`: every expected sample exactly once with its value, nothing else.
 * `mayMiss` lists times that may be absent (a scrape answered just before a kill -9 of the agent).
 */
export function compareStored(result: { metric: Record<string, string>; values: [number, number][] }[], times: readonly number[],
  series: number, mayMiss: ReadonlySet<number> = new Set()): { problems: string[]; stored: number; missing: number } {
  const problems: string[] = [];
  let stored = 0;
  let missing = 0;
  const byIdx = new Map<string, [number, number][]>();
  for (const r of result) {
    const idx = r.metric.idx ?? '';
    if (byIdx.has(idx)) problems.push(`series idx=${idx} returned twice`);
    byIdx.set(idx, r.values);
  }
  for (let i = 0; i < series; i++) {
    const values = byIdx.get(String(i)) ?? [];
    const got = new Map<number, number>();
    for (const [t, v] of values) {
      if (got.has(t)) problems.push(`series ${i} t=${t} stored twice`);
      got.set(t, v);
      stored++;
    }
    for (const t of times) {
      const v = got.get(t);
      if (v === undefined) {
        if (mayMiss.has(t)) missing++;
        else problems.push(`series ${i} t=${t} missing`);
      } else if (v !== expectedValue(i, t)) problems.push(`series ${i} t=${t} value ${v} != ${expectedValue(i, t)}`);
      got.delete(t);
    }
    for (const t of got.keys()) problems.push(`series ${i} t=${t} stored but never served`);
  }
  return { problems: problems.slice(0, 20), stored, missing };
}
