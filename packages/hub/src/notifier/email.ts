import nodemailer, { type Transporter } from 'nodemailer';
import { Template } from '../rules/index.js';
import type { EmailConfig } from './config.js';
import type { Integration, WebhookMessage } from './data.js';

/** Alertmanager's default subject: `[FIRING:2] GroupLabelValues (other common label values)`. */
export function defaultSubject(msg: WebhookMessage): string {
  const firing = msg.alerts.filter((a) => a.status === 'firing').length;
  let s = `[${msg.status.toUpperCase()}${msg.status === 'firing' ? `:${firing}` : ''}] ${Object.values(msg.groupLabels).join(' ')} `;
  const extra = Object.keys(msg.commonLabels).filter((k) => !(k in msg.groupLabels));
  if (Object.keys(msg.commonLabels).length > Object.keys(msg.groupLabels).length) s += `(${extra.map((k) => msg.commonLabels[k]).join(' ')})`;
  return s.trimEnd();
}

export function defaultText(msg: WebhookMessage): string {
  const lines: string[] = [];
  for (const status of ['firing', 'resolved'] as const) {
    const alerts = msg.alerts.filter((a) => a.status === status);
    if (alerts.length === 0) continue;
    lines.push(`${alerts.length} alert${alerts.length > 1 ? 's' : ''} ${status === 'firing' ? 'firing' : 'resolved'}:`, '');
    for (const a of alerts) {
      lines.push('Labels:');
      for (const [k, v] of Object.entries(a.labels)) lines.push(`  - ${k} = ${v}`);
      if (Object.keys(a.annotations).length) lines.push('Annotations:');
      for (const [k, v] of Object.entries(a.annotations)) lines.push(`  - ${k} = ${v}`);
      lines.push(`Started: ${a.startsAt}${status === 'resolved' ? `, ended: ${a.endsAt}` : ''}`);
      if (a.generatorURL) lines.push(`Source: ${a.generatorURL}`);
      lines.push('');
    }
  }
  if (msg.externalURL) lines.push(`Sent by Vigil ${msg.externalURL}`);
  return lines.join('\n');
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function defaultHtml(msg: WebhookMessage): string {
  const rows = msg.alerts.map((a) => `<tr><td>${a.status}</td><td>${esc(Object.entries(a.labels).map(([k, v]) => `${k}=${v}`).join(', '))}</td><td>${esc(Object.values(a.annotations).join(' — '))}</td><td>${a.startsAt}</td></tr>`);
  return `<html><body><h2>${esc(defaultSubject(msg))}</h2><table border="1" cellpadding="4"><tr><th>Status</th><th>Labels</th><th>Annotations</th><th>Started</th></tr>${rows.join('')}</table></body></html>`;
}

/** Template data for custom `text`/`html` bodies, with Alertmanager's field names. */
function templateData(msg: WebhookMessage): unknown {
  return {
    Receiver: msg.receiver, Status: msg.status, GroupLabels: msg.groupLabels, CommonLabels: msg.commonLabels,
    CommonAnnotations: msg.commonAnnotations, ExternalURL: msg.externalURL,
    Alerts: msg.alerts.map((a) => ({ Status: a.status, Labels: a.labels, Annotations: a.annotations, StartsAt: a.startsAt, EndsAt: a.endsAt, GeneratorURL: a.generatorURL, Fingerprint: a.fingerprint })),
  };
}

/** Sends a notification as an email over SMTP (nodemailer), STARTTLS required unless `require_tls: false`. */
export class EmailIntegration implements Integration {
  readonly name = 'email';
  readonly sendResolved: boolean;
  private readonly transport: Transporter;

  constructor(private readonly cfg: EmailConfig, readonly index: number) {
    this.sendResolved = cfg.send_resolved;
    const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(cfg.smarthost)!;
    const port = Number(m[3]);
    this.transport = nodemailer.createTransport({
      host: m[1] ?? m[2],
      port,
      secure: port === 465,
      requireTLS: cfg.require_tls && port !== 465,
      ignoreTLS: !cfg.require_tls,
      name: cfg.hello,
      auth: cfg.auth_username ? { user: cfg.auth_username, pass: cfg.auth_password ?? '' } : undefined,
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 20_000,
    });
  }

  async notify(msg: WebhookMessage): Promise<void> {
    const headers: Record<string, string> = { ...this.cfg.headers };
    const take = (name: string): string | undefined => {
      const k = Object.keys(headers).find((h) => h.toLowerCase() === name);
      if (k === undefined) return undefined;
      const v = headers[k];
      delete headers[k];
      return v;
    };
    const data = templateData(msg);
    const render = (text: string | undefined, fallback: () => string) => (text === undefined ? fallback() : new Template('email', text).execute(data));
    try {
      await this.transport.sendMail({
        from: take('from') ?? this.cfg.from,
        to: take('to') ?? this.cfg.to,
        subject: take('subject') ?? defaultSubject(msg),
        text: render(this.cfg.text, () => defaultText(msg)),
        html: render(this.cfg.html, () => defaultHtml(msg)),
        headers,
      });
    } catch (err) {
      throw new Error(`cannot send email notification (to ${this.cfg.to} via ${this.cfg.smarthost}): ${(err as Error).message}`);
    }
  }

  close(): void {
    this.transport.close();
  }
}
