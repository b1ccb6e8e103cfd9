import { Hono } from 'hono';
import { uncompress } from 'snappyjs';
import { LABEL_NAME_RE, METRIC_NAME, METRIC_NAME_RE, type Logger } from '@vigil/common';
import type { Storage } from '../storage/types.js';
import { RemoteWriteError, decodeWriteRequest } from './proto.js';
import { refusedSamplesError } from '../api/errors.js';

export interface RemoteWriteOptions {
  storage: Storage;
  logger: Logger;
  /** Largest compressed body accepted (default 32 MiB) and largest decompressed payload (8×). */
  maxBodyBytes?: number;
}

/**
 * `POST /api/v1/write`: Prometheus remote write 1.0 (snappy-compressed protobuf). Answers 204 once the
 * samples are durable, 400 for a payload that cannot be decoded or carries invalid labels.
 */
export function remoteWriteRoutes(opts: RemoteWriteOptions): Hono {
  const maxBody = opts.maxBodyBytes ?? 32 << 20;
  const log = opts.logger;
  const app = new Hono();
  app.post('/api/v1/write', async (c) => {
    const length = Number(c.req.header('content-length') ?? 0);
    if (length > maxBody) return c.text(`remote write body of ${length} bytes exceeds the limit of ${maxBody} bytes\n`, 413);
    const body = new Uint8Array(await c.req.arrayBuffer());
    if (body.length > maxBody) return c.text(`remote write body of ${body.length} bytes exceeds the limit of ${maxBody} bytes\n`, 413);
    try {
      const encoding = c.req.header('content-encoding') ?? 'snappy';
      if (encoding !== 'snappy') throw new RemoteWriteError(`unsupported Content-Encoding "${encoding}": remote write 1.0 uses snappy`);
      let raw: Uint8Array;
      try {
        raw = uncompress(body, maxBody * 8);
      } catch (err) {
        throw new RemoteWriteError(`cannot decompress snappy body: ${(err as Error).message}`);
      }
      const req = decodeWriteRequest(raw);
      const app = opts.storage.appender();
      let n = 0;
      for (const s of req.series) {
        validate(s.labels);
        let ref = 0;
        let staleIdx = 0;
        for (let i = 0; i < s.values.length; i++) {
          const stale = s.stale[staleIdx] === i;
          if (stale) staleIdx++;
          ref = app.append(ref, s.labels, s.timestamps[i]!, s.values[i]!, stale);
          n++;
        }
      }
      const stats = await app.commit();
      if (req.metadata.length) opts.storage.setMetadata(req.metadata);
      log.debug({ series: req.series.length, samples: n, ...stats }, 'remote write stored');
      if (stats.rejected > 0) return c.text(`${refusedSamplesError(stats.rejected, n, stats.rejectReasons ?? {}).error}\n`, 400);
      return c.body(null, 204);
    } catch (err) {
      if (err instanceof RemoteWriteError) return c.text(`${err.message}\n`, 400);
      throw err;
    }
  });
  return app;
}

function validate(labels: Record<string, string>): void {
  const name = labels[METRIC_NAME];
  if (name === undefined || !METRIC_NAME_RE.test(name)) throw new RemoteWriteError(`invalid metric name "${name ?? ''}" in remote-write series`);
  for (const l of Object.keys(labels)) {
    if (l !== METRIC_NAME && !LABEL_NAME_RE.test(l)) throw new RemoteWriteError(`invalid label name "${l}" in remote-write series ${name}`);
  }
}
