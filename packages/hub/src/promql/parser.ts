import { compileRegex, Matcher, MatcherError, METRIC_NAME, type MatchType } from '@vigil/common';
import {
  AGGREGATE_OPS, isComparison, isSetOp,
  type AggregateOp, type AtModifier, type BinaryOp, type Expr, type VectorMatching, type VectorSelector,
} from './ast.js';
import { PromQLParseError } from './errors.js';
import { FUNCTIONS } from './functions/index.js';
import { lex, type Token } from './lexer.js';
import { checkTypes, DOC_TYPE, typeOf } from './typecheck.js';

export { typeOf } from './typecheck.js';

/** Binary operator precedence, as Prometheus' grammar (higher binds tighter). */
const PRECEDENCE: Record<string, number> = {
  or: 1, and: 2, unless: 2,
  '==': 3, '!=': 3, '<=': 3, '<': 3, '>=': 3, '>': 3,
  '+': 4, '-': 4,
  '*': 5, '/': 5, '%': 5, atan2: 5,
  '^': 6,
};
const UNARY_PRECEDENCE = 5;

/**
 * How deeply an expression may nest (parentheses, operators, calls, aggregations): the parser, type checker,
 * printer and evaluator recurse over the tree, so a deeper one is refused before it exhausts the stack.
 * Prometheus has no such limit; no query a person writes comes near it.
 */
export const MAX_EXPR_DEPTH = 1000;

/** Parses a PromQL expression into its AST, checking types as Prometheus does. */
export function parseExpr(input: string): Expr {
  const p = new Parser(input);
  const expr = p.parseTop();
  // operator chains (`a + b + c ...`) are parsed in a loop, so the tree can be deeper than the parser went
  if (exprDepth(expr) > MAX_EXPR_DEPTH) throw tooDeep(input, 0);
  checkTypes(expr, input);
  return expr;
}

function tooDeep(input: string, pos: number): PromQLParseError {
  return new PromQLParseError(`expression nests too deeply (more than ${MAX_EXPR_DEPTH} levels of parentheses, operators or calls)`, input, pos);
}

/** The depth of the tree, without recursion. */
function exprDepth(root: Expr): number {
  let max = 0;
  const stack: [Expr, number][] = [[root, 1]];
  for (let top = stack.pop(); top; top = stack.pop()) {
    const [e, d] = top;
    if (d > max) max = d;
    switch (e.type) {
      case 'paren': case 'unary': case 'subquery': stack.push([e.expr, d + 1]); break;
      case 'matrix': stack.push([e.vector, d + 1]); break;
      case 'binary': stack.push([e.lhs, d + 1], [e.rhs, d + 1]); break;
      case 'aggregate':
        stack.push([e.expr, d + 1]);
        if (e.param) stack.push([e.param, d + 1]);
        break;
      case 'call': for (const a of e.args) stack.push([a, d + 1]); break;
      default: break;
    }
  }
  return max;
}

/**
 * Parses a series selector (`match[]` parameters) as Prometheus' ParseMetricSelector: a metric name and/or
 * label matchers, nothing else. Unlike a query, a selector matching everything is not refused here.
 */
export function parseSelector(input: string): Matcher[] {
  return new Parser(input).parseSelectorTop();
}

class Parser {
  private readonly toks: Token[];
  private i = 0;
  private parenDepth = 0;
  /** parseBinary calls on the stack. */
  private depth = 0;

  constructor(private readonly input: string) {
    this.toks = lex(input);
  }

  private peek(k = 0): Token { return this.toks[Math.min(this.i + k, this.toks.length - 1)]!; }
  private next(): Token { return this.toks[Math.min(this.i++, this.toks.length - 1)]!; }
  private fail(msg: string, pos: number): never { throw new PromQLParseError(msg, this.input, pos); }

