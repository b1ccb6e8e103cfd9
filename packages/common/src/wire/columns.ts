/**
 * The body of a batch: the samples of one or more blocks, coded in columns per lane.
 *
 *   body    := u8 version(1) · uvarint blocks · uvarint len(header) · uvarint len(ids)
 *              · uvarint len(tags) · header · ids · tags · payload
 *   header  := per block: uvarint groups; per group: svarint(t − previous t of the lane)
 *              · uvarint list (0: a new id list follows, its length n as uvarint; k: the lane's list k−1)
 *   ids     := per new list: svarint(id − previous id of the list), the first against 0
 *   tags    := one byte per sample (see TAG_*)
 *   payload := the tags' operands
 *
 * A group is the samples of one scrape with one timestamp. Values are scaled to integers by
 * the smallest power of ten that makes them exact, then delta-coded against the previous
 * value of the same series on the same lane. Both ends keep that state per connection and
 * lane; `reset` on a batch empties it. Staleness is its own tag, never a NaN payload.
 */
import { ByteReader, ByteWriter, WireError } from './bytes.js';

export const TAG_DELTA = 0; // svarint(n − previous n), same decimal scale as the series' state
export const TAG_SCALED = 1; // u8 scale · svarint(n): a new scale (value = n / 10^scale)
export const TAG_FLOAT = 2; // float64 little-endian (NaN, ±Inf, values without a short decimal form)
export const TAG_STALE = 3; // staleness marker, no operand
export const TAG_SAME = 4; // same scaled value as the previous one, no operand

const MAX_SCALE = 12;
const POW10: number[] = [];
for (let i = 0; i <= MAX_SCALE; i++) POW10.push(10 ** i);
const MAX_INT = 2 ** 50;
const MAX_LISTS = 65536;

/** The samples of one scrape: parallel arrays, one timestamp. */
export interface Group {
  t: number;
  ids: Int32Array;
  values: Float64Array;
  /** 1 marks a staleness marker; null when none is stale. */
  stale: Uint8Array | null;
}

/** A decoded batch: parallel per-sample columns; block b spans [blockEnds[b-1] ?? 0, blockEnds[b]). */
export interface DecodedFrame {
  samples: number;
  blockEnds: Int32Array;
  t: Float64Array;
  ids: Int32Array;
  v: Float64Array;
  stale: Uint8Array;
}

class LaneState {
  scale = new Int8Array(1024).fill(-1);
  prev = new Float64Array(1024);
  lists: Int32Array[] = [];
  prevT = 0;

  reset(): void {
    this.scale.fill(-1);
    this.prev.fill(0);
    this.lists = [];
    this.prevT = 0;
  }

  grow(id: number): void {
    if (id < this.scale.length) return;
    let size = this.scale.length * 2;
    while (size <= id) size *= 2;
    const s = new Int8Array(size).fill(-1);
    s.set(this.scale);
    const p = new Float64Array(size);
    p.set(this.prev);
    this.scale = s;
    this.prev = p;
  }
}

function maxListId(list: Int32Array): number {
  let m = 0;
  for (let i = 0; i < list.length; i++) if (list[i]! > m) m = list[i]!;
  return m;
}

function hashIds(ids: Int32Array): number {
  let h = 0x811c9dc5 ^ ids.length;
  for (let i = 0; i < ids.length; i++) h = Math.imul(h ^ ids[i]!, 0x01000193);
  return h >>> 0;
}

