import t from 'tap';
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { HttpScraper, SCRAPE_ACCEPT_HEADER } from './scraper.js';

function hasOpenSSL(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A throwaway CA with a server certificate for 127.0.0.1 and a client certificate. */
function makeCerts(dir: string): Record<'ca' | 'serverCert' | 'serverKey' | 'clientCert' | 'clientKey', string> {
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  run('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=vigil-test-ca');
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  for (const who of ['server', 'client']) {
    run('req', ...ec, '-keyout', `${who}.key`, '-out', `${who}.csr`, '-subj', `/CN=${who}`);
    run('x509', '-req', '-in', `${who}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${who}.crt`, '-days', '1', '-extfile', 'san.ext');
  }
  return {
    ca: join(dir, 'ca.crt'), serverCert: join(dir, 'server.crt'), serverKey: join(dir, 'server.key'),
    clientCert: join(dir, 'client.crt'), clientKey: join(dir, 'client.key'),
  };
}

t.test('TLS: CA verification, client certificates, insecure_skip_verify', { skip: hasOpenSSL() ? false : 'openssl is not installed' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-tls-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const c = makeCerts(dir);
  const server = https.createServer({
    cert: readFileSync(c.serverCert), key: readFileSync(c.serverKey), ca: readFileSync(c.ca), requestCert: true, rejectUnauthorized: true,
  }, (_req, res) => { res.writeHead(200, { 'content-type': 'text/plain' }); res.end('tls_ok 1\n'); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;

  const ok = new HttpScraper({ tls_config: { ca_file: c.ca, cert_file: c.clientCert, key_file: c.clientKey, insecure_skip_verify: false } });
  t.teardown(() => ok.close());
  t.equal((await ok.fetch(url, 2000)).body, 'tls_ok 1\n');

  const noCA = new HttpScraper({ tls_config: { cert_file: c.clientCert, key_file: c.clientKey, insecure_skip_verify: false } });
  t.teardown(() => noCA.close());
  await t.rejects(noCA.fetch(url, 2000), /certificate/);

  const insecure = new HttpScraper({ tls_config: { cert_file: c.clientCert, key_file: c.clientKey, insecure_skip_verify: true } });
  t.teardown(() => insecure.close());
  t.equal((await insecure.fetch(url, 2000)).body, 'tls_ok 1\n');

  const noClientCert = new HttpScraper({ tls_config: { ca_file: c.ca, insecure_skip_verify: false } });
  t.teardown(() => noClientCert.close());
  await t.rejects(noClientCert.fetch(url, 2000));
});

t.test('headers: Accept, gzip, timeout header, secrets read from files on every request', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-auth-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  let last: http.IncomingHttpHeaders = {};
  const server = http.createServer((req, res) => { last = req.headers; res.writeHead(200); res.end('x 1\n'); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;

  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, 'first\n');
  const bearer = new HttpScraper({ bearer_token_file: tokenFile });
  await bearer.fetch(url, 1500);
  t.equal(last.authorization, 'Bearer first');
  t.equal(last.accept, SCRAPE_ACCEPT_HEADER);
  t.equal(last['accept-encoding'], 'gzip');
  t.equal(last['x-prometheus-scrape-timeout-seconds'], '1.5');
  writeFileSync(tokenFile, 'rotated\n');
  await bearer.fetch(url, 1500);
  t.equal(last.authorization, 'Bearer rotated');

  const pwFile = join(dir, 'pw');
  writeFileSync(pwFile, 's3cret');
  await new HttpScraper({ basic_auth: { username: 'me', password_file: pwFile } }).fetch(url, 1000);
  t.equal(last.authorization, 'Basic ' + Buffer.from('me:s3cret').toString('base64'));
});
