import { Hono, type Context } from 'hono';
import { VERSION, compileRegex, matchLabels, type Labels, type Matcher } from '@vigil/common';
import { goTime, type NotifierAlert } from './alert.js';
import { parseMatchers } from './matchers.js';
import type { Notifier } from './notifier.js';
import { SilenceError, type Silence, type SilenceMatcher } from './silences.js';

/** Alertmanager v0.25's gettableAlert. */
function gettableAlert(n: Notifier, a: NotifierAlert) {
  return {
    annotations: a.annotations,
    endsAt: goTime(a.endsAt),
    fingerprint: a.fingerprint,
    receivers: n.receivers(a).map((name) => ({ name })),
    startsAt: goTime(a.startsAt),
    status: n.status(a),
    updatedAt: goTime(a.updatedAt),
    ...(a.generatorURL ? { generatorURL: a.generatorURL } : {}),
    labels: a.labels,
  };
}

function gettableSilence(n: Notifier, s: Silence) {
  return {
    id: s.id,
    status: { state: n.silences.state(s) },
    updatedAt: goTime(s.updatedAt),
    comment: s.comment,
    createdBy: s.createdBy,
    endsAt: goTime(s.endsAt),
    matchers: s.matchers,
    startsAt: goTime(s.startsAt),
  };
}

const bad = (c: Context, msg: string, status: 400 | 404 | 500 = 400) => c.json(msg, status);

function boolParam(c: Context, name: string): boolean {
  const v = c.req.query(name);
  return v === undefined || v === '' || v === 'true' || v === '1';
}

function filters(c: Context): Matcher[] {
  return c.req.queries('filter')?.flatMap((f) => parseMatchers(f)) ?? [];
}

function parseTime(v: unknown, field: string): number {
  if (v === undefined || v === null || v === '') return 0;
  const t = typeof v === 'string' ? Date.parse(v) : NaN;
  if (Number.isNaN(t)) throw new SilenceError(`${field} in body must be of type date-time: ${JSON.stringify(v)}`);
  return t < 0 ? 0 : t;
}

function stringMap(v: unknown, field: string): Labels {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new SilenceError(`${field} in body must be of type object`);
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) {
    if (typeof x !== 'string') throw new SilenceError(`${field}.${k} in body must be of type string`);
    out[k] = x;
  }
  return out;
}

