/**
 * A subset of Go's text/template, enough for the labels and annotations of real rule files:
 * text and `{{ }}` actions with `{{-`/`-}}` trimming and comments; pipelines with `|`;
 * fields (`.Labels.x`, `$labels.x`), variables (`$x := ...`, `$x = ...`), string, raw
 * string, number and boolean literals, parenthesised pipelines; `if`/`else if`/`else`,
 * `range` (over lists and maps, with `$i, $v :=`), `with`, `end`. Functions come from a
 * table (template_funcs.ts). Missing map keys print as the empty string (missingkey=zero,
 * as Prometheus sets).
 */
import { goString } from './gofmt.js';
import { TEMPLATE_FUNCS, truthy, type TemplateFunc } from './template_funcs.js';

export class TemplateError extends Error {
  readonly code = 'ERR_TEMPLATE';
}

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'action'; pipe: Pipeline }
  | { kind: 'if' | 'with'; pipe: Pipeline; body: Node[]; elseBody: Node[] }
  | { kind: 'range'; pipe: Pipeline; body: Node[]; elseBody: Node[] };

interface Pipeline {
  decl: string[];
  assign: boolean;
  cmds: Operand[][];
}

type Operand =
  | { kind: 'lit'; value: unknown }
  | { kind: 'field'; base: 'dot' | string; path: string[] }
  | { kind: 'func'; name: string }
  | { kind: 'pipe'; pipe: Pipeline };

// ---------- lexing ----------

type Token = { t: 'text'; v: string } | { t: 'action'; v: string; pos: number };

function splitActions(src: string, name: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  let trimNext = false;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    let text = open < 0 ? src.slice(i) : src.slice(i, open);
    if (trimNext) text = text.replace(/^\s+/, '');
    trimNext = false;
    if (open < 0) {
      if (text) out.push({ t: 'text', v: text });
      break;
    }
    let start = open + 2;
    if (src[start] === '-' && /\s/.test(src[start + 1] ?? '')) {
      text = text.replace(/\s+$/, '');
      start += 2;
    }
    if (text) out.push({ t: 'text', v: text });
    const close = findClose(src, start);
    if (close < 0) throw new TemplateError(`template: ${name}: unclosed action`);
    let end = close;
    if (src[close - 1] === '-' && /\s/.test(src[close - 2] ?? '')) {
      end = close - 2;
      trimNext = true;
    }
    const body = src.slice(start, end).trim();
    if (!(body.startsWith('/*') && body.endsWith('*/'))) out.push({ t: 'action', v: body, pos: open });
    i = close + 2;
  }
  return out;
}

/** Index of the `}}` closing an action that starts at `i`, skipping quoted strings. */
function findClose(src: string, i: number): number {
  while (i < src.length) {
    const c = src[i]!;
    if (c === '"' || c === "'") {
      i++;
      while (i < src.length && src[i] !== c) i += src[i] === '\\' ? 2 : 1;
      i++;
    } else if (c === '`') {
      i = src.indexOf('`', i + 1);
      if (i < 0) return -1;
      i++;
    } else if (c === '}' && src[i + 1] === '}') return i;
    else i++;
  }
  return -1;
}

type Word = { w: 'str' | 'num' | 'ident' | 'field' | 'var' | 'pipe' | 'lparen' | 'rparen' | 'decl' | 'assign' | 'comma'; v: string };

