import { mkdirSync, readFileSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ParseError } from '../errors.js';
import { parseExposition } from '../exposition/parser.js';
import { toFamilies } from '../exposition/families.js';
import { silentLogger, type Logger } from '../logger.js';
import { METRIC_NAME, labelsKey, type Labels } from '../model/labels.js';
import type { FamilySample, MetricFamily } from '../model/sample.js';
import { PushError, groupingKey } from './grouping.js';
import { decodeProtobufFamilies, isProtobufContentType } from './protobuf.js';

export const PUSH_TIME_METRIC = 'push_time_seconds';
export const PUSH_FAILURE_TIME_METRIC = 'push_failure_time_seconds';
const PUSH_TIME_HELP = 'Last Unix time when changing this group in the Pushgateway succeeded.';
const PUSH_FAILURE_TIME_HELP = 'Last Unix time when changing this group in the Pushgateway failed.';

/** One grouping key's pushed metrics and bookkeeping. */
export interface PushGroup {
  /** Grouping key labels, `job` included. */
  labels: Labels;
  /** Pushed families by name; sample labels include the grouping labels and `instance`. */
  families: Map<string, MetricFamily>;
  /** When each family was last pushed (ms). */
  familyTimes: Map<string, number>;
  /** Last successful change (ms), 0 if none. */
  pushTime: number;
  /** Last failed change (ms), 0 if none. */
  failureTime: number;
  lastPushSuccessful: boolean;
  /** Expiry time (ms) when the group has a TTL. */
  expiresAt?: number;
  ttl?: number;
}

export interface PushStoreOptions {
  /** Persistence file (JSON, replaced atomically on every change); none = memory only. */
  file?: string;
  /** Default TTL (ms) of every group; 0/undefined = groups live until deleted. */
  ttl?: number;
  logger?: Logger;
  now?: () => number;
  /** How often expired groups are swept (ms, default 1s). */
  sweepInterval?: number;
  /**
   * Label bounds of a pushed series, grouping labels included (defaults: the hub's storage limits,
   * less room for external labels: 56 labels, names of 256 and values of 4,096 characters). A push
   * breaking one is refused (400) instead of being accepted and then never stored.
   */
  limits?: { maxLabels?: number; maxLabelNameLength?: number; maxLabelValueLength?: number };
}

export interface PushOptions {
  /** PUT replaces the whole group; POST (false) replaces only the families pushed. */
  replace: boolean;
  contentType?: string;
  /** TTL (ms) of this group from now on; overrides the store default. */
  ttl?: number;
}

export type PushEvent = { kind: 'push' | 'delete' | 'expire'; group: PushGroup };

interface PersistedGroup {
  labels: Labels;
  pushTime: number;
  failureTime: number;
  lastPushSuccessful: boolean;
  expiresAt?: number;
  ttl?: number;
  families: { name: string; type: MetricFamily['type']; help: string; unit?: string; time: number; samples: { name: string; labels: Labels; value: string }[] }[];
}

/**
 * The Pushgateway's metric store, shared by the agent and the hub. Groups are keyed by their
 * grouping labels; a push is validated as the Pushgateway does (parse errors, timestamps,
 * duplicate series, type conflicts with other groups are rejected and recorded as
 * `push_failure_time_seconds`), persisted to disk before the call returns, and reloaded by
 * `load()`. Groups may expire after a TTL.
 */
export class PushStore {
  private readonly groupsByKey = new Map<string, PushGroup>();
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly listeners = new Set<(e: PushEvent) => void>();
  private sweepTimer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private pendingWrite: Promise<void> | undefined;

  constructor(private readonly opts: PushStoreOptions = {}) {
    this.logger = (opts.logger ?? silentLogger).child({ component: 'push' });
    this.now = opts.now ?? Date.now;
    this.sweepTimer = setInterval(() => void this.expire(), opts.sweepInterval ?? 1000);
    this.sweepTimer.unref?.();
  }