/** The Alertmanager API v2 subset amtool and Prometheus use, over the built-in notifier. */
export function notifierRoutes(n: Notifier): Hono {
  const app = new Hono();

  const alertFilter = (c: Context) => {
    const ms = filters(c);
    const active = boolParam(c, 'active');
    const silenced = boolParam(c, 'silenced');
    const inhibited = boolParam(c, 'inhibited');
    const receiverParam = c.req.query('receiver');
    // RE2, anchored; a bad one answers 400 with Go's message, as Alertmanager does
    const receiverRe = receiverParam ? compileRegex(receiverParam) : undefined;
    return (a: NotifierAlert) => {
      if (!matchLabels(ms, a.labels)) return false;
      if (receiverRe && !n.receivers(a).some((r) => receiverRe.test(r))) return false;
      const st = n.status(a);
      if (!active && st.state === 'active') return false;
      if (!silenced && st.silencedBy.length > 0) return false;
      if (!inhibited && st.inhibitedBy.length > 0) return false;
      return true;
    };
  };

  app.get('/api/v2/alerts', (c) => {
    let keep;
    try {
      keep = alertFilter(c);
    } catch (err) {
      return bad(c, (err as Error).message);
    }
    const out = n.alerts().filter(keep).sort((x, y) => x.fingerprint.localeCompare(y.fingerprint)).map((a) => gettableAlert(n, a));
    return c.json(out);
  });

  app.post('/api/v2/alerts', async (c) => {
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return bad(c, 'body must be a JSON array of alerts');
    }
    if (!Array.isArray(body)) return bad(c, 'body must be a JSON array of alerts');
    const alerts = [];
    try {
      for (const [i, raw] of body.entries()) {
        const a = raw as Record<string, unknown>;
        const labels = stringMap(a.labels, `[${i}].labels`);
        if (Object.keys(labels).length === 0) throw new SilenceError(`[${i}].labels in body is required`);
        const startsAt = parseTime(a.startsAt, `[${i}].startsAt`);
        const endsAt = parseTime(a.endsAt, `[${i}].endsAt`);
        if (startsAt && endsAt && endsAt < startsAt) throw new SilenceError(`[${i}]: start time must be before end time`);
        alerts.push({ labels, annotations: stringMap(a.annotations, `[${i}].annotations`), startsAt, endsAt, generatorURL: typeof a.generatorURL === 'string' ? a.generatorURL : '' });
      }
    } catch (err) {
      return bad(c, (err as Error).message);
    }
    n.receive(alerts);
    return c.body(null, 200);
  });

  app.get('/api/v2/alerts/groups', (c) => {
    let keep;
    try {
      keep = alertFilter(c);
    } catch (err) {
      return bad(c, (err as Error).message);
    }
    const out = n.groups()
      .map((g) => ({ alerts: g.alerts.filter(keep).map((a) => gettableAlert(n, a)), labels: g.labels, receiver: { name: g.receiver } }))
      .filter((g) => g.alerts.length > 0);
    return c.json(out);
  });

  app.get('/api/v2/silences', (c) => {
    let ms: Matcher[];
    try {
      ms = filters(c);
    } catch (err) {
      return bad(c, (err as Error).message);
    }
    const order = { active: 0, pending: 1, expired: 2 } as const;
    const list = n.silences.list()
      .filter((s) => ms.every((m) => s.matchers.some((sm) => sm.name === m.name && m.matches(sm.value))))
      .map((s) => gettableSilence(n, s))
      .sort((a, b) => order[a.status.state] - order[b.status.state] || (a.status.state === 'expired' ? b.endsAt.localeCompare(a.endsAt) : a.endsAt.localeCompare(b.endsAt)));
    return c.json(list);
  });

  app.post('/api/v2/silences', async (c) => {
    let body: Record<string, unknown>;
    try {
      body = await c.req.json();
    } catch {
      return bad(c, 'body must be a JSON silence');
    }
    try {
      if (!Array.isArray(body.matchers)) throw new SilenceError('matchers in body is required');
      const matchers: SilenceMatcher[] = body.matchers.map((m: Record<string, unknown>, i: number) => {
        if (typeof m.name !== 'string' || typeof m.value !== 'string' || typeof m.isRegex !== 'boolean') throw new SilenceError(`matchers[${i}] needs name, value and isRegex`);
        return { name: m.name, value: m.value, isRegex: m.isRegex, isEqual: m.isEqual === undefined ? true : Boolean(m.isEqual) };
      });
      const startsAt = parseTime(body.startsAt, 'startsAt');
      const endsAt = parseTime(body.endsAt, 'endsAt');
      if (!startsAt || !endsAt) throw new SilenceError('startsAt and endsAt in body are required');
      const id = n.silences.set({
        id: typeof body.id === 'string' && body.id !== '' ? body.id : undefined,
        matchers, startsAt, endsAt,
        createdBy: typeof body.createdBy === 'string' ? body.createdBy : '',
        comment: typeof body.comment === 'string' ? body.comment : '',
      });
      return c.json({ silenceID: id });
    } catch (err) {
      return bad(c, (err as Error).message, err instanceof SilenceError && err.status === 404 ? 404 : 400);
    }
  });

  app.get('/api/v2/silence/:id', (c) => {
    const s = n.silences.get(c.req.param('id'));
    if (!s) return c.body(null, 404);
    return c.json(gettableSilence(n, s));
  });

  app.delete('/api/v2/silence/:id', (c) => {
    try {
      n.silences.expire(c.req.param('id'));
    } catch (err) {
      if (err instanceof SilenceError && err.status === 404) return c.body(null, 404);
      return bad(c, (err as Error).message, 500);
    }
    return c.body(null, 200);
  });

  app.get('/api/v2/status', (c) => c.json({
    cluster: { name: 'vigil', peers: [], status: 'disabled' },
    config: { original: n.currentConfig.original },
    uptime: goTime(n.startedAt),
    versionInfo: { branch: 'main', buildDate: '', buildUser: 'vigil', goVersion: `node${process.versions.node}`, revision: '', version: VERSION },
  }));

  app.get('/api/v2/receivers', (c) => c.json(n.currentConfig.receivers.map((r) => ({ name: r.name }))));

  return app;
}
