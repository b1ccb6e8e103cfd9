// The one place that maps typed errors to Prometheus' errorType and HTTP status (and the headers some need).
import { VigilError, authErrorHeaders } from '@vigil/common';

/** Prometheus' error types, plus the authentication outcomes Prometheus leaves to its web server. */
export type ErrorType = 'bad_data' | 'execution' | 'timeout' | 'canceled' | 'internal' | 'not_found' | 'unavailable'
  | 'unauthorized' | 'forbidden' | 'too_many_requests';

const STATUS: Record<ErrorType, number> = {
  bad_data: 400, execution: 422, timeout: 503, canceled: 503, internal: 500, not_found: 404, unavailable: 503,
  unauthorized: 401, forbidden: 403, too_many_requests: 429,
};

const BY_CODE: Record<string, ErrorType> = {
  ERR_PROMQL_PARSE: 'bad_data',
  ERR_BAD_PARAMETER: 'bad_data',
  ERR_PARSE: 'bad_data',
  ERR_BAD_MATCHER: 'bad_data',
  ERR_BAD_REGEX: 'bad_data',
  ERR_BODY_TOO_LARGE: 'bad_data',
  ERR_PROMQL_EXECUTION: 'execution',
  ERR_PROMQL_TOO_MANY_SAMPLES: 'execution',
  ERR_PROMQL_TIMEOUT: 'timeout',
  ERR_PROMQL_CANCELED: 'canceled',
  ERR_UNAUTHORIZED: 'unauthorized',
  ERR_FORBIDDEN: 'forbidden',
  ERR_TOO_MANY_AUTH_FAILURES: 'too_many_requests',
};

/** Codes whose status is not their type's (a too large body is bad data, but 413). */
const STATUS_BY_CODE: Record<string, number> = { ERR_BODY_TOO_LARGE: 413 };

export interface ApiError {
  status: number;
  errorType: ErrorType;
  error: string;
  /** Headers the answer must carry (WWW-Authenticate with a 401, Retry-After with a 429). */
  headers?: Record<string, string>;
}

/** Translates an error thrown anywhere below the API into the envelope's fields. */
export function toApiError(err: unknown): ApiError {
  const code = err instanceof VigilError ? err.code : (err as { code?: unknown })?.code;
  const type = (typeof code === 'string' && BY_CODE[code]) || 'internal';
  const message = err instanceof Error ? err.message : String(err);
  const status = (typeof code === 'string' && STATUS_BY_CODE[code]) || STATUS[type];
  const headers = authErrorHeaders(err);
  return Object.keys(headers).length > 0 ? { status, errorType: type, error: message, headers } : { status, errorType: type, error: message };
}

export function apiError(errorType: ErrorType, error: string): ApiError {
  return { status: STATUS[errorType], errorType, error };
}

/**
 * The answer to a write of which some samples were refused (the others are durable): names how
 * many and why, as Prometheus' remote write and VictoriaMetrics' import answer 400 for samples out of bounds.
 */
export function refusedSamplesError(refused: number, total: number, reasons: Readonly<Record<string, number>>): ApiError {
  const why = Object.entries(reasons).map(([r, n]) => `${r}: ${n}`).join(', ');
  return apiError('bad_data', `cannot store ${refused} of ${total} samples (${why || 'refused'}); the other ${total - refused} samples were stored`);
}

/** Adds `from`'s reasons into `into`. */
export function addReasons(into: Record<string, number>, from: Readonly<Record<string, number>> | undefined): void {
  if (from) for (const r in from) into[r] = (into[r] ?? 0) + from[r]!;
}
