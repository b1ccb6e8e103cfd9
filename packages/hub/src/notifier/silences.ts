import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Matcher, VigilError, matchLabels, type Labels } from '@vigil/common';

export interface SilenceMatcher {
  name: string;
  value: string;
  isRegex: boolean;
  isEqual: boolean;
}

export interface Silence {
  id: string;
  matchers: SilenceMatcher[];
  startsAt: number;
  endsAt: number;
  updatedAt: number;
  createdBy: string;
  comment: string;
}

export type SilenceState = 'expired' | 'active' | 'pending';

export class SilenceError extends VigilError {
  constructor(message: string, readonly status = 400) {
    super('ERR_SILENCE', message);
  }
}

export function toMatcher(m: SilenceMatcher): Matcher {
  const type = m.isRegex ? (m.isEqual ? '=~' : '!~') : m.isEqual ? '=' : '!=';
  return new Matcher(type, m.name, m.value);
}

/**
 * Silences, as Alertmanager keeps them: matchers (equal, regex, negative), a time range,
 * author and comment; expired ones are kept for `retentionMs` (5 days) and then dropped.
 * Persisted to a JSON file (written atomically on every change).
 */
export class Silences {
  private readonly byId = new Map<string, Silence>();
  private readonly compiled = new Map<string, Matcher[]>();

  constructor(private readonly file: string | undefined, private readonly now: () => number, private readonly retentionMs = 5 * 86_400_000) {
    if (!file) return;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return;
    }
    const data = JSON.parse(text) as { silences: Silence[] };
    for (const s of data.silences ?? []) this.byId.set(s.id, s);
  }

  state(s: Silence, now = this.now()): SilenceState {
    if (s.endsAt <= now) return 'expired';
    if (s.startsAt > now) return 'pending';
    return 'active';
  }

  list(): Silence[] {
    this.gc();
    return [...this.byId.values()];
  }

  get(id: string): Silence | undefined {
    return this.byId.get(id);
  }

  /**
   * Creates a silence, or updates `input.id`: an active silence whose matchers or start change
   * is expired and replaced by a new one (Alertmanager's rule); returns the id.
   */
  set(input: Omit<Silence, 'id' | 'updatedAt'> & { id?: string }): string {
    const now = this.now();
    if (input.matchers.length === 0) throw new SilenceError('silence must have at least one matcher');
    for (const m of input.matchers) {
      if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(m.name)) throw new SilenceError(`invalid label name "${m.name}"`);
      try {
        toMatcher(m);
      } catch (err) {
        throw new SilenceError((err as Error).message);
      }
    }
    if (input.matchers.every((m) => toMatcher(m).matches(''))) throw new SilenceError('at least one matcher must not match the empty string');
    if (!(input.endsAt > input.startsAt)) throw new SilenceError('end time must not be before start time');
    if (input.endsAt <= now) throw new SilenceError('end time can\'t be in the past');
    let id = input.id;
    if (id) {
      const old = this.byId.get(id);
      if (!old) throw new SilenceError(`silence ${id} not found`, 404);
      const st = this.state(old, now);
      if (st === 'expired') throw new SilenceError(`silence ${id} is expired and cannot be updated`);
      const sameMatchers = JSON.stringify(old.matchers) === JSON.stringify(input.matchers);
      if (st === 'active' && (!sameMatchers || input.startsAt !== old.startsAt)) {
        old.endsAt = now;
        old.updatedAt = now;
        id = undefined;
      }
    }
    const s: Silence = {
      id: id ?? randomUUID(),
      matchers: input.matchers.map((m) => ({ name: m.name, value: m.value, isRegex: m.isRegex, isEqual: m.isEqual })),
      startsAt: id === undefined && input.startsAt < now ? now : input.startsAt,
      endsAt: input.endsAt,
      updatedAt: now,
      createdBy: input.createdBy,
      comment: input.comment,
    };
    this.byId.set(s.id, s);
    this.compiled.delete(s.id);
    this.save();
    return s.id;
  }

  /** Expires a silence now (DELETE). */
  expire(id: string): void {
    const s = this.byId.get(id);
    if (!s) throw new SilenceError(`silence ${id} not found`, 404);
    const now = this.now();
    if (this.state(s, now) === 'expired') throw new SilenceError(`silence ${id} already expired`);
    if (s.startsAt > now) s.startsAt = now;
    s.endsAt = now;
    s.updatedAt = now;
    this.save();
  }

  /** Ids of the active silences that match `labels`. */
  silencedBy(labels: Labels): string[] {
    const now = this.now();
    const out: string[] = [];
    for (const s of this.byId.values()) {
      if (this.state(s, now) !== 'active') continue;
      let ms = this.compiled.get(s.id);
      if (!ms) {
        ms = s.matchers.map(toMatcher);
        this.compiled.set(s.id, ms);
      }
      if (matchLabels(ms, labels)) out.push(s.id);
    }
    return out.sort();
  }

  private gc(): void {
    const now = this.now();
    let changed = false;
    for (const [id, s] of this.byId) {
      if (s.endsAt + this.retentionMs < now) {
        this.byId.delete(id);
        changed = true;
      }
    }
    if (changed) this.save();
  }

  private save(): void {
    if (!this.file) return;
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify({ silences: [...this.byId.values()] }, null, 1));
    renameSync(tmp, this.file);
  }
}
