/**
 * Messages of the agent ⇄ hub link (protocol version 1, see docs/protocol.md). Every
 * WebSocket message is one binary msgpack map with a `type`; sample data travels in
 * `batch.body`, coded by `columns.ts`.
 */
import type { MetricMetadata } from '../model/sample.js';

export const PROTOCOL_VERSION = 1;
export const STREAM_PATH = '/api/v1/agents/stream';

/** Headers of the upgrade request (the token goes in `Authorization: Bearer`). */
export const HEADER_PROTOCOL = 'x-vigil-protocol';
export const HEADER_AGENT_ID = 'x-vigil-agent-id';
export const HEADER_DATACENTER = 'x-vigil-datacenter';
export const HEADER_AGENT_VERSION = 'x-vigil-agent-version';

/** Lanes: live carries what was scraped since the connection opened, backfill the older backlog. */
export const LANE_LIVE = 0;
export const LANE_BACKFILL = 1;
export type Lane = typeof LANE_LIVE | typeof LANE_BACKFILL;

/** Hub → agent, first message after the upgrade: where to resume. */
export interface WelcomeMsg {
  type: 'welcome';
  v: number;
  /** Sequence numbers the hub already holds durably, as flat closed ranges [a0, b0, a1, b1, ...]. */
  acked: number[];
  /** The hub holds the definitions of every series id < seriesKnown for this agent. */
  seriesKnown: number;
  heartbeatMs: number;
  maxFrameBytes: number;
}

/** Agent → hub: definitions of consecutive series ids `first, first+1, ...`; labels as flat [name, value, ...]. */
export interface SeriesMsg {
  type: 'series';
  first: number;
  labels: string[][];
}

/** Agent → hub: the samples of one or more buffer blocks, one sequence number each. */
export interface BatchMsg {
  type: 'batch';
  lane: Lane;
  /** The lane's coding state (value deltas, id lists) starts empty with this frame. */
  reset: boolean;
  seqs: number[];
  samples: number;
  body: Uint8Array;
}

/**
 * Hub → agent: the hub is done with these sequence numbers: their samples are durable, except
 * `refused` ones that the hub will never store (resending cannot help), counted by reason in
 * `reasons` (`too_far_in_future`, `too_old`, `invalid_timestamp`, limits).
 */
export interface AckMsg {
  type: 'ack';
  seqs: number[];
  samples: number;
  duplicates: number;
  refused?: number;
  reasons?: Record<string, number>;
}

export type NackCode = 'malformed' | 'too_large' | 'out_of_sync' | 'unknown_series';

/** Hub → agent: these sequence numbers were refused; `out_of_sync` ones should be resent with `reset`. */
export interface NackMsg {
  type: 'nack';
  seqs: number[];
  code: NackCode;
  reason: string;
}

/** Both ways, every heartbeat interval; the agent reports its backlog for the watermark. */
export interface HeartbeatMsg {
  type: 'hb';
  /** Sender's clock, ms. */
  t: number;
  /** Agent only: timestamp (ms) of the oldest sample not yet acked, or null when nothing is outstanding. */
  oldest?: number | null;
  /** Agent only: the newest sample time handed to the buffer (ms), or null. */
  newest?: number | null;
  bufferedBytes?: number;
  backlogBlocks?: number;
}

export interface MetaMsg {
  type: 'meta';
  metadata: MetricMetadata[];
}

/** Agent → hub: the agent's scrape targets summary (opaque to the link). */
export interface TargetsMsg {
  type: 'targets';
  targets: unknown;
}

export type AgentMessage = SeriesMsg | BatchMsg | HeartbeatMsg | MetaMsg | TargetsMsg;
export type HubMessage = WelcomeMsg | AckMsg | NackMsg | HeartbeatMsg;
export type Message = AgentMessage | HubMessage;
