// The agent's one place that maps typed errors to HTTP answers (the hub's is api/errors.ts; the agent answers text,
// as the Pushgateway and Prometheus' web server do).
import { authErrorHeaders, VigilError } from '@vigil/common';

const STATUS_BY_CODE: Record<string, number> = {
  ERR_UNAUTHORIZED: 401,
  ERR_FORBIDDEN: 403,
  ERR_TOO_MANY_AUTH_FAILURES: 429,
  ERR_BODY_TOO_LARGE: 413,
  ERR_PARSE: 400,
};

export interface HttpError {
  status: number;
  text: string;
  headers: Record<string, string>;
}

export function toHttpError(err: unknown): HttpError {
  const code = err instanceof VigilError ? err.code : undefined;
  const status = (code !== undefined && STATUS_BY_CODE[code]) || 500;
  return { status, text: `${err instanceof Error ? err.message : String(err)}\n`, headers: authErrorHeaders(err) };
}
