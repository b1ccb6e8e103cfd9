import { LABEL_NAME_RE } from '../model/labels.js';
import { compileRegex } from '../model/regex.js';
import type { FieldReader } from './reader.js';
import type { RelabelAction, RelabelConfig } from './types.js';

export const RELABEL_ACTIONS: readonly RelabelAction[] = [
  'replace', 'keep', 'drop', 'keepequal', 'dropequal', 'hashmod', 'labelmap', 'labeldrop', 'labelkeep', 'lowercase', 'uppercase',
];

export function defaultRelabelConfig(): RelabelConfig {
  return { source_labels: [], separator: ';', target_label: '', regex: '(.*)', modulus: 0, replacement: '$1', action: 'replace' };
}

/** A target label that may contain `$1`/`${name}` references, as Prometheus accepts. */
const RELABEL_TARGET_RE = /^(?:(?:[a-zA-Z_]|\$(?:\{\w+\}|\w+))+\w*)+$/;

/** Reads and validates one relabel config with Prometheus' rules and error texts. */
export function readRelabelConfig(r: FieldReader): RelabelConfig {
  const c = defaultRelabelConfig();
  const src = r.get('source_labels');
  if (src) c.source_labels = src.list().map((v) => v.labelName());
  c.separator = r.string('separator') ?? c.separator;
  c.target_label = r.string('target_label') ?? c.target_label;
  const re = r.get('regex');
  if (re) {
    c.regex = re.string();
    try {
      compileRegex(c.regex);
    } catch (err) {
      re.fail(`invalid regex "${c.regex}" in ${re.path}: ${(err as Error).message}`);
    }
  }
  c.modulus = r.count('modulus') ?? 0;
  c.replacement = r.string('replacement') ?? c.replacement;
  const act = r.get('action');
  if (act) {
    const a = act.string().toLowerCase();
    if (a === '') act.fail('relabel action cannot be empty');
    if (!(RELABEL_ACTIONS as readonly string[]).includes(a)) act.fail(`unknown relabel action "${a}" (${act.path}): must be one of ${RELABEL_ACTIONS.join(', ')}`);
    c.action = a as RelabelAction;
  }

  const a = c.action;
  const at = (key: string) => (r.has(key) ? key : r.has('action') ? 'action' : undefined);
  if (a === 'hashmod' && c.modulus === 0) r.fail('relabel configuration for hashmod requires non-zero modulus', at('modulus'));
  const needsTarget = a === 'replace' || a === 'hashmod' || a === 'lowercase' || a === 'uppercase' || a === 'keepequal' || a === 'dropequal';
  if (needsTarget && c.target_label === '') r.fail(`relabel configuration for ${a} action requires 'target_label' value`, at('target_label'));
  if (needsTarget && a !== 'hashmod' && !RELABEL_TARGET_RE.test(c.target_label)) r.fail(`"${c.target_label}" is invalid 'target_label' for ${a} action`, 'target_label');
  if (a === 'hashmod' && !LABEL_NAME_RE.test(c.target_label)) r.fail(`"${c.target_label}" is invalid 'target_label' for ${a} action`, 'target_label');
  if ((a === 'lowercase' || a === 'uppercase' || a === 'keepequal' || a === 'dropequal') && c.replacement !== '$1') {
    r.fail(`'replacement' can not be set for ${a} action`, 'replacement');
  }
  if (a === 'labelmap' && !RELABEL_TARGET_RE.test(c.replacement)) r.fail(`"${c.replacement}" is invalid 'replacement' for ${a} action`, at('replacement'));
  if ((a === 'keepequal' || a === 'dropequal') && (r.has('regex') || r.has('modulus') || r.has('separator'))) {
    r.fail(`${a} action requires only 'source_labels' and 'target_label', and no other fields`, ['regex', 'modulus', 'separator'].find((k) => r.has(k)));
  }
  if ((a === 'labeldrop' || a === 'labelkeep') && (r.has('source_labels') || r.has('target_label') || r.has('modulus') || r.has('separator') || r.has('replacement'))) {
    r.fail(`${a} action requires only 'regex', and no other fields`, ['source_labels', 'target_label', 'modulus', 'separator', 'replacement'].find((k) => r.has(k)));
  }
  return c;
}
