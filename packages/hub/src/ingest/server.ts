/**
 * The hub end of the link: authenticates agents at the WebSocket upgrade, keeps one
 * session per agent (a new connection replaces the old one once its commits finished),
 * remembers per-agent state (series, acked sequences, watermark) and reports it.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { createHash, timingSafeEqual } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';
import { Registry } from 'prom-client';
import {
  HEADER_AGENT_ID, HEADER_AGENT_VERSION, HEADER_DATACENTER, HEADER_PROTOCOL, PROTOCOL_VERSION, STREAM_PATH,
  AGENT_ID_RE, AuthThrottle, MAX_TIME_MS, silentLogger, type Logger, type Matcher,
} from '@vigil/common';
import type { Storage } from '../storage/types.js';
import { AgentState } from './state.js';
import { Session } from './session.js';
import { IngestMetrics } from './metrics.js';

const HEADER_EPOCH = 'x-vigil-epoch';
const HEADER_HEARTBEAT = 'x-vigil-heartbeat-ms';

export interface IngestServerOptions {
  storage: Storage;
  /** Accepted agent tokens; `datacenter` and `agent_id` bind the identity of the agents that use one. */
  tokens: AgentToken[];
  /** Accept agents without a token: only when no tokens are configured (and on loopback). */
  allowAnonymous?: boolean;
  limits?: { maxSeriesPerAgent?: number; maxFrameBytes?: number };
  logger?: Logger;
  /** Per-agent state (series ids, acked sequences) lives in `<dataDir>/agents/`; memory only when absent. */
  dataDir?: string;
  registry?: Registry;
}

/** One agent as `/api/v1/agents` shows it. */
export interface AgentInfo {
  id: string;
  datacenter: string;
  connected: boolean;
  last_seen: string | null;
  /** RFC 3339 time up to which the agent's data is complete at the hub. */
  watermark: string | null;
  watermark_seconds: number | null;
  lag_seconds: number | null;
  buffered_bytes: number;
  backlog_blocks: number;
  samples_per_second: number;
  series: number;
  version: string;
}

export interface AgentToken { token: string; datacenter?: string; agent_id?: string }

interface TokenEntry { hash: Buffer; datacenter?: string; agentId?: string }

function sha(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

function refuse(socket: Duplex, status: number, reason: string, extra = ''): void {
  const text = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 429: 'Too Many Requests', 503: 'Service Unavailable' }[status] ?? 'Error';
  const body = reason + '\n';
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `${extra}Connection: close\r\n\r\n${body}`,
  );
}

function hashTokens(tokens: readonly AgentToken[]): TokenEntry[] {
  return tokens.map((t) => ({
    hash: sha(t.token), ...(t.datacenter ? { datacenter: t.datacenter } : {}), ...(t.agent_id ? { agentId: t.agent_id } : {}),
  }));
}

/** RFC 3339 of a time in ms; null when unknown or not a representable time. */
const iso = (ms: number | null): string | null => (ms === null || !(Math.abs(ms) <= MAX_TIME_MS) ? null : new Date(ms).toISOString());

export class IngestServer {
  readonly registry: Registry;
  readonly metrics: IngestMetrics;
  private readonly wss: WebSocketServer;
  private readonly states = new Map<string, AgentState>();
  private readonly sessions = new Map<string, Session>();
  private tokens: TokenEntry[];
  private allowAnonymous: boolean;
  private readonly log: Logger;
  private readonly maxFrameBytes: number;
  private readonly maxSeries: number;
  private closing = false;
  /** Wrong tokens per remote address (the HTTP API's throttle): the fifth within 15 min makes the address wait 1 s, doubling. */
  private readonly throttle = new AuthThrottle({ freeFailures: 4 });

