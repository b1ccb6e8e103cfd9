import { isAscii } from 'node:buffer';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { Hono } from 'hono';
import { ImportParser, ParseError, type Labels, type Logger } from '@vigil/common';
import type { Appender, Storage } from '../storage/types.js';
import { addReasons, refusedSamplesError } from './errors.js';

/** Samples per commit: big enough to amortise the log fsync, small enough to bound memory. */
const COMMIT_EVERY = 100_000;
const PROGRESS_EVERY_MS = 10_000;
/** Longest line accepted (VictoriaMetrics' default is 10 MiB too): a body without newlines is refused early, in bounded memory. */
export const MAX_LINE_BYTES = 10 << 20;
/** Most bytes a compressed body may expand to (a gzip bomb stops here, not after minutes). */
export const MAX_DECOMPRESSED_BYTES = 4 * 2 ** 30;

/** A body that breaks a bound: answered with 413. */
class BodyLimitError extends Error {}

/** UTF-8 text of complete lines; ASCII (the common case) decodes as latin1, which is faster. */
function decode(b: Buffer): string {
  return isAscii(b) ? b.toString('latin1', 0, b.length) : b.toString('utf8');
}

interface SeriesEntry {
  labels: Labels;
  ref: number;
}

/**
 * `POST /api/v1/import/prometheus`: text-format lines `name{labels} value [timestamp_ms]` as
 * VictoriaMetrics accepts them, streamed through the parser and committed in batches, with
 * optional gzip and `extra_label=name=value` parameters. 204 on success; 400 with the line on a
 * parse error (batches committed before it stay).
 */
