import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import { LANE_BACKFILL, LANE_LIVE, type AgentMessage } from '@vigil/common';
import { openBuffer, type DiskBuffer } from '../buffer/index.js';
import { encodeBlock } from './block.js';
import { Lanes, type LaneSocket } from './lanes.js';
import { StreamMetrics } from './metrics.js';
import { SeriesRegistry } from './registry.js';

type Batch = Extract<AgentMessage, { type: 'batch' }>;

/** A connection that records what the lanes send; the test plays the hub. */
class FakeSocket implements LaneSocket {
  sent: AgentMessage[] = [];
  bufferedAmount = 0;
  resyncs: string[] = [];
  send(msg: AgentMessage): void { this.sent.push(msg); }
  resync(why: string): void { this.resyncs.push(why); }
  batches(): Batch[] { return this.sent.filter((m): m is Batch => m.type === 'batch'); }
  take(): Batch[] {
    const b = this.batches();
    this.sent = [];
    return b;
  }
}

/** Flat closed ranges [s, s, ...] for a list of sequences. */
const ranges = (seqs: number[]): number[] => seqs.flatMap((s) => [s, s]);

async function setup(t: { teardown(fn: () => unknown): void }, opts: { maxInFlight?: number; liveWindowMs?: number } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-lanes-'));
  const buffer = await openBuffer({ dir, maxBytes: 64 << 20, syncIntervalMs: 0 });
  const series = new SeriesRegistry(path.join(dir, 'series.log'), buffer.epoch);
  t.teardown(async () => {
    series.close();
    await buffer.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  let now = 1_000_000;
  const metrics = new StreamMetrics(new Registry(), () => ({ bufferBytes: 0, backlogBlocks: 0, connected: false }));
  const lanes = new Lanes({
    buffer, series, metrics, maxFrameSamples: 1, maxInFlight: opts.maxInFlight ?? 16,
    liveWindowMs: opts.liveWindowMs ?? 30_000, backfillSamplesPerSec: 1_000_000, now: () => now,
  });
  /** Appends a block of `n` samples stamped `time`, as the sink does; returns its sequence. */
  const block = (time: number, n = 2): number => {
    const ids = new Int32Array(n);
    for (let i = 0; i < n; i++) ids[i] = series.idFor({ __name__: `m${i}` });
    series.flush();
    return appendTo(buffer, time, ids);
  };
  return { buffer, series, lanes, block, advance: (ms: number) => { now += ms; } };
}

function appendTo(buffer: DiskBuffer, time: number, ids: Int32Array): number {
  const values = new Float64Array(ids.length).fill(1);
  return buffer.append(encodeBlock([{ t: time, ids, values, stale: null }]), { samples: ids.length, time });
}

const welcome = (acked: number[] = [], seriesKnown = 0) => ({ acked, seriesKnown, maxFrameBytes: 0 });

t.test('an ack releases its blocks once; a repeated ack counts nothing', async (t) => {
  const { buffer, lanes, block } = await setup(t);
  const seqs = [block(1000), block(2000), block(3000)];
  const sock = new FakeSocket();
  lanes.attach(sock, welcome());
  t.equal(sock.sent[0]!.type, 'series', 'series definitions go before the first batch');
  const sent = sock.take();
  t.same(sent.map((b) => b.seqs), seqs.map((s) => [s]), 'one block per frame (maxFrameSamples 1), in order');
  t.ok(sent.every((b) => b.lane === LANE_LIVE));
  t.equal(lanes.inFlightBlocks, 3);
  lanes.onAck(ranges(sent[0]!.seqs));
  t.equal(buffer.unackedBlocks, 2);
  t.equal(lanes.counters.acked, 2);
  lanes.onAck(ranges(sent[0]!.seqs));
  t.equal(lanes.counters.acked, 2, 'acked once');
  lanes.onAck(ranges([seqs[1]!, seqs[2]!]));
  t.equal(buffer.unackedBlocks, 0);
  t.equal(lanes.counters.acked, 6);
  t.equal(lanes.inFlightBlocks, 0);
  // a new block goes out at once on the live lane
  const s4 = block(4000);
  lanes.pump();
  t.same(sock.take().map((b) => b.seqs), [[s4]]);
});

t.test('a nack: refused blocks are released and counted, out_of_sync ones go again after a reset', async (t) => {
  const { buffer, lanes, block } = await setup(t);
  const [a, b, c] = [block(1000), block(2000), block(3000)];
  const sock = new FakeSocket();
  lanes.attach(sock, welcome());
  sock.take();
  lanes.onNack(ranges([a]), 'malformed', 'bad');
  t.equal(lanes.counters.rejected, 2, 'the refused block counted');
  t.ok(buffer.isAcked(a), 'and released: it will never be sent again');
  t.same(sock.take(), [], 'no resend');
  lanes.onNack(ranges([b]), 'out_of_sync', 'lane reset');
  const again = sock.take();
  t.same(again.map((x) => x.seqs), [[b]], 'sent again');
  t.equal(again[0]!.reset, true, 'the lane starts over');
  t.notOk(buffer.isAcked(b));
  lanes.onAck(ranges([b, c]));
  t.equal(buffer.unackedBlocks, 0);
  // a nack the lanes cannot place resynchronises through a new handshake
  lanes.onNack([], 'malformed', 'undecodable');
  t.same(sock.resyncs, ['nack malformed']);
  t.notOk(lanes.ready);
});

t.test('after a reconnect, what the hub acked is released and the rest is sent again exactly once', async (t) => {
  const { buffer, lanes, block, series } = await setup(t);
  const seqs = [block(1000), block(2000), block(3000)];
  const first = new FakeSocket();
  lanes.attach(first, welcome());
  t.equal(first.take().length, 3);
  // the link drops before any ack arrives; the hub stored the first frame meanwhile
  lanes.detach();
  t.equal(lanes.inFlightBlocks, 0);
  const s4 = block(4000);
  lanes.pump();
  t.same(first.take(), [], 'nothing goes out without a connection');
  const second = new FakeSocket();
  lanes.attach(second, welcome(ranges([seqs[0]!]), series.count));
  t.ok(buffer.isAcked(seqs[0]!), 'the welcome acks what the hub holds');
  t.notOk(second.sent.some((m) => m.type === 'series'), 'the hub knows every series already');
  const resent = second.take();
  t.same(resent.map((b) => b.seqs[0]).sort(), [seqs[1], seqs[2], s4].sort(), 'each unacked block once');
  t.ok(resent.every((b) => b.reset === (b === resent[0])), 'a new lane state on the new connection');
  lanes.onAck(ranges([seqs[1]!, seqs[2]!, s4]));
  t.equal(buffer.unackedBlocks, 0);
  t.equal(lanes.counters.acked, 6);
});

t.test('after a reconnect the newest backlog goes first on the live lane, then the rest oldest-first on backfill', async (t) => {
  const { lanes, block, advance } = await setup(t, { liveWindowMs: 10_000, maxInFlight: 4 });
  const old = [block(100_000), block(101_000), block(102_000)];
  const recent = [block(200_000), block(205_000)];
  const sock = new FakeSocket();
  lanes.attach(sock, welcome());
  let sent = sock.take();
  t.same(sent.map((b) => [b.lane, b.seqs[0]]), recent.map((s) => [LANE_LIVE, s]), 'live lane first, nothing of the backfill yet (no tokens)');
  advance(1000);
  await new Promise((r) => setTimeout(r, 30));
  t.same(sock.take(), [], 'backfill only while less than half the window (4) is in flight');
  for (const s of recent) lanes.onAck(ranges([s])); // the hub acks frame by frame
  sent = sock.take();
  t.same(sent.map((b) => [b.lane, b.seqs[0]]), [[LANE_BACKFILL, old[0]], [LANE_BACKFILL, old[1]]], 'oldest first, up to half the window');
  // a block written now goes on the live lane at once, ahead of the remaining backfill
  const fresh = block(206_000);
  lanes.pump();
  t.same(sock.take().map((b) => [b.lane, b.seqs[0]]), [[LANE_LIVE, fresh]]);
  lanes.onAck(ranges([old[0]!]));
  t.same(sock.take(), [], 'still half the window in flight');
  lanes.onAck(ranges([fresh]));
  t.same(sock.take().map((b) => [b.lane, b.seqs[0]]), [[LANE_BACKFILL, old[2]]]);
  lanes.onAck(ranges([old[1]!]));
  lanes.onAck(ranges([old[2]!]));
  t.equal(lanes.inFlightBlocks, 0);
  t.equal(lanes.counters.acked, 12, 'every block acked once');
});
