// Type checks of a parsed expression, worded as Prometheus' parser words them.
import { isComparison, isSetOp, type Expr, type PosRange, type ValueType } from './ast.js';
import { PromQLParseError } from './errors.js';
import { FUNCTIONS } from './functions/index.js';

export const DOC_TYPE: Record<ValueType, string> = { scalar: 'scalar', vector: 'instant vector', matrix: 'range vector', string: 'string' };

/** The type an expression evaluates to. */
export function typeOf(e: Expr): ValueType {
  switch (e.type) {
    case 'number': return 'scalar';
    case 'string': return 'string';
    case 'vector': return 'vector';
    case 'matrix': case 'subquery': return 'matrix';
    case 'call': return FUNCTIONS.get(e.func)?.returnType ?? 'vector';
    case 'aggregate': return 'vector';
    case 'binary': return typeOf(e.lhs) === 'scalar' && typeOf(e.rhs) === 'scalar' ? 'scalar' : 'vector';
    case 'unary': case 'paren': return typeOf(e.expr);
  }
}

/** Throws PromQLParseError where an expression's types do not fit (function args, operators, aggregations). */
export function checkTypes(e: Expr, input: string): void {
  const fail = (msg: string, pos: PosRange | number): never => {
    throw new PromQLParseError(msg, input, typeof pos === 'number' ? pos : pos.start);
  };
  const expect = (x: Expr, want: ValueType, ctx: string): void => {
    const got = typeOf(x);
    if (got !== want) fail(`expected type ${DOC_TYPE[want]} in ${ctx}, got ${DOC_TYPE[got]}`, x.pos);
  };
  switch (e.type) {
    case 'number': case 'string': case 'vector': return;
    case 'matrix': return;
    case 'subquery': checkTypes(e.expr, input); return;
    case 'paren': case 'unary': checkTypes(e.expr, input); return;
    case 'call': {
      const fn = FUNCTIONS.get(e.func)!;
      const nargs = fn.argTypes.length;
      if (fn.variadic === 0) {
        if (nargs !== e.args.length) fail(`expected ${nargs} argument(s) in call to ${JSON.stringify(e.func)}, got ${e.args.length}`, e.pos);
      } else {
        const na = nargs - 1;
        if (na > e.args.length) fail(`expected at least ${na} argument(s) in call to ${JSON.stringify(e.func)}, got ${e.args.length}`, e.pos);
        else if (fn.variadic > 0 && na + fn.variadic < e.args.length) {
          fail(`expected at most ${na + fn.variadic} argument(s) in call to ${JSON.stringify(e.func)}, got ${e.args.length}`, e.pos);
        }
      }
      e.args.forEach((a, i) => {
        checkTypes(a, input);
        const t = fn.argTypes[Math.min(i, nargs - 1)];
        if (t) expect(a, t, `call to function ${JSON.stringify(e.func)}`);
      });
      return;
    }
    case 'aggregate': {
      checkTypes(e.expr, input);
      if (e.param) checkTypes(e.param, input);
      expect(e.expr, 'vector', 'aggregation expression');
      if (e.param) expect(e.param, e.op === 'count_values' ? 'string' : 'scalar', 'aggregation parameter');
      return;
    }
    case 'binary': {
      checkTypes(e.lhs, input);
      checkTypes(e.rhs, input);
      const lt = typeOf(e.lhs);
      const rt = typeOf(e.rhs);
      let opStart = e.lhs.pos.end;
      while (/\s/.test(input[opStart] ?? '') || input[opStart] === ')') opStart++;
      if (isComparison(e.op) && !e.returnBool && lt === 'scalar' && rt === 'scalar') fail('comparisons between scalars must use BOOL modifier', opStart);
      const m = e.matching;
      if (m) {
        for (const l of m.include) if (m.on && m.labels.includes(l)) fail(`label ${JSON.stringify(l)} must not occur in ON and GROUP clause at once`, opStart);
      }
      if (lt !== 'scalar' && lt !== 'vector') fail('binary expression must contain only scalar and instant vector types', e.lhs.pos);
      if (rt !== 'scalar' && rt !== 'vector') fail('binary expression must contain only scalar and instant vector types', e.rhs.pos);
      if ((lt !== 'vector' || rt !== 'vector') && m) {
        if (m.explicit && m.labels.length > 0) fail('vector matching only allowed between instant vectors', e.pos);
        if (m.card === 'one-to-many' || m.card === 'many-to-one') fail('vector matching only allowed between instant vectors', e.pos);
        e.matching = null;
      } else if (isSetOp(e.op) && m && (m.card === 'one-to-many' || m.card === 'many-to-one')) {
        fail(`no grouping allowed for "${e.op}" operation`, e.pos);
      }
      if ((lt === 'scalar' || rt === 'scalar') && isSetOp(e.op)) fail(`set operator "${e.op}" not allowed in binary scalar expression`, e.pos);
      return;
    }
  }
}
