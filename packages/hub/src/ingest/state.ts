/**
 * What the hub remembers per agent across restarts (in `<dataDir>/agents/<id>/`):
 *   series.log  {"epoch":"<hex>"}\n then one JSON [name, value, ...] per line; line i = series id i
 *   acked.json  {"epoch":"<hex>","acked":[a0,b0,...]}: sequence numbers durable in storage
 *   owner       first 32 hex digits of sha256 of the token the agent first authenticated with
 *               ('' for anonymous): only agents with that token may use this id
 * Series definitions are written before the batches that use them are committed, and
 * fdatasync'd before those batches are acked. acked.json may lag (rewritten shortly after
 * acks): a lost update only makes the agent resend blocks that storage then drops as
 * duplicates by series and timestamp. A new agent epoch (a fresh agent buffer) starts both over.
 */
import fs from 'node:fs';
import path from 'node:path';
import { RangeSet, type Labels, type Matcher } from '@vigil/common';
import type { SeriesRef } from '../storage/types.js';

export class AgentState {
  epoch = '';
  acked = new RangeSet();
  labels: Labels[] = [];
  /** Storage refs per series id: 0 unknown yet, -1 refused (over the series limit). */
  refs: number[] = [];
  /** Metric names of the agent's series (for query warnings: can a selector touch this agent?). */
  names = new Set<string>();
  private fd: number | null = null;
  /**
   * One copy of each label name and value of this agent: decoded from the wire, "job", "bench"
   * or an instance name would otherwise be a separate string in each of 100k series.
   */
  private readonly strings = new Map<string, string>();
  private dirtySeries = false;
  private ackTimer: NodeJS.Timeout | null = null;

  // live facts for /api/v1/agents and watermarks
  datacenter = '';
  version = '';
  connected = false;
  lastSeen: number | null = null;
  /** Agent-reported: oldest unacked sample time (ms) or null, agent clock of that report, newest sample. */
  oldest: number | null = null;
  reportedAt: number | null = null;
  newest: number | null = null;
  bufferedBytes = 0;
  backlogBlocks = 0;
  heartbeatMs = 5000;
  samplesTotal = 0;
  rate = 0;
  private rateMark = { t: Date.now(), n: 0 };
  targets: unknown = undefined;

  /** Datacenter bound to the agent's token: every series carries it, whatever the agent sent. */
  boundDatacenter: string | undefined;
  /** Series whose `datacenter` label was replaced by the bound one. */
  overrides = 0;

  constructor(
    readonly id: string, private readonly dir: string | null, private readonly maxSeries: number, readonly owner = '', boundDatacenter?: string,
  ) {
    this.boundDatacenter = boundDatacenter;
  }

  private static dirOf(id: string, dataDir: string): string {
    return path.join(dataDir, 'agents', encodeURIComponent(id));
  }

  /** The owner recorded for an agent id, or undefined when the hub never saw it. */
  static readOwner(id: string, dataDir: string): string | undefined {
    try {
      return fs.readFileSync(path.join(AgentState.dirOf(id, dataDir), 'owner'), 'utf8').trim();
    } catch {
      return undefined;
    }
  }

  /** Loads what the hub remembers of an agent; `owner` is recorded on first contact. */
  static load(id: string, dataDir: string | undefined, maxSeries: number, owner = '', boundDatacenter?: string): AgentState {
    const dir = dataDir ? AgentState.dirOf(id, dataDir) : null;
    const recorded = dataDir ? AgentState.readOwner(id, dataDir) : undefined;
    const st = new AgentState(id, dir, maxSeries, recorded ?? owner, boundDatacenter);
    if (!dir) return st;
    fs.mkdirSync(dir, { recursive: true });
    if (recorded === undefined) fs.writeFileSync(path.join(dir, 'owner'), owner + '\n');
    try {
      const a = JSON.parse(fs.readFileSync(path.join(dir, 'acked.json'), 'utf8')) as { epoch: string; acked: number[] };
      st.epoch = a.epoch;
      st.acked = RangeSet.fromFlat(a.acked);
    } catch {
      /* first contact */
    }
    let lines: string[] = [];
    try {
      lines = fs.readFileSync(path.join(dir, 'series.log'), 'utf8').split('\n');
    } catch {
      lines = [];
    }
    let head: { epoch?: string } = {};
    try {
      head = JSON.parse(lines[0] ?? '') as { epoch?: string };
    } catch {
      head = {};
    }
    if (head.epoch && head.epoch === st.epoch) {
      let good = lines[0]!.length + 1;
      for (let i = 1; i < lines.length - 1; i++) {
        let flat: string[];
        try {
          flat = JSON.parse(lines[i]!) as string[];
        } catch {
          break;
        }
        st.pushSeries(flat);
        good += Buffer.byteLength(lines[i]!) + 1;
      }
      fs.truncateSync(path.join(dir, 'series.log'), good);
    } else {
      st.epoch = '';
      st.acked = new RangeSet();
    }
    return st;
  }

