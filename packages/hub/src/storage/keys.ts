/**
 * LevelDB key layout (docs/storage.md). Every key starts with a one-byte kind:
 *   's' id:u32be                                   → series labels (JSON)
 *   'p' name 0x00 value 0x00 id:u32be              → empty (postings: label pair → series id)
 *   'c' id:u32be maxT:i64be minT:i64be count:u32be → encoded chunk (sorted per series by maxT)
 *   'm' metric                                     → metadata JSON
 *   'x' name                                       → store-wide state (JSON)
 */
export const KIND_SERIES = 0x73; // s
export const KIND_POSTING = 0x70; // p
export const KIND_CHUNK = 0x63; // c
export const KIND_META = 0x6d; // m
export const KIND_STATE = 0x78; // x

/** Big-endian int64 with the sign bit flipped so that byte order is numeric order. */
function writeTime(buf: Buffer, off: number, t: number): void {
  buf.writeBigUInt64BE(BigInt.asUintN(64, BigInt(t)) ^ 0x8000000000000000n, off);
}

function readTime(buf: Uint8Array, off: number): number {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  return Number(BigInt.asIntN(64, b.readBigUInt64BE(off) ^ 0x8000000000000000n));
}

export function seriesKey(id: number): Buffer {
  const k = Buffer.allocUnsafe(5);
  k[0] = KIND_SERIES;
  k.writeUInt32BE(id, 1);
  return k;
}

export function postingKey(name: string, value: string, id: number): Buffer {
  const nv = Buffer.from(`${name}\0${value}\0`, 'utf8');
  const k = Buffer.allocUnsafe(1 + nv.length + 4);
  k[0] = KIND_POSTING;
  nv.copy(k, 1);
  k.writeUInt32BE(id, 1 + nv.length);
  return k;
}

export interface ChunkKey {
  id: number;
  minT: number;
  maxT: number;
  count: number;
}

export function chunkKey(id: number, minT: number, maxT: number, count: number): Buffer {
  const k = Buffer.allocUnsafe(25);
  k[0] = KIND_CHUNK;
  k.writeUInt32BE(id, 1);
  writeTime(k, 5, maxT);
  writeTime(k, 13, minT);
  k.writeUInt32BE(count, 21);
  return k;
}

export function parseChunkKey(k: Uint8Array): ChunkKey {
  const b = Buffer.from(k.buffer, k.byteOffset, k.byteLength);
  return { id: b.readUInt32BE(1), maxT: readTime(k, 5), minT: readTime(k, 13), count: b.readUInt32BE(21) };
}

export function metaKey(metric: string): Buffer {
  return Buffer.concat([Buffer.from([KIND_META]), Buffer.from(metric, 'utf8')]);
}

export function stateKey(name: string): Buffer {
  return Buffer.concat([Buffer.from([KIND_STATE]), Buffer.from(name, 'utf8')]);
}

/** [gte, lt) bounds of every key of one kind. */
export function kindRange(kind: number): { gte: Buffer; lt: Buffer } {
  return { gte: Buffer.from([kind]), lt: Buffer.from([kind + 1]) };
}