function sameIds(a: Int32Array, b: Int32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Codes groups for one lane of one connection. */
export class LaneEncoder {
  private st = new LaneState();
  private listIndex = new Map<number, number[]>();
  private needReset = true;
  private header = new ByteWriter(256);
  private idsCol = new ByteWriter(1024);
  private tags = new ByteWriter(4096);
  private payload = new ByteWriter(8192);
  private out = new ByteWriter(8192);

  /** The next frame starts from an empty state (call after a reconnect or a refused frame). */
  reset(): void {
    this.needReset = true;
  }

  /** Codes blocks (each a list of groups) into one body. */
  encode(blocks: readonly (readonly Group[])[]): { body: Uint8Array; reset: boolean; samples: number } {
    const reset = this.needReset || this.st.lists.length >= MAX_LISTS;
    if (reset) {
      this.st.reset();
      this.listIndex.clear();
      this.needReset = false;
    }
    this.header.reset();
    this.idsCol.reset();
    this.tags.reset();
    this.payload.reset();
    let samples = 0;
    for (const groups of blocks) {
      this.header.uvarint(groups.length);
      for (const g of groups) {
        this.header.svarint(g.t - this.st.prevT);
        this.st.prevT = g.t;
        this.encodeList(g.ids);
        this.encodeValues(g);
        samples += g.ids.length;
      }
    }
    const o = this.out;
    o.reset();
    o.u8(1);
    o.uvarint(blocks.length);
    o.uvarint(this.header.pos);
    o.uvarint(this.idsCol.pos);
    o.uvarint(this.tags.pos);
    o.bytes(this.header.buf.subarray(0, this.header.pos));
    o.bytes(this.idsCol.buf.subarray(0, this.idsCol.pos));
    o.bytes(this.tags.buf.subarray(0, this.tags.pos));
    o.bytes(this.payload.buf.subarray(0, this.payload.pos));
    return { body: o.finish(), reset, samples };
  }

  private encodeList(ids: Int32Array): void {
    const h = hashIds(ids);
    const cands = this.listIndex.get(h);
    if (cands) {
      for (const k of cands) {
        if (sameIds(this.st.lists[k]!, ids)) {
          this.header.uvarint(k + 1);
          return;
        }
      }
    }
    this.header.uvarint(0);
    this.header.uvarint(ids.length);
    let prev = 0;
    for (let i = 0; i < ids.length; i++) {
      this.idsCol.svarint(ids[i]! - prev);
      prev = ids[i]!;
    }
    const k = this.st.lists.length;
    this.st.lists.push(ids.slice());
    if (cands) cands.push(k);
    else this.listIndex.set(h, [k]);
  }

  private encodeValues(g: Group): void {
    const st = this.st;
    const { ids, values, stale } = g;
    const tags = this.tags;
    const pl = this.payload;
    tags.ensure(ids.length);
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (stale !== null && stale[i] === 1) {
        tags.buf[tags.pos++] = TAG_STALE;
        continue;
      }
      if (id >= st.scale.length) st.grow(id);
      const v = values[i]!;
      let d = st.scale[id]!;
      if (d >= 0) {
        const n = Math.round(v * POW10[d]!);
        if (n / POW10[d]! === v && n <= MAX_INT && n >= -MAX_INT && !(v === 0 && 1 / v < 0)) {
          const delta = n - st.prev[id]!;
          if (delta === 0) tags.buf[tags.pos++] = TAG_SAME;
          else {
            tags.buf[tags.pos++] = TAG_DELTA;
            pl.svarint(delta);
          }
          st.prev[id] = n;
          continue;
        }
      }
      d = -1;
      let n = 0;
      if (Number.isFinite(v) && !(v === 0 && 1 / v < 0)) {
        for (let s = 0; s <= MAX_SCALE; s++) {
          n = Math.round(v * POW10[s]!);
          if (n > MAX_INT || n < -MAX_INT) break;
          if (n / POW10[s]! === v) {
            d = s;
            break;
          }
        }
      }
      if (d >= 0) {
        tags.buf[tags.pos++] = TAG_SCALED;
        pl.u8(d);
        pl.svarint(n);
        st.scale[id] = d;
        st.prev[id] = n;
      } else {
        tags.buf[tags.pos++] = TAG_FLOAT;
        pl.f64(v);
        st.scale[id] = -1;
      }
    }
  }
}

/** Decodes bodies of one lane of one connection; mirrors LaneEncoder's state. */
export class LaneDecoder {
  private st = new LaneState();

  reset(): void {
    this.st.reset();
  }

