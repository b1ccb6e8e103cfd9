import { formatDuration, METRIC_NAME } from '@vigil/common';
import type { AtModifier, Expr, VectorMatching } from './ast.js';

/** Prints an expression the way Prometheus' `String()` does; parsing the output gives the same AST. */
export function formatExpr(e: Expr): string {
  switch (e.type) {
    case 'number': return formatNumber(e.value);
    case 'string': return JSON.stringify(e.value);
    case 'vector': return formatSelector(e.name, e.matchers) + modifiers(e.offset, e.at);
    case 'matrix': return `${formatSelector(e.vector.name, e.vector.matchers)}[${formatDuration(e.rangeMs)}]${modifiers(e.vector.offset, e.vector.at)}`;
    case 'subquery':
      return `${formatExpr(e.expr)}[${formatDuration(e.rangeMs)}:${e.stepMs ? formatDuration(e.stepMs) : ''}]${modifiers(e.offset, e.at)}`;
    case 'call': return `${e.func}(${e.args.map(formatExpr).join(', ')})`;
    case 'paren': return `(${formatExpr(e.expr)})`;
    case 'unary': return `${e.op}${formatExpr(e.expr)}`;
    case 'aggregate': {
      let s = e.op;
      if (e.hasGrouping) s += ` ${e.without ? 'without' : 'by'} (${e.grouping.join(', ')}) `;
      return `${s}(${e.param ? formatExpr(e.param) + ', ' : ''}${formatExpr(e.expr)})`;
    }
    case 'binary': {
      let op = e.op as string;
      if (e.returnBool) op += ' bool';
      if (e.matching) op += formatMatching(e.matching);
      return `${formatExpr(e.lhs)} ${op} ${formatExpr(e.rhs)}`;
    }
  }
}

function formatMatching(m: VectorMatching): string {
  let s = '';
  if (m.explicit || m.card === 'many-to-one' || m.card === 'one-to-many') s += ` ${m.on ? 'on' : 'ignoring'}(${m.labels.join(', ')})`;
  if (m.card === 'many-to-one' || m.card === 'one-to-many') {
    s += ` ${m.card === 'many-to-one' ? 'group_left' : 'group_right'}`;
    if (m.include.length) s += `(${m.include.join(', ')})`;
  }
  return s;
}

function modifiers(offset: number, at: AtModifier | null): string {
  let s = '';
  if (at) s += at.kind === 'time' ? ` @ ${(at.ms / 1000).toFixed(3)}` : ` @ ${at.kind}()`;
  if (offset > 0) s += ` offset ${formatDuration(offset)}`;
  else if (offset < 0) s += ` offset -${formatDuration(-offset)}`;
  return s;
}

function formatSelector(name: string, matchers: readonly { type: string; name: string; value: string }[]): string {
  const rest = matchers.filter((m) => !(name !== '' && m.name === METRIC_NAME && m.type === '='));
  if (rest.length === 0) return name;
  return `${name}{${rest.map((m) => `${m.name}${m.type}${JSON.stringify(m.value)}`).join(', ')}}`;
}

/** Go's `%v` of a float64 (shortest representation, exponent outside [1e-4, 1e21)). */
export function formatNumber(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  const abs = Math.abs(v);
  if (abs < 1e-4 || abs >= 1e21) {
    const [m, e] = v.toExponential().split('e') as [string, string];
    const exp = Number(e);
    return `${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  return String(v);
}
