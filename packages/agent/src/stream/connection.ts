/**
 * The agent's WebSocket to the hub: handshake headers, reconnects with backoff, heartbeats (a hub
 * silent for two periods is declared dead), wire-byte counting. Messages from the hub go to the
 * handler; the handler sees an established connection as a `LaneSocket`.
 */
import WebSocket from 'ws';
import {
  HEADER_AGENT_ID, HEADER_AGENT_VERSION, HEADER_DATACENTER, HEADER_PROTOCOL, PROTOCOL_VERSION,
  decodeHubMessage, encodeMessage, type AgentMessage, type HubMessage, type Logger,
} from '@vigil/common';
import { Backoff } from './backoff.js';
import type { LaneSocket } from './lanes.js';

export const HEADER_EPOCH = 'x-vigil-epoch';
export const HEADER_HEARTBEAT = 'x-vigil-heartbeat-ms';

export interface TlsOptions {
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  rejectUnauthorized?: boolean;
  servername?: string;
}

export interface ConnectionOptions {
  url: string;
  token?: string;
  agentId: string;
  datacenter: string;
  version: string;
  epoch: string;
  heartbeatMs: number;
  backoffMinMs: number;
  backoffMaxMs: number;
  compression: boolean;
  tls?: TlsOptions;
  logger: Logger;
}

export interface ConnectionHandler {
  /** A message from the hub; `socket` is the connection it came on. */
  onMessage(msg: HubMessage, socket: LaneSocket): void;
  /** The connection is gone (closed, declared dead, or dropped to resynchronise). */
  onDrop(): void;
  /** The heartbeat to send now (only while established). */
  heartbeat(now: number): AgentMessage;
  /** Whether the handshake is done (heartbeats are sent only then). */
  established(): boolean;
  /** Bytes written to the network since the last call. */
  onWireBytes(bytes: number): void;
  /** A connection attempt after the first. */
  onReconnect(): void;
}

export class Connection {
  private ws: WebSocket | null = null;
  private running = false;
  private attempts = 0;
  private readonly backoff: Backoff;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private hbTimer: NodeJS.Timeout | null = null;
  private lastRecv = 0;
  private lastHbSent = 0;
  private socketBytes = 0;

  constructor(private readonly opts: ConnectionOptions, private readonly handler: ConnectionHandler) {
    this.backoff = new Backoff(opts.backoffMinMs, opts.backoffMaxMs);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.connect();
    this.hbTimer = setInterval(() => this.tick(), Math.max(10, Math.floor(this.opts.heartbeatMs / 4)));
    this.hbTimer.unref();
  }

  /** Stops reconnecting and closes the socket (politely, then by force after 500 ms). */
  async stop(): Promise<void> {
    this.running = false;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.hbTimer) clearInterval(this.hbTimer);
    this.reconnectTimer = this.hbTimer = null;
    const ws = this.ws;
    if (ws) {
      await new Promise<void>((resolve) => {
        if (ws.readyState === WebSocket.CLOSED) return resolve();
        const timer = setTimeout(() => { ws.terminate(); resolve(); }, 500);
        ws.once('close', () => { clearTimeout(timer); resolve(); });
        ws.close(1001, 'agent stopping');
      });
    }
    this.drop();
  }

  private connect(): void {
    if (!this.running) return;
    if (this.attempts++ > 0) this.handler.onReconnect();
    const o = this.opts;
    const headers: Record<string, string> = {
      [HEADER_PROTOCOL]: String(PROTOCOL_VERSION),
      [HEADER_AGENT_ID]: o.agentId,
      [HEADER_DATACENTER]: o.datacenter,
      [HEADER_AGENT_VERSION]: o.version,
      [HEADER_EPOCH]: o.epoch,
      [HEADER_HEARTBEAT]: String(o.heartbeatMs),
    };
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    const tls = o.tls ?? {};
    const ws = new WebSocket(o.url, {
      headers,
      perMessageDeflate: o.compression ? { threshold: 0, zlibDeflateOptions: { level: 6, memLevel: 9 } } : false,
      maxPayload: 64 << 20,
      handshakeTimeout: Math.max(1000, 2 * o.heartbeatMs),
      ca: tls.ca,
      cert: tls.cert,
      key: tls.key,
      rejectUnauthorized: tls.rejectUnauthorized,
      ...(tls.servername ? { servername: tls.servername } : {}),
    } as WebSocket.ClientOptions);
    this.ws = ws;
    this.lastRecv = Date.now();
    this.socketBytes = 0;
    ws.binaryType = 'nodebuffer';
    const socket: LaneSocket = {
      send: (msg) => {
        if (ws === this.ws) ws.send(encodeMessage(msg), { binary: true }, () => this.countWire());
      },
      get bufferedAmount() { return ws.bufferedAmount; },
      resync: () => {
        if (ws !== this.ws) return;
        ws.terminate();
        this.drop();
        this.scheduleReconnect();
      },
    };
    ws.on('unexpected-response', (_req, res) => {
      o.logger.error({ url: o.url, status: res.statusCode }, `hub refused the connection: HTTP ${res.statusCode}`);
      res.resume();
      ws.terminate();
    });
    ws.on('open', () => {
      this.lastRecv = Date.now();
      o.logger.debug({ url: o.url }, 'connected, waiting for welcome');
    });
    ws.on('message', (data: Buffer) => {
      if (ws !== this.ws) return;
      this.lastRecv = Date.now();
      let msg: HubMessage;
      try {
        msg = decodeHubMessage(data);
      } catch (err) {
        o.logger.error({ err }, 'cannot decode a message from the hub; reconnecting');
        ws.terminate();
        return;
      }
      this.handler.onMessage(msg, socket);
    });
    ws.on('error', (err) => {
      if (ws === this.ws) o.logger.debug({ err: err.message }, 'hub connection error');
    });
    ws.on('close', (code, reason) => {
      if (ws !== this.ws) return;
      if (this.handler.established()) o.logger.warn({ code, reason: reason.toString() }, 'link to hub lost');
      this.drop();
      this.scheduleReconnect();
    });
  }

  /** The connection is established: the next attempts start from the shortest backoff again. */
  resetBackoff(): void {
    this.backoff.reset();
  }

  private drop(): void {
    this.countWire();
    if (this.ws) this.ws.removeAllListeners('message');
    this.ws = null;
    this.handler.onDrop();
  }

  private scheduleReconnect(): void {
    if (!this.running || this.reconnectTimer) return;
    const delay = this.backoff.next();
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.connect();
    }, delay);
  }

  private tick(): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    const now = Date.now();
    if (now - this.lastRecv > 1.75 * this.opts.heartbeatMs) {
      this.opts.logger.warn({ silentMs: now - this.lastRecv }, 'hub silent for 2 heartbeats: link declared dead');
      ws.terminate();
      this.drop();
      this.scheduleReconnect();
      return;
    }
    if (!this.handler.established()) return;
    if (now - this.lastHbSent >= this.opts.heartbeatMs) {
      this.lastHbSent = now;
      ws.send(encodeMessage(this.handler.heartbeat(now)), { binary: true }, () => this.countWire());
    }
  }

  private countWire(): void {
    const sock = (this.ws as unknown as { _socket?: { bytesWritten: number } } | null)?._socket;
    if (!sock) return;
    const delta = sock.bytesWritten - this.socketBytes;
    if (delta > 0) {
      this.socketBytes = sock.bytesWritten;
      this.handler.onWireBytes(delta);
    }
  }
}
