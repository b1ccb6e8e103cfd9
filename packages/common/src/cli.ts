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

/**
 * Waits for SIGTERM or SIGINT, then runs `stop` once (flush, close) and resolves; SIGHUP runs `reload`
 * (errors are logged and the old configuration stays). Every Vigil program ends its `main` with this.
 */
export function runUntilSignal(opts: {
  logger: { info(obj: object, msg: string): void; error(obj: object, msg: string): void };
  stopMessage: string;
  stop: () => Promise<void>;
  reload?: () => Promise<void>;
  /**
   * A stop that has not finished after this long exits the process anyway (default 30 s); a signal
   * that comes at least 2 s after the first exits at once (the first seconds are left alone: Ctrl-C
   * reaches a whole process group, and a launcher such as `npm start` forwards its own SIGTERM).
   */
  graceMs?: number;
}): Promise<void> {
  const graceMs = opts.graceMs ?? 30_000;
  return new Promise<void>((done) => {
    let stoppingSince = 0;
    const stop = async (signal: string) => {
      if (stoppingSince > 0) {
        if (Date.now() - stoppingSince < 2000) return;
        opts.logger.error({ signal }, 'another signal while stopping: exiting now');
        process.exit(1);
      }
      stoppingSince = Date.now();
      opts.logger.info({ signal, graceMs }, opts.stopMessage);
      // Every acknowledged sample is in the write-ahead log already: exiting at the bound loses nothing.
      const bound = setTimeout(() => {
        opts.logger.error({ graceMs }, 'graceful stop did not finish in time: exiting; the next start replays the log');
        process.exit(1);
      }, graceMs);
      bound.unref();
      try {
        await opts.stop();
        opts.logger.info({}, 'stopped');
      } catch (err) {
        opts.logger.error({ err }, 'error while stopping');
      }
      clearTimeout(bound);
      done();
    };
    process.on('SIGTERM', () => void stop('SIGTERM'));
    process.on('SIGINT', () => void stop('SIGINT'));
    const reload = opts.reload;
    if (reload) process.on('SIGHUP', () => void reload().catch((err: Error) => opts.logger.error({ err }, 'reload failed, keeping the old configuration')));
  });
}

/**
 * The `check-config`/`check-rules` commands: validates each file, prints `FILE: SUCCESS` or its errors
 * (`file:line: reason`), and returns the exit code (0 all valid, 1 otherwise).
 */
export async function checkFiles(
  program: string, usage: string, files: readonly string[], validate: (file: string) => Promise<string[]>,
  out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr,
): Promise<number> {
  if (files.length === 0) {
    err.write(`usage: ${program} ${usage}\n`);
    return 1;
  }
  let bad = 0;
  for (const f of files) {
    let errors: string[];
    try {
      errors = await validate(f);
    } catch (e) {
      errors = [(e as Error).message];
    }
    if (errors.length === 0) out.write(`${f}: SUCCESS\n`);
    else {
      bad++;
      for (const e of errors) out.write(`${e}\n`);
    }
  }
  return bad ? 1 : 0;
}
