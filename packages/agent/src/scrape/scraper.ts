import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { STATUS_CODES } from 'node:http';
import { createGunzip } from 'node:zlib';
import type { BasicAuth, TLSConfig } from '@vigil/common';

/** The Accept header Prometheus 2.42 sends: OpenMetrics preferred, text 0.0.4 next. */
export const SCRAPE_ACCEPT_HEADER =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

export const USER_AGENT = 'Vigil/0.1.0';

/** HTTP client settings of a scrape config or an HTTP SD config. */
export interface HttpClientOptions {
  basic_auth?: BasicAuth;
  bearer_token?: string;
  bearer_token_file?: string;
  tls_config?: TLSConfig;
}

export interface FetchResult {
  body: string;
  contentType: string;
}

export interface FetchBytesResult {
  data: Buffer;
  contentType: string;
}

/**
 * Fetches one URL the way Prometheus' scraper does: GET with content negotiation, gzip,
 * authentication and TLS from the config, a hard timeout, and an error for any status but 200.
 * Secrets in files (password_file, bearer_token_file) are read on every request, so a rotated
 * token is picked up without a reload.
 */
export class HttpScraper {
  private readonly agent: http.Agent | https.Agent;

  constructor(private readonly opts: HttpClientOptions = {}) {
    const tls = opts.tls_config;
    this.agent = tls
      ? new https.Agent({
          keepAlive: true,
          ca: tls.ca_file ? readFileSync(tls.ca_file) : undefined,
          cert: tls.cert_file ? readFileSync(tls.cert_file) : undefined,
          key: tls.key_file ? readFileSync(tls.key_file) : undefined,
          servername: tls.server_name,
          rejectUnauthorized: !tls.insecure_skip_verify,
        })
      : new https.Agent({ keepAlive: true });
  }

  private headers(timeoutMs: number, accept: string): Record<string, string> {
    const h: Record<string, string> = {
      Accept: accept,
      'Accept-Encoding': 'gzip',
      'User-Agent': USER_AGENT,
      'X-Prometheus-Scrape-Timeout-Seconds': String(timeoutMs / 1000),
    };
    const ba = this.opts.basic_auth;
    if (ba) {
      const password = ba.password_file ? readFileSync(ba.password_file, 'utf8').trim() : ba.password ?? '';
      h.Authorization = 'Basic ' + Buffer.from(`${ba.username}:${password}`).toString('base64');
    } else if (this.opts.bearer_token_file) {
      h.Authorization = 'Bearer ' + readFileSync(this.opts.bearer_token_file, 'utf8').trim();
    } else if (this.opts.bearer_token) {
      h.Authorization = 'Bearer ' + this.opts.bearer_token;
    }
    return h;
  }

  /** GETs `url` as text; see `fetchBytes`. */
  async fetch(url: string, timeoutMs: number, accept = SCRAPE_ACCEPT_HEADER): Promise<FetchResult> {
    const res = await this.fetchBytes(url, timeoutMs, accept);
    return { body: res.data.toString('utf8'), contentType: res.contentType };
  }

  /** GETs `url`; rejects with Prometheus-like messages on timeout, transport error or non-200. */
  fetchBytes(url: string, timeoutMs: number, accept = SCRAPE_ACCEPT_HEADER): Promise<FetchBytesResult> {
    const u = new URL(url);
    const isHttps = u.protocol === 'https:';
    const mod = isHttps ? https : http;
    return new Promise<FetchBytesResult>((resolve, reject) => {
      let settled = false;
      const fail = (err: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.destroy();
        reject(err);
      };
      const req = mod.request(u, {
        method: 'GET',
        headers: this.headers(timeoutMs, accept),
        agent: isHttps ? this.agent : undefined,
      });
      const timer = setTimeout(() => fail(new Error(`Get "${url}": context deadline exceeded`)), timeoutMs);
      req.on('error', (err) => fail(new Error(`Get "${url}": ${err.message}`)));
      req.on('response', (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          fail(new Error(`server returned HTTP status ${res.statusCode} ${res.statusMessage || STATUS_CODES[res.statusCode ?? 0] || ''}`.trimEnd()));
          return;
        }
        const gz = /\bgzip\b/i.test(String(res.headers['content-encoding'] ?? ''));
        const stream = gz ? res.pipe(createGunzip()) : res;
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('error', (err: Error) => fail(new Error(`cannot read body of ${url}: ${err.message}`)));
        res.on('error', (err: Error) => fail(new Error(`cannot read body of ${url}: ${err.message}`)));
        stream.on('end', () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve({ data: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks), contentType: String(res.headers['content-type'] ?? '') });
        });
      });
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
