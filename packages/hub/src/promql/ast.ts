import type { Matcher } from '@vigil/common';

/** PromQL value types, as the parser checks them. */
export type ValueType = 'scalar' | 'vector' | 'matrix' | 'string';

/** Byte offsets of a node in the query text. */
export interface PosRange {
  start: number;
  end: number;
}

export type AggregateOp =
  | 'sum' | 'min' | 'max' | 'avg' | 'group' | 'stddev' | 'stdvar' | 'count'
  | 'count_values' | 'bottomk' | 'topk' | 'quantile';

export type ArithOp = '+' | '-' | '*' | '/' | '%' | '^' | 'atan2';
export type CompareOp = '==' | '!=' | '>' | '<' | '>=' | '<=';
export type SetOp = 'and' | 'or' | 'unless';
export type BinaryOp = ArithOp | CompareOp | SetOp;

/** `@ <ts>` (ms), `@ start()` or `@ end()`. */
export type AtModifier = { kind: 'time'; ms: number } | { kind: 'start' } | { kind: 'end' };

export interface VectorMatching {
  card: 'one-to-one' | 'many-to-one' | 'one-to-many' | 'many-to-many';
  /** Labels of on()/ignoring(); `on` says which of the two. */
  labels: string[];
  on: boolean;
  /** True when on()/ignoring() was written (even empty). */
  explicit: boolean;
  /** group_left/group_right extra labels. */
  include: string[];
}

export interface NumberLiteral { type: 'number'; value: number; pos: PosRange }
export interface StringLiteral { type: 'string'; value: string; pos: PosRange }

export interface VectorSelector {
  type: 'vector';
  name: string;
  matchers: Matcher[];
  /** ms, may be negative. */
  offset: number;
  at: AtModifier | null;
  pos: PosRange;
}

export interface MatrixSelector {
  type: 'matrix';
  vector: VectorSelector;
  rangeMs: number;
  pos: PosRange;
}

export interface SubqueryExpr {
  type: 'subquery';
  expr: Expr;
  rangeMs: number;
  /** 0 = the default evaluation interval. */
  stepMs: number;
  offset: number;
  at: AtModifier | null;
  pos: PosRange;
}

export interface Call {
  type: 'call';
  func: string;
  args: Expr[];
  pos: PosRange;
}

export interface AggregateExpr {
  type: 'aggregate';
  op: AggregateOp;
  expr: Expr;
  param: Expr | null;
  grouping: string[];
  without: boolean;
  /** by/without written (even empty), so the printer can round-trip. */
  hasGrouping: boolean;
  pos: PosRange;
}

export interface BinaryExpr {
  type: 'binary';
  op: BinaryOp;
  lhs: Expr;
  rhs: Expr;
  returnBool: boolean;
  matching: VectorMatching | null;
  pos: PosRange;
}

export interface UnaryExpr { type: 'unary'; op: '-' | '+'; expr: Expr; pos: PosRange }
export interface ParenExpr { type: 'paren'; expr: Expr; pos: PosRange }

export type Expr =
  | NumberLiteral | StringLiteral | VectorSelector | MatrixSelector | SubqueryExpr
  | Call | AggregateExpr | BinaryExpr | UnaryExpr | ParenExpr;

export const AGGREGATE_OPS: ReadonlySet<string> = new Set<AggregateOp>([
  'sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values', 'bottomk', 'topk', 'quantile',
]);

export function isComparison(op: BinaryOp): op is CompareOp {
  return op === '==' || op === '!=' || op === '>' || op === '<' || op === '>=' || op === '<=';
}

export function isSetOp(op: BinaryOp): op is SetOp {
  return op === 'and' || op === 'or' || op === 'unless';
}
