import t from 'tap';
import { Matcher, MatcherError } from './matchers.js';
import { RE2JS } from 're2js';
import { boundDfaMemory, compileRegex, compileSearchRegex, DFA_MEMORY_BUDGET, expandTemplate, RegexError, replaceAll } from './regex.js';

/** The error `fn` throws (fails the test when it throws none). */
function thrown(fn: () => unknown): Error & { code?: string; detail?: string } {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error');
}

/** Runs `fn` and returns how long it took (ms). */
function timed(fn: () => void): number {
  const started = performance.now();
  fn();
  return performance.now() - started;
}

t.test('patterns that backtrack exponentially elsewhere run in linear time', async (t) => {
  const long = 'a'.repeat(100_000);
  const ms = timed(() => {
    t.notOk(compileRegex('(.*)*x').test(long));
    t.notOk(compileRegex('(a+)+b').test(long));
    t.notOk(compileRegex('(a|aa)+$b').test(long));
    t.equal(compileRegex('(a+)+b').exec(long), null);
  });
  t.ok(ms < 3_000, `took ${ms.toFixed(0)} ms`);
});

t.test('RE2 syntax: POSIX classes, Unicode classes, inline flags, named groups', async (t) => {
  t.ok(compileRegex('[[:alpha:]]+').test('Prod'));
  t.notOk(compileRegex('[[:alpha:]]+').test('héllo'), 'POSIX classes are ASCII only');
  t.notOk(compileRegex('[[:alpha:]]+').test('a1'));
  t.ok(compileRegex('\\pL+').test('héllo'));
  t.ok(compileRegex('\\p{Greek}+').test('αβγ'));
  t.ok(compileRegex('(?i:PRO).*').test('production'));
  t.notOk(compileRegex('(?i:PRO)D').test('prod'), 'the flag applies inside the group only');
  t.ok(compileRegex('(?i)PROD').test('prod'));
  t.ok(compileRegex('\\Q.*\\E').test('.*'));
  t.notOk(compileRegex('\\Q.*\\E').test('ab'));
  t.equal(compileRegex('(?P<x>a+)(b)?').exec('aa')!.groups!.x, 'aa');
  t.equal(compileRegex('(?P<x>a+)(b)?').exec('aa')![2], undefined);
});

t.test('regexes are anchored and . does not match a newline unless (?s)', async (t) => {
  t.notOk(compileRegex('foo|bar').test('foobar'));
  t.notOk(compileRegex('o+').test('foo'));
  t.notOk(compileRegex('a.b').test('a\nb'));
  t.ok(compileRegex('(?s)a.b').test('a\nb'));
});

t.test('what Go 1.19 refuses is refused, with its message', async (t) => {
  const cases: [string, string][] = [
    ['(?=x)', 'error parsing regexp: invalid or unsupported Perl syntax: `(?=`'],
    ['(?!x)', 'error parsing regexp: invalid or unsupported Perl syntax: `(?!`'],
    ['(a)\\1', 'error parsing regexp: invalid escape sequence: `\\1`'],
    ['(?<n>a)', 'error parsing regexp: invalid or unsupported Perl syntax: `(?<`'],
    ['(?<=a)b', 'error parsing regexp: invalid or unsupported Perl syntax: `(?<`'],
    ['a{1001}', 'error parsing regexp: invalid repeat count: `{1001}`'],
    ['(', 'error parsing regexp: missing closing ): `^(?:()$`'],
    ['\\C', 'error parsing regexp: invalid escape sequence: `\\C`'],
  ];
  for (const [src, message] of cases) {
    const err = thrown(() => compileRegex(src));
    t.ok(err instanceof RegexError, src);
    t.equal(err.message, message);
    t.equal(err.code, 'ERR_BAD_REGEX');
  }
  // (?< is literal inside a class or \Q...\E
  t.ok(compileRegex('[(?<]+').test('(?<'));
  t.ok(compileRegex('\\Q(?<\\E').test('(?<'));
  t.ok(compileRegex('\\(?<').test('(<'));
});

t.test('fast paths answer as RE2 does', async (t) => {
  const inputs = ['', 'foo', 'foobar', 'bar', 'fo', 'foo\nbar', '\n', 'x', 'xfoo', 'afoob', 'a\nfoo', 'foo\n', 'oo', 'é'];
  for (const src of ['.*', '.+', 'foo', 'foo|bar', 'foo.*', 'foo|bar|', '', '.*foo', '.*oo.*', '.*.*', '.*', 'é|x']) {
    const fast = compileRegex(src);
    // the same pattern in a form no fast path takes
    const slow = compileRegex(`(?:${src})`);
    for (const s of inputs) t.equal(fast.test(s), slow.test(s), `${src} on ${JSON.stringify(s)}`);
  }
});

