// The PromQL test-script language (as Prometheus' promqltest):
//
//   load 5m
//     metric{l="v"} 0+10x20 1 _ stale Inf
//   eval instant at 10m expr          (eval_ordered: order of the expected lines matters)
//     metric{l="v"} 20
//   eval range from 0 to 10m step 1m expr
//     {l="v"} 0 1 _ 3                  (one value per step, `_` = no point, `0+1x3` expands)
//   eval_fail instant at 0 expr
//   clear
//
// Expected lines end at a blank line or the next command. A scalar result is a bare value line.
import { labelsKey, type Labels } from '@vigil/common';
import { Engine } from '../engine.js';
import { parsePromDuration } from '../lexer.js';
import type { QueryResult } from '../value.js';
import { MemQueryable } from './memory.js';

export interface ScriptFailure {
  line: number;
  command: string;
  message: string;
}

interface Expected { labels: Labels | null; values: (number | null)[] }

function duration(s: string): number {
  if (/^-?\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
  const neg = s.startsWith('-');
  const d = parsePromDuration(neg ? s.slice(1) : s);
  if (d === undefined) throw new Error(`bad duration ${s}`);
  return neg ? -d : d;
}

function num(s: string): number {
  const l = s.toLowerCase();
  if (l === 'nan') return NaN;
  if (l === 'inf' || l === '+inf') return Infinity;
  if (l === '-inf') return -Infinity;
  const v = Number(s);
  if (Number.isNaN(v)) throw new Error(`bad number ${s}`);
  return v;
}

/** Expands `0+10x3 _ stale 5 _x2 1x2` into values: null = missing, 'stale' = staleness marker. */
export function expandValues(tokens: string[]): (number | null | 'stale')[] {
  const out: (number | null | 'stale')[] = [];
  for (const tok of tokens) {
    if (tok === '_') { out.push(null); continue; }
    if (tok === 'stale') { out.push('stale'); continue; }
    let m = /^_x(\d+)$/.exec(tok);
    if (m) { for (let i = 0; i < Number(m[1]); i++) out.push(null); continue; }
    m = /^(-?[^+\-x]+|-?[iI]nf|[nN]a[nN])([+-])([^x]+)x(\d+)$/.exec(tok);
    if (m) {
      const start = num(m[1]!);
      const step = num(m[3]!) * (m[2] === '-' ? -1 : 1);
      for (let i = 0; i <= Number(m[4]); i++) out.push(start + step * i);
      continue;
    }
    m = /^([^x]+)x(\d+)$/.exec(tok);
    if (m) { const v = num(m[1]!); for (let i = 0; i <= Number(m[2]); i++) out.push(v); continue; }
    out.push(num(tok));
  }
  return out;
}

/** Splits `name{a="b", c="d"} rest` into labels and the rest of the line. */
export function parseSeriesDesc(line: string): { labels: Labels; rest: string } {
  let i = 0;
  while (i < line.length && line[i] !== '{' && line[i] !== ' ' && line[i] !== '\t') i++;
  const labels: Record<string, string> = {};
  if (i > 0) labels.__name__ = line.slice(0, i);
  if (line[i] === '{') {
    i++;
    for (;;) {
      while (line[i] === ' ' || line[i] === ',') i++;
      if (line[i] === '}') { i++; break; }
      const eq = line.indexOf('=', i);
      const name = line.slice(i, eq).trim();
      i = eq + 1;
      while (line[i] === ' ') i++;
      i++; // opening quote
      let v = '';
      while (line[i] !== '"') {
        if (i >= line.length) throw new Error(`unterminated label value in ${line}`);
        if (line[i] === '\\') { const e = line[i + 1]!; v += e === 'n' ? '\n' : e === 't' ? '\t' : e; i += 2; } else v += line[i++];
      }
      i++;
      labels[name] = v;
    }
  }
  return { labels, rest: line.slice(i).trim() };
}

function close(a: number | null, b: number | null): boolean {
  if (a === null || b === null) return a === b;
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  if (a === b) return true;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
  return Math.abs(a - b) <= 1e-6 * Math.max(Math.abs(a), Math.abs(b)) || Math.abs(a - b) < 1e-12;
}

const fmt = (l: Labels | null): string => (l ? `{${labelsKey(l)}}` : 'scalar');

function compare(res: QueryResult, expected: Expected[], ordered: boolean, steps: number[] | null): string | null {
  const got: Expected[] = [];
  if (res.resultType === 'scalar') got.push({ labels: null, values: [res.result.v] });
  else if (res.resultType === 'vector') for (const s of res.result) got.push({ labels: s.metric, values: [s.v] });
  else if (res.resultType === 'matrix') {
    for (const s of res.result) {
      if (steps) {
        const vals: (number | null)[] = steps.map(() => null);
        for (let i = 0; i < s.t.length; i++) vals[steps.indexOf(s.t[i]!)] = s.v[i]!;
        got.push({ labels: s.metric, values: vals });
      } else got.push({ labels: s.metric, values: Array.from(s.v) });
    }
  } else got.push({ labels: null, values: [NaN] });
  if (got.length !== expected.length) return `expected ${expected.length} series, got ${got.length}: ${got.map((g) => `${fmt(g.labels)} ${g.values.join(' ')}`).join('; ')}`;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!;
    const g = ordered ? got[i] : got.find((x) => (x.labels === null) === (e.labels === null) && (!x.labels || labelsKey(x.labels) === labelsKey(e.labels!)));
    if (!g || (g.labels && e.labels && labelsKey(g.labels) !== labelsKey(e.labels))) return `missing series ${fmt(e.labels)}${g ? ` (got ${fmt(g.labels)} at position ${i})` : ''}`;
    if (g.values.length !== e.values.length || g.values.some((v, k) => !close(v, e.values[k]!))) {
      return `${fmt(e.labels)}: expected ${e.values.join(' ')}, got ${g.values.join(' ')}`;
    }
  }
  return null;
}