  /** How Prometheus' parser names a token in "unexpected ..." errors. */
  private describe(t: Token): string {
    const q = (v: string): string => (v.length > 10 ? `${JSON.stringify(v).slice(0, 11)}...` : JSON.stringify(v));
    switch (t.type) {
      case 'EOF': return 'end of input';
      case 'IDENT':
        if (AGGREGATE_OPS.has(t.text.toLowerCase())) return `<aggr:${t.text}>`;
        return `identifier ${JSON.stringify(t.text)}`;
      case 'METRIC_IDENT': return `metric identifier ${JSON.stringify(t.text)}`;
      case 'NUMBER': return `number ${q(t.text)}`;
      case 'DURATION': return `duration ${q(t.text)}`;
      case 'STRING': return `string ${q(this.input.slice(t.pos, t.end))}`;
      case 'KEYWORD':
        return t.text === 'and' || t.text === 'or' || t.text === 'unless' || t.text === 'atan2' ? `<op:${t.text}>` : `<${t.text}>`;
      case 'OP': return `<op:${t.text}>`;
      default: return JSON.stringify(t.text);
    }
  }

  private unexpected(t: Token, context = ''): never {
    if (t.type === 'EOF') {
      if (this.parenDepth > 0 && !context) this.fail('unclosed left parenthesis', t.pos);
      this.fail(`unexpected end of input${context}`, t.pos);
    }
    this.fail(`unexpected ${this.describe(t)}${context}`, t.pos);
  }

  parseSelectorTop(): Matcher[] {
    const t = this.next();
    let e: Expr;
    if (t.type === 'LBRACE') {
      this.i--;
      e = this.parseSelectorRest('', t.pos, false);
    } else if (t.type === 'IDENT' || t.type === 'METRIC_IDENT') {
      e = this.parseSelectorRest(t.text, t.pos, false);
    } else return this.unexpected(t);
    const end = this.peek();
    if (end.type !== 'EOF') this.unexpected(end);
    return (e as VectorSelector).matchers;
  }

  parseTop(): Expr {
    if (this.peek().type === 'EOF') this.fail('no expression found in input', 0);
    const e = this.parseBinary(0);
    const t = this.peek();
    if (t.type !== 'EOF') this.unexpected(t);
    return e;
  }

  private binaryOp(t: Token): BinaryOp | undefined {
    if (t.type === 'OP' && t.text in PRECEDENCE) return t.text as BinaryOp;
    if (t.type === 'KEYWORD' && (t.text === 'and' || t.text === 'or' || t.text === 'unless' || t.text === 'atan2')) return t.text as BinaryOp;
    return undefined;
  }

  private parseBinary(minPrec: number): Expr {
    if (++this.depth > MAX_EXPR_DEPTH) throw tooDeep(this.input, this.peek().pos);
    const e = this.parseBinaryOps(minPrec);
    this.depth--;
    return e;
  }

  private parseBinaryOps(minPrec: number): Expr {
    let lhs = this.parseUnary();
    for (;;) {
      const t = this.peek();
      const op = this.binaryOp(t);
      if (!op) return lhs;
      const prec = PRECEDENCE[op]!;
      if (prec < minPrec) return lhs;
      this.next();
      let returnBool = false;
      if (this.peek().type === 'KEYWORD' && this.peek().text === 'bool') {
        this.next();
        returnBool = true;
      }
      const matching = this.parseMatching(op);
      // '^' is right-associative, everything else left-associative
      const rhs = this.parseBinary(op === '^' ? prec : prec + 1);
      lhs = { type: 'binary', op, lhs, rhs, returnBool, matching, pos: { start: lhs.pos.start, end: rhs.pos.end } };
      if (returnBool && !isComparison(op)) this.fail('bool modifier can only be used on comparison operators', t.pos);
    }
  }

  private parseMatching(op: BinaryOp): VectorMatching {
    const m: VectorMatching = { card: isSetOp(op) ? 'many-to-many' : 'one-to-one', labels: [], on: false, explicit: false, include: [] };
    const t = this.peek();
    if (t.type === 'KEYWORD' && (t.text === 'on' || t.text === 'ignoring')) {
      this.next();
      m.on = t.text === 'on';
      m.explicit = true;
      m.labels = this.parseLabelList();
      const g = this.peek();
      if (g.type === 'KEYWORD' && (g.text === 'group_left' || g.text === 'group_right')) {
        this.next();
        m.card = g.text === 'group_left' ? 'many-to-one' : 'one-to-many';
        if (this.peek().type === 'LPAREN') m.include = this.parseLabelList();
      }
    } else if (t.type === 'KEYWORD' && (t.text === 'group_left' || t.text === 'group_right')) {
      this.fail(`unexpected <${t.text}>`, t.pos);
    }
    return m;
  }

