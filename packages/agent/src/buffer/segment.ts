/**
 * One segment file of the agent buffer: opaque blocks appended one after another.
 *
 *   record := u32 length · u32 samples · f64 time · u32 crc32(payload) · payload[length]   (little-endian)
 *
 * The buffer does not look inside payloads; `samples` and `time` are numbers the writer hands
 * over so that drops can be counted and ages judged without parsing. The file is named after
 * the sequence number of its first block; block i of the file has sequence first + i.
 */
import fs from 'node:fs';
import { crc32 } from 'node:zlib';

export const RECORD_HEADER = 20;

export interface BlockIndex {
  offset: number;
  length: number;
  samples: number;
  time: number;
}

export class Segment {
  readonly blocks: BlockIndex[] = [];
  size = 0;
  fd: number;
  dirty = false;
  /** Blocks whose record is in the kernel (written with write(2)); the rest are queued. */
  written = 0;
  /** Called after each completed background write. */
  onWritten: (() => void) | null = null;
  /** Write records synchronously in `append` (the buffer's sync-every-append mode). */
  syncWrites = false;
  private queue: Buffer[] = [];
  private writing = false;
  private syncWanted: ((err: Error | null) => void) | null = null;
  private writeError: Error | null = null;

  constructor(readonly path: string, readonly firstSeq: number, fd: number) {
    this.fd = fd;
  }

  get lastSeq(): number {
    return this.firstSeq + this.blocks.length - 1;
  }

  get count(): number {
    return this.blocks.length;
  }

  static create(path: string, firstSeq: number): Segment {
    return new Segment(path, firstSeq, fs.openSync(path, 'a+'));
  }

  /**
   * Opens an existing file and indexes its records. A torn or corrupt tail (a crash in the
   * middle of a write) is cut off; returns the number of bytes cut.
   */
  static open(path: string, firstSeq: number): { seg: Segment; cut: number } {
    const data = fs.readFileSync(path);
    const seg = new Segment(path, firstSeq, fs.openSync(path, 'a+'));
    let pos = 0;
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    while (pos + RECORD_HEADER <= data.length) {
      const length = view.getUint32(pos, true);
      const samples = view.getUint32(pos + 4, true);
      const time = view.getFloat64(pos + 8, true);
      const crc = view.getUint32(pos + 16, true);
      const end = pos + RECORD_HEADER + length;
      if (end > data.length) break;
      if (crc32(data.subarray(pos + RECORD_HEADER, end)) !== crc) break;
      seg.blocks.push({ offset: pos, length, samples, time });
      pos = end;
    }
    const cut = data.length - pos;
    if (cut > 0) fs.ftruncateSync(seg.fd, pos);
    seg.size = pos;
    seg.written = seg.blocks.length;
    return { seg, cut };
  }

  /** Appends a record with write(2); returns the payload (a copy the caller may keep). */
  append(data: Uint8Array, samples: number, time: number): Uint8Array {
    const rec = Buffer.allocUnsafe(RECORD_HEADER + data.length);
    rec.writeUInt32LE(data.length, 0);
    rec.writeUInt32LE(samples >>> 0, 4);
    rec.writeDoubleLE(time, 8);
    rec.writeUInt32LE(crc32(data), 16);
    rec.set(data, RECORD_HEADER);
    this.blocks.push({ offset: this.size, length: data.length, samples, time });
    this.size += rec.length;
    this.dirty = true;
    if (this.syncWrites) {
      let off = 0;
      while (off < rec.length) off += fs.writeSync(this.fd, rec, off, rec.length - off);
      this.written = this.blocks.length;
    } else {
      this.queue.push(rec);
      this.writeQueued();
    }
    return rec.subarray(RECORD_HEADER);
  }

  /** The last background write failed (retried with the next append), or null. */
  get error(): Error | null {
    return this.writeError;
  }

  /**
   * Writes the queued records in the thread pool, one write(2) at a time (the file is in append
   * mode, so records land in order); blocks count as written when their write completes.
   */
  private writeQueued(): void {
    if (this.writing || this.queue.length === 0) return;
    const recs = this.queue;
    this.queue = [];
    const data = recs.length === 1 ? recs[0]! : Buffer.concat(recs);
    this.writing = true;
    const done = (err: Error | null): void => {
      this.writing = false;
      if (err) {
        this.writeError = err;
        this.queue.unshift(data); // written again with the next append
      } else {
        this.writeError = null;
        this.written += recs.length;
      }
      const sync = this.syncWanted;
      this.syncWanted = null;
      if (sync) {
        if (!this.syncAsync(sync)) sync(null);
      }
      if (!this.writing && !this.syncing) this.runAfterIdle();
      this.onWritten?.();
      if (!err) this.writeQueued();
    };
    const write = (off: number): void => {
      fs.write(this.fd, data, off, data.length - off, null, (err, n) => {
        if (err) return done(err);
        if (off + n < data.length) return write(off + n);
        done(null);
      });
    };
    write(0);
  }

  read(seq: number): Uint8Array {
    const b = this.blocks[seq - this.firstSeq]!;
    const out = Buffer.allocUnsafe(b.length);
    let off = 0;
    while (off < b.length) {
      const n = fs.readSync(this.fd, out, off, b.length - off, b.offset + RECORD_HEADER + off);
      if (n === 0) throw new Error(`cannot read block ${seq} of ${this.path}: file shorter than indexed`);
      off += n;
    }
    return out;
  }

  sync(): void {
    if (!this.dirty) return;
    fs.fdatasyncSync(this.fd);
    this.dirty = false;
  }

  /** An fdatasync in the thread pool (none while one runs); `done` when it ends, with its error. */
  private syncing = false;
  private afterSync: (() => void) | null = null;

  syncAsync(done: (err: Error | null) => void): boolean {
    if (this.writing) {
      this.syncWanted = done; // after the write: an fdatasync covers only what was written
      return true;
    }
    if (!this.dirty || this.syncing) return false;
    this.dirty = false;
    this.syncing = true;
    fs.fdatasync(this.fd, (err) => {
      this.syncing = false;
      if (err) this.dirty = true;
      if (!this.writing) this.runAfterIdle();
      done(err);
    });
    return true;
  }

  private runAfterIdle(): void {
    const after = this.afterSync;
    this.afterSync = null;
    after?.();
  }

  /** Resolves when no write or fdatasync of this segment is running or queued. */
  idle(): Promise<void> {
    if (!this.syncing && !this.writing) return Promise.resolve();
    return new Promise((resolve) => {
      const prev = this.afterSync;
      this.afterSync = () => { prev?.(); resolve(); };
    });
  }

  close(): void {
    this.sync();
    fs.closeSync(this.fd);
  }

  /** Deletes the file now; closes its descriptor after a running fdatasync, so the descriptor is never reused under it. */
  remove(): void {
    fs.rmSync(this.path, { force: true });
    const close = (): void => {
      try {
        fs.closeSync(this.fd);
      } catch {
        /* already closed */
      }
    };
    this.queue = [];
    if (!this.syncing && !this.writing) return close();
    const prev = this.afterSync;
    this.afterSync = () => { prev?.(); close(); };
  }
}
