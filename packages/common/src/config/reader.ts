/**
 * A typed reader over a YAML mapping that knows the line of every key and value, so that
 * every configuration error names `file:line`. Agent, hub and rule-file configs are all
 * built on it: read each known field with the typed getter, then call `done()`, which
 * rejects the fields nobody read (Prometheus rejects unknown fields too).
 */
import { accessSync, constants } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument, type Document, type Node, type Pair, type YAMLMap } from 'yaml';
import { ConfigError } from '../errors.js';
import { parseDuration } from '../model/duration.js';
import { LABEL_NAME_RE } from '../model/labels.js';

/** One parsed YAML document plus what is needed to report positions and resolve paths. */
export class ConfigSource {
  readonly file: string | undefined;
  /** Directory that relative paths are resolved against (the config file's), if known. */
  readonly dir: string | undefined;
  private readonly lines: LineCounter;
  private readonly doc: Document.Parsed;

  private constructor(file: string | undefined, lines: LineCounter, doc: Document.Parsed) {
    this.file = file;
    this.dir = file === undefined ? undefined : dirname(resolve(file));
    this.lines = lines;
    this.doc = doc;
  }

  /**
   * Parses `text` as one YAML document and returns a reader over its top-level mapping
   * (an empty document reads as an empty mapping). YAML syntax errors become ConfigErrors.
   */
  static parse(text: string, file?: string): FieldReader {
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
    const src = new ConfigSource(file, lines, doc);
    const err = doc.errors[0];
    if (err) {
      const msg = err.message.split('\n')[0] ?? err.message;
      throw new ConfigError(`cannot parse YAML: ${msg}`, file, lines.linePos(err.pos[0]).line);
    }
    const root = src.deref(doc.contents);
    if (root === null || (isScalar(root) && root.value === null)) return new FieldReader(src, null, '', 1);
    if (!isMap(root)) throw src.error('the configuration must be a mapping of fields', root);
    return new FieldReader(src, root, '', src.lineOf(root));
  }

  /** 1-based line where `node` starts (1 when unknown). */
  lineOf(node: Node | null | undefined): number {
    const start = node?.range?.[0];
    return start === undefined ? 1 : this.lines.linePos(start).line;
  }

  error(message: string, node?: Node | null, line?: number): ConfigError {
    return new ConfigError(message, this.file, line ?? this.lineOf(node));
  }

  /** Resolves a path written in the file against the file's directory (unchanged without a file). */
  resolvePath(p: string): string {
    return this.dir === undefined ? p : resolve(this.dir, p);
  }

  deref(node: unknown): Node | null {
    if (node === null || node === undefined) return null;
    if (isAlias(node)) return (node.resolve(this.doc) as Node | undefined) ?? null;
    return node as Node;
  }
}

/** Where a value sits in the document: its node (for the line) and its dotted path (for messages). */
export class ValueReader {
  constructor(readonly src: ConfigSource, readonly node: Node, readonly path: string) {}

  get line(): number {
    return this.src.lineOf(this.node);
  }

  fail(message: string): never {
    throw this.error(message);
  }

  /** A ConfigError at this value's line (for `throw` where control flow must see it). */
  error(message: string): ConfigError {
    return this.src.error(message, this.node);
  }

  /** An absolute URL; `schemes` like `['http:', 'https:']`. */
  url(schemes: readonly string[]): URL {
    const text = this.string();
    let parsed: URL;
    try {
      parsed = new URL(text);
    } catch {
      throw this.error(`invalid URL "${text}" in ${this.path}`);
    }
    if (!schemes.includes(parsed.protocol)) throw this.error(`URL "${text}" in ${this.path} must use ${schemes.map((s) => s.replace(':', '://')).join(' or ')}`);
    if (parsed.host === '') throw this.error(`host is missing in URL "${text}" (${this.path})`);
    return parsed;
  }

  /** Any scalar as text (numbers and booleans keep their written form, as YAML 1.1 decoders do for strings). */
  string(): string {
    const n = this.node;
    if (!isScalar(n) || n.value === null) this.fail(`${this.path} must be a string`);
    if (typeof n.value === 'string') return n.value;
    return n.source ?? String(n.value);
  }

