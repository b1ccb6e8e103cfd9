import type { Logger } from '@vigil/common';
import type { AgentInfo } from './server.js';

export interface LinkEvents {
  /** An agent's link went down (true) or came back (false). */
  agentDown(agent: string, datacenter: string, down: boolean): void;
  /** An agent that was cut has caught up: its data is complete over [fromMs, toMs]. */
  backlogLanded(datacenter: string, fromMs: number, toMs: number): void;
}

interface Tracked {
  connected: boolean;
  /** Watermark when the link was cut (ms), while waiting for the backlog to land. */
  cutAt?: number;
}

/**
 * Turns the ingest server's per-agent state into link events for the rules: a cut, a reconnection, and the
 * moment a reconnected agent's backlog has landed (its watermark passed the time it reconnected). Polls, so
 * the ingest hot path knows nothing about rules.
 */
export class LinkWatcher {
  private readonly tracked = new Map<string, Tracked>();
  /**
   * Derived from the last poll, so that rules and the notifier, which ask once per alert and evaluation, do not
   * rebuild every agent's state on each question.
   */
  private cut = new Set<string>();
  private watermarks = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly agents: () => AgentInfo[],
    private readonly events: LinkEvents,
    private readonly logger: Logger,
    private readonly intervalMs = 1000,
  ) {}

  start(): void {
    this.poll();
    this.timer = setInterval(() => this.poll(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** True while any agent of the datacenter is disconnected (as of the last poll). */
  isCut(datacenter: string): boolean {
    return this.cut.has(datacenter);
  }

  /** The time up to which all of a datacenter's agents' data is complete: the smallest watermark (last poll). */
  watermark(datacenter: string): number | undefined {
    return this.watermarks.get(datacenter);
  }

  poll(now = Date.now()): void {
    const cut = new Set<string>();
    const watermarks = new Map<string, number>();
    const agents = this.agents();
    for (const a of agents) {
      if (!a.connected) cut.add(a.datacenter);
      if (a.watermark_seconds !== null) {
        const ms = a.watermark_seconds * 1000;
        const w = watermarks.get(a.datacenter);
        watermarks.set(a.datacenter, w === undefined ? ms : Math.min(w, ms));
      }
    }
    // Updated before the events go out, so their handlers see the new state.
    this.cut = cut;
    this.watermarks = watermarks;
    for (const a of agents) {
      let t = this.tracked.get(a.id);
      if (!t) {
        t = { connected: a.connected };
        this.tracked.set(a.id, t);
        if (!a.connected) this.events.agentDown(a.id, a.datacenter, true);
        continue;
      }
      if (t.connected && !a.connected) {
        t.cutAt = a.watermark_seconds !== null ? a.watermark_seconds * 1000 : now;
        this.logger.warn({ agent: a.id, datacenter: a.datacenter, watermark: new Date(t.cutAt).toISOString() }, 'agent link cut');
        this.events.agentDown(a.id, a.datacenter, true);
      } else if (!t.connected && a.connected) {
        this.logger.info({ agent: a.id, datacenter: a.datacenter }, 'agent link back, waiting for the backlog');
        this.events.agentDown(a.id, a.datacenter, false);
      }
      t.connected = a.connected;
      if (t.cutAt !== undefined && a.connected && a.lag_seconds !== null && a.lag_seconds < 30 && a.watermark_seconds !== null) {
        const to = a.watermark_seconds * 1000;
        this.logger.info({ agent: a.id, datacenter: a.datacenter, from: new Date(t.cutAt).toISOString(), to: new Date(to).toISOString() }, 'backlog landed');
        this.events.backlogLanded(a.datacenter, t.cutAt, to);
        t.cutAt = undefined;
      }
    }
  }
}
