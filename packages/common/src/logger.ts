import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

export interface LoggerOptions {
  level?: LevelWithSilent;
  /** Name of the program (`vigil-hub`, ...), bound once on the root logger. */
  name?: string;
  /** Where to write; defaults to stdout. Tests pass a stream or use level `silent`. */
  destination?: NodeJS.WritableStream;
}

/** The root logger of a program; components take `root.child({ component: 'x' })`. */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const base = { name: opts.name };
  const level = opts.level ?? 'info';
  return opts.destination
    ? pino({ level, base, timestamp: pino.stdTimeFunctions.isoTime }, opts.destination as never)
    : pino({ level, base, timestamp: pino.stdTimeFunctions.isoTime });
}

/** A logger that drops everything: the default for libraries used without one. */
export const silentLogger: Logger = pino({ level: 'silent' });
