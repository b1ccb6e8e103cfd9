// Binary operators over step series: arithmetic, comparisons, set operators and vector matching.
import { labelsKey, METRIC_NAME, type Labels } from '@vigil/common';
import { isComparison, type BinaryOp, type VectorMatching } from './ast.js';
import { QueryExecutionError } from './errors.js';
import { newStepSeries, type StepSeries } from './value.js';

/** Go's math.Mod (sign of the dividend), which JS `%` already is. */
function goMod(a: number, b: number): number {
  return a % b;
}

/** Prometheus' vectorElemBinop: [value, keep]. */
export function applyOp(op: BinaryOp, l: number, r: number): [number, boolean] {
  switch (op) {
    case '+': return [l + r, true];
    case '-': return [l - r, true];
    case '*': return [l * r, true];
    case '/': return [l / r, true];
    case '^': return [Math.pow(l, r), true];
    case '%': return [goMod(l, r), true];
    case 'atan2': return [Math.atan2(l, r), true];
    case '==': return [l, l === r];
    case '!=': return [l, l !== r];
    case '>': return [l, l > r];
    case '<': return [l, l < r];
    case '>=': return [l, l >= r];
    case '<=': return [l, l <= r];
    default: throw new QueryExecutionError(`cannot apply operator ${op} to sample values`);
  }
}

export function dropsName(op: BinaryOp): boolean {
  return op === '+' || op === '-' || op === '*' || op === '/' || op === '%' || op === '^';
}

export function scalarBinop(op: BinaryOp, l: Float64Array, r: Float64Array, returnBool: boolean): Float64Array {
  const out = new Float64Array(l.length);
  for (let i = 0; i < l.length; i++) {
    const [v, keep] = applyOp(op, l[i]!, r[i]!);
    out[i] = isComparison(op) && returnBool ? (keep ? 1 : 0) : v;
  }
  return out;
}

export function vectorScalarBinop(op: BinaryOp, vec: StepSeries[], sc: Float64Array, swap: boolean, returnBool: boolean, n: number): StepSeries[] {
  const out: StepSeries[] = [];
  const cmp = isComparison(op);
  for (const s of vec) {
    const labels = dropsName(op) || returnBool ? dropName(s.labels) : s.labels;
    const r = newStepSeries(labels, n);
    let any = false;
    for (let i = 0; i < n; i++) {
      if (!s.present[i]) continue;
      let lv = s.v[i]!;
      let rv = sc[i]!;
      if (swap) [lv, rv] = [rv, lv];
      let [value, keep] = applyOp(op, lv, rv);
      if (cmp && swap) value = rv;
      if (returnBool) { value = keep ? 1 : 0; keep = true; }
      if (!keep) continue;
      r.v[i] = value;
      r.present[i] = 1;
      any = true;
    }
    if (any) out.push(r);
  }
  return out;
}

function dropName(l: Labels): Labels {
  if (!(METRIC_NAME in l)) return l;
  const { [METRIC_NAME]: _d, ...rest } = l;
  return rest;
}

/** The match-group signature of a label set under on()/ignoring(). */
function signature(l: Labels, m: VectorMatching): string {
  if (m.on) {
    let s = '';
    for (const name of [...m.labels].sort()) s += name + '\xff' + (l[name] ?? '') + '\xff';
    return s;
  }
  const names = Object.keys(l).filter((k) => k !== METRIC_NAME && !m.labels.includes(k)).sort();
  let s = '';
  for (const name of names) if (l[name] !== '') s += name + '\xff' + l[name] + '\xff';
  return s;
}

/** Prometheus' labels.String(): `{__name__="up", job="api"}`. */
export function formatLabels(l: Labels): string {
  return `{${Object.keys(l).sort().map((k) => `${k}=${JSON.stringify(l[k])}`).join(', ')}}`;
}

function matchedLabels(l: Labels, m: VectorMatching): string {
  const out: Record<string, string> = {};
  if (m.on) { for (const n of m.labels) if (l[n]) out[n] = l[n]!; } else for (const n of Object.keys(l)) if (n !== METRIC_NAME && !m.labels.includes(n)) out[n] = l[n]!;
  return formatLabels(out);
}

function resultLabels(ls: Labels, rs: Labels, op: BinaryOp, m: VectorMatching, returnBool: boolean): Labels {
  let out: Record<string, string> = { ...ls };
  if (dropsName(op) || returnBool) delete out[METRIC_NAME];
  if (m.card === 'one-to-one') {
    if (m.on) {
      const kept: Record<string, string> = {};
      for (const n of m.labels) if (out[n] !== undefined) kept[n] = out[n]!;
      out = kept;
    } else for (const n of m.labels) delete out[n];
  }
  for (const n of m.include) {
    const v = rs[n];
    if (v) out[n] = v;
    else delete out[n];
  }
  return out;
}

function dupError(l: Labels, a: Labels, b: Labels, m: VectorMatching, side: string): never {
  throw new QueryExecutionError(
    `found duplicate series for the match group ${matchedLabels(l, m)} on the ${side} hand-side of the operation: [${formatLabels(a)}, ${formatLabels(b)}];many-to-many matching not allowed: matching labels must be unique on one side`,
  );
}

