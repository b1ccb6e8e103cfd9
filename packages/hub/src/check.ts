/**
 * `vigil-hub check-config FILE`: refuses exactly what starting the hub refuses. Besides the
 * config file itself (read as start reads it, flags applied), start reads the notifier's configuration (routes must name
 * defined receivers), every rule file its `rule_files` patterns name, and the TLS files; so does this.
 */
import { readFile } from 'node:fs/promises';
import type { HubConfig } from '@vigil/common';
import { parseNotifierConfig } from './notifier/config.js';
import { checkRuleFile } from './rules/file.js';
import { expandGlob } from './rules/manager.js';
import { parseExpr } from './promql/index.js';

/** Errors of a hub config file whose own fields were read into `config` (empty when it would start). */
export async function checkHubConfig(file: string, config: HubConfig): Promise<string[]> {
  const errors: string[] = [];
  try {
    parseNotifierConfig(await readFile(file, 'utf8'), file);
  } catch (err) {
    errors.push((err as Error).message);
  }
  for (const pattern of config.rule_files) {
    let paths: string[];
    try {
      paths = await expandGlob(pattern);
    } catch (err) {
      errors.push(`${file}: rule_files: ${(err as Error).message}`);
      continue;
    }
    for (const p of paths) errors.push(...(await checkRuleFile(p, (e) => void parseExpr(e))));
  }
  if (config.tls) {
    for (const [field, path] of [['cert_file', config.tls.cert_file], ['key_file', config.tls.key_file]] as const) {
      try {
        await readFile(path);
      } catch (err) {
        errors.push(`${file}: tls.${field}: cannot read "${path}": ${(err as Error).message}`);
      }
    }
  }
  return errors;
}
