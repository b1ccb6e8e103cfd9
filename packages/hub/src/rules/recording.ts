import { METRIC_NAME, METRIC_NAME_RE, labelsKey, type Labels, type Sample } from '@vigil/common';
import type { RuleDef } from './file.js';
import type { QueryFn, RuleHealth } from './types.js';

/** Common bookkeeping of both rule kinds, as the rules API reports it. */
export abstract class RuleBase {
  health: RuleHealth = 'unknown';
  lastError = '';
  lastEvaluation = 0;
  evaluationTimeMs = 0;
  constructor(readonly def: RuleDef) {}
  abstract get name(): string;
  /** Identity across reloads, as Prometheus' CopyState: a rule with the same kind, name and labels keeps its state. */
  get key(): string {
    return JSON.stringify([this.def.record ?? '', this.def.alert ?? '', Object.entries(this.def.labels).sort()]);
  }
  setResult(err: Error | undefined, startedAt: number, ts: number): void {
    this.health = err ? 'err' : 'ok';
    this.lastError = err ? err.message : '';
    this.lastEvaluation = ts;
    this.evaluationTimeMs = performance.now() - startedAt;
  }
}

/** A recording rule: evaluates `expr`, renames the result to `record`, adds its labels. */
export class RecordingRule extends RuleBase {
  /** Series written at the previous evaluation (to end them with staleness markers). */
  private previous = new Map<string, Labels>();

  get name(): string {
    return this.def.record!;
  }

  async eval(queryFn: QueryFn, ts: number, limit: number): Promise<Sample[]> {
    const result = await queryFn(this.def.expr, ts);
    const vector = typeof result === 'number' ? [{ labels: {}, value: result }] : result;
    const out: Sample[] = [];
    const seen = new Map<string, Labels>();
    for (const s of vector) {
      const labels: Record<string, string> = { ...s.labels, ...this.def.labels, [METRIC_NAME]: this.def.record! };
      for (const [k, v] of Object.entries(labels)) if (v === '') delete labels[k];
      const key = labelsKey(labels);
      if (seen.has(key)) throw new Error('vector contains metrics with the same labelset after applying rule labels');
      seen.set(key, labels);
      out.push({ labels, t: ts, v: s.value });
    }
    if (limit > 0 && out.length > limit) throw new Error(`exceeded limit of ${limit} with ${out.length} series`);
    if (!METRIC_NAME_RE.test(this.def.record!)) throw new Error(`invalid recording rule name ${this.def.record}`);
    for (const [key, labels] of this.previous) if (!seen.has(key)) out.push({ labels, t: ts, v: 0, stale: true });
    this.previous = seen;
    return out;
  }

  /** Series still live, to be ended when the rule is removed. */
  staleMarkers(ts: number): Sample[] {
    return [...this.previous.values()].map((labels) => ({ labels, t: ts, v: 0, stale: true }));
  }

  adopt(old: RecordingRule): void {
    this.previous = old.previous;
    this.health = old.health;
    this.lastError = old.lastError;
    this.lastEvaluation = old.lastEvaluation;
    this.evaluationTimeMs = old.evaluationTimeMs;
  }
}
