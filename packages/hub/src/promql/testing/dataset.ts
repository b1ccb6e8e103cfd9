// Loads a dataset in the import format (`name{labels} value [timestamp_ms]`, one sample a line) into a MemQueryable.
import type { Labels } from '@vigil/common';
import { MemQueryable } from './memory.js';

function parseValue(s: string): number {
  switch (s) {
    case 'NaN': return NaN;
    case '+Inf': case 'Inf': return Infinity;
    case '-Inf': return -Infinity;
    default: return Number(s);
  }
}

/** Parses one import line; returns null for blank and comment lines. */
export function parseImportLine(line: string): { labels: Labels; v: number; t: number | null } | null {
  if (line === '' || line.startsWith('#')) return null;
  let i = 0;
  while (i < line.length && line[i] !== '{' && line[i] !== ' ') i++;
  const labels: Record<string, string> = {};
  if (i > 0) labels.__name__ = line.slice(0, i);
  if (line[i] === '{') {
    i++;
    while (line[i] !== '}') {
      if (line[i] === ',' || line[i] === ' ') { i++; continue; }
      const eq = line.indexOf('=', i);
      const name = line.slice(i, eq).trim();
      i = eq + 2; // skip ="
      let val = '';
      while (line[i] !== '"') {
        if (line[i] === '\\') {
          const e = line[i + 1];
          val += e === 'n' ? '\n' : e;
          i += 2;
        } else val += line[i++];
      }
      i++;
      labels[name] = val;
    }
    i++;
  }
  const rest = line.slice(i).trim().split(/\s+/);
  return { labels, v: parseValue(rest[0]!), t: rest[1] !== undefined ? Number(rest[1]) : null };
}

export function loadImportText(text: string, into = new MemQueryable()): MemQueryable {
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const s = parseImportLine(text.slice(start, end));
    if (s && s.t !== null) into.add(s.labels, s.t, s.v);
    start = end + 1;
  }
  return into;
}