  constructor(private readonly opts: IngestServerOptions) {
    this.log = (opts.logger ?? silentLogger).child({ component: 'ingest' });
    this.tokens = hashTokens(opts.tokens);
    this.allowAnonymous = opts.allowAnonymous ?? false;
    this.maxFrameBytes = opts.limits?.maxFrameBytes ?? 16 << 20;
    this.maxSeries = opts.limits?.maxSeriesPerAgent ?? 1_000_000;
    this.registry = opts.registry ?? new Registry();
    this.metrics = new IngestMetrics(this.registry, () => this.states.values());
    this.wss = new WebSocketServer({
      noServer: true,
      // frames over maxFrameBytes get a nack; only far larger ones close the connection
      maxPayload: Math.max(this.maxFrameBytes * 4, 1 << 20),
      perMessageDeflate: { threshold: 0, zlibDeflateOptions: { level: 1 } },
    });
  }

  /** Handles an HTTP upgrade; returns false when the path is not the agent stream. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== STREAM_PATH) return false;
    if (this.closing) {
      refuse(socket, 503, 'hub is shutting down');
      return true;
    }
    const remote = req.socket.remoteAddress ?? '';
    const auth = req.headers.authorization ?? '';
    const m = /^Bearer\s+(.+)$/i.exec(auth);
    let agentId = String(req.headers[HEADER_AGENT_ID] ?? '');
    const datacenter = String(req.headers[HEADER_DATACENTER] ?? '');
    const h = m ? sha(m[1]!.trim()) : null;
    let bound: string | undefined;
    let boundId: string | undefined;
    if (this.tokens.length > 0 || !this.allowAnonymous) {
      const hit = this.findToken(h);
      if (!hit) {
        // Agents of a datacenter often share one address (NAT): a valid token is always accepted,
        // wrong ones from an address that keeps failing get 429 and no log line each.
        const wait = this.throttle.wait(remote);
        this.throttle.fail(remote);
        if (wait > 0) {
          this.metrics.refusedConnections.inc({ reason: 'throttled' });
          refuse(socket, 429, `too many failed attempts from ${remote}: retry in ${Math.ceil(wait / 1000)} s`, `Retry-After: ${Math.ceil(wait / 1000)}\r\n`);
          return true;
        }
        this.metrics.refusedConnections.inc({ reason: 'token' });
        this.log.warn({ agent: agentId, remote: req.socket.remoteAddress }, 'agent refused: missing or invalid token');
        refuse(socket, 401, m ? 'invalid token' : 'missing bearer token', 'WWW-Authenticate: Bearer\r\n');
        return true;
      }
      bound = hit.datacenter;
      boundId = hit.agentId;
    }
    if (String(req.headers[HEADER_PROTOCOL] ?? '') !== String(PROTOCOL_VERSION)) {
      this.metrics.refusedConnections.inc({ reason: 'protocol' });
      refuse(socket, 400, `unsupported protocol version ${JSON.stringify(req.headers[HEADER_PROTOCOL] ?? null)}; this hub speaks ${PROTOCOL_VERSION}`);
      return true;
    }
    if (boundId !== undefined && boundId !== agentId) {
      // The token decides who the agent is.
      this.metrics.identityOverrides.inc({ field: 'agent_id' });
      this.log.debug({ sent: agentId, bound: boundId }, 'agent id replaced by the id bound to its token');
      agentId = boundId;
    }
    if (!agentId || !datacenter || datacenter.length > 256) {
      refuse(socket, 400, `headers ${HEADER_AGENT_ID} and ${HEADER_DATACENTER} are required`);
      return true;
    }
    if (!AGENT_ID_RE.test(agentId)) {
      this.metrics.refusedConnections.inc({ reason: 'agent_id' });
      refuse(socket, 400, `invalid agent id ${JSON.stringify(agentId.slice(0, 140))}: use letters, digits, '.', '_', ':' or '-', starting with a letter or digit (at most 128)`);
      return true;
    }
    const owner = h === null ? '' : h.toString('hex').slice(0, 32);
    const known = this.states.get(agentId)?.owner ?? this.peekOwner(agentId);
    if (known !== undefined && known !== owner) {
      this.metrics.refusedConnections.inc({ reason: 'agent_id_owner' });
      this.log.warn({ agent: agentId, remote: req.socket.remoteAddress }, 'agent refused: its id belongs to agents of another token');
      refuse(socket, 403, `agent id ${JSON.stringify(agentId)} belongs to agents of another token`);
      return true;
    }
    if (bound && bound !== datacenter) {
      this.metrics.refusedConnections.inc({ reason: 'datacenter' });
      this.log.warn({ agent: agentId, datacenter, bound }, 'agent refused: token is bound to another datacenter');
      refuse(socket, 403, `token is bound to datacenter ${JSON.stringify(bound)}, not ${JSON.stringify(datacenter)}`);
      return true;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      void this.accept(ws, req, agentId, datacenter, h, owner, bound).catch((err: unknown) => {
        this.log.error({ err, agent: agentId }, 'cannot start an agent session');
        ws.terminate();
      });
    });
    return true;
  }

  private state(id: string, owner: string, boundDatacenter: string | undefined): AgentState {
    let st = this.states.get(id);
    if (!st) {
      st = AgentState.load(id, this.opts.dataDir, this.maxSeries, owner, boundDatacenter);
      this.states.set(id, st);
    }
    st.boundDatacenter = boundDatacenter;
    return st;
  }

  /** The token owner recorded for an agent id not loaded yet (undefined: never seen). */
  private peekOwner(id: string): string | undefined {
    return this.opts.dataDir === undefined ? undefined : AgentState.readOwner(id, this.opts.dataDir);
  }