function lexAction(s: string, name: string): Word[] {
  const out: Word[] = [];
  let i = 0;
  const fail = (msg: string): never => { throw new TemplateError(`template: ${name}: ${msg} in action "${s}"`); };
  while (i < s.length) {
    const c = s[i]!;
    if (/\s/.test(c)) { i++; continue; }
    if (c === '|') { out.push({ w: 'pipe', v: c }); i++; continue; }
    if (c === '(') { out.push({ w: 'lparen', v: c }); i++; continue; }
    if (c === ')') { out.push({ w: 'rparen', v: c }); i++; continue; }
    if (c === ',') { out.push({ w: 'comma', v: c }); i++; continue; }
    if (c === ':' && s[i + 1] === '=') { out.push({ w: 'decl', v: ':=' }); i += 2; continue; }
    if (c === '=') { out.push({ w: 'assign', v: '=' }); i++; continue; }
    if (c === '"') {
      let j = i + 1;
      while (j < s.length && s[j] !== '"') j += s[j] === '\\' ? 2 : 1;
      if (j >= s.length) fail('unterminated quoted string');
      try {
        out.push({ w: 'str', v: JSON.parse(s.slice(i, j + 1).replace(/\\'/g, "'")) as string });
      } catch {
        fail(`bad string ${s.slice(i, j + 1)}`);
      }
      i = j + 1;
      continue;
    }
    if (c === '`') {
      const j = s.indexOf('`', i + 1);
      if (j < 0) fail('unterminated raw quoted string');
      out.push({ w: 'str', v: s.slice(i + 1, j) });
      i = j + 1;
      continue;
    }
    const m = /^(?:[+-]?(?:0x[0-9a-fA-F]+|\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?))/.exec(s.slice(i));
    if (m && (c !== '.' || /\d/.test(s[i + 1] ?? ''))) {
      out.push({ w: 'num', v: m[0] });
      i += m[0].length;
      continue;
    }
    const f = /^(?:\$[A-Za-z0-9_]*|\.?[A-Za-z_][A-Za-z0-9_]*)(?:\.[A-Za-z0-9_]+)*|^\./.exec(s.slice(i));
    if (f) {
      const v = f[0];
      out.push({ w: v.startsWith('$') ? 'var' : v.startsWith('.') ? 'field' : v.includes('.') ? 'field' : 'ident', v });
      i += v.length;
      continue;
    }
    fail(`unexpected "${c}"`);
  }
  return out;
}

// ---------- parsing ----------

class ActionParser {
  private i = 0;
  constructor(private readonly words: Word[], private readonly name: string, private readonly text: string) {}

  fail(msg: string): never {
    throw new TemplateError(`template: ${this.name}: ${msg} in action "${this.text}"`);
  }

  atEnd(): boolean {
    return this.i >= this.words.length;
  }

  pipeline(stopAtParen: boolean): Pipeline {
    const pipe: Pipeline = { decl: [], assign: false, cmds: [] };
    // Declarations: $x := or $i, $v :=
    const save = this.i;
    const vars: string[] = [];
    while (this.words[this.i]?.w === 'var') {
      vars.push(this.words[this.i]!.v);
      this.i++;
      if (this.words[this.i]?.w === 'comma') { this.i++; continue; }
      break;
    }
    const op = this.words[this.i];
    if (vars.length > 0 && (op?.w === 'decl' || op?.w === 'assign')) {
      pipe.decl = vars;
      pipe.assign = op.w === 'assign';
      this.i++;
    } else this.i = save;
    let cmd: Operand[] = [];
    for (;;) {
      const w = this.words[this.i];
      if (w === undefined || (w.w === 'rparen' && stopAtParen)) break;
      this.i++;
      switch (w.w) {
        case 'pipe':
          if (cmd.length === 0) this.fail('missing command before "|"');
          pipe.cmds.push(cmd);
          cmd = [];
          break;
        case 'str': cmd.push({ kind: 'lit', value: w.v }); break;
        case 'num': cmd.push({ kind: 'lit', value: Number(w.v) }); break;
        case 'lparen': {
          const inner = this.pipeline(true);
          if (this.words[this.i]?.w !== 'rparen') this.fail('unclosed left paren');
          this.i++;
          cmd.push({ kind: 'pipe', pipe: inner });
          break;
        }
        case 'var': {
          const [base, ...path] = w.v.split('.');
          cmd.push({ kind: 'field', base: base!, path });
          break;
        }
        case 'field': {
          const parts = w.v.split('.');
          if (parts[0] === '') parts.shift();
          cmd.push({ kind: 'field', base: 'dot', path: parts.filter((p) => p !== '') });
          break;
        }
        case 'ident':
          if (w.v === 'true' || w.v === 'false') cmd.push({ kind: 'lit', value: w.v === 'true' });
          else if (w.v === 'nil') cmd.push({ kind: 'lit', value: null });
          else cmd.push({ kind: 'func', name: w.v });
          break;
        default:
          this.fail(`unexpected "${w.v}"`);
      }
    }
    if (cmd.length === 0) this.fail(pipe.cmds.length ? 'missing command after "|"' : 'missing value');
    pipe.cmds.push(cmd);
    return pipe;
  }
}

function parsePipeline(text: string, name: string): Pipeline {
  const p = new ActionParser(lexAction(text, name), name, text);
  const pipe = p.pipeline(false);
  if (!p.atEnd()) p.fail('unexpected ")"');
  return pipe;
}

function parseNodes(tokens: Token[], name: string): Node[] {
  let i = 0;
  const parseList = (): { nodes: Node[]; stop: 'end' | 'else' | 'eof'; elseRest?: string } => {
    const nodes: Node[] = [];
    while (i < tokens.length) {
      const tok = tokens[i++]!;
      if (tok.t === 'text') { nodes.push({ kind: 'text', text: tok.v }); continue; }
      const [kw = '', rest = ''] = splitKeyword(tok.v);
      if (kw === 'end') return { nodes, stop: 'end' };
      if (kw === 'else') return { nodes, stop: 'else', elseRest: rest };
      if (kw === 'if' || kw === 'with' || kw === 'range') nodes.push(parseBlock(kw, rest));
      else if (kw === 'define' || kw === 'template' || kw === 'block') throw new TemplateError(`template: ${name}: "${kw}" is not supported`);
      else nodes.push({ kind: 'action', pipe: parsePipeline(tok.v, name) });
    }
    return { nodes, stop: 'eof' };
  };
  const parseBlock = (kind: 'if' | 'with' | 'range', cond: string): Node => {
    if (cond.trim() === '') throw new TemplateError(`template: ${name}: missing value for ${kind}`);
    const pipe = parsePipeline(cond, name);
    const body = parseList();
    let elseBody: Node[] = [];
    if (body.stop === 'eof') throw new TemplateError(`template: ${name}: unexpected EOF, missing {{end}} for ${kind}`);
    if (body.stop === 'else') {
      const [kw2 = '', rest2 = ''] = splitKeyword(body.elseRest ?? '');
      if (kw2 === 'if' || kw2 === 'with') {
        // `else if` chains share the outer `end`.
        elseBody = [parseBlock(kw2, rest2)];
      } else {
        const e = parseList();
        if (e.stop !== 'end') throw new TemplateError(`template: ${name}: missing {{end}} after {{else}}`);
        elseBody = e.nodes;
      }
    }
    return { kind, pipe, body: body.nodes, elseBody };
  };
  const top = parseList();
  if (top.stop !== 'eof') throw new TemplateError(`template: ${name}: unexpected {{${top.stop}}}`);
  return top.nodes;
}

function splitKeyword(action: string): [string, string] {
  const m = /^([A-Za-z]+)\b\s*([\s\S]*)$/.exec(action);
  if (!m) return ['', action];
  return [m[1]!, m[2]!];
}

// ---------- execution ----------

class Scope {
  private readonly vars: Map<string, unknown>[];
  constructor(root: Map<string, unknown>) {
    this.vars = [root];
  }
  push(): void { this.vars.push(new Map()); }
  pop(): void { this.vars.pop(); }
  declare(name: string, v: unknown): void { this.vars[this.vars.length - 1]!.set(name, v); }
  assign(name: string, v: unknown, tmpl: string): void {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i]!.has(name)) { this.vars[i]!.set(name, v); return; }
    throw new TemplateError(`template: ${tmpl}: undefined variable: ${name}`);
  }
  get(name: string, tmpl: string): unknown {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i]!.has(name)) return this.vars[i]!.get(name);
    throw new TemplateError(`template: ${tmpl}: undefined variable: ${name}`);
  }
}

