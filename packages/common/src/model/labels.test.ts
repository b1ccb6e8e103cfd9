import t from 'tap';
import { labelsKey, formatSeries } from './labels.js';
import { Matcher, matchLabels } from './matchers.js';
import { parseDuration, formatDuration } from './duration.js';

t.test('labelsKey is order independent and ignores empty values', async (t) => {
  t.equal(labelsKey({ b: '2', a: '1' }), labelsKey({ a: '1', b: '2', c: '' }));
  t.equal(labelsKey({ a: 'x"y' }), 'a="x\\"y"');
});

t.test('formatSeries prints like Prometheus', async (t) => {
  t.equal(formatSeries({ __name__: 'up', job: 'node', instance: 'h:9100' }), 'up{instance="h:9100", job="node"}');
  t.equal(formatSeries({ __name__: 'up' }), 'up');
});

t.test('matchers are anchored and treat absent labels as empty', async (t) => {
  t.ok(new Matcher('=~', 'job', 'no.*').matches('node'));
  t.notOk(new Matcher('=~', 'job', 'od').matches('node'));
  t.ok(matchLabels([new Matcher('=', 'x', '')], { job: 'a' }));
  t.notOk(matchLabels([new Matcher('!~', 'job', 'a|b')], { job: 'a' }));
  t.throws(() => new Matcher('=~', 'a', '('));
});

t.test('durations', async (t) => {
  t.equal(parseDuration('1h30m'), 5_400_000);
  t.equal(parseDuration('36500d'), 36500 * 86_400_000);
  t.equal(parseDuration('250ms'), 250);
  t.equal(formatDuration(5_400_000), '1h30m');
  t.throws(() => parseDuration('5x'));
  t.throws(() => parseDuration(''));
});
