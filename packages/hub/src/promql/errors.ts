import { VigilError } from '@vigil/common';

/** A PromQL syntax or type error, worded as Prometheus words it: `1:5: parse error: <what>`. */
export class PromQLParseError extends VigilError {
  readonly line: number;
  readonly column: number;
  /** Byte offset in the query. */
  readonly offset: number;
  readonly detail: string;
  constructor(detail: string, query: string, offset: number) {
    let line = 1;
    let lastBreak = -1;
    const pos = Math.max(0, Math.min(offset, query.length));
    for (let i = 0; i < pos; i++) if (query[i] === '\n') { line++; lastBreak = i; }
    const column = pos - lastBreak;
    super('ERR_PROMQL_PARSE', `${line}:${column}: parse error: ${detail}`);
    this.line = line;
    this.column = column;
    this.offset = pos;
    this.detail = detail;
  }
}

/** A query that parsed but cannot be evaluated (duplicate series in a match group, bad regex...). */
export class QueryExecutionError extends VigilError {
  constructor(message: string) {
    super('ERR_PROMQL_EXECUTION', message);
  }
}

/** The query ran past its timeout. */
export class QueryTimeoutError extends VigilError {
  constructor(phase: string) {
    super('ERR_PROMQL_TIMEOUT', `query timed out in ${phase}`);
  }
}

/** The query was canceled by its caller (the client went away). */
export class QueryCanceledError extends VigilError {
  constructor(phase: string) {
    super('ERR_PROMQL_CANCELED', `query was canceled in ${phase}`);
  }
}

/** The query would hold more samples in memory than allowed. */
export class TooManySamplesError extends VigilError {
  constructor() {
    super('ERR_PROMQL_TOO_MANY_SAMPLES', 'query processing would load too many samples into memory in query execution');
  }
}

/** A bad request parameter (time, step, match[]...), worded like Prometheus: `invalid parameter "x": ...`. */
export class BadParameterError extends VigilError {
  constructor(message: string) {
    super('ERR_BAD_PARAMETER', message);
  }
}
