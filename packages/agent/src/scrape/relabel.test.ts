import t from 'tap';
import type { RelabelConfig } from '@vigil/common';
import { relabel } from './relabel.js';

/** A relabel config with Prometheus' defaults, overridden by `c`. */
function rc(c: Partial<RelabelConfig>): RelabelConfig {
  return { source_labels: [], separator: ';', target_label: '', regex: '(.*)', modulus: 0, replacement: '$1', action: 'replace', ...c };
}

const base = { a: 'foo', b: 'bar', c: 'baz' };

t.test('replace with a capture group into a new label', async (t) => {
  t.same(relabel(base, [rc({ source_labels: ['a'], regex: 'f(.*)', target_label: 'd', replacement: 'ch${1}-ch${1}' })]),
    { ...base, d: 'choo-choo' });
});

t.test('replace joins source labels with the separator and is anchored', async (t) => {
  t.same(relabel(base, [rc({ source_labels: ['a', 'b'], regex: 'f(.*);(.*)r', target_label: 'a', replacement: 'b${1}${2}m' })]),
    { a: 'boobam', b: 'bar', c: 'baz' });
  // Unanchored this would match "oo": anchored it does not, so nothing changes.
  t.same(relabel(base, [rc({ source_labels: ['a'], regex: 'o+', target_label: 'x', replacement: 'y' })]), base);
});

t.test('replace with no match leaves the set alone; an empty result deletes the target', async (t) => {
  t.same(relabel(base, [rc({ source_labels: ['a'], regex: 'nomatch', target_label: 'a', replacement: 'x' })]), base);
  t.same(relabel(base, [rc({ source_labels: ['a'], regex: 'foo', target_label: 'b', replacement: '' })]), { a: 'foo', c: 'baz' });
  // Missing source label reads as empty: `(.*)` matches "" and `$1` is empty, so the target is deleted.
  t.same(relabel(base, [rc({ source_labels: ['missing'], target_label: 'a' })]), { b: 'bar', c: 'baz' });
});

t.test('replace expands the target label and drops it when invalid', async (t) => {
  t.same(relabel(base, [rc({ source_labels: ['a'], regex: '(f)(.*)', target_label: '${1}_${2}', replacement: 'v' })]), { ...base, f_oo: 'v' });
  t.same(relabel({ a: 'some-name-value' }, [rc({ source_labels: ['a'], regex: 'some-([^-]+)-([^,]+)', target_label: '${1}', replacement: '${2}' })]),
    { a: 'some-name-value', name: 'value' });
  // "1bad" is not a valid label name: Prometheus deletes the configured target label instead.
  t.same(relabel({ a: '1bad', z: 'keep' }, [rc({ source_labels: ['a'], target_label: '$1', replacement: 'x' })]), { a: '1bad', z: 'keep' });
});

t.test('regexes are RE2: named groups, inline flags, POSIX and Unicode classes', async (t) => {
  t.same(relabel({ a: 'aaa' }, [rc({ source_labels: ['a'], regex: '(?P<x>a+)', target_label: 'b', replacement: '${x}!' })]), { a: 'aaa', b: 'aaa!' });
  t.same(relabel({ a: 'foo' }, [rc({ source_labels: ['a'], regex: '(?i)FOO', action: 'keep' })]), { a: 'foo' });
  t.equal(relabel({ a: 'foobar' }, [rc({ source_labels: ['a'], regex: 'foo|bar', action: 'keep' })]), null);
  t.same(relabel({ a: 'Prod' }, [rc({ source_labels: ['a'], regex: '[[:alpha:]]+', action: 'keep' })]), { a: 'Prod' });
  t.same(relabel({ a: 'héllo' }, [rc({ source_labels: ['a'], regex: '\\pL+', action: 'keep' })]), { a: 'héllo' });
  t.equal(relabel({ a: 'héllo' }, [rc({ source_labels: ['a'], regex: '[[:alpha:]]+', action: 'keep' })]), null, 'POSIX classes are ASCII, as in RE2');
});

t.test('a backtracking-prone regex relabels in linear time', async (t) => {
  const value = 'a'.repeat(50_000);
  const started = performance.now();
  t.same(relabel({ a: value }, [rc({ source_labels: ['a'], regex: '(a+)+b', action: 'drop' })]), { a: value });
  t.same(relabel({ a: value }, [rc({ source_labels: ['a'], regex: '(.*)*x', action: 'drop' })]), { a: value });
  t.ok(performance.now() - started < 2_000, 'answers in well under a second or two, not exponential time');
});