  private parseLabelList(): string[] {
    const open = this.next();
    if (open.type !== 'LPAREN') this.unexpected(open, ' in grouping opts, expected "("');
    const out: string[] = [];
    for (;;) {
      const t = this.next();
      if (t.type === 'RPAREN') return out;
      if (t.type === 'IDENT' || t.type === 'KEYWORD' || (t.type === 'NUMBER' && /^[a-zA-Z_]/.test(t.text))) out.push(t.text);
      else this.unexpected(t, ' in grouping opts, expected label');
      const sep = this.next();
      if (sep.type === 'RPAREN') return out;
      if (sep.type !== 'COMMA') this.unexpected(sep, ' in grouping opts, expected "," or ")"');
    }
  }

  private parseUnary(): Expr {
    const t = this.peek();
    if (t.type === 'OP' && (t.text === '-' || t.text === '+')) {
      this.next();
      const inner = this.parseBinary(UNARY_PRECEDENCE + 1);
      const pos = { start: t.pos, end: inner.pos.end };
      if (inner.type === 'number') return { type: 'number', value: t.text === '-' ? -inner.value : inner.value, pos };
      const ty = typeOf(inner);
      if (ty !== 'scalar' && ty !== 'vector') this.fail(`unary expression only allowed on expressions of type scalar or instant vector, got ${JSON.stringify(DOC_TYPE[ty])}`, t.pos);
      return { type: 'unary', op: t.text, expr: inner, pos };
    }
    return this.parsePostfix(this.parsePrimary());
  }

  private parsePostfix(e: Expr): Expr {
    for (;;) {
      const t = this.peek();
      if (t.type === 'LBRACKET') {
        e = this.parseRange(e);
      } else if (t.type === 'KEYWORD' && t.text === 'offset') {
        this.next();
        let sign = 1;
        if (this.peek().type === 'OP' && (this.peek().text === '-' || this.peek().text === '+')) sign = this.next().text === '-' ? -1 : 1;
        const d = this.next();
        if (d.type !== 'DURATION') this.unexpected(d, ' in offset, expected duration');
        e = this.setOffset(e, sign * d.num!, t.pos, d.end);
      } else if (t.type === 'AT') {
        this.next();
        e = this.setAt(e, this.parseAt(), t.pos, this.toks[this.i - 1]!.end);
      } else return e;
    }
  }

  private parseAt(): AtModifier {
    const t = this.next();
    if (t.type === 'IDENT' && (t.text === 'start' || t.text === 'end')) {
      const l = this.next();
      const r = this.next();
      if (l.type !== 'LPAREN' || r.type !== 'RPAREN') this.unexpected(r, ' in @, expected "()"');
      return { kind: t.text };
    }
    let sign = 1;
    let n = t;
    if (t.type === 'OP' && (t.text === '-' || t.text === '+')) {
      sign = t.text === '-' ? -1 : 1;
      n = this.next();
    }
    if (n.type !== 'NUMBER') this.unexpected(n, ' in @, expected timestamp');
    const v = sign * n.num!;
    if (!Number.isFinite(v)) this.fail(`timestamp out of bounds for @ modifier: ${v}`, n.pos);
    return { kind: 'time', ms: Math.round(v * 1000) };
  }

  private target(e: Expr, what: string, pos: number): VectorSelector | Expr {
    if (e.type === 'vector') return e;
    if (e.type === 'matrix') return e.vector;
    if (e.type === 'subquery') return e;
    void pos;
    return this.fail(`${what} modifier must be preceded by an instant vector selector or range vector selector or a subquery`, e.pos.start);
  }

  private setOffset(e: Expr, ms: number, pos: number, end: number): Expr {
    const tgt = this.target(e, 'offset', pos) as VectorSelector | Extract<Expr, { type: 'subquery' }>;
    if (tgt.offset !== 0) this.fail('offset may not be set multiple times', e.pos.start);
    tgt.offset = ms;
    e.pos = { start: e.pos.start, end };
    return e;
  }

  private setAt(e: Expr, at: AtModifier, pos: number, end: number): Expr {
    const tgt = this.target(e, '@', pos) as VectorSelector | Extract<Expr, { type: 'subquery' }>;
    if (tgt.at) this.fail('@ <timestamp> may not be set multiple times', e.pos.start);
    tgt.at = at;
    e.pos = { start: e.pos.start, end };
    return e;
  }

