import t from 'tap';
import { PromQLParseError } from './errors.js';
import { lex } from './lexer.js';
import { parseExpr } from './parser.js';
import { formatExpr } from './printer.js';

t.test('printer round-trips every construct', async (t) => {
  const cases = [
    'up',
    'http_requests_total{code=~"5..", job!="api", method!~"GET|PUT", x="y"}',
    'sum by (job) (rate(http_requests_total[5m] offset 1h))',
    'sum without (instance) (x)',
    'topk(3, x)',
    'count_values("v", x)',
    'quantile(0.9, x)',
    'a + on(x) group_left(y) b',
    'a * ignoring(x) group_right c',
    'a and on() b',
    'a or b unless c',
    '1 > bool 2',
    '2 ^ 3 ^ 2',
    '(1 + 2) * 3',
    'x[5m:1m] @ 100.000',
    'max_over_time(deriv(x[5m])[15m:] offset 5m)',
    'x offset -5m',
    'rate(x[5m] @ end())',
    'x @ start()',
    'label_replace(up, "a", "$1", "b", "(.*)")',
    '-x',
    '"a\\nb"',
    'a atan2 b',
    'histogram_quantile(0.9, sum by (le) (rate(x_bucket[5m])))',
  ];
  for (const q of cases) {
    const printed = formatExpr(parseExpr(q));
    t.equal(formatExpr(parseExpr(printed)), printed, `${q} round-trips`);
    t.same(stripPos(parseExpr(printed)), stripPos(parseExpr(q)), `${q} keeps its AST`);
  }
  t.equal(formatExpr(parseExpr('sum(x) by (a)')), 'sum by (a) (x)');
  t.equal(formatExpr(parseExpr('0x1F')), '31');
});

function stripPos(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(stripPos);
  if (x && typeof x === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(x)) if (k !== 'pos' && k !== 're') out[k] = stripPos(v);
    return out;
  }
  return x;
}

t.test('operator precedence and associativity follow Prometheus', async (t) => {
  const e = parseExpr('a + b * c ^ d ^ e');
  t.equal(e.type, 'binary');
  if (e.type !== 'binary') return;
  t.equal(e.op, '+');
  t.equal(e.rhs.type === 'binary' && e.rhs.op, '*');
  const pow = parseExpr('2 ^ 3 ^ 2');
  t.ok(pow.type === 'binary' && pow.rhs.type === 'binary', '^ is right-associative');
  const sub = parseExpr('a - b - c');
  t.ok(sub.type === 'binary' && sub.lhs.type === 'binary', '- is left-associative');
  const neg = parseExpr('-a ^ b');
  t.ok(neg.type === 'unary' && neg.expr.type === 'binary', 'unary minus binds looser than ^');
  const set = parseExpr('a or b and c');
  t.ok(set.type === 'binary' && set.op === 'or', 'and binds tighter than or');
});

t.test('literals: numbers, durations, strings and escapes', async (t) => {
  const num = (q: string): number => { const e = parseExpr(q); return e.type === 'number' ? e.value : NaN; };
  t.equal(num('0x1F'), 31);
  t.equal(num('1e3'), 1000);
  t.equal(num('.5'), 0.5);
  t.equal(num('Inf'), Infinity);
  t.equal(num('-inf'), -Infinity);
  t.ok(Number.isNaN(num('NaN')));
  const str = (q: string): string => { const e = parseExpr(q); return e.type === 'string' ? e.value : ''; };
  t.equal(str('"a\\tb\\x41\\u00e9\\101"'), 'a\tbAéA');
  t.equal(str("'single \\' quote'"), "single ' quote");
  t.equal(str('`raw \\n`'), 'raw \\n');
  const m = parseExpr('x[1h30m]');
  t.equal(m.type === 'matrix' && m.rangeMs, 5_400_000);
  t.same(lex('x[5m:1m]').map((tk) => tk.type), ['IDENT', 'LBRACKET', 'DURATION', 'COLON', 'DURATION', 'RBRACKET', 'EOF']);
});

t.test('parse errors carry positions worded like Prometheus', async (t) => {
  const cases: [string, string][] = [
    ['rate(http_requests_total)', '1:6: parse error: expected type range vector in call to function "rate", got instant vector'],
    ['sum(', '1:5: parse error: unclosed left parenthesis'],
    ['http_requests_total{job="api"', '1:30: parse error: unexpected end of input inside braces'],
    ['"foo" + 1', '1:1: parse error: binary expression must contain only scalar and instant vector types'],
    ['rate(http_requests_total[5m])[1m]', '1:30: parse error: ranges only allowed for vector selectors'],
    ['3 > 2', '1:3: parse error: comparisons between scalars must use BOOL modifier'],
    ['foo(x)', '1:1: parse error: unknown function with name "foo"'],
    ['{}', '1:1: parse error: vector selector must contain at least one non-empty matcher'],
    ['a and 1', '1:1: parse error: set operator "and" not allowed in binary scalar expression'],
    ['sum(x, y)', '1:1: parse error: wrong number of arguments for aggregate expression provided, expected 1, got 2'],
    ['round(x, 1, 2)', '1:1: parse error: expected at most 2 argument(s) in call to "round", got 3'],
    ['x offset 5m offset 1m', '1:1: parse error: offset may not be set multiple times'],
    [')', "1:2: parse error: unexpected right parenthesis ')'"],
    ['1 +* 2', '1:4: parse error: unexpected <op:*>'],
    ['sum by (job) (up) by (instance)', '1:19: parse error: unexpected <by>'],
    ['up[5m', '1:6: parse error: unclosed left bracket'],
    ['up[5]', '1:4: parse error: missing unit character in duration'],
    ['-"a"', '1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got "string"'],
    ['"\\z"', "1:1: parse error: unknown escape sequence U+007A 'z'"],
    ['up !~ 1', "1:4: parse error: unexpected character after '!': '~'"],
    ['0x', '1:1: parse error: error parsing number: strconv.ParseFloat: parsing "0x": invalid syntax'],
    ['\n  x $', '2:5: parse error: unexpected character: \'$\''],
  ];
  for (const [q, msg] of cases) {
    let err: unknown;
    try { parseExpr(q); } catch (e) { err = e; }
    t.ok(err instanceof PromQLParseError, `${JSON.stringify(q)} fails to parse`);
    t.equal((err as Error | undefined)?.message, msg);
  }
});
