import type { Labels, MetricFamily, MetricType } from '@vigil/common';

/**
 * Builds one metric family sample by sample. `name` is the full sample name as node_exporter
 * writes it in the text format (counters keep their `_total`).
 */
export class FamilyBuilder {
  readonly family: MetricFamily;
  constructor(name: string, type: MetricType, help: string) {
    this.family = { name, type, help, samples: [] };
  }
  add(value: number, labels: Labels = {}): this {
    this.family.samples.push({ name: this.family.name, labels, value });
    return this;
  }
}

export function gauge(name: string, help: string): FamilyBuilder {
  return new FamilyBuilder(name, 'gauge', help);
}

export function counter(name: string, help: string): FamilyBuilder {
  return new FamilyBuilder(name, 'counter', help);
}

/** node_exporter's "untyped" families (vmstat, netstat). */
export function untyped(name: string, help: string): FamilyBuilder {
  return new FamilyBuilder(name, 'unknown', help);
}

/** A family holding one sample. */
export function single(name: string, type: MetricType, help: string, value: number, labels: Labels = {}): MetricFamily {
  return new FamilyBuilder(name, type, help).add(value, labels).family;
}

/** The families of the builders that got at least one sample. */
export function nonEmpty(builders: Iterable<FamilyBuilder>): MetricFamily[] {
  const out: MetricFamily[] = [];
  for (const b of builders) if (b.family.samples.length > 0) out.push(b.family);
  return out;
}
