/** The agent's link self-metrics (DESIGN.md §4), on a prom-client registry the caller may share. */
import { Counter, Gauge, Registry } from 'prom-client';

export class StreamMetrics {
  readonly samplesScraped: Counter;
  readonly samplesAcked: Counter;
  readonly samplesRejected: Counter;
  readonly wireBytes: Counter;
  readonly droppedSamples: Counter;
  readonly reconnects: Counter;
  readonly nacks: Counter<'code'>;
  readonly bufferBytes: Gauge;
  readonly backlogBlocks: Gauge;
  readonly connected: Gauge;

  constructor(readonly registry: Registry, probe: () => { bufferBytes: number; backlogBlocks: number; connected: boolean }) {
    const registers = [registry];
    this.samplesScraped = new Counter({ name: 'vigil_agent_samples_scraped_total', help: 'Samples handed to the streamer (scrapes, pushes, host exporter).', registers });
    this.samplesAcked = new Counter({ name: 'vigil_agent_samples_acked_total', help: 'Samples the hub acknowledged as durable.', registers });
    this.samplesRejected = new Counter({ name: 'vigil_agent_samples_rejected_total', help: 'Samples the hub refused (malformed or oversized batches, timestamps out of bounds, limits).', registers });
    this.wireBytes = new Counter({ name: 'vigil_agent_wire_bytes_sent_total', help: 'Bytes written to the hub connection (after compression, with framing).', registers });
    this.droppedSamples = new Counter({ name: 'vigil_agent_buffer_dropped_samples_total', help: 'Unsent samples dropped because the buffer was full or too old.', registers });
    this.reconnects = new Counter({ name: 'vigil_agent_reconnects_total', help: 'Connection attempts to the hub after the first.', registers });
    this.nacks = new Counter({ name: 'vigil_agent_nacks_total', help: 'Frames the hub refused, by code (the connection stays up).', labelNames: ['code'], registers });
    this.bufferBytes = new Gauge({ name: 'vigil_agent_buffer_bytes', help: 'Bytes held by the durable buffer.', registers,
      collect() { this.set(probe().bufferBytes); } });
    this.backlogBlocks = new Gauge({ name: 'vigil_agent_buffer_unacked_blocks', help: 'Buffer blocks not yet acknowledged by the hub.', registers,
      collect() { this.set(probe().backlogBlocks); } });
    this.connected = new Gauge({ name: 'vigil_agent_hub_connected', help: '1 while the link to the hub is up (handshake done).', registers,
      collect() { this.set(probe().connected ? 1 : 0); } });
  }
}
