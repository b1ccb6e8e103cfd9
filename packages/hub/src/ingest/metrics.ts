/** The hub's ingest self-metrics and per-agent link gauges. */
import { Counter, Gauge, Registry } from 'prom-client';
import type { AgentState } from './state.js';

export class IngestMetrics {
  readonly ingested: Counter;
  readonly duplicates: Counter;
  readonly rejected: Counter<'reason'>;
  readonly nacks: Counter<'code'>;
  readonly refusedConnections: Counter<'reason'>;
  readonly identityOverrides: Counter<'field'>;

  constructor(readonly registry: Registry, agents: () => Iterable<AgentState>) {
    const registers = [registry];
    this.ingested = new Counter({ name: 'vigil_hub_samples_ingested_total', help: 'Samples stored from agent streams.', registers });
    this.duplicates = new Counter({ name: 'vigil_hub_duplicate_samples_total', help: 'Samples dropped as already stored (by agent sequence or by series and timestamp).', registers });
    this.rejected = new Counter({
      name: 'vigil_hub_ingest_rejected_samples_total', help: 'Samples from agents refused, by reason (series_limit, too_far_in_future, too_old, ...).', labelNames: ['reason'], registers,
    });
    this.nacks = new Counter({ name: 'vigil_hub_ingest_nacks_total', help: 'Frames refused with a reason, by code.', labelNames: ['code'], registers });
    this.refusedConnections = new Counter({ name: 'vigil_hub_ingest_refused_connections_total', help: 'Agent connections refused at the upgrade.', labelNames: ['reason'], registers });
    this.identityOverrides = new Counter({
      name: 'vigil_hub_ingest_identity_overrides_total', help: 'What an agent sent that its token overrode: agent_id (per connection), datacenter (per series).',
      labelNames: ['field'], registers,
    });
    new Gauge({ name: 'vigil_hub_agents_connected', help: 'Agents with a live link.', registers,
      collect() {
        let n = 0;
        for (const a of agents()) if (a.connected) n++;
        this.set(n);
      } });
    const perAgent = (name: string, help: string, value: (a: AgentState, now: number) => number | null): void => {
      new Gauge({ name, help, labelNames: ['agent', 'datacenter'], registers,
        collect() {
          this.reset();
          const now = Date.now();
          for (const a of agents()) {
            const v = value(a, now);
            if (v !== null) this.set({ agent: a.id, datacenter: a.datacenter }, v);
          }
        } });
    };
    perAgent('vigil_agent_connected', '1 while the agent is connected.', (a) => (a.connected ? 1 : 0));
    perAgent('vigil_agent_watermark_seconds', 'Time up to which the agent\'s data is complete at the hub.', (a) => {
      const w = a.watermark();
      return w === null ? null : w / 1000;
    });
    perAgent('vigil_agent_lag_seconds', 'Now minus the agent\'s watermark.', (a, now) => {
      const w = a.watermark();
      return w === null ? null : Math.max(0, (now - w) / 1000);
    });
    perAgent('vigil_agent_buffered_bytes', 'Bytes in the agent\'s buffer, as it last reported.', (a) => a.bufferedBytes);
    perAgent('vigil_agent_backlog_blocks', 'Blocks the agent holds unacked, as it last reported.', (a) => a.backlogBlocks);
    perAgent('vigil_agent_samples_per_second', 'Samples per second stored from the agent.', (a) => a.rate);
  }
}
