import { serve, type ServerType } from '@hono/node-server';
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { createServer as createHttpsServer } from 'node:https';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { BodyTooLargeError } from './auth/errors.js';
import { ConfigError } from './errors.js';

/** Splits `host:port`, `:port` (all interfaces) or `[v6]:port`. */
export function parseListenAddress(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new ConfigError(`cannot parse listen address "${text}": want HOST:PORT`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

export interface ListenOptions {
  host: string;
  port: number;
  /** HTTPS; with `client_ca_file` and `RequireAndVerifyClientCert`, only clients with a certificate signed by it. */
  tls?: { cert_file: string; key_file: string; client_ca_file?: string; client_auth_type?: 'NoClientCert' | 'RequireAndVerifyClientCert' };
  /** WebSocket upgrades; return false to refuse (the socket is then destroyed). */
  onUpgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => boolean;
}

export interface Listening {
  server: ServerType;
  /** The bound address, e.g. to learn an ephemeral port. */
  address: AddressInfo;
  url: string;
  close(): Promise<void>;
}

/**
 * Serves a fetch-style handler (a Hono app) over HTTP(S) — the one place where Vigil's programs open
 * a listening socket, so the binding, TLS and upgrade handling are the same for hub, agent and exporter.
 */
export function listen(fetch: (req: Request) => Response | Promise<Response>, opts: ListenOptions): Promise<Listening> {
  return new Promise((resolve, reject) => {
    const tls = opts.tls;
    const mtls = tls?.client_auth_type === 'RequireAndVerifyClientCert' && tls.client_ca_file
      ? { ca: readFileSync(tls.client_ca_file), requestCert: true, rejectUnauthorized: true }
      : {};
    const tlsOptions = tls
      ? { createServer: createHttpsServer, serverOptions: { cert: readFileSync(tls.cert_file), key: readFileSync(tls.key_file), ...mtls } }
      : {};
    const server = serve({ fetch, hostname: opts.host, port: opts.port, ...tlsOptions } as Parameters<typeof serve>[0]);
    server.once('error', reject);
    if (opts.onUpgrade) {
      const onUpgrade = opts.onUpgrade;
      server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
        if (!onUpgrade(req, socket, head)) socket.destroy();
      });
    }
    server.once('listening', () => {
      server.off('error', reject);
      const address = server.address() as AddressInfo;
      const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      resolve({
        server,
        address,
        url: `${opts.tls ? 'https' : 'http'}://${host}:${address.port}`,
        close: () => new Promise<void>((res) => {
          server.close(() => res());
          (server as { closeAllConnections?: () => void }).closeAllConnections?.();
        }),
      });
    });
  });
}

/**
 * Bounds request bodies to `maxBytes`, throwing BodyTooLargeError (413 at the app's error handler) before a
 * handler reads more; requests for which `exempt` is true (streaming endpoints bounded elsewhere) pass.
 */
export function limitBody(maxBytes: number, exempt: (path: string) => boolean = () => false): MiddlewareHandler {
  const limit = bodyLimit({ maxSize: maxBytes, onError: () => { throw new BodyTooLargeError(maxBytes); } });
  return async (c, next) => (exempt(c.req.path) ? next() : limit(c, next));
}