export function importRoutes(deps: { storage: Storage; logger: Logger }): Hono {
  const app = new Hono();
  const logger = deps.logger.child({ component: 'import' });
  app.post('/api/v1/import/prometheus', async (c) => {
    const extra: Record<string, string> = {};
    for (const p of c.req.queries('extra_label') ?? []) {
      const eq = p.indexOf('=');
      if (eq <= 0) return c.json({ status: 'error', errorType: 'bad_data', error: `cannot parse extra_label "${p}": expected name=value` }, 400);
      extra[p.slice(0, eq)] = p.slice(eq + 1);
    }
    const hasExtra = Object.keys(extra).length > 0;
    // Under @hono/node-server read the Node request directly (no web-stream adapter per chunk).
    const incoming = (c.env as { incoming?: unknown } | undefined)?.incoming;
    let stream: AsyncIterable<Buffer>;
    if (incoming instanceof Readable && !incoming.readableDidRead) {
      stream = incoming;
    } else {
      const body = c.req.raw.body;
      if (body === null) return c.body(null, 204);
      stream = Readable.fromWeb(body as never);
    }
    let gunzip: zlib.Gunzip | null = null;
    if ((c.req.header('content-encoding') ?? '').toLowerCase() === 'gzip') {
      gunzip = zlib.createGunzip();
      // pipe() does not forward errors: a corrupt body must end the loop below with the zlib error.
      (stream as Readable).on('error', (err) => gunzip!.destroy(err));
      stream = (stream as Readable).pipe(gunzip);
    }

    const series = new Map<string, SeriesEntry>();
    let appender: Appender = deps.storage.appender();
    let pending = 0;
    let now = Date.now();
    const totals = { samples: 0, appended: 0, duplicates: 0, conflicts: 0, rejected: 0 };
    const reasons: Record<string, number> = {};
    const parser = new ImportParser((key, labels, value, ts) => {
      let e = series.get(key);
      if (e === undefined) {
        e = { labels: hasExtra ? { ...labels, ...extra } : labels, ref: 0 };
        series.set(key, e);
      }
      e.ref = appender.append(e.ref, e.labels, ts ?? now, value);
      pending++;
    });
    const commit = async (): Promise<void> => {
      const st = await appender.commit();
      appender = deps.storage.appender();
      totals.samples += pending;
      totals.appended += st.appended;
      totals.duplicates += st.duplicates;
      totals.conflicts += st.conflicts;
      totals.rejected += st.rejected;
      addReasons(reasons, st.rejectReasons);
      pending = 0;
    };
    const started = Date.now();
    let lastLog = started;
    // Decode up to the last newline of each chunk (a newline never splits a UTF-8 sequence)
    // and carry the rest: Buffer#toString is several times faster than a streaming TextDecoder.
    // The pieces of a line split across chunks are kept in a list (joined once: linear) and bounded.
    let carry: Buffer[] | null = null;
    let carryBytes = 0;
    let total = 0;
    try {
      for await (const raw of stream) {
        now = Date.now();
        let chunk = Buffer.isBuffer(raw) ? raw : Buffer.from((raw as Uint8Array).buffer, (raw as Uint8Array).byteOffset, (raw as Uint8Array).byteLength);
        total += chunk.length;
        if (gunzip !== null && total > MAX_DECOMPRESSED_BYTES) throw new BodyLimitError(`the body decompresses to more than ${MAX_DECOMPRESSED_BYTES} bytes`);
        if (carry !== null) {
          // Finish the line split across chunks from its pieces, without copying the chunk.
          const first = chunk.indexOf(10);
          if (first < 0) {
            carry.push(Buffer.from(chunk));
            carryBytes += chunk.length;
            if (carryBytes > MAX_LINE_BYTES) throw new BodyLimitError(`line ${parser.lines + 1} is longer than ${MAX_LINE_BYTES} bytes`);
            continue;
          }
          carry.push(chunk.subarray(0, first + 1));
          parser.push(decode(Buffer.concat(carry)));
          carry = null;
          carryBytes = 0;
          chunk = chunk.subarray(first + 1);
        }
        const nl = chunk.lastIndexOf(10);
        if (nl < chunk.length - 1) {
          carry = [Buffer.from(chunk.subarray(nl + 1))];
          carryBytes = chunk.length - nl - 1;
          if (carryBytes > MAX_LINE_BYTES) throw new BodyLimitError(`line ${parser.lines + 1} is longer than ${MAX_LINE_BYTES} bytes`);
        }
        if (nl >= 0) parser.push(decode(chunk.subarray(0, nl + 1)));
        if (pending >= COMMIT_EVERY) await commit();
        if (now - lastLog >= PROGRESS_EVERY_MS) {
          lastLog = now;
          logger.info({ samples: totals.samples + pending, lines: parser.lines, seconds: (now - started) / 1000 }, 'import in progress');
        }
      }
      if (carry !== null) parser.push(decode(Buffer.concat(carry)));
      parser.end();
      await commit();
    } catch (err) {
      appender.rollback();
      if (err instanceof ParseError) {
        logger.warn({ err: err.message, committed: totals.samples }, 'import stopped at a parse error');
        return c.json({ status: 'error', errorType: 'bad_data', error: `cannot import samples: ${err.message}` }, 400);
      }
      if (err instanceof BodyLimitError) {
        gunzip?.destroy();
        logger.warn({ err: err.message, committed: totals.samples }, 'import stopped at a size limit');
        return c.json({ status: 'error', errorType: 'bad_data', error: `cannot import samples: ${err.message}` }, 413);
      }
      if (gunzip !== null && isZlibError(err)) {
        return c.json({ status: 'error', errorType: 'bad_data', error: `cannot decompress request body: ${(err as Error).message}` }, 400);
      }
      throw err;
    }
    logger.info({ ...totals, series: series.size, seconds: (Date.now() - started) / 1000 }, 'import done');
    if (totals.rejected > 0) {
      const e = refusedSamplesError(totals.rejected, totals.samples, reasons);
      return c.json({ status: 'error', errorType: e.errorType, error: e.error }, e.status as 400);
    }
    return c.body(null, 204);
  });
  return app;
}

/** Errors of a corrupt compressed body (zlib sets a Z_* code or an errno). */
function isZlibError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('Z_') || code === 'ERR_BUFFER_TOO_LARGE');
}