  private parseRange(e: Expr): Expr {
    const open = this.next();
    const d = this.next();
    if (d.type === 'NUMBER') this.fail('missing unit character in duration', d.pos);
    if (d.type !== 'DURATION') this.unexpected(d, ' in subquery selector, expected duration');
    const t = this.next();
    if (t.type === 'RBRACKET') {
      if (e.type !== 'vector') this.fail('ranges only allowed for vector selectors', open.pos);
      if (e.offset !== 0 || e.at) this.fail('no offset or @ modifiers allowed before range', open.pos);
      return { type: 'matrix', vector: e, rangeMs: d.num!, pos: { start: e.pos.start, end: t.end } };
    }
    if (t.type !== 'COLON') this.unexpected(t, ' in subquery selector, expected ":" or "]"');
    let step = 0;
    let close = this.next();
    if (close.type === 'DURATION') {
      step = close.num!;
      close = this.next();
    }
    if (close.type === 'COLON') this.fail("unexpected colon ':'", close.pos);
    if (close.type !== 'RBRACKET') this.unexpected(close, step ? ' in subquery selector, expected "]"' : ' in subquery selector, expected duration or "]"');
    const ty = typeOf(e);
    if (ty !== 'vector') this.fail(`subquery is only allowed on instant vector, got ${DOC_TYPE[ty]} instead`, e.pos.start);
    return { type: 'subquery', expr: e, rangeMs: d.num!, stepMs: step, offset: 0, at: null, pos: { start: e.pos.start, end: close.end } };
  }

  private parsePrimary(): Expr {
    const t = this.next();
    switch (t.type) {
      case 'NUMBER': return { type: 'number', value: t.num!, pos: { start: t.pos, end: t.end } };
      case 'STRING': return { type: 'string', value: t.text, pos: { start: t.pos, end: t.end } };
      case 'LPAREN': {
        this.parenDepth++;
        const inner = this.parseBinary(0);
        const close = this.next();
        if (close.type !== 'RPAREN') {
          if (close.type === 'EOF') this.fail('unclosed left parenthesis', close.pos);
          this.unexpected(close);
        }
        this.parenDepth--;
        return { type: 'paren', expr: inner, pos: { start: t.pos, end: close.end } };
      }
      case 'LBRACE': {
        this.i--;
        return this.parseSelectorRest('', t.pos);
      }
      case 'IDENT': case 'METRIC_IDENT': case 'KEYWORD': {
        if (t.type === 'KEYWORD' && t.text !== 'bool' && t.text !== 'by' && t.text !== 'without' && t.text !== 'offset') this.unexpected(t);
        if (t.type === 'IDENT' && AGGREGATE_OPS.has(t.text.toLowerCase()) && (this.peek().type === 'LPAREN' || (this.peek().type === 'KEYWORD' && (this.peek().text === 'by' || this.peek().text === 'without')))) {
          return this.parseAggregate(t);
        }
        if (t.type === 'IDENT' && this.peek().type === 'LPAREN') return this.parseCall(t);
        return this.parseSelectorRest(t.text, t.pos);
      }
      default:
        return this.unexpected(t);
    }
  }

  private parseCall(name: Token): Expr {
    const fn = FUNCTIONS.get(name.text);
    if (!fn) this.fail(`unknown function with name ${JSON.stringify(name.text)}`, name.pos);
    this.next(); // (
    this.parenDepth++;
    let args: Expr[] = [];
    if (this.peek().type !== 'RPAREN') args = this.parseArgs('function call');
    else this.next();
    this.parenDepth--;
    const end = this.toks[this.i - 1]!.end;
    return { type: 'call', func: name.text, args, pos: { start: name.pos, end } };
  }

  /** Comma-separated expressions up to and including the closing parenthesis (at least one). */
  private parseArgs(context: string): Expr[] {
    const args: Expr[] = [];
    for (;;) {
      args.push(this.parseBinary(0));
      const sep = this.next();
      if (sep.type === 'RPAREN') return args;
      if (sep.type !== 'COMMA') {
        if (sep.type === 'EOF') this.fail('unclosed left parenthesis', sep.pos);
        this.unexpected(sep, ` in ${context}, expected "," or ")"`);
      }
    }
  }

