// A small Storage for link tests: samples by series and timestamp (first one stays, later
// ones counted as duplicates), optionally durable as an append-only JSON-lines file that is
// fsync'd on every commit, so a hub child process can be killed with -9.
import fs from 'node:fs';
import { labelsKey, type Labels, type MetricMetadata } from '@vigil/common';
import type { AppendStats, Appender, Querier, SeriesRef, Storage, TsdbStatus } from '@vigil/hub';

export class LinkTestStorage implements Storage {
  readonly series = new Map<string, Map<number, number>>();
  readonly labelsByKey = new Map<string, Labels>();
  private refs: string[] = [''];
  private byKey = new Map<string, number>();
  duplicates = 0;
  commits = 0;
  metadataSeen: MetricMetadata[] = [];
  private fd: number | null = null;

  constructor(file?: string) {
    if (!file) return;
    if (fs.existsSync(file)) {
      for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
        if (!line) continue;
        let rows: [Record<string, string>, number, number][];
        try {
          rows = JSON.parse(line) as [Record<string, string>, number, number][];
        } catch {
          break; // torn tail
        }
        for (const [l, t, v] of rows) this.put(l, t, v);
      }
    }
    this.fd = fs.openSync(file, 'a');
  }

  private put(labels: Labels, t: number, v: number): boolean {
    const key = labelsKey(labels);
    let m = this.series.get(key);
    if (!m) {
      m = new Map();
      this.series.set(key, m);
      this.labelsByKey.set(key, labels);
    }
    if (m.has(t)) return false;
    m.set(t, v);
    return true;
  }

  get sampleCount(): number {
    let n = 0;
    for (const m of this.series.values()) n += m.size;
    return n;
  }

  appender(): Appender {
    const rows: [Labels, number, number][] = [];
    return {
      append: (ref: SeriesRef, labels: Labels, t: number, v: number, stale?: boolean): SeriesRef => {
        let r = ref;
        if (r === 0) {
          const key = labelsKey(labels);
          r = this.byKey.get(key) ?? 0;
          if (r === 0) {
            r = this.refs.length;
            this.refs.push(key);
            this.byKey.set(key, r);
          }
        }
        rows.push([labels, t, stale ? -0.5 : v]);
        return r;
      },
      commit: async (): Promise<AppendStats> => {
        let appended = 0;
        let duplicates = 0;
        const fresh: [Labels, number, number][] = [];
        for (const row of rows) {
          if (this.put(row[0], row[1], row[2])) {
            appended++;
            fresh.push(row);
          } else duplicates++;
        }
        if (this.fd !== null && fresh.length) {
          fs.writeSync(this.fd, JSON.stringify(fresh) + '\n');
          fs.fdatasyncSync(this.fd);
        }
        this.duplicates += duplicates;
        this.commits++;
        return { appended, duplicates, conflicts: 0, rejected: 0, newSeries: 0 };
      },
      rollback: () => {
        rows.length = 0;
      },
    };
  }

  setMetadata(items: readonly MetricMetadata[]): void {
    this.metadataSeen.push(...items);
  }
  async metadata(): Promise<Record<string, { type: string; help: string; unit: string }[]>> {
    return {};
  }
  async querier(): Promise<Querier> {
    throw new Error('not used in link tests');
  }
  async status(): Promise<TsdbStatus> {
    throw new Error('not used in link tests');
  }
  async flush(): Promise<void> {}
  async close(): Promise<void> {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }
}