  private findToken(h: Buffer | null): TokenEntry | undefined {
    return h ? this.tokens.find((t) => timingSafeEqual(t.hash, h)) : undefined;
  }

  /** Whether a connection authenticated with token hash `h` for `datacenter` is (still) allowed. */
  private admits(h: Buffer | null, datacenter: string): boolean {
    if (this.tokens.length === 0 && this.allowAnonymous) return true;
    const hit = this.findToken(h);
    return hit !== undefined && (!hit.datacenter || hit.datacenter === datacenter);
  }

  /**
   * Replaces the accepted tokens (config reload). Connected agents whose token is no longer valid,
   * or now bound to another datacenter, are disconnected (close code 1008); their next attempt gets 401/403.
   * `allowAnonymous` keeps its value unless given.
   */
  setTokens(tokens: readonly AgentToken[], allowAnonymous = this.allowAnonymous): void {
    this.tokens = hashTokens(tokens);
    this.allowAnonymous = allowAnonymous;
    let revoked = 0;
    for (const s of this.sessions.values()) {
      if (this.admits(s.tokenHash, s.state.datacenter)) continue;
      revoked++;
      this.log.warn({ agent: s.state.id, datacenter: s.state.datacenter }, 'agent disconnected: its token was revoked');
      void s.close(1008, 'token revoked');
    }
    this.log.info({ tokens: tokens.length, revoked }, 'agent tokens updated');
  }

