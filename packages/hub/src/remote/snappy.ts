/**
 * Snappy block decompression (the raw format remote write uses), checked at every step.
 *
 * Written here because snappyjs 0.7 loops for good on some malformed inputs: a 4-byte literal
 * length with the top bit set becomes negative and moves its read position backwards (the 6 bytes
 * `00 fc a0 5c 4a b6` never return). Here every literal and copy is checked against the input and
 * against the declared length, so the work is linear in the output, which is bounded by `maxLength`.
 */
export class SnappyError extends Error {}

export function snappyUncompress(src: Uint8Array, maxLength: number): Uint8Array {
  let pos = 0;
  // uncompressed length: a varint of at most 32 bits
  let length = 0;
  for (let shift = 0; ; shift += 7) {
    if (pos >= src.length || shift > 28) throw new SnappyError('invalid length header');
    const b = src[pos++]!;
    length += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) break;
  }
  if (length > maxLength) throw new SnappyError(`uncompressed length ${length} exceeds the limit of ${maxLength} bytes`);
  const out = new Uint8Array(length);
  let o = 0;
  while (pos < src.length) {
    const c = src[pos++]!;
    const kind = c & 3;
    if (kind === 0) {
      let len = (c >>> 2) + 1;
      if (len > 60) {
        const n = len - 60;
        if (pos + n > src.length) throw new SnappyError('truncated literal length');
        len = 0;
        for (let i = 0; i < n; i++) len += src[pos + i]! * 2 ** (8 * i);
        len += 1;
        pos += n;
      }
      if (pos + len > src.length) throw new SnappyError('literal past the end of the input');
      if (o + len > length) throw new SnappyError('literal past the declared length');
      out.set(src.subarray(pos, pos + len), o);
      pos += len;
      o += len;
      continue;
    }
    let len: number;
    let offset: number;
    if (kind === 1) {
      if (pos + 1 > src.length) throw new SnappyError('truncated copy');
      len = ((c >>> 2) & 7) + 4;
      offset = ((c >>> 5) << 8) | src[pos]!;
      pos += 1;
    } else if (kind === 2) {
      if (pos + 2 > src.length) throw new SnappyError('truncated copy');
      len = (c >>> 2) + 1;
      offset = src[pos]! | (src[pos + 1]! << 8);
      pos += 2;
    } else {
      if (pos + 4 > src.length) throw new SnappyError('truncated copy');
      len = (c >>> 2) + 1;
      offset = (src[pos]! | (src[pos + 1]! << 8) | (src[pos + 2]! << 16)) + src[pos + 3]! * 2 ** 24;
      pos += 4;
    }
    if (offset === 0 || offset > o) throw new SnappyError(`copy offset ${offset} out of range at ${o}`);
    if (o + len > length) throw new SnappyError('copy past the declared length');
    for (let i = 0; i < len; i++, o++) out[o] = out[o - offset]!;
  }
  if (o !== length) throw new SnappyError(`decoded ${o} bytes, ${length} declared`);
  return out;
}
