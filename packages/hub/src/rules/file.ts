import { readFile } from 'node:fs/promises';
import { ConfigError, ConfigSource, LABEL_NAME_RE, type FieldReader } from '@vigil/common';

/** A recording or alerting rule as written in a Prometheus rule file. */
export interface RuleDef {
  record?: string;
  alert?: string;
  expr: string;
  /** Milliseconds. */
  for: number;
  keep_firing_for: number;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  line: number;
}

export interface RuleGroupDef {
  name: string;
  /** Milliseconds; undefined = the hub's evaluation_interval. */
  interval?: number;
  limit: number;
  rules: RuleDef[];
  file?: string;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/**
 * Parses a Prometheus rule file (`groups:` of `record`/`alert` rules), validating what
 * `promtool check rules` validates; `checkExpr` throws on an invalid PromQL expression.
 * Every error names file:line.
 */
export function parseRuleFile(text: string, file: string | undefined, checkExpr: (expr: string) => void): RuleGroupDef[] {
  const root = ConfigSource.parse(text, file);
  const names = new Set<string>();
  const groups = root.maps('groups', (g) => {
    const name = g.require('name').string();
    if (names.has(name)) g.fail(`groupname: "${name}" is repeated in the same file`, 'name');
    names.add(name);
    const group: RuleGroupDef = { name, interval: g.duration('interval'), limit: g.count('limit') ?? 0, rules: g.maps('rules', (r) => readRule(r, checkExpr)), file };
    g.get('query_offset');
    return group;
  });
  root.done();
  return groups;
}

function readRule(r: FieldReader, checkExpr: (expr: string) => void): RuleDef {
  const record = r.string('record');
  const alert = r.string('alert');
  if (record === undefined && alert === undefined) r.fail('one of "record" or "alert" must be set');
  if (record !== undefined && alert !== undefined) r.fail('only one of "record" and "alert" may be set', 'alert');
  if (record !== undefined && !METRIC_NAME.test(record)) r.fail(`invalid recording rule name: ${record}`, 'record');
  const exprValue = r.require('expr');
  const expr = exprValue.string();
  try {
    checkExpr(expr);
  } catch (err) {
    exprValue.fail(`could not parse expression: ${(err as Error).message}`);
  }
  const def: RuleDef = {
    ...(record !== undefined ? { record } : { alert: alert! }),
    expr,
    for: r.duration('for') ?? 0,
    keep_firing_for: r.duration('keep_firing_for') ?? 0,
    labels: r.get('labels')?.stringMap() ?? {},
    annotations: r.get('annotations')?.stringMap() ?? {},
    line: r.line,
  };
  if (record !== undefined) {
    if (r.has('for')) r.fail('invalid field "for" in recording rule', 'for');
    if (r.has('annotations')) r.fail('invalid field "annotations" in recording rule', 'annotations');
  }
  for (const name of Object.keys(def.labels)) {
    if (!LABEL_NAME_RE.test(name)) r.fail(`invalid label name: ${name}`, 'labels');
  }
  return def;
}

/** `vigil-hub check-rules`: the errors of one file (empty when valid). */
export async function checkRuleFile(path: string, checkExpr: (expr: string) => void): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    return [`${path}: cannot read rule file: ${(err as Error).message}`];
  }
  try {
    const groups = parseRuleFile(text, path, checkExpr);
    if (groups.length === 0) return [];
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return [err.message];
    throw err;
  }
}
