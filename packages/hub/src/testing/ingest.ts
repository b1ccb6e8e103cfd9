/** For tests: an IngestServer over MemStorage on an ephemeral loopback port, torn down with the test. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { silentLogger } from '@vigil/common';
import { MemStorage } from '../storage/mem.js';
import { IngestServer, type IngestServerOptions } from '../ingest/server.js';

export async function listenIngest(
  t: { teardown(fn: () => unknown): void }, opts: Omit<IngestServerOptions, 'storage'>,
): Promise<{ ingest: IngestServer; storage: MemStorage; port: number }> {
  const storage = new MemStorage();
  const ingest = new IngestServer({ logger: silentLogger, ...opts, storage });
  const server = http.createServer((_req, res) => res.end('ok'));
  server.on('upgrade', (req, socket, head) => { if (!ingest.handleUpgrade(req, socket, head)) socket.destroy(); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(async () => {
    await ingest.close();
    await new Promise((r) => server.close(r));
    await storage.close();
  });
  return { ingest, storage, port: (server.address() as AddressInfo).port };
}