  private parseAggregate(name: Token): Expr {
    const op = name.text.toLowerCase() as AggregateOp;
    let grouping: string[] = [];
    let without = false;
    let hasGrouping = false;
    const mod = (): void => {
      const t = this.peek();
      if (t.type === 'KEYWORD' && (t.text === 'by' || t.text === 'without')) {
        this.next();
        without = t.text === 'without';
        hasGrouping = true;
        grouping = this.parseLabelList();
      }
    };
    mod();
    const open = this.next();
    if (open.type !== 'LPAREN') this.unexpected(open, ' in aggregation, expected "("');
    this.parenDepth++;
    if (this.peek().type === 'RPAREN') this.fail('no arguments for aggregate expression provided', this.peek().pos);
    const args = this.parseArgs('aggregation');
    this.parenDepth--;
    const close = this.toks[this.i - 1]!;
    if (!hasGrouping) mod();
    const needsParam = op === 'topk' || op === 'bottomk' || op === 'quantile' || op === 'count_values';
    const want = needsParam ? 2 : 1;
    if (args.length !== want) {
      this.fail(`wrong number of arguments for aggregate expression provided, expected ${want}, got ${args.length}`, name.pos);
    }
    const expr = args[want - 1]!;
    const param = needsParam ? args[0]! : null;
    return { type: 'aggregate', op, expr, param, grouping, without, hasGrouping, pos: { start: name.pos, end: Math.max(close.end, this.toks[this.i - 1]!.end) } };
  }

  private parseSelectorRest(name: string, start: number, requireNonEmpty = true): Expr {
    const matchers: Matcher[] = [];
    let end = this.toks[this.i - 1]?.end ?? start;
    if (this.peek().type === 'LBRACE') {
      this.next();
      for (;;) {
        let t = this.next();
        if (t.type === 'RBRACE') break;
        if (t.type === 'EOF') this.fail('unexpected end of input inside braces', t.pos);
        if (t.type !== 'IDENT' && t.type !== 'KEYWORD' && !(t.type === 'NUMBER' && /^[a-zA-Z_]/.test(t.text))) {
          this.unexpected(t, ' in label matching, expected identifier or "}"');
        }
        const label = t.text;
        const op = this.next();
        let type: MatchType;
        if (op.type === 'ASSIGN') type = '=';
        else if (op.type === 'OP' && (op.text === '!=' || op.text === '=~' || op.text === '!~')) type = op.text as MatchType;
        else {
          if (op.type === 'EOF') this.fail('unexpected end of input inside braces', op.pos);
          this.unexpected(op, ' in label matching, expected label matching operator');
        }
        const v = this.next();
        if (v.type !== 'STRING') {
          if (v.type === 'EOF') this.fail('unexpected end of input inside braces', v.pos);
          this.unexpected(v, ' in label matching, expected string');
        }
        try {
          matchers.push(new Matcher(type, label, v.text));
        } catch (err) {
          this.fail(err instanceof MatcherError ? err.detail : (err as Error).message, t.pos);
        }
        // Prometheus' FastRegexMatcher also parses the pattern on its own: `a)|(b` compiles only as ^(?:a)|(b)$
        const standalone = type === '=~' || type === '!~' ? compileRegex(v.text).standaloneError : undefined;
        if (standalone) this.fail(standalone.message, t.pos);
        t = this.next();
        if (t.type === 'RBRACE') break;
        if (t.type === 'EOF') this.fail('unexpected end of input inside braces', t.pos);
        if (t.type !== 'COMMA') this.unexpected(t, ' in label matching, expected "," or "}"');
      }
      end = this.toks[this.i - 1]!.end;
    }
    if (name !== '') {
      for (const m of matchers) {
        if (m.name === METRIC_NAME) this.fail(`metric name must not be set twice: ${JSON.stringify(name)} or ${JSON.stringify(m.value)}`, start);
      }
      matchers.unshift(new Matcher('=', METRIC_NAME, name));
    }
    if (requireNonEmpty && !matchers.some((m) => !m.matchesEmpty())) this.fail('vector selector must contain at least one non-empty matcher', start);
    return { type: 'vector', name, matchers, offset: 0, at: null, pos: { start, end } };
  }
}
