import type { MiddlewareHandler } from 'hono';
import type { ApiScope } from '../config/types.js';
import { silentLogger, type Logger } from '../logger.js';
import type { Credentials } from './credentials.js';
import { ForbiddenError, TooManyAuthFailuresError, UnauthorizedError } from './errors.js';
import { routeScope } from './scopes.js';
import type { AuthThrottle } from './throttle.js';

export interface HttpAuthOptions {
  /** The server's current credentials (a function, so that a reload can replace them). No credentials = open. */
  credentials: () => Credentials;
  /** Realm of the WWW-Authenticate challenge, e.g. `vigil hub`. */
  realm: string;
  throttle?: AuthThrottle;
  /** The scope a request needs (default routeScope); undefined = open to all. */
  scopeOf?: (method: string, path: string) => ApiScope | undefined;
  logger?: Logger;
}

/** The remote address of a request served by @hono/node-server (`local` in-process). */
function remoteAddress(env: unknown): string {
  return (env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming?.socket?.remoteAddress ?? 'local';
}

/**
 * Authenticates every request but the open ones and checks its scope, throwing typed errors (401, 403, 429) for
 * the app's error handler to answer. Runs before the body is read.
 */
export function httpAuth(opts: HttpAuthOptions): MiddlewareHandler {
  const scopeOf = opts.scopeOf ?? routeScope;
  const log = opts.logger ?? silentLogger;
  return async (c, next) => {
    const scope = scopeOf(c.req.method, c.req.path);
    const creds = opts.credentials();
    if (scope === undefined || creds.empty) return next();
    const address = remoteAddress(c.env);
    const wait = opts.throttle?.wait(address) ?? 0;
    if (wait > 0) throw new TooManyAuthFailuresError(`too many wrong credentials from ${address}: retry in ${Math.ceil(wait / 1000)} s`, Math.ceil(wait / 1000));
    const header = c.req.header('authorization');
    if (header === undefined || header === '') throw new UnauthorizedError('authentication required', creds.challenge(opts.realm));
    const principal = await creds.verify(header);
    if (!principal) {
      const imposed = opts.throttle?.fail(address) ?? 0;
      if (imposed > 0) log.warn({ address, waitMs: imposed }, 'wrong credentials again: address throttled');
      throw new UnauthorizedError('invalid credentials', creds.challenge(opts.realm));
    }
    opts.throttle?.succeed(address);
    if (!principal.scopes.has(scope)) {
      throw new ForbiddenError(`${principal.name} may not ${c.req.method} ${c.req.path}: it needs the ${scope} scope`);
    }
    return next();
  };
}