/** Arithmetic and comparison between two instant vectors with Prometheus' matching rules, step by step. */
export function vectorBinop(op: BinaryOp, lhs: StepSeries[], rhs: StepSeries[], m: VectorMatching, returnBool: boolean, n: number): StepSeries[] {
  const oneToMany = m.card === 'one-to-many';
  const many = oneToMany ? rhs : lhs;
  const one = oneToMany ? lhs : rhs;
  const manySig = many.map((s) => signature(s.labels, m));
  const oneBySig = new Map<string, number[]>();
  one.forEach((s, j) => {
    const sig = signature(s.labels, m);
    const list = oneBySig.get(sig);
    if (list) list.push(j);
    else oneBySig.set(sig, [j]);
  });
  const manyDupSigs = new Set<string>();
  { const seen = new Set<string>(); for (const s of manySig) { if (seen.has(s)) manyDupSigs.add(s); seen.add(s); } }
  const out: StepSeries[] = [];
  const outByKey = new Map<string, StepSeries>();
  const pairOut = new Map<number, StepSeries>();
  const cmp = isComparison(op);
  const oneLen = one.length;
  for (let i = 0; i < n; i++) {
    let anyL = false, anyR = false;
    for (const s of lhs) if (s.present[i]) { anyL = true; break; }
    for (const s of rhs) if (s.present[i]) { anyR = true; break; }
    if (!anyL || !anyR) continue;
    // the "one" side must be unique per match group at this step
    for (const list of oneBySig.values()) {
      if (list.length < 2) continue;
      let first = -1;
      for (const j of list) {
        if (!one[j]!.present[i]) continue;
        if (first >= 0) dupError(one[j]!.labels, one[j]!.labels, one[first]!.labels, m, oneToMany ? 'left' : 'right');
        first = j;
      }
    }
    const matchedSigs = manyDupSigs.size ? new Set<string>() : null;
    for (let k = 0; k < many.length; k++) {
      const ls = many[k]!;
      if (!ls.present[i]) continue;
      const list = oneBySig.get(manySig[k]!);
      if (!list) continue;
      let j = -1;
      for (const c of list) if (one[c]!.present[i]) { j = c; break; }
      if (j < 0) continue;
      const rs = one[j]!;
      let vl = ls.v[i]!, vr = rs.v[i]!;
      if (oneToMany) [vl, vr] = [vr, vl];
      let [value, keep] = applyOp(op, vl, vr);
      if (cmp && returnBool) { value = keep ? 1 : 0; keep = true; }
      if (!keep) continue;
      if (matchedSigs && m.card === 'one-to-one') {
        const sig = manySig[k]!;
        if (matchedSigs.has(sig)) throw new QueryExecutionError('multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)');
        matchedSigs.add(sig);
      }
      const pairKey = k * oneLen + j;
      let o = pairOut.get(pairKey);
      if (!o) {
        const labels = resultLabels(ls.labels, rs.labels, op, m, returnBool);
        const key = labelsKey(labels);
        o = outByKey.get(key);
        if (!o) {
          o = newStepSeries(labels, n);
          outByKey.set(key, o);
          out.push(o);
        }
        pairOut.set(pairKey, o);
      }
      if (o.present[i]) {
        if (m.card === 'one-to-one') throw new QueryExecutionError('multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)');
        throw new QueryExecutionError('multiple matches for labels: grouping labels must ensure unique matches');
      }
      o.v[i] = value;
      o.present[i] = 1;
    }
  }
  return out;
}

/** `and`, `or`, `unless`, step by step. */
export function setBinop(op: BinaryOp, lhs: StepSeries[], rhs: StepSeries[], m: VectorMatching, n: number): StepSeries[] {
  const lsig = lhs.map((s) => signature(s.labels, m));
  const rsig = rhs.map((s) => signature(s.labels, m));
  const present = (list: StepSeries[], sigs: string[], i: number): Set<string> => {
    const set = new Set<string>();
    for (let k = 0; k < list.length; k++) if (list[k]!.present[i]) set.add(sigs[k]!);
    return set;
  };
  if (op === 'and' || op === 'unless') {
    const out = lhs.map((s) => newStepSeries(s.labels, n));
    for (let i = 0; i < n; i++) {
      const rset = present(rhs, rsig, i);
      for (let k = 0; k < lhs.length; k++) {
        const s = lhs[k]!;
        if (!s.present[i]) continue;
        if (rset.has(lsig[k]!) === (op === 'and')) { out[k]!.v[i] = s.v[i]!; out[k]!.present[i] = 1; }
      }
    }
    return out.filter((s) => s.present.some((x) => x === 1));
  }
  // or
  const out: StepSeries[] = [];
  const byKey = new Map<string, StepSeries>();
  const target = (s: StepSeries): StepSeries => {
    const key = labelsKey(s.labels);
    let o = byKey.get(key);
    if (!o) { o = newStepSeries(s.labels, n); byKey.set(key, o); out.push(o); }
    return o;
  };
  const lt = lhs.map(target);
  const rt = rhs.map(target);
  for (let i = 0; i < n; i++) {
    const lset = present(lhs, lsig, i);
    for (let k = 0; k < lhs.length; k++) {
      const s = lhs[k]!;
      if (!s.present[i]) continue;
      lt[k]!.v[i] = s.v[i]!;
      lt[k]!.present[i] = 1;
    }
    for (let k = 0; k < rhs.length; k++) {
      const s = rhs[k]!;
      if (!s.present[i] || lset.has(rsig[k]!)) continue;
      if (rt[k]!.present[i]) throw new QueryExecutionError('vector cannot contain metrics with the same labelset');
      rt[k]!.v[i] = s.v[i]!;
      rt[k]!.present[i] = 1;
    }
  }
  return out.filter((s) => s.present.some((x) => x === 1));
}
