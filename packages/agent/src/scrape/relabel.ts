import { createHash } from 'node:crypto';
import { compileRegex, expandTemplate, LABEL_NAME_RE, type Labels, type Regex, type RelabelConfig } from '@vigil/common';

/**
 * Prometheus relabeling (2.42 semantics): each config is applied in turn to the label set
 * produced by the previous one; a label set to the empty string is removed; `keep`/`drop`
 * (and their `*equal` forms) may drop the whole set, which `relabel` reports as `null`.
 */

/** A relabel config with its regex compiled once. */
interface CompiledRelabel {
  cfg: RelabelConfig;
  re: Regex;
}

const compiled = new WeakMap<RelabelConfig, CompiledRelabel>();

function compile(cfg: RelabelConfig): CompiledRelabel {
  let c = compiled.get(cfg);
  if (!c) {
    c = { cfg, re: compileRegex(cfg.regex) };
    compiled.set(cfg, c);
  }
  return c;
}

/** `hashmod`: the last 8 bytes of the MD5 of `value`, big-endian, modulo `modulus`. */
export function hashMod(value: string, modulus: number): number {
  const digest = createHash('md5').update(value).digest();
  return Number(digest.readBigUInt64BE(8) % BigInt(modulus));
}

/**
 * Applies `configs` to `labels` in order. Returns the new label set, or `null` when a
 * `keep`/`drop`/`keepequal`/`dropequal` step drops it. The input is never modified.
 */
export function relabel(labels: Labels, configs: readonly RelabelConfig[]): Labels | null {
  if (configs.length === 0) return labels;
  const lb: Record<string, string> = { ...labels };
  for (const cfg of configs) {
    if (!applyOne(lb, compile(cfg))) return null;
  }
  return lb;
}

function set(lb: Record<string, string>, name: string, value: string): void {
  if (value === '') delete lb[name];
  else lb[name] = value;
}

function applyOne(lb: Record<string, string>, c: CompiledRelabel): boolean {
  const { cfg, re } = c;
  let val = '';
  for (let i = 0; i < cfg.source_labels.length; i++) {
    if (i > 0) val += cfg.separator;
    val += lb[cfg.source_labels[i]!] ?? '';
  }
  switch (cfg.action) {
    case 'drop':
      return !re.test(val);
    case 'keep':
      return re.test(val);
    case 'dropequal':
      return (lb[cfg.target_label] ?? '') !== val;
    case 'keepequal':
      return (lb[cfg.target_label] ?? '') === val;
    case 'replace': {
      const m = re.exec(val);
      if (!m) return true;
      const target = expandTemplate(cfg.target_label, m);
      if (!LABEL_NAME_RE.test(target)) {
        delete lb[cfg.target_label];
        return true;
      }
      set(lb, target, expandTemplate(cfg.replacement, m));
      return true;
    }
    case 'lowercase':
      set(lb, cfg.target_label, val.toLowerCase());
      return true;
    case 'uppercase':
      set(lb, cfg.target_label, val.toUpperCase());
      return true;
    case 'hashmod':
      set(lb, cfg.target_label, String(hashMod(val, cfg.modulus)));
      return true;
    case 'labelmap': {
      const snapshot = Object.entries(lb);
      for (const [name, value] of snapshot) {
        const m = re.exec(name);
        if (!m) continue;
        set(lb, expandTemplate(cfg.replacement, m), value);
      }
      return true;
    }
    case 'labeldrop':
      for (const name of Object.keys(lb)) if (re.test(name)) delete lb[name];
      return true;
    case 'labelkeep':
      for (const name of Object.keys(lb)) if (!re.test(name)) delete lb[name];
      return true;
  }
}