t.test('a pattern valid only inside ^(?:...)$ is accepted, and says why it is not valid on its own', async (t) => {
  const re = compileRegex('a)|(b');
  t.ok(re.test('axyz'), '^(?:a)|(b)$ matches what starts with a');
  t.ok(re.test('xyzb'));
  t.notOk(re.test('xyz'));
  t.equal(re.standaloneError?.message, 'error parsing regexp: unexpected ): `a)|(b`');
  t.ok(new Matcher('=~', 'v', 'a)|(b').matches('axyz'), 'Alertmanager matchers compile only ^(?:...)$ too; the PromQL parser refuses it');
  t.equal(compileRegex('a|b').standaloneError, undefined);
});

t.test('each regex\'s DFA memory is bounded (re2js internals still as expected)', async (t) => {
  const re = RE2JS.compile('(a|b)*a(a|b){12}');
  boundDfaMemory(re);
  t.equal((re.re2() as unknown as { dfa: { maxMem: number } }).dfa.maxMem, DFA_MEMORY_BUDGET);
  // a DFA that blows its budget falls back to the NFA and still answers right, in linear time
  const bounded = compileRegex('(a|b)*a(a|b){12}');
  let s = '';
  for (let i = 0; i < 20_000; i++) s += (i * 7919) % 3 ? 'a' : 'b';
  const ms = timed(() => t.equal(bounded.test(s), s[s.length - 13] === 'a'));
  t.ok(ms < 3_000, `took ${ms.toFixed(0)} ms`);
});

t.test('an alternation of thousands of literals (a dashboard variable) costs no regex compile', async (t) => {
  const hosts = Array.from({ length: 100_000 }, (_, i) => `host${i}`);
  let re = compileRegex('x');
  const ms = timed(() => { re = compileRegex(hosts.join('|')); });
  t.ok(ms < 1_000, `took ${ms.toFixed(0)} ms`);
  t.ok(re.test('host77'));
  t.notOk(re.test('host77x'));
  t.equal(re.exec('host5')?.[0], 'host5', 'captures compile on demand');
});

t.test('compiled regexes are cached by source', async (t) => {
  t.equal(compileRegex('a(b|c)+'), compileRegex('a(b|c)+'));
  t.not(compileRegex('a(b|c)+'), compileSearchRegex('a(b|c)+'));
});

t.test('a matcher with a bad regex names the matcher; detail is Go\'s message', async (t) => {
  const err = thrown(() => new Matcher('=~', 'job', '(?=x)'));
  t.ok(err instanceof MatcherError);
  t.equal(err.code, 'ERR_BAD_MATCHER');
  t.equal(err.message, 'cannot compile regex matcher (job=~"(?=x)"): error parsing regexp: invalid or unsupported Perl syntax: `(?=`');
  t.equal(err.detail, 'error parsing regexp: invalid or unsupported Perl syntax: `(?=`');
  t.ok(new Matcher('!~', 'job', '(?i:PRO).*').matches('test'));
  t.notOk(new Matcher('!~', 'job', '(?i:PRO).*').matches('Prod'));
});

t.test('Go template expansion rules', async (t) => {
  const m = compileRegex('(?P<first>a)(b)').exec('ab')!;
  t.equal(expandTemplate('$1-$2', m), 'a-b');
  t.equal(expandTemplate('${1}x', m), 'ax');
  t.equal(expandTemplate('$1x', m), '', '$1x is ${1x}, an unknown group');
  t.equal(expandTemplate('$first/${first}', m), 'a/a');
  t.equal(expandTemplate('$$1', m), '$1');
  t.equal(expandTemplate('$9', m), '');
  t.equal(expandTemplate('cost: $', m), 'cost: $');
  t.equal(expandTemplate('${', m), '${');
});

t.test('replaceAll is Go\'s ReplaceAllString', async (t) => {
  t.equal(replaceAll(compileSearchRegex(':.*'), 'web-1:9100', ''), 'web-1');
  t.equal(replaceAll(compileSearchRegex('(\\w+)@(\\w+)'), 'a@b c@d', '$2 at ${1}'), 'b at a d at c');
  t.equal(replaceAll(compileSearchRegex('x*'), 'abc', '-'), '-a-b-c-');
  t.equal(replaceAll(compileSearchRegex('a*'), 'baaac', 'X'), 'XbXcX', 'an empty match abutting a match is ignored');
  t.ok(compileSearchRegex('b+').test('abbbc'), 'unanchored');
});
