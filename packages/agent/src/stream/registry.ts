/**
 * The agent's series registry: stable agent-local series ids (0, 1, 2, ...) for label sets,
 * kept in an append-only file so that ids survive restarts and buffered blocks, which only
 * carry ids, stay meaningful. The first line names the buffer epoch the ids belong to.
 *
 *   series.log := {"epoch":"<hex>"[,"next":N]}\n · line*
 *   line       := JSON [name, value, ...]\n          the next id
 *              |  JSON [id, name, value, ...]\n      that id (written by compaction)
 *
 * Compaction (`compact`) drops ids that no buffered block references and that were not used for a
 * while: it rewrites the file with the live ids only (numbered lines, `next` in the header) and
 * frees their memory. Ids are never reused within an epoch; the hub still holds dropped ids'
 * definitions, and a hub that lost them gets empty label sets for them (never referenced again).
 */
import fs from 'node:fs';
import { labelsKey, type Labels } from '@vigil/common';
import type { SeriesRef } from '../sink.js';

export class SeriesRegistry {
  private readonly byKey = new Map<string, number>();
  /** Scrapers that reuse label objects across scrapes skip the canonical key entirely. */
  private readonly byObject = new WeakMap<Labels, number>();
  /** Per id its label set (shared with the scrape loop that registered it), null once dropped. */
  private sets: (Labels | null)[] = [];
  /** Per id: the sequence number of the newest block that used it, and when (ms). */
  private lastSeq = new Float64Array(1024);
  private lastUsed = new Float64Array(1024);
  private live = 0;
  /** The sequence number and time (ms) of the block being built (set by the streamer before `idFor`). */
  currentSeq = 0;
  currentTime = 0;
  private fd: number;

  constructor(readonly file: string, private readonly epoch: string) {
    let lines: string[] = [];
    try {
      lines = fs.readFileSync(file, 'utf8').split('\n');
    } catch {
      lines = [];
    }
    let good = 0; // bytes of complete, valid lines to keep
    let ok = false;
    let next = 0;
    try {
      const head = JSON.parse(lines[0] ?? '') as { epoch?: string; next?: number };
      ok = head.epoch === epoch;
      next = head.next ?? 0;
    } catch {
      ok = false;
    }
    if (ok) {
      good = Buffer.byteLength(lines[0]!) + 1;
      for (let i = 1; i < lines.length - 1; i++) {
        let l: (string | number)[];
        try {
          l = JSON.parse(lines[i]!) as (string | number)[];
        } catch {
          break; // a torn line after a crash: everything after it is dropped
        }
        if (typeof l[0] === 'number') {
          const id = l[0];
          while (this.sets.length < id) this.sets.push(null);
          this.add(fromFlat(l.slice(1) as string[]));
        } else {
          while (this.sets.length < next) this.sets.push(null);
          this.add(fromFlat(l as string[]));
        }
        good += Buffer.byteLength(lines[i]!) + 1;
      }
      while (this.sets.length < next) this.sets.push(null);
    }
    if (!ok) fs.writeFileSync(file, JSON.stringify({ epoch }) + '\n');
    else fs.truncateSync(file, good);
    this.fd = fs.openSync(file, 'a');
  }

  private add(labels: Labels, key = labelsKey(labels)): number {
    const id = this.sets.length;
    this.sets.push(labels);
    this.byKey.set(key, id);
    this.live++;
    if (id >= this.lastSeq.length) {
      const size = Math.max(id + 1, this.lastSeq.length * 2);
      const s = new Float64Array(size); s.set(this.lastSeq); this.lastSeq = s;
      const u = new Float64Array(size); u.set(this.lastUsed); this.lastUsed = u;
    }
    this.lastUsed[id] = Date.now(); // loaded from the file: counts as used now
    return id;
  }

  /** Ids handed out so far (including dropped ones): the next id. */
  get count(): number {
    return this.sets.length;
  }

  /** Ids still held (not dropped by compaction). */
  get liveCount(): number {
    return this.live;
  }

