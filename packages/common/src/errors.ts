/** Base class of Vigil's errors: each carries a stable `code`. */
export class VigilError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A position in a text input (1-based line and column). */
export interface Position {
  line: number;
  column: number;
}

/** Malformed text input (exposition format, PromQL, duration...), with its position. */
export class ParseError extends VigilError {
  readonly position: Position | undefined;
  constructor(message: string, position?: Position) {
    super('ERR_PARSE', position ? `${message} (line ${position.line}, column ${position.column})` : message);
    this.position = position;
  }
}

/** Invalid configuration: names the file and line. */
export class ConfigError extends VigilError {
  readonly file: string | undefined;
  readonly line: number | undefined;
  constructor(message: string, file?: string, line?: number) {
    super('ERR_CONFIG', file ? `${file}${line ? `:${line}` : ''}: ${message}` : message);
    this.file = file;
    this.line = line;
  }
}