  private pushSeries(flat: string[]): void {
    const l: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) l[this.intern(flat[i]!)] = this.intern(flat[i + 1]!);
    const dc = this.boundDatacenter;
    if (dc !== undefined && l.datacenter !== dc) {
      l.datacenter = this.intern(dc);
      this.overrides++;
    }
    if (l.__name__ !== undefined) this.names.add(l.__name__);
    this.labels.push(l);
    this.refs.push(this.labels.length > this.maxSeries ? -1 : 0);
  }

  private intern(s: string): string {
    const have = this.strings.get(s);
    if (have !== undefined) return have;
    // Long values are rarely shared: only names and values up to 64 characters are pooled, up to a million.
    if (s.length <= 64 && this.strings.size < 1_000_000) this.strings.set(s, s);
    return s;
  }

  /** Starts a new sequence and series space when the agent's buffer epoch changed. */
  useEpoch(epoch: string): boolean {
    if (epoch === this.epoch) return false;
    this.epoch = epoch;
    this.acked = new RangeSet();
    this.labels = [];
    this.refs = [];
    this.names = new Set();
    this.strings.clear();
    if (this.dir) {
      if (this.fd !== null) fs.closeSync(this.fd);
      this.fd = null;
      fs.writeFileSync(path.join(this.dir, 'series.log'), JSON.stringify({ epoch }) + '\n');
      this.writeAcked();
    }
    return true;
  }

  /**
   * Whether a selector can match series of this agent: its datacenter matchers accept the agent's
   * datacenter and its metric-name matchers accept a name the agent sends (unknown names: yes).
   */
  canMatch(matchers: readonly Matcher[]): boolean {
    const nameMatchers: Matcher[] = [];
    for (const m of matchers) {
      if (m.name === 'datacenter' && !m.matches(this.datacenter)) return false;
      if (m.name === '__name__') nameMatchers.push(m);
    }
    if (nameMatchers.length === 0 || this.names.size === 0) return true;
    const eq = nameMatchers.find((m) => m.type === '=');
    if (eq) return this.names.has(eq.value) && nameMatchers.every((m) => m.matches(eq.value));
    for (const n of this.names) if (nameMatchers.every((m) => m.matches(n))) return true;
    return false;
  }

  get seriesKnown(): number {
    return this.labels.length;
  }

  /**
   * Adds definitions for ids first, first+1, ...; ids already known are skipped (resent after
   * a reconnect). Returns the number refused over the series limit.
   */
  addSeries(first: number, defs: string[][]): number {
    if (first > this.labels.length) throw new Error(`series ids ${this.labels.length}..${first - 1} were never defined`);
    let refused = 0;
    let out = '';
    for (let i = this.labels.length - first; i < defs.length; i++) {
      const flat = defs[i]!;
      this.pushSeries(flat);
      if (this.refs[this.refs.length - 1] === -1) refused++;
      out += JSON.stringify(flat) + '\n';
    }
    if (out && this.dir) {
      if (this.fd === null) this.fd = fs.openSync(path.join(this.dir, 'series.log'), 'a');
      fs.writeSync(this.fd, out);
      this.dirtySeries = true;
    }
    return refused;
  }

  /** Makes series definitions durable (before acking batches that use them), off the event loop. */
  async syncSeries(): Promise<void> {
    if (!this.dirtySeries || this.fd === null) return;
    this.dirtySeries = false;
    const fd = this.fd;
    await new Promise<void>((resolve, reject) => fs.fdatasync(fd, (err) => (err ? reject(err) : resolve())));
  }

  markAcked(seqs: readonly number[]): void {
    for (const s of seqs) this.acked.add(s);
    if (!this.dir || this.ackTimer) return;
    this.ackTimer = setTimeout(() => {
      this.ackTimer = null;
      this.writeAcked();
    }, 250);
    this.ackTimer.unref();
  }

  countSamples(n: number): void {
    this.samplesTotal += n;
    const now = Date.now();
    const dt = now - this.rateMark.t;
    if (dt >= 5000) {
      this.rate = (this.samplesTotal - this.rateMark.n) / (dt / 1000);
      this.rateMark = { t: now, n: this.samplesTotal };
    }
  }

  private writeAcked(): void {
    if (!this.dir) return;
    const f = path.join(this.dir, 'acked.json');
    fs.writeFileSync(f + '.tmp', JSON.stringify({ epoch: this.epoch, acked: this.acked.toFlat() }));
    fs.renameSync(f + '.tmp', f);
  }

  /** Time (ms) up to which this agent's data is complete at the hub, or null when unknown. */
  watermark(): number | null {
    if (this.reportedAt === null) return null;
    return this.oldest !== null ? Math.min(this.oldest - 1, this.reportedAt) : this.reportedAt;
  }

  close(): void {
    if (this.ackTimer) clearTimeout(this.ackTimer);
    this.ackTimer = null;
    this.writeAcked();
    if (this.dirtySeries && this.fd !== null) fs.fdatasyncSync(this.fd);
    this.dirtySeries = false;
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }
}

export type { SeriesRef };