  onChange(fn: (e: PushEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private emit(e: PushEvent): void {
    for (const fn of this.listeners) {
      try { fn(e); } catch (err) { this.logger.error({ err }, 'push listener failed'); }
    }
  }

  /** Reads the persistence file, if any. A missing file is an empty store. */
  load(): void {
    const file = this.opts.file;
    if (!file) return;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    const data = JSON.parse(text) as { version: number; groups: PersistedGroup[] };
    for (const g of data.groups) {
      const families = new Map<string, MetricFamily>();
      const familyTimes = new Map<string, number>();
      for (const f of g.families) {
        const fam: MetricFamily = { name: f.name, type: f.type, help: f.help, samples: f.samples.map((s) => ({ name: s.name, labels: s.labels, value: Number(s.value) })) };
        if (f.unit) fam.unit = f.unit;
        families.set(f.name, fam);
        familyTimes.set(f.name, f.time);
      }
      const group: PushGroup = {
        labels: g.labels, families, familyTimes, pushTime: g.pushTime, failureTime: g.failureTime, lastPushSuccessful: g.lastPushSuccessful,
      };
      if (g.expiresAt !== undefined) group.expiresAt = g.expiresAt;
      if (g.ttl !== undefined) group.ttl = g.ttl;
      this.groupsByKey.set(groupingKey(g.labels), group);
    }
    this.logger.info({ groups: this.groupsByKey.size, file }, 'loaded pushed groups');
  }

  /** Every group (expired ones excluded). */
  groups(): PushGroup[] {
    const now = this.now();
    return [...this.groupsByKey.values()].filter((g) => g.expiresAt === undefined || g.expiresAt > now);
  }

  getGroup(labels: Labels): PushGroup | undefined {
    return this.groupsByKey.get(groupingKey(labels));
  }

  private groupFor(labels: Labels): PushGroup {
    const key = groupingKey(labels);
    let g = this.groupsByKey.get(key);
    if (!g) {
      g = { labels: sortedLabels(labels), families: new Map(), familyTimes: new Map(), pushTime: 0, failureTime: 0, lastPushSuccessful: false };
      this.groupsByKey.set(key, g);
    }
    return g;
  }

  /**
   * Applies a push (PUT with `replace`, POST without). Throws PushError (400) for a body that
   * does not parse or that would make the store inconsistent; the latter is recorded in the
   * group's `push_failure_time_seconds` as the Pushgateway does.
   */
  async push(grouping: Labels, body: string | Uint8Array, opts: PushOptions): Promise<void> {
    let families: MetricFamily[];
    try {
      if (isProtobufContentType(opts.contentType)) {
        families = decodeProtobufFamilies(typeof body === 'string' ? Buffer.from(body, 'latin1') : body);
      } else {
        const text = typeof body === 'string' ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
        families = toFamilies(parseExposition(text, { contentType: opts.contentType }));
      }
    } catch (err) {
      if (err instanceof ParseError) throw new PushError(`text format parsing error: ${err.message}`);
      throw err;
    }
    const pushed = this.sanitize(grouping, families);
    const now = this.now();
    const problem = hasTimestamps(families) ? 'pushed metrics must not have timestamps' : this.checkConsistency(grouping, pushed);
    const group = this.groupFor(grouping);
    if (problem) {
      group.failureTime = now;
      group.lastPushSuccessful = false;
      await this.persist();
      throw new PushError(`pushed metrics are invalid or inconsistent with existing metrics: ${problem}`);
    }
    if (opts.replace) {
      group.families.clear();
      group.familyTimes.clear();
    }
    for (const f of pushed) {
      group.families.set(f.name, f);
      group.familyTimes.set(f.name, now);
    }
    group.pushTime = now;
    group.lastPushSuccessful = true;
    const ttl = opts.ttl ?? group.ttl ?? this.opts.ttl;
    if (ttl && ttl > 0) {
      group.ttl = ttl;
      group.expiresAt = now + ttl;
    } else {
      delete group.expiresAt;
    }
    await this.persist();
    this.emit({ kind: 'push', group });
  }

  /** DELETE: removes the whole group (no error when it does not exist). */
  async delete(grouping: Labels): Promise<void> {
    const key = groupingKey(grouping);
    const group = this.groupsByKey.get(key);
    if (!group) return;
    this.groupsByKey.delete(key);
    await this.persist();
    this.emit({ kind: 'delete', group });
  }

  /** Removes every group (`PUT /api/v1/admin/wipe`). */
  async wipe(): Promise<void> {
    const all = [...this.groupsByKey.values()];
    this.groupsByKey.clear();
    await this.persist();
    for (const group of all) this.emit({ kind: 'delete', group });
  }

  /** Drops groups whose TTL has passed; returns how many. */
  async expire(): Promise<number> {
    const now = this.now();
    const gone: PushGroup[] = [];
    for (const [key, g] of this.groupsByKey) {
      if (g.expiresAt !== undefined && g.expiresAt <= now) {
        this.groupsByKey.delete(key);
        gone.push(g);
      }
    }
    if (gone.length === 0) return 0;
    await this.persist();
    for (const group of gone) {
      this.logger.info({ group: group.labels }, 'pushed group expired');
      this.emit({ kind: 'expire', group });
    }
    return gone.length;
  }

  /** Grouping labels onto every sample (they win over the body's), `instance` defaulted to empty. */
  private sanitize(grouping: Labels, families: MetricFamily[]): MetricFamily[] {
    return families.map((f) => {
      if (f.name === PUSH_TIME_METRIC || f.name === PUSH_FAILURE_TIME_METRIC) {
        throw new PushError(`pushed metrics must not use the reserved name "${f.name}"`);
      }
      const samples: FamilySample[] = f.samples.map((s) => {
        const labels: Record<string, string> = { ...s.labels, ...grouping };
        if (!('instance' in labels)) labels.instance = '';
        delete labels[METRIC_NAME];
        this.checkLimits(s.name, labels);
        return { name: s.name, labels: sortedLabels(labels), value: s.value };
      });
      const out: MetricFamily = { name: f.name, type: f.type, help: f.help, samples };
      if (f.unit) out.unit = f.unit;
      return out;
    });
  }

  private checkLimits(name: string, labels: Labels): void {
    const maxLabels = this.opts.limits?.maxLabels ?? 56;
    const maxName = this.opts.limits?.maxLabelNameLength ?? 256;
    const maxValue = this.opts.limits?.maxLabelValueLength ?? 4096;
    let n = 1;
    for (const k in labels) {
      n++;
      if (k.length > maxName) throw new PushError(`cannot accept series ${name}: label name of ${k.length} characters exceeds the limit of ${maxName}`);
      const v = labels[k]!;
      if (v.length > maxValue) throw new PushError(`cannot accept series ${name}: value of label ${k.slice(0, 64)} has ${v.length} characters, over the limit of ${maxValue}`);
    }
    if (n > maxLabels) throw new PushError(`cannot accept series ${name}: ${n} labels exceed the limit of ${maxLabels}`);
  }

  /** What the Pushgateway's gatherer would refuse after this push, or undefined. */
  private checkConsistency(grouping: Labels, pushed: MetricFamily[]): string | undefined {
    const key = groupingKey(grouping);
    const byName = new Map(pushed.map((f) => [f.name, f]));
    const seen = new Set<string>();
    for (const f of pushed) {
      for (const s of f.samples) {
        const k = s.name + labelsKey(s.labels);
        if (seen.has(k)) return `collected metric "${s.name}" with labels ${labelsKey(s.labels)} was collected before with the same name and label values`;
        seen.add(k);
      }
    }
    for (const [gk, g] of this.groupsByKey) {
      if (gk === key) continue;
      for (const [name, existing] of g.families) {
        const f = byName.get(name);
        if (!f) continue;
        if (f.type !== existing.type) {
          return `collected metric "${name}" of type ${f.type.toUpperCase()} conflicts with type ${existing.type.toUpperCase()} pushed to group ${groupingKey(g.labels)}`;
        }
        for (const s of existing.samples) {
          if (seen.has(s.name + labelsKey(s.labels))) {
            return `collected metric "${s.name}" with labels ${labelsKey(s.labels)} was collected before with the same name and label values (group ${groupingKey(g.labels)})`;
          }
        }
      }
    }
    return undefined;
  }

  /** The families of one group plus its `push_time_seconds` and `push_failure_time_seconds`. */
  groupFamilies(g: PushGroup): MetricFamily[] {
    const withInstance: Record<string, string> = { ...g.labels };
    if (!('instance' in withInstance)) withInstance.instance = '';
    const labels = sortedLabels(withInstance);
    return [
      ...g.families.values(),
      { name: PUSH_FAILURE_TIME_METRIC, type: 'gauge', help: PUSH_FAILURE_TIME_HELP, samples: [{ name: PUSH_FAILURE_TIME_METRIC, labels, value: g.failureTime / 1000 }] },
      { name: PUSH_TIME_METRIC, type: 'gauge', help: PUSH_TIME_HELP, samples: [{ name: PUSH_TIME_METRIC, labels, value: g.pushTime / 1000 }] },
    ];
  }

  /** Everything pushed, merged by family name and sorted (the Pushgateway's `/metrics`). */
  families(): MetricFamily[] {
    const merged = new Map<string, MetricFamily>();
    for (const g of this.groups()) {
      for (const f of this.groupFamilies(g)) {
        const m = merged.get(f.name);
        if (m) m.samples.push(...f.samples);
        else merged.set(f.name, { ...f, samples: [...f.samples] });
      }
    }
    return [...merged.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /**
   * Writes the store to its file: a temp file, fsync, rename. Concurrent callers share
   * writes; every caller returns after a write that started after its change.
   */
  private persist(): Promise<void> {
    if (!this.opts.file) return Promise.resolve();
    if (this.pendingWrite) return this.pendingWrite;
    const start = (): Promise<void> => {
      this.pendingWrite = undefined;
      this.writing = this.writeFile().finally(() => { this.writing = undefined; });
      return this.writing;
    };
    if (!this.writing) return start();
    this.pendingWrite = this.writing.catch(() => undefined).then(start);
    return this.pendingWrite;
  }

  private async writeFile(): Promise<void> {
    const file = this.opts.file!;
    const data = {
      version: 1,
      groups: [...this.groupsByKey.values()].map((g): PersistedGroup => {
        const p: PersistedGroup = {
          labels: g.labels, pushTime: g.pushTime, failureTime: g.failureTime, lastPushSuccessful: g.lastPushSuccessful,
          families: [...g.families.values()].map((f) => ({
            name: f.name, type: f.type, help: f.help, ...(f.unit ? { unit: f.unit } : {}), time: g.familyTimes.get(f.name) ?? g.pushTime,
            samples: f.samples.map((s) => ({ name: s.name, labels: s.labels, value: String(s.value) })),
          })),
        };
        if (g.expiresAt !== undefined) p.expiresAt = g.expiresAt;
        if (g.ttl !== undefined) p.ttl = g.ttl;
        return p;
      }),
    };
    mkdirSync(dirname(file), { recursive: true });
    const tmp = `${file}.tmp`;
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(JSON.stringify(data));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  }

  close(): void {
    clearInterval(this.sweepTimer);
  }
}

function hasTimestamps(families: readonly MetricFamily[]): boolean {
  return families.some((f) => f.samples.some((s) => s.timestamp !== undefined));
}

/** The same labels with names in sorted order (as the Pushgateway prints them). */
function sortedLabels(labels: Labels): Labels {
  const out: Record<string, string> = {};
  for (const n of Object.keys(labels).sort()) out[n] = labels[n]!;
  return out;
}