t.test('keep and drop', async (t) => {
  t.same(relabel(base, [rc({ source_labels: ['a'], regex: 'f.*', action: 'keep' })]), base);
  t.equal(relabel(base, [rc({ source_labels: ['a'], regex: 'f', action: 'keep' })]), null);
  t.equal(relabel(base, [rc({ source_labels: ['a'], regex: 'f.*', action: 'drop' })]), null);
  t.same(relabel(base, [rc({ source_labels: ['a'], regex: 'f', action: 'drop' })]), base);
  // A missing label is the empty string: `keep` with the default regex keeps it.
  t.same(relabel(base, [rc({ source_labels: ['nope'], regex: '', action: 'keep' })]), base);
});

t.test('keepequal and dropequal compare the joined sources to the target label', async (t) => {
  const l = { a: 'foo', b: 'foo', c: 'bar' };
  t.same(relabel(l, [rc({ source_labels: ['a'], target_label: 'b', action: 'keepequal' })]), l);
  t.equal(relabel(l, [rc({ source_labels: ['a'], target_label: 'c', action: 'keepequal' })]), null);
  t.equal(relabel(l, [rc({ source_labels: ['a'], target_label: 'b', action: 'dropequal' })]), null);
  t.same(relabel(l, [rc({ source_labels: ['a'], target_label: 'c', action: 'dropequal' })]), l);
});

t.test('hashmod takes the MD5 tail modulo', async (t) => {
  t.same(relabel(base, [rc({ source_labels: ['c'], target_label: 'd', modulus: 1000, action: 'hashmod' })]), { ...base, d: '976' });
  t.same(relabel(base, [rc({ source_labels: ['a', 'b'], target_label: 'd', modulus: 1000, action: 'hashmod' })]), { ...base, d: '750' });
});

t.test('labelmap copies matching names with the replacement', async (t) => {
  const l = { __meta_kubernetes_pod_label_app: 'web', __meta_kubernetes_pod_label_tier: 'front', job: 'x' };
  t.same(relabel(l, [rc({ regex: '__meta_kubernetes_pod_label_(.+)', action: 'labelmap' })]),
    { ...l, app: 'web', tier: 'front' });
  t.same(relabel({ a: 'foo', b: 'bar' }, [rc({ regex: '(b)', replacement: '${1}_copy', action: 'labelmap' })]),
    { a: 'foo', b: 'bar', b_copy: 'bar' });
});

t.test('labeldrop and labelkeep match label names', async (t) => {
  t.same(relabel(base, [rc({ regex: '[ab]', action: 'labeldrop' })]), { c: 'baz' });
  t.same(relabel(base, [rc({ regex: '[ab]', action: 'labelkeep' })]), { a: 'foo', b: 'bar' });
  t.same(relabel(base, [rc({ regex: 'a|b', action: 'labelkeep' }), rc({ regex: 'b', action: 'labeldrop' })]), { a: 'foo' });
});

t.test('lowercase and uppercase', async (t) => {
  const l = { foo: 'bAr123Foo', bar: 'x' };
  t.same(relabel(l, [rc({ source_labels: ['foo'], target_label: 'lc', action: 'lowercase' })]), { ...l, lc: 'bar123foo' });
  t.same(relabel(l, [rc({ source_labels: ['foo', 'bar'], target_label: 'uc', action: 'uppercase' })]), { ...l, uc: 'BAR123FOO;X' });
});

t.test('steps see the result of the previous ones and the input is untouched', async (t) => {
  const l = { __address__: 'host:9100', __meta_env: 'prod' };
  const out = relabel(l, [
    rc({ source_labels: ['__meta_env'], target_label: 'env' }),
    rc({ source_labels: ['env'], regex: 'prod', action: 'keep' }),
    rc({ source_labels: ['__address__'], regex: '([^:]+):.*', target_label: '__tmp_host' }),
    rc({ source_labels: ['__tmp_host'], target_label: 'host' }),
  ]);
  t.same(out, { __address__: 'host:9100', __meta_env: 'prod', env: 'prod', __tmp_host: 'host', host: 'host' });
  t.same(l, { __address__: 'host:9100', __meta_env: 'prod' });
  t.equal(relabel(l, []), l);
});