/** A parsed template: `execute(data)` renders it; `vars` are predeclared variables ($labels...). */
export class Template {
  private readonly nodes: Node[];
  constructor(readonly name: string, readonly text: string, private readonly funcs: Record<string, TemplateFunc> = TEMPLATE_FUNCS) {
    this.nodes = parseNodes(splitActions(text, name), name);
  }

  execute(dot: unknown, vars: Record<string, unknown> = {}): string {
    const root = new Map<string, unknown>(Object.entries(vars));
    root.set('$', dot);
    const out: string[] = [];
    this.run(this.nodes, dot, new Scope(root), out);
    return out.join('');
  }

  private run(nodes: Node[], dot: unknown, scope: Scope, out: string[]): void {
    for (const n of nodes) {
      switch (n.kind) {
        case 'text': out.push(n.text); break;
        case 'action': {
          const v = this.pipe(n.pipe, dot, scope);
          if (n.pipe.decl.length === 0) out.push(printValue(v));
          break;
        }
        case 'if': case 'with': {
          scope.push();
          const v = this.pipe(n.pipe, dot, scope);
          if (truthy(v)) this.run(n.body, n.kind === 'with' ? v : dot, scope, out);
          else this.run(n.elseBody, dot, scope, out);
          scope.pop();
          break;
        }
        case 'range': {
          scope.push();
          const decl = n.pipe.decl;
          const v = this.pipe({ ...n.pipe, decl: [] }, dot, scope);
          const entries: [unknown, unknown][] = Array.isArray(v)
            ? v.map((x, i) => [i, x])
            : v !== null && typeof v === 'object'
              ? Object.keys(v).sort().map((k) => [k, (v as Record<string, unknown>)[k]])
              : typeof v === 'number' && Number.isInteger(v) ? Array.from({ length: v }, (_, i) => [i, i]) : [];
          if (v !== null && v !== undefined && typeof v !== 'object' && typeof v !== 'number') throw new TemplateError(`template: ${this.name}: range can't iterate over ${goString(v)}`);
          if (entries.length === 0) this.run(n.elseBody, dot, scope, out);
          for (const [k, x] of entries) {
            scope.push();
            if (decl.length === 1) scope.declare(decl[0]!, x);
            else if (decl.length === 2) { scope.declare(decl[0]!, k); scope.declare(decl[1]!, x); }
            this.run(n.body, x, scope, out);
            scope.pop();
          }
          scope.pop();
          break;
        }
      }
    }
  }

