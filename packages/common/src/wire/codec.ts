/** msgpack envelope of link messages, with validation that names what is wrong. */
import { Packr } from 'msgpackr';
import { WireError } from './bytes.js';
import type { AgentMessage, HubMessage, Message } from './messages.js';
import { MAX_TIME_MS } from '../model/sample.js';

const packr = new Packr({ useRecords: false, moreTypes: false, bundleStrings: false });

export function encodeMessage(msg: Message): Uint8Array {
  return packr.pack(msg);
}

function isIntArray(x: unknown): x is number[] {
  if (!Array.isArray(x)) return false;
  for (const n of x) if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) return false;
  return true;
}

function unpackObject(buf: Uint8Array): Record<string, unknown> {
  let m: unknown;
  try {
    m = packr.unpack(buf);
  } catch (err) {
    throw new WireError(`cannot decode message (${buf.length} bytes): ${(err as Error).message}`);
  }
  if (typeof m !== 'object' || m === null || Array.isArray(m)) throw new WireError('cannot decode message: not a map');
  return m as Record<string, unknown>;
}

const num = (m: Record<string, unknown>, k: string): number => {
  const v = m[k];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new WireError(`cannot decode ${String(m.type)} message: field ${k} is not a number`);
  return v;
};


/** A non-negative safe integer field (`optional`: absent or null is fine). */
function count(m: Record<string, unknown>, k: string, optional = false): void {
  const v = m[k];
  if (optional && (v === undefined || v === null)) return;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new WireError(`cannot decode ${String(m.type)} message: field ${k} (${describe(v)}) is not a non-negative integer`);
  }
}

/** A time in ms since 1970 that a Date can hold (`optional`: absent or null is fine). */
function time(m: Record<string, unknown>, k: string, optional = false): void {
  const v = m[k];
  if (optional && (v === undefined || v === null)) return;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > MAX_TIME_MS) {
    throw new WireError(`cannot decode ${String(m.type)} message: field ${k} (${describe(v)}) is not a time in ms since 1970`);
  }
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '...' : v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return String(v);
  return Array.isArray(v) ? 'a list' : typeof v;
}

function isMetadata(x: unknown): boolean {
  if (typeof x !== 'object' || x === null) return false;
  const o = x as Record<string, unknown>;
  return typeof o.metric === 'string' && typeof o.type === 'string' && typeof o.help === 'string' && typeof o.unit === 'string';
}

/** Decodes and validates a message sent by an agent: every field, so that a bad one is a WireError, never a crash later. */
export function decodeAgentMessage(buf: Uint8Array): AgentMessage {
  const m = unpackObject(buf);
  switch (m.type) {
    case 'batch': {
      if (m.lane !== 0 && m.lane !== 1) throw new WireError('cannot decode batch: lane must be 0 or 1');
      if (m.reset !== undefined && typeof m.reset !== 'boolean') throw new WireError('cannot decode batch: reset must be true or false');
      if (!isIntArray(m.seqs) || m.seqs.length === 0) throw new WireError('cannot decode batch: seqs must be a non-empty list of integers');
      if (!(m.body instanceof Uint8Array)) throw new WireError('cannot decode batch: body is not binary');
      count(m, 'samples');
      return m as unknown as AgentMessage;
    }
    case 'series': {
      count(m, 'first');
      if (!Array.isArray(m.labels)) throw new WireError('cannot decode series: labels is not a list');
      for (const l of m.labels) {
        if (!Array.isArray(l) || l.length % 2 !== 0 || l.some((s) => typeof s !== 'string')) {
          throw new WireError('cannot decode series: a label set is not a flat list of name/value strings');
        }
      }
      return m as unknown as AgentMessage;
    }
    case 'hb':
      time(m, 't');
      time(m, 'oldest', true);
      time(m, 'newest', true);
      count(m, 'bufferedBytes', true);
      count(m, 'backlogBlocks', true);
      return m as unknown as AgentMessage;
    case 'meta':
      if (!Array.isArray(m.metadata) || !m.metadata.every(isMetadata)) {
        throw new WireError('cannot decode meta: metadata is not a list of {metric, type, help, unit} strings');
      }
      return m as unknown as AgentMessage;
    case 'targets':
      return m as unknown as AgentMessage;
    default:
      throw new WireError(`cannot decode message: unknown type ${describe(m.type)}`);
  }
}

/** Decodes and validates a message sent by the hub. Throws WireError. */
export function decodeHubMessage(buf: Uint8Array): HubMessage {
  const m = unpackObject(buf);
  switch (m.type) {
    case 'welcome':
      num(m, 'v');
      num(m, 'seriesKnown');
      if (!isIntArray(m.acked)) throw new WireError('cannot decode welcome: acked is not a list of integers');
      return m as unknown as HubMessage;
    case 'ack':
    case 'nack':
      if (!isIntArray(m.seqs)) throw new WireError(`cannot decode ${m.type}: seqs is not a list of integers`);
      return m as unknown as HubMessage;
    case 'hb':
      num(m, 't');
      return m as unknown as HubMessage;
    default:
      throw new WireError(`cannot decode message: unknown type ${JSON.stringify(m.type)}`);
  }
}
