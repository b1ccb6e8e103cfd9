/**
 * The agent's series registry: stable agent-local series ids (0, 1, 2, ...) for label sets,
 * kept in an append-only file so that ids survive restarts and buffered blocks, which only
 * carry ids, stay meaningful. The first line names the buffer epoch the ids belong to.
 *
 *   series.log := {"epoch":"<hex>"}\n · (JSON [name, value, name, value, ...]\n)*
 */
import fs from 'node:fs';
import { labelsKey, type Labels } from '@vigil/common';

export class SeriesRegistry {
  private readonly byKey = new Map<string, number>();
  /** Scrapers that reuse label objects across scrapes skip the canonical key entirely. */
  private readonly byObject = new WeakMap<Labels, number>();
  private readonly flat: string[][] = [];
  private fd: number;

  constructor(readonly file: string, epoch: string) {
    let lines: string[] = [];
    try {
      lines = fs.readFileSync(file, 'utf8').split('\n');
    } catch {
      lines = [];
    }
    let good = 0; // bytes of complete, valid lines to keep
    let ok = false;
    try {
      ok = (JSON.parse(lines[0] ?? '') as { epoch?: string }).epoch === epoch;
    } catch {
      ok = false;
    }
    if (ok) {
      good = lines[0]!.length + 1;
      for (let i = 1; i < lines.length - 1; i++) {
        let l: string[];
        try {
          l = JSON.parse(lines[i]!) as string[];
        } catch {
          break; // a torn line after a crash: everything after it is dropped
        }
        this.add(l);
        good += Buffer.byteLength(lines[i]!) + 1;
      }
    }
    if (!ok) fs.writeFileSync(file, JSON.stringify({ epoch }) + '\n');
    else fs.truncateSync(file, good);
    this.fd = fs.openSync(file, 'a');
  }

  private add(flat: string[]): number {
    const labels: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) labels[flat[i]!] = flat[i + 1]!;
    const id = this.flat.length;
    this.flat.push(flat);
    this.byKey.set(labelsKey(labels), id);
    return id;
  }

  get count(): number {
    return this.flat.length;
  }

  /** The id of a label set, registering (and persisting) it when new. */
  idFor(labels: Labels): number {
    const cached = this.byObject.get(labels);
    if (cached !== undefined) return cached;
    const key = labelsKey(labels);
    const id = this.byKey.get(key);
    if (id !== undefined) {
      this.byObject.set(labels, id);
      return id;
    }
    const flat: string[] = [];
    for (const n of Object.keys(labels).sort()) if (labels[n] !== '') flat.push(n, labels[n]!);
    fs.writeSync(this.fd, JSON.stringify(flat) + '\n');
    const added = this.add(flat);
    this.byObject.set(labels, added);
    return added;
  }

  /** Labels of an id as a flat [name, value, ...] list. */
  labels(id: number): string[] {
    return this.flat[id]!;
  }

  sync(): void {
    fs.fdatasyncSync(this.fd);
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}
