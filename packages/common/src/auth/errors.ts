import { VigilError } from '../errors.js';

/** No credentials, or wrong ones: the client should authenticate (401 with `challenge` as WWW-Authenticate). */
export class UnauthorizedError extends VigilError {
  constructor(message: string, readonly challenge: string) {
    super('ERR_UNAUTHORIZED', message);
  }
}

/** Valid credentials without the scope the endpoint needs (403). */
export class ForbiddenError extends VigilError {
  constructor(message: string) {
    super('ERR_FORBIDDEN', message);
  }
}

/** Too many wrong credentials from one address: refused without checking until `retryAfterSeconds` (429). */
export class TooManyAuthFailuresError extends VigilError {
  constructor(message: string, readonly retryAfterSeconds: number) {
    super('ERR_TOO_MANY_AUTH_FAILURES', message);
  }
}

/** A request body over the server's limit (413). */
export class BodyTooLargeError extends VigilError {
  constructor(readonly limit: number) {
    super('ERR_BODY_TOO_LARGE', `request body exceeds ${limit} bytes`);
  }
}

/** Headers an auth error's answer must carry (the challenge of a 401, Retry-After of a 429). */
export function authErrorHeaders(err: unknown): Record<string, string> {
  if (err instanceof UnauthorizedError) return { 'WWW-Authenticate': err.challenge };
  if (err instanceof TooManyAuthFailuresError) return { 'Retry-After': String(err.retryAfterSeconds) };
  return {};
}