/** Runs a script; returns one entry per failed command (empty when all pass) and how many evals ran. */
export async function runScript(text: string, engine = new Engine()): Promise<{ evals: number; failures: ScriptFailure[] }> {
  const lines = text.split('\n');
  let store = new MemQueryable();
  const failures: ScriptFailure[] = [];
  let evals = 0;
  let i = 0;
  const body = (): { line: string; no: number }[] => {
    const out: { line: string; no: number }[] = [];
    while (i < lines.length && /^\s+\S/.test(lines[i]!) && !/^\s*#/.test(lines[i]!)) { out.push({ line: lines[i]!.trim(), no: i + 1 }); i++; }
    return out;
  };
  while (i < lines.length) {
    const raw = lines[i]!;
    const no = i + 1;
    i++;
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line === 'clear') { store = new MemQueryable(); continue; }
    let m = /^load\s+(\S+)$/.exec(line);
    if (m) {
      const interval = duration(m[1]!);
      for (const { line: l } of body()) {
        const { labels, rest } = parseSeriesDesc(l);
        const vals = expandValues(rest.split(/\s+/).filter(Boolean));
        vals.forEach((v, k) => {
          if (v === null) return;
          if (v === 'stale') store.add(labels, k * interval, NaN, true);
          else store.add(labels, k * interval, v);
        });
      }
      continue;
    }
    m = /^(eval|eval_fail|eval_ordered)\s+instant\s+at\s+(\S+)\s+(.+)$/.exec(line);
    const r = /^(eval|eval_fail|eval_ordered)\s+range\s+from\s+(\S+)\s+to\s+(\S+)\s+step\s+(\S+)\s+(.+)$/.exec(line);
    if (!m && !r) { failures.push({ line: no, command: line, message: 'unknown command' }); continue; }
    evals++;
    const kind = (m ?? r)![1]!;
    const expected: Expected[] = [];
    const steps: number[] = [];
    if (r) {
      const start = duration(r[2]!), end = duration(r[3]!), step = duration(r[4]!);
      for (let t = start; t <= end; t += step) steps.push(t);
    }
    try {
      for (const { line: l } of body()) {
        if (/^[-+]?(\d|\.\d|[nN]a[nN]|[iI]nf)/.test(l) && !l.includes('{')) {
          expected.push({ labels: null, values: expandValues(l.split(/\s+/)).map((v) => (v === 'stale' ? null : v)) });
          continue;
        }
        const { labels, rest } = parseSeriesDesc(l);
        expected.push({ labels, values: expandValues(rest.split(/\s+/).filter(Boolean)).map((v) => (v === 'stale' ? null : v)) });
      }
    } catch (err) {
      failures.push({ line: no, command: line, message: `bad expectation: ${(err as Error).message}` });
      continue;
    }
    let res: QueryResult;
    try {
      res = m ? await engine.instantQuery(store, m[3]!, duration(m[2]!)) : await engine.rangeQuery(store, r![5]!, steps[0]!, steps[steps.length - 1]!, duration(r![4]!));
    } catch (err) {
      if (kind !== 'eval_fail') failures.push({ line: no, command: line, message: `unexpected error: ${(err as Error).message}` });
      continue;
    }
    if (kind === 'eval_fail') { failures.push({ line: no, command: line, message: 'expected an error, got a result' }); continue; }
    const why = compare(res, expected, kind === 'eval_ordered', r ? steps : null);
    if (why) failures.push({ line: no, command: line, message: why });
  }
  return { evals, failures };
}
