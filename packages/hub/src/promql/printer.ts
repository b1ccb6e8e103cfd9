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
      if (e.without) s += ` without (${e.grouping.join(', ')}) `;
      else if (e.grouping.length > 0) s += ` by (${e.grouping.join(', ')}) `;
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

/** As Prometheus: ` on (a, b) group_left (c)`; an empty ignoring() without grouping is not printed. */
function formatMatching(m: VectorMatching): string {
  const grouped = m.card === 'many-to-one' || m.card === 'one-to-many';
  if (m.labels.length === 0 && !m.on && !grouped) return '';
  let s = ` ${m.on ? 'on' : 'ignoring'} (${m.labels.join(', ')})`;
  if (grouped) s += ` ${m.card === 'many-to-one' ? 'group_left' : 'group_right'} (${m.include.join(', ')})`;
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
  // Prometheus sorts the matcher strings and joins them without spaces
  return `${name}{${rest.map((m) => `${m.name}${m.type}${JSON.stringify(m.value)}`).sort().join(',')}}`;
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

const MAX_LINE = 100;
const indent = (n: number): string => '  '.repeat(n);

/**
 * Prometheus' prettifier (`/api/v1/format_query`): an expression longer than 100 characters is split,
 * its operands and arguments indented by two spaces per level.
 */
export function prettyExpr(e: Expr, level = 0): string {
  const flat = formatExpr(e);
  const split = flat.length > MAX_LINE;
  switch (e.type) {
    case 'aggregate': {
      if (!split) return indent(level) + flat;
      let s = indent(level) + e.op;
      if (e.without) s += ` without (${e.grouping.join(', ')}) `;
      else if (e.grouping.length > 0) s += ` by (${e.grouping.join(', ')}) `;
      s += '(\n';
      if (e.param) s += `${prettyExpr(e.param, level + 1)},\n`;
      return `${s}${prettyExpr(e.expr, level + 1)}\n${indent(level)})`;
    }
    case 'binary': {
      if (!split) return indent(level) + flat;
      const op = `${e.op}${e.returnBool ? ' bool' : ''}${e.matching ? formatMatching(e.matching) : ''}`;
      return `${prettyExpr(e.lhs, level + 1)}\n${indent(level)}${op}\n${prettyExpr(e.rhs, level + 1)}`;
    }
    case 'call':
      if (!split) return indent(level) + flat;
      return `${indent(level)}${e.func}(\n${e.args.map((a) => prettyExpr(a, level + 1)).join(',\n')}\n${indent(level)})`;
    case 'paren':
      if (!split) return indent(level) + flat;
      return `${indent(level)}(\n${prettyExpr(e.expr, level + 1)}\n${indent(level)})`;
    case 'subquery':
      if (!split) return flat;
      return `${prettyExpr(e.expr, level)}[${formatDuration(e.rangeMs)}:${e.stepMs ? formatDuration(e.stepMs) : ''}]${modifiers(e.offset, e.at)}`;
    case 'unary':
      return `${indent(level)}${e.op}${prettyExpr(e.expr, level).trim()}`;
    default:
      return indent(level) + flat;
  }
}