  private async accept(
    ws: WebSocket, req: IncomingMessage, agentId: string, datacenter: string, tokenHash: Buffer | null, owner: string, bound: string | undefined,
  ): Promise<void> {
    const old = this.sessions.get(agentId);
    if (old) {
      this.log.info({ agent: agentId }, 'agent reconnected: replacing its previous connection');
      old.terminate();
      await old.done;
    }
    if (ws.readyState !== 1 || this.closing) {
      ws.terminate();
      return;
    }
    const st = this.state(agentId, owner, bound);
    const epoch = String(req.headers[HEADER_EPOCH] ?? '');
    if (epoch && st.useEpoch(epoch) && st.seriesKnown === 0) {
      this.log.info({ agent: agentId, epoch }, 'agent starts a new buffer epoch');
    }
    st.datacenter = datacenter;
    st.version = String(req.headers[HEADER_AGENT_VERSION] ?? '');
    const hb = Number(req.headers[HEADER_HEARTBEAT] ?? 5000);
    st.heartbeatMs = Number.isFinite(hb) ? Math.min(60_000, Math.max(50, hb)) : 5000;
    st.connected = true;
    st.lastSeen = Date.now();
    const log = this.log.child({ agent: agentId, datacenter });
    const session = new Session(ws, st, this.opts.storage, this.metrics, log, this.maxFrameBytes, (m) => {
      try {
        this.opts.storage.setMetadata(m.metadata);
      } catch (err) {
        log.warn({ err }, 'cannot store metadata');
      }
    });
    session.tokenHash = tokenHash;
    this.sessions.set(agentId, session);
    void session.done.then(() => {
      if (this.sessions.get(agentId) === session) {
        this.sessions.delete(agentId);
        st.connected = false;
        log.warn({ watermark: iso(st.watermark()) }, 'agent disconnected');
      }
    });
    session.start();
    log.info({ remote: req.socket.remoteAddress, seriesKnown: st.seriesKnown, acked: st.acked.rangeCount }, 'agent connected');
  }

  agents(): AgentInfo[] {
    const now = Date.now();
    return [...this.states.values()]
      .sort((a, b) => a.id.localeCompare(b.id))
      .map((a) => {
        const w = a.watermark();
        return {
          id: a.id,
          datacenter: a.datacenter,
          connected: a.connected,
          last_seen: iso(a.lastSeen),
          watermark: iso(w),
          watermark_seconds: w === null ? null : w / 1000,
          lag_seconds: w === null ? null : Math.max(0, (now - w) / 1000),
          buffered_bytes: a.bufferedBytes,
          backlog_blocks: a.backlogBlocks,
          samples_per_second: Math.round(a.rate * 100) / 100,
          series: a.seriesKnown,
          version: a.version,
        };
      });
  }

  /** Every agent's scrape targets summary, as they reported it. */
  targets(): unknown[] {
    const out: unknown[] = [];
    for (const a of this.states.values()) {
      if (a.targets === undefined) continue;
      if (Array.isArray(a.targets)) out.push(...(a.targets as unknown[]));
      else out.push(a.targets);
    }
    return out;
  }

  /**
   * Warnings for a query over [mint, maxt] (ms): one per agent that is disconnected or behind
   * and whose data is not complete up to maxt, naming its datacenter and watermark. With
   * `selectors`, agents none of whose series a selector can match (by datacenter and metric name)
   * are left out.
   */
  warningsFor(mint: number, maxt: number, selectors?: readonly (readonly Matcher[])[]): string[] {
    const out: string[] = [];
    const now = Date.now();
    for (const a of this.states.values()) {
      if (selectors && selectors.length > 0 && !selectors.some((ms) => a.canMatch(ms))) continue;
      const w = a.watermark();
      if (w !== null && w >= maxt) continue;
      if (w !== null && w < mint && !a.connected && now - w > 86_400_000 * 30) continue; // long gone
      const lagging = w === null || now - w > Math.max(3 * a.heartbeatMs, 30_000);
      if (a.connected && !lagging) continue;
      const mark = iso(w) ?? 'unknown';
      out.push(a.connected
        ? `datacenter "${a.datacenter}" (agent "${a.id}") is behind: its data is complete up to ${mark}, backlog still arriving`
        : `datacenter "${a.datacenter}" (agent "${a.id}") is disconnected: its data is complete up to ${mark}`);
    }
    return out;
  }

  /** Closes every session after its pending commits, and persists per-agent state. */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.all([...this.sessions.values()].map((s) => s.close(1001, 'hub stopping')));
    for (const st of this.states.values()) st.close();
    await new Promise<void>((r) => this.wss.close(() => r()));
  }
}