  private use(id: number): number {
    this.lastSeq[id] = this.currentSeq;
    this.lastUsed[id] = this.currentTime;
    return id;
  }

  /**
   * Drops ids that no block from `oldestSeq` on references (by the newest sequence that used them)
   * and that were not used since `idleBefore` (ms); rewrites the file. Returns the number dropped.
   */
  compact(oldestSeq: number, idleBefore: number): number {
    this.flush();
    let dropped = 0;
    for (let id = 0; id < this.sets.length; id++) {
      const labels = this.sets[id];
      if (!labels || this.lastSeq[id]! >= oldestSeq) continue;
      if (this.lastUsed[id]! >= idleBefore) continue;
      this.byKey.delete(labelsKey(labels));
      this.sets[id] = null;
      this.live--;
      dropped++;
    }
    if (dropped === 0) return 0;
    let out = JSON.stringify({ epoch: this.epoch, next: this.sets.length }) + '\n';
    for (let id = 0; id < this.sets.length; id++) {
      const labels = this.sets[id];
      if (labels) out += JSON.stringify([id, ...toFlat(labels)]) + '\n';
    }
    const tmp = this.file + '.tmp';
    fs.writeFileSync(tmp, out);
    const fd = fs.openSync(tmp, 'r+');
    fs.fdatasyncSync(fd);
    fs.closeSync(fd);
    fs.closeSync(this.fd);
    fs.renameSync(tmp, this.file);
    this.fd = fs.openSync(this.file, 'a');
    return dropped;
  }

  /**
   * The id of a scrape loop's series handle: the id kept in its slot while that id is live (ids are
   * never reused within an epoch), else looked up by its key (registered when new) and kept.
   */
  idOf(ref: SeriesRef): number {
    const cached = ref.sinkId;
    if (cached >= 0 && this.sets[cached] != null) return this.use(cached);
    let id = this.byKey.get(ref.key);
    if (id === undefined) id = this.register(ref.labels, ref.key);
    else this.sets[id] = ref.labels; // one label object per series (after a restart, the loop's)
    ref.sinkId = id;
    return this.use(id);
  }

  /** The id of a label set, registering (and persisting) it when new. */
  idFor(labels: Labels): number {
    const cached = this.byObject.get(labels);
    if (cached !== undefined && this.sets[cached] != null) return this.use(cached);
    const key = labelsKey(labels);
    const id = this.byKey.get(key);
    if (id !== undefined) {
      this.byObject.set(labels, id);
      return this.use(id);
    }
    const added = this.register(labels, key);
    this.byObject.set(labels, added);
    return this.use(added);
  }

  private register(labels: Labels, key: string): number {
    this.pending += JSON.stringify(toFlat(labels)) + '\n';
    return this.add(labels, key);
  }

  /** Lines of new ids not yet written: `flush` writes them in one call, before a block that uses them. */
  private pending = '';

  /** Writes the definitions of ids registered since the last flush (write(2): they survive kill -9). */
  flush(): void {
    if (this.pending === '') return;
    const data = Buffer.from(this.pending);
    this.pending = '';
    let off = 0;
    while (off < data.length) off += fs.writeSync(this.fd, data, off);
  }

  /** Labels of an id as a flat [name, value, ...] list (empty for a dropped id). */
  labels(id: number): string[] {
    const labels = this.sets[id];
    return labels ? toFlat(labels) : [];
  }

  sync(): void {
    this.flush();
    fs.fdatasyncSync(this.fd);
  }

  close(): void {
    this.flush();
    fs.closeSync(this.fd);
  }
}

/** [name, value, ...] sorted by name, without empty values: the file's and the wire's form. */
function toFlat(labels: Labels): string[] {
  const flat: string[] = [];
  for (const n of Object.keys(labels).sort()) if (labels[n] !== '') flat.push(n, labels[n]!);
  return flat;
}

function fromFlat(flat: readonly string[]): Labels {
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) pairs.push([flat[i]!, flat[i + 1]!]);
  return Object.fromEntries(pairs); // a label named __proto__ stays a label
}