  bool(): boolean {
    const n = this.node;
    if (isScalar(n) && typeof n.value === 'boolean') return n.value;
    this.fail(`${this.path} must be true or false`);
  }

  number(): number {
    const n = this.node;
    if (isScalar(n) && typeof n.value === 'number' && Number.isFinite(n.value)) return n.value;
    this.fail(`${this.path} must be a number`);
  }

  /** Non-negative integer. */
  count(): number {
    const v = this.number();
    if (!Number.isInteger(v) || v < 0) this.fail(`${this.path} must be a non-negative integer, got ${v}`);
    return v;
  }

  /** A Prometheus duration (`15s`, `1h30m`) in milliseconds. */
  duration(): number {
    const text = this.string();
    try {
      return parseDuration(text);
    } catch {
      this.fail(`invalid duration "${text}" for ${this.path}: use a number with a unit (ms, s, m, h, d, w, y), e.g. 15s or 1h30m`);
    }
  }

  /** A size in bytes: a plain integer or a number with a unit (B, KB/KiB, MB/MiB, GB/GiB, TB/TiB, PB/PiB; powers of 1024). */
  size(): number {
    const text = this.string();
    const bytes = parseSize(text);
    if (bytes === undefined) this.fail(`invalid size "${text}" for ${this.path}: use bytes or a number with a unit, e.g. 512MiB or 1GB`);
    return bytes;
  }

  /** A path, resolved against the config file's directory. */
  filePath(): string {
    const p = this.string();
    if (p === '') this.fail(`${this.path} must not be empty`);
    return this.src.resolvePath(p);
  }

