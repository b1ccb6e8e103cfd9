import t from 'tap';
import { expandAlertTemplate } from './expand.js';
import { formatE, formatG, sprintf } from './gofmt.js';
import { Template } from './template.js';
import { humanize, humanize1024, humanizeDuration, humanizePercentage } from './template_funcs.js';

const data = { labels: { instance: 'web-1:9100', job: 'node', __name__: 'up' }, externalLabels: { cluster: 'eu' }, externalURL: 'http://hub', value: 0.12345 };
const x = (text: string, value = data.value) => expandAlertTemplate(text, 'T', { ...data, value });

t.test('labels, value and external labels in both spellings', async (t) => {
  t.equal(x('{{ $labels.instance }} {{ .Labels.job }} {{ $externalLabels.cluster }} {{ .ExternalLabels.cluster }}'), 'web-1:9100 node eu eu');
  t.equal(x('v={{ $value }} V={{ .Value }}'), 'v=0.12345 V=0.12345');
  t.equal(x('{{ $value }}', 1e6), '1e+06');
  t.equal(x('{{ $value }}', 123456), '123456');
  t.equal(x('[{{ $labels.missing }}]'), '[]', 'missing labels print empty');
  t.equal(x('{{ $externalURL }}'), 'http://hub');
  t.equal(x('no template'), 'no template');
});

t.test('pipelines and Prometheus functions', async (t) => {
  t.equal(x('{{ $value | humanize }}', 1234567), '1.235M');
  t.equal(x('{{ humanize $value }}', 0.00123), '1.23m');
  t.equal(x('{{ $value | humanize1024 }}', 1048576), '1Mi');
  t.equal(x('{{ $value | humanizeDuration }}', 90061), '1d 1h 1m 1s');
  t.equal(x('{{ $value | humanizeDuration }}', 0.25), '250ms');
  t.equal(x('{{ $value | humanizePercentage }}', 0.12345), '12.35%');
  t.equal(x('{{ printf "%.2f" $value }}'), '0.12');
  t.equal(x('{{ $value | printf "%.1f%%" }}', 99.44), '99.4%');
  t.equal(x('{{ printf "%s has %d cpus" $labels.instance 4 }}'), 'web-1:9100 has 4 cpus');
  t.equal(x('{{ $labels.job | toUpper }}'), 'NODE');
  t.equal(x('{{ reReplaceAll ":.*" "" $labels.instance }}'), 'web-1');
  t.equal(x('{{ $labels.instance | stripPort }}'), 'web-1');
  t.equal(x('{{ (printf "%.0f" $value) }}', 3.7), '4');
  t.equal(x('{{ "2" | humanize }}'), '2');
});

t.test('match and reReplaceAll are Go regexps: RE2, unanchored, Go replacement syntax', async (t) => {
  t.equal(x('{{ reReplaceAll "(\\\\w+)-(\\\\d+)" "${2}_$1" $labels.instance }}'), '1_web:9100');
  t.equal(x('{{ reReplaceAll "[[:digit:]]+" "N" $labels.instance }}'), 'web-N:N');
  t.equal(x('{{ reReplaceAll "(?i)WEB" "app" $labels.instance }}'), 'app-1:9100');
  t.equal(x('{{ if match "^web" $labels.instance }}y{{ else }}n{{ end }}'), 'y');
  t.equal(x('{{ if match "node|db" $labels.job }}y{{ else }}n{{ end }}'), 'y', 'unanchored, as Go');
  const started = Date.now();
  t.equal(expandAlertTemplate('{{ if match "(a+)+b" .Labels.long }}y{{ else }}n{{ end }}', 'T', { ...data, labels: { long: 'a'.repeat(50_000) } }), 'n');
  t.ok(Date.now() - started < 2_000, 'linear time');
  t.match(x('{{ match "(?=x)" $labels.job }}'), /error calling match: error parsing regexp: invalid or unsupported Perl syntax: `\(\?=`/);
});

t.test('if/else, comparisons, with, range, variables, trimming, comments', async (t) => {
  t.equal(x('{{ if gt $value 0.5 }}high{{ else if gt $value 0.1 }}mid{{ else }}low{{ end }}'), 'mid');
  t.equal(x('{{ if eq $labels.job "node" }}n{{ end }}'), 'n');
  t.equal(x('{{ if and (eq .Labels.job "node") (lt .Value 1.0) }}yes{{ end }}'), 'yes');
  t.equal(x('{{ if not (eq .Labels.job "node") }}x{{ else }}y{{ end }}'), 'y');
  t.equal(x('{{ with $labels.job }}job={{ . }}{{ end }}{{ with $labels.nope }}x{{ else }}none{{ end }}'), 'job=nodenone');
  t.equal(x('{{ range $k, $v := $labels }}{{ $k }}={{ $v }};{{ end }}'), '__name__=up;instance=web-1:9100;job=node;');
  t.equal(x('{{ $x := "a" }}{{ $x = "b" }}{{ $x }}'), 'b');
  t.equal(x('a  {{- /* note */ -}}  b {{- " c " -}} d'), 'ab c d');
  t.equal(x('{{ len $labels }}'), '3');
  t.equal(x('{{ index $labels "job" }}'), 'node');
});

t.test('errors expand to an error text instead of failing the alert', async (t) => {
  t.match(x('{{ nope $value }}'), /^<error expanding template: template: __alert_T: function "nope" not defined>$/);
  t.match(x('{{ if $value }}x'), /missing \{\{end\}\}/);
  t.match(x('{{ $labels.job'), /unclosed action/);
  t.throws(() => new Template('t', '{{ template "x" }}'), /not supported/);
});

t.test('Go number formatting', async (t) => {
  t.equal(formatG(0.1), '0.1');
  t.equal(formatG(1e21), '1e+21');
  t.equal(formatG(1e-5), '1e-05');
  t.equal(formatG(1234.5678, 4), '1235');
  t.equal(formatG(12345.6, 4), '1.235e+04');
  t.equal(formatG(1.5, 4), '1.5');
  t.equal(formatE(0), '0e+00');
  t.equal(formatE(1), '1e+00');
  t.equal(formatE(123.5), '1.235e+02');
  t.equal(formatE(-0.5), '-5e-01');
  t.equal(sprintf('%5.1f|%-4s|%03d|%v|%q', [3.14159, 'ab', 7, 2.5, 'x']), '  3.1|ab  |007|2.5|"x"');
  t.equal(sprintf('%d', [1.5]), '%!d(float64=1.5)');
  t.equal(humanize(0), '0');
  t.equal(humanize(-1500), '-1.5k');
  t.equal(humanize1024(512), '512');
  t.equal(humanizeDuration(59.5), '59.5s');
  t.equal(humanizeDuration(-3600), '-1h 0m 0s');
  t.equal(humanizePercentage(1), '100%');
});
