/** A minimal protobuf writer for tests that build remote-write requests byte by byte. */

/** A varint of a uint64 (a negative number is its two's complement, as int64 fields are written). */
export function varint(n: number | bigint): number[] {
  const out: number[] = [];
  let v = BigInt.asUintN(64, BigInt(n));
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return out;
}

export const zigzag = (n: number): bigint => (BigInt(n) << 1n) ^ (BigInt(n) < 0n ? -1n : 0n);
/** A length-delimited field (wire type 2). */
export const bytesField = (num: number, bytes: number[]): number[] => [...varint(num * 8 + 2), ...varint(bytes.length), ...bytes];
export const varintField = (num: number, v: number | bigint): number[] => [...varint(num * 8), ...varint(v)];
export function doubleField(num: number, v: number): number[] {
  const d = Buffer.alloc(8);
  d.writeDoubleLE(v, 0);
  return [...varint(num * 8 + 1), ...d];
}
export const str = (s: string): number[] => [...Buffer.from(s, 'utf8')];
/** prompb.Label as field 1 of its parent. */
export const label = (k: string, v: string): number[] => bytesField(1, [...bytesField(1, str(k)), ...bytesField(2, str(v))]);