  /** A path (resolved like `filePath`) to a file that must exist and be readable now, as the program will read it. */
  existingFile(): string {
    const p = this.filePath();
    try {
      accessSync(p, constants.R_OK);
    } catch (err) {
      const key = this.path.slice(this.path.lastIndexOf('.') + 1);
      this.fail(`cannot read ${key} "${p}" (${this.path}): ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    return p;
  }

  labelName(): string {
    const v = this.string();
    if (!LABEL_NAME_RE.test(v)) this.fail(`"${v}" is not a valid label name (${this.path})`);
    return v;
  }

  map(): FieldReader {
    if (!isMap(this.node)) this.fail(`${this.path} must be a mapping`);
    return new FieldReader(this.src, this.node, this.path, this.line);
  }

  /** Elements of a sequence (null elements are refused). */
  list(): ValueReader[] {
    const n = this.node;
    if (!isSeq(n)) this.fail(`${this.path} must be a list`);
    return n.items.map((item, i) => {
      const node = this.src.deref(item);
      const path = `${this.path}[${i}]`;
      if (node === null || (isScalar(node) && node.value === null)) throw this.src.error(`${path} must not be empty`, this.node, this.lineOfItem(item));
      return new ValueReader(this.src, node, path);
    });
  }

  stringList(): string[] {
    return this.list().map((v) => v.string());
  }

  /** A mapping of strings to strings; with `labelNames`, keys must be valid label names. */
  stringMap(labelNames = false): Record<string, string> {
    const m = this.map();
    const out: Record<string, string> = {};
    for (const key of m.keys()) {
      if (labelNames && !LABEL_NAME_RE.test(key)) throw this.src.error(`"${key}" is not a valid label name (${this.path})`, null, m.keyLine(key));
      out[key] = m.get(key)?.string() ?? '';
    }
    m.done(true);
    return out;
  }

  /** The plain JavaScript value (for sections validated by their own owner). */
  toJS(): unknown {
    return (this.node as { toJSON(): unknown }).toJSON();
  }

  private lineOfItem(item: unknown): number {
    return this.src.lineOf(isScalar(item) ? item : this.node);
  }
}

/**
 * Reads the fields of one mapping. Each getter returns `undefined` when the key is absent
 * or null (so defaults apply); `done()` refuses any key that no getter asked for.
 */
export class FieldReader {
  private readonly pairs = new Map<string, Pair<Node, Node | null>>();
  private readonly seen = new Set<string>();

  constructor(readonly src: ConfigSource, node: YAMLMap | null, readonly path: string, readonly line: number) {
    if (node === null) return;
    for (const pair of node.items as Pair<Node, Node | null>[]) {
      const key = pair.key;
      if (!isScalar(key) || (typeof key.value !== 'string' && typeof key.value !== 'number' && typeof key.value !== 'boolean')) {
        throw src.error(`keys of ${path || 'the configuration'} must be strings`, key);
      }
      this.pairs.set(String(key.value), pair);
    }
  }

  keys(): string[] {
    return [...this.pairs.keys()];
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  /** Line of the key `key` (or of the mapping when absent). */
  keyLine(key: string): number {
    const pair = this.pairs.get(key);
    return pair ? this.src.lineOf(pair.key) : this.line;
  }

  /** Throws a ConfigError at the line of `key` (or of the mapping). */
  fail(message: string, key?: string): never {
    throw this.error(message, key);
  }

  error(message: string, key?: string): ConfigError {
    return this.src.error(message, null, key === undefined ? this.line : this.keyLine(key));
  }

  /** The value under `key`, or undefined when absent or null. Marks the key as known. */
  get(key: string): ValueReader | undefined {
    this.seen.add(key);
    const pair = this.pairs.get(key);
    if (!pair) return undefined;
    const node = this.src.deref(pair.value);
    if (node === null || (isScalar(node) && node.value === null)) return undefined;
    return new ValueReader(this.src, node, this.fieldPath(key));
  }

  /** Like `get`, but a missing value is an error. */
  require(key: string): ValueReader {
    const v = this.get(key);
    if (v === undefined) this.fail(`missing required field "${key}" in ${this.path || 'the configuration'}`, key);
    return v;
  }

  string(key: string): string | undefined { return this.get(key)?.string(); }
  bool(key: string): boolean | undefined { return this.get(key)?.bool(); }
  number(key: string): number | undefined { return this.get(key)?.number(); }
  count(key: string): number | undefined { return this.get(key)?.count(); }
  duration(key: string): number | undefined { return this.get(key)?.duration(); }
  size(key: string): number | undefined { return this.get(key)?.size(); }
  filePath(key: string): string | undefined { return this.get(key)?.filePath(); }
  existingFile(key: string): string | undefined { return this.get(key)?.existingFile(); }
  stringList(key: string): string[] | undefined { return this.get(key)?.stringList(); }
  map(key: string): FieldReader | undefined { return this.get(key)?.map(); }
  list(key: string): ValueReader[] | undefined { return this.get(key)?.list(); }

  /** Reads a list of mappings with `read`, each finished with `done()`. */
  maps<T>(key: string, read: (r: FieldReader) => T): T[] {
    const items = this.list(key) ?? [];
    return items.map((item) => {
      const r = item.map();
      const out = read(r);
      r.done();
      return out;
    });
  }

  /** One of `choices`, written as is. */
  oneOf<T extends string>(key: string, choices: readonly T[]): T | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    const s = v.string();
    if (!(choices as readonly string[]).includes(s)) v.fail(`invalid ${this.fieldPath(key)} "${s}": must be one of ${choices.join(', ')}`);
    return s as T;
  }

  /** Refuses the keys that were never read (unless `all` says every key was consumed). */
  done(all = false): void {
    if (all) return;
    for (const [key, pair] of this.pairs) {
      if (!this.seen.has(key)) throw this.src.error(`unknown field "${key}" in ${this.path || 'the configuration'}`, pair.key);
    }
  }

  fieldPath(key: string): string {
    return this.path === '' ? key : `${this.path}.${key}`;
  }
}

const SIZE_UNITS: Record<string, number> = {
  b: 1, kb: 1024, kib: 1024, mb: 1024 ** 2, mib: 1024 ** 2, gb: 1024 ** 3, gib: 1024 ** 3,
  tb: 1024 ** 4, tib: 1024 ** 4, pb: 1024 ** 5, pib: 1024 ** 5, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4,
};

/** Parses `512MB`, `1GiB`, `1048576` into bytes (units are powers of 1024, as Prometheus' size flags). */
export function parseSize(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  if (!m) return undefined;
  const unit = (m[2] ?? '').toLowerCase();
  const mult = unit === '' ? 1 : SIZE_UNITS[unit];
  if (mult === undefined) return undefined;
  const bytes = Number(m[1]) * mult;
  return Number.isFinite(bytes) ? Math.round(bytes) : undefined;
}
