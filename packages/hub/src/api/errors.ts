// The one place that maps typed errors to Prometheus' errorType and HTTP status.
import { VigilError } from '@vigil/common';

export type ErrorType = 'bad_data' | 'execution' | 'timeout' | 'canceled' | 'internal' | 'not_found' | 'unavailable';

const STATUS: Record<ErrorType, number> = {
  bad_data: 400, execution: 422, timeout: 503, canceled: 503, internal: 500, not_found: 404, unavailable: 503,
};

const BY_CODE: Record<string, ErrorType> = {
  ERR_PROMQL_PARSE: 'bad_data',
  ERR_BAD_PARAMETER: 'bad_data',
  ERR_PARSE: 'bad_data',
  ERR_BAD_MATCHER: 'bad_data',
  ERR_BAD_REGEX: 'bad_data',
  ERR_PROMQL_EXECUTION: 'execution',
  ERR_PROMQL_TOO_MANY_SAMPLES: 'execution',
  ERR_PROMQL_TIMEOUT: 'timeout',
  ERR_PROMQL_CANCELED: 'canceled',
};

export interface ApiError {
  status: number;
  errorType: ErrorType;
  error: string;
}

/** Translates an error thrown anywhere below the API into the envelope's fields. */
export function toApiError(err: unknown): ApiError {
  const code = err instanceof VigilError ? err.code : (err as { code?: unknown })?.code;
  const type = (typeof code === 'string' && BY_CODE[code]) || 'internal';
  const message = err instanceof Error ? err.message : String(err);
  return { status: STATUS[type], errorType: type, error: message };
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