  private pipe(p: Pipeline, dot: unknown, scope: Scope): unknown {
    let value: unknown;
    let first = true;
    for (const cmd of p.cmds) {
      value = this.command(cmd, dot, scope, first ? undefined : { v: value });
      first = false;
    }
    for (const name of p.decl) {
      if (p.assign) scope.assign(name, value, this.name);
      else scope.declare(name, value);
    }
    return value;
  }

  private command(cmd: Operand[], dot: unknown, scope: Scope, piped: { v: unknown } | undefined): unknown {
    const head = cmd[0]!;
    if (head.kind === 'func') {
      const fn = this.funcs[head.name];
      if (!fn) throw new TemplateError(`template: ${this.name}: function "${head.name}" not defined`);
      const args = cmd.slice(1).map((o) => this.operand(o, dot, scope));
      if (piped) args.push(piped.v);
      try {
        return fn(...args);
      } catch (err) {
        if (err instanceof TemplateError) throw err;
        throw new TemplateError(`template: ${this.name}: error calling ${head.name}: ${(err as Error).message}`);
      }
    }
    if (cmd.length > 1 || piped) throw new TemplateError(`template: ${this.name}: can't give argument to non-function ${describe(head)}`);
    return this.operand(head, dot, scope);
  }

  private operand(o: Operand, dot: unknown, scope: Scope): unknown {
    switch (o.kind) {
      case 'lit': return o.value;
      case 'pipe': return this.pipe(o.pipe, dot, scope);
      case 'func': {
        const fn = this.funcs[o.name];
        if (!fn) throw new TemplateError(`template: ${this.name}: function "${o.name}" not defined`);
        return fn();
      }
      case 'field': {
        let v = o.base === 'dot' ? dot : scope.get(o.base, this.name);
        for (const key of o.path) {
          if (v === null || v === undefined) return '';
          if (typeof v !== 'object') throw new TemplateError(`template: ${this.name}: can't evaluate field ${key} in type ${typeof v}`);
          v = (v as Record<string, unknown>)[key];
          if (v === undefined) v = '';
        }
        return v;
      }
    }
  }
}

function describe(o: Operand): string {
  if (o.kind === 'field') return (o.base === 'dot' ? '.' : o.base) + o.path.join('.');
  if (o.kind === 'lit') return goString(o.value);
  return '(...)';
}

function printValue(v: unknown): string {
  return goString(v);
}

/** Checks that `text` parses (for rule validation). */
export function checkTemplate(text: string, name: string): void {
  new Template(name, text);
}