  /**
   * Decodes a body. `samples` is the count the envelope announced; `maxId` bounds series ids.
   * On error the lane state is no longer trustworthy: the caller resets it and refuses
   * frames until one arrives with `reset`.
   */
  decode(body: Uint8Array, samples: number, maxId: number): DecodedFrame {
    const st = this.st;
    const r = new ByteReader(body);
    const version = r.u8();
    if (version !== 1) throw new WireError(`cannot decode batch body: unknown version ${version}`);
    const blocks = r.uvarint();
    const hLen = r.uvarint();
    const iLen = r.uvarint();
    const tLen = r.uvarint();
    const hStart = r.pos;
    if (hStart + hLen + iLen + tLen > body.length) throw new WireError('cannot decode batch body: column lengths exceed the body');
    if (tLen !== samples) throw new WireError(`cannot decode batch body: ${tLen} samples coded, ${samples} announced`);
    if (blocks > samples + 1_000_000) throw new WireError(`cannot decode batch body: ${blocks} blocks`);
    const h = new ByteReader(body, hStart, hStart + hLen);
    const idr = new ByteReader(body, hStart + hLen, hStart + hLen + iLen);
    const tagStart = hStart + hLen + iLen;
    const pl = new ByteReader(body, tagStart + tLen, body.length);
    const out: DecodedFrame = {
      samples,
      blockEnds: new Int32Array(blocks),
      t: new Float64Array(samples),
      ids: new Int32Array(samples),
      v: new Float64Array(samples),
      stale: new Uint8Array(samples),
    };
    const outT = out.t;
    const outIds = out.ids;
    const outV = out.v;
    const outStale = out.stale;
    let k = 0;
    for (let b = 0; b < blocks; b++) {
      const groups = h.uvarint();
      for (let gi = 0; gi < groups; gi++) {
        const t = st.prevT + h.svarint();
        st.prevT = t;
        const ref = h.uvarint();
        let list: Int32Array;
        if (ref === 0) {
          const n = h.uvarint();
          if (k + n > samples) throw new WireError(`cannot decode batch body: more than ${samples} samples`);
          list = new Int32Array(n);
          let prev = 0;
          for (let i = 0; i < n; i++) {
            prev += idr.svarint();
            if (prev < 0 || prev >= maxId) throw new WireError(`cannot decode batch body: series id ${prev} is not defined`);
            list[i] = prev;
          }
          // lane state covers every id of every list (lists are reused only after this)
          if (n > 0) st.grow(maxListId(list));
          st.lists.push(list);
        } else {
          const l = st.lists[ref - 1];
          if (!l) throw new WireError(`cannot decode batch body: id list ${ref - 1} is not defined`);
          list = l;
        }
        const n = list.length;
        if (k + n > samples) throw new WireError(`cannot decode batch body: more than ${samples} samples`);
        const scale = st.scale;
        const prev = st.prev;
        for (let i = 0; i < n; i++, k++) {
          const id = list[i]!;
          outT[k] = t;
          outIds[k] = id;
          const tag = body[tagStart + k]!;
          if (tag === TAG_DELTA) {
            const d = scale[id]!;
            if (d < 0) throw new WireError(`cannot decode batch body: delta for series ${id} without a previous value`);
            // one-byte svarint inline: most deltas are small
            const b0 = pl.pos < pl.end ? body[pl.pos]! : 0x80;
            let z: number;
            if (b0 < 0x80) {
              pl.pos++;
              z = b0;
            } else z = pl.uvarint();
            const n2 = prev[id]! + (z % 2 === 0 ? z / 2 : -(z + 1) / 2);
            prev[id] = n2;
            outV[k] = d === 0 ? n2 : n2 / POW10[d]!;
          } else if (tag === TAG_SAME) {
            const d = scale[id]!;
            if (d < 0) throw new WireError(`cannot decode batch body: repeat for series ${id} without a previous value`);
            outV[k] = d === 0 ? prev[id]! : prev[id]! / POW10[d]!;
          } else if (tag === TAG_SCALED) {
            const d = pl.u8();
            if (d > MAX_SCALE) throw new WireError(`cannot decode batch body: scale ${d} out of range`);
            const n2 = pl.svarint();
            scale[id] = d;
            prev[id] = n2;
            outV[k] = n2 / POW10[d]!;
          } else if (tag === TAG_FLOAT) {
            outV[k] = pl.f64();
            scale[id] = -1;
          } else if (tag === TAG_STALE) {
            outV[k] = NaN;
            outStale[k] = 1;
          } else throw new WireError(`cannot decode batch body: unknown value tag ${tag} at sample ${k}`);
        }
      }
      out.blockEnds[b] = k;
    }
    if (k !== samples) throw new WireError(`cannot decode batch body: ${k} samples decoded, ${samples} announced`);
    if (pl.remaining !== 0) throw new WireError(`cannot decode batch body: ${pl.remaining} trailing bytes`);
    return out;
  }
}
