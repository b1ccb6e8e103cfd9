import { parseArgs } from 'node:util';
import { ConfigError } from './errors.js';

export interface CliOption {
  type: 'string' | 'boolean';
  description: string;
  /** Shown in the help text only; defaults are applied by the program. */
  default?: string;
}

export interface CliSpec {
  name: string;
  version: string;
  summary: string;
  options: Record<string, CliOption>;
  /** Sub-commands (`check-config F`), name → description. */
  commands?: Record<string, string>;
}

export type CliResult =
  | { kind: 'help'; text: string }
  | { kind: 'version'; text: string }
  | { kind: 'run'; command: string | undefined; args: string[]; values: Record<string, string | boolean | undefined> };

/** Parses argv the way every Vigil binary does: `--flag value`, `--flag=value`, `--help`, `--version`. */
export function parseCli(argv: readonly string[], spec: CliSpec): CliResult {
  const options: Record<string, { type: 'string' | 'boolean' }> = { help: { type: 'boolean' }, version: { type: 'boolean' } };
  for (const [k, o] of Object.entries(spec.options)) options[k] = { type: o.type };
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new ConfigError(`cannot parse command line of ${spec.name}: ${(err as Error).message} (see --help)`);
  }
  const { values, positionals } = parsed;
  if (values.help) return { kind: 'help', text: helpText(spec) };
  if (values.version) return { kind: 'version', text: `${spec.name} ${spec.version} (node ${process.version})` };
  const [command, ...args] = positionals;
  if (command !== undefined && !(spec.commands && command in spec.commands)) {
    throw new ConfigError(`unknown command "${command}" for ${spec.name} (see --help)`);
  }
  return { kind: 'run', command, args, values: values as Record<string, string | boolean | undefined> };
}

export function helpText(spec: CliSpec): string {
  const lines = [`${spec.name} ${spec.version}: ${spec.summary}`, '', `usage: ${spec.name} [options]${spec.commands ? ' [command args...]' : ''}`, '', 'options:'];
  const opts = Object.entries(spec.options);
  for (const [k, o] of opts) {
    const flag = o.type === 'string' ? `--${k} VALUE` : `--${k}`;
    lines.push(`  ${flag.padEnd(26)} ${o.description}${o.default ? ` (default ${o.default})` : ''}`);
  }
  lines.push(`  ${'--help'.padEnd(26)} show this help`, `  ${'--version'.padEnd(26)} show the version`);
  if (spec.commands) {
    lines.push('', 'commands:');
    for (const [k, d] of Object.entries(spec.commands)) lines.push(`  ${k.padEnd(26)} ${d}`);
  }
  return lines.join('\n') + '\n';
}
