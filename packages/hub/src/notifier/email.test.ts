import t from 'tap';
import { createServer, type Socket } from 'node:net';
import { EmailIntegration } from './email.js';
import { buildMessage } from './data.js';
import { fingerprint } from './alert.js';

/** A tiny SMTP server (no TLS, no auth) that records the envelope and the message. */
async function smtpServer(t: { teardown(fn: () => unknown): void }) {
  const mails: { from: string; to: string[]; data: string }[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    let buf = '';
    let inData = false;
    let cur = { from: '', to: [] as string[], data: '' };
    sock.write('220 test ESMTP\r\n');
    sock.on('data', (chunk) => {
      buf += chunk.toString('utf8');
      for (;;) {
        if (inData) {
          const end = buf.indexOf('\r\n.\r\n');
          if (end < 0) return;
          cur.data = buf.slice(0, end);
          buf = buf.slice(end + 5);
          inData = false;
          mails.push(cur);
          cur = { from: '', to: [], data: '' };
          sock.write('250 OK queued\r\n');
          continue;
        }
        const nl = buf.indexOf('\r\n');
        if (nl < 0) return;
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        const cmd = line.slice(0, 4).toUpperCase();
        if (cmd === 'EHLO' || cmd === 'HELO') sock.write('250-test\r\n250 8BITMIME\r\n');
        else if (cmd === 'MAIL') { cur.from = line; sock.write('250 OK\r\n'); }
        else if (cmd === 'RCPT') { cur.to.push(line); sock.write('250 OK\r\n'); }
        else if (cmd === 'DATA') { inData = true; sock.write('354 go ahead\r\n'); }
        else if (cmd === 'QUIT') { sock.end('221 bye\r\n'); }
        else sock.write('250 OK\r\n');
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => { for (const s of sockets) s.destroy(); return new Promise((r) => server.close(r)); });
  return { port: (server.address() as { port: number }).port, mails };
}

t.test('email notification over SMTP with Alertmanager\'s default subject', async (t) => {
  const smtp = await smtpServer(t);
  const email = new EmailIntegration({
    to: 'oncall@example.com', from: 'vigil@example.com', smarthost: `127.0.0.1:${smtp.port}`, hello: 'vigil',
    require_tls: false, send_resolved: false, headers: { 'X-Team': 'ops' },
  }, 0);
  t.teardown(() => email.close());
  const now = Date.UTC(2024, 0, 1);
  const alerts = ['a', 'b'].map((i) => {
    const labels = { alertname: 'HostDown', instance: i, severity: 'page' };
    return { labels, annotations: { summary: `${i} is down` }, startsAt: now, endsAt: now + 600_000, generatorURL: 'http://hub/graph', updatedAt: now, timeout: false, fingerprint: fingerprint(labels) };
  });
  const msg = buildMessage('pager', '{}:{alertname="HostDown"}', { alertname: 'HostDown' }, alerts, 'http://hub:9090', now);
  await email.notify(msg);
  t.equal(smtp.mails.length, 1);
  const m = smtp.mails[0]!;
  t.match(m.from, /vigil@example\.com/);
  t.match(m.to[0], /oncall@example\.com/);
  t.match(m.data, /Subject: \[FIRING:2\] HostDown \(page\)/);
  t.match(m.data, /X-Team: ops/);
  t.match(m.data, /a is down/);
  t.match(m.data, /text\/html/);
});

t.test('an unreachable SMTP server is an error naming the server', async (t) => {
  const smtp = await smtpServer(t);
  const port = smtp.port;
  const email = new EmailIntegration({ to: 'x@example.com', from: 'y@example.com', smarthost: `127.0.0.1:1`, hello: 'h', require_tls: false, send_resolved: false, headers: {} }, 0);
  t.teardown(() => email.close());
  const msg = buildMessage('r', 'k', {}, [], '', Date.now());
  await t.rejects(email.notify(msg), /cannot send email notification \(to x@example\.com via 127\.0\.0\.1:1\)/);
  t.ok(port > 0);
});
