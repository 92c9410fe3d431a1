import { closeSync, existsSync, fstatSync, openSync, readdirSync, readSync } from 'node:fs';
import path from 'node:path';
import { TributaryError } from '../../errors.js';
import { decodeFrame, type Frame } from './frame.js';

/** Segment files are named by the offset of their first record, zero-padded so they sort as text. */
export function segmentName(baseOffset: number): string {
  return `${String(baseOffset).padStart(20, '0')}.log`;
}

export function listSegments(dir: string): { base: number; file: string }[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /^\d{20}\.log$/.test(f))
    .sort()
    .map((f) => ({ base: Number(f.slice(0, 20)), file: path.join(dir, f) }));
}

/**
 * Sequential reading of one partition's segment files from a byte position: yields complete records and stops at
 * the end of what is fully written. Keeps its place, so repeated calls read only what was appended since.
 */
export class SegmentCursor {
  private fd: number | undefined;
  private buf = Buffer.allocUnsafe(READ_BYTES);
  /** Records handed out are views of `buf[0, free)`: later reads go after them, into a fresh buffer when it is full. */
  private free = 0;
  private suspect: { position: number; size: number } | undefined;

  constructor(
    readonly dir: string,
    public file: string,
    /** Byte position of the next record in `file`. */
    public position: number,
    /** Offset of the next record. */
    public nextOffset: number,
  ) {}

  /** A cursor at `offset` (or at the first record held, if older records are gone). */
  static seek(dir: string, offset: number): SegmentCursor {
    const segments = listSegments(dir);
    if (segments.length === 0) return new SegmentCursor(dir, path.join(dir, segmentName(0)), 0, 0);
    let segment = segments[0]!;
    for (const s of segments) if (s.base <= offset) segment = s;
    const cursor = new SegmentCursor(dir, segment.file, 0, segment.base);
    if (offset > segment.base) cursor.skipTo(offset);
    return cursor;
  }

  /**
   * Reads up to `max` complete records. `torn` reports a damaged record at the end of the file (a writer killed
   * mid-append): readers wait for the next writer to cut it off; a writer cuts it off itself.
   */
  read(max: number, options: { failOnCorruption?: boolean } = {}): { frames: Frame[]; torn: boolean } {
    const frames: Frame[] = [];
    let torn = false;
    while (frames.length < max) {
      const fd = this.open();
      if (fd === undefined) break;
      if (this.buf.length - this.free < MIN_ROOM) {
        this.buf = Buffer.allocUnsafe(READ_BYTES);
        this.free = 0;
      }
      const room = this.buf.length - this.free;
      const n = readSync(fd, this.buf, this.free, room, this.position);
      if (n === 0) {
        if (!this.advanceSegment()) break;
        continue;
      }
      const view = this.buf.subarray(this.free, this.free + n);
      let at = 0;
      let grown = false;
      while (frames.length < max) {
        const decoded = decodeFrame(view, at);
        if ('frame' in decoded) {
          if (decoded.frame.offset !== this.nextOffset) {
            throw new TributaryError(
              'IO_ERROR',
              `${this.file}: expected offset ${this.nextOffset} at byte ${this.position + at}, found ${decoded.frame.offset}`,
            );
          }
          frames.push(decoded.frame);
          at += decoded.size;
          this.nextOffset++;
          continue;
        }
        if ('incomplete' in decoded) {
          if (at === 0 && decoded.need > room) {
            // A record larger than the room left: read it whole into a buffer of its own next time round.
            this.buf = Buffer.allocUnsafe(Math.max(decoded.need, READ_BYTES));
            this.free = 0;
            grown = true;
          } else if (at === 0 && n < room) torn = this.checkTorn(fd, this.position, decoded.need);
        } else {
          torn = this.checkTorn(fd, this.position + at, Infinity, decoded.corrupt, options.failOnCorruption ? view.readUInt32LE(at) + 4 : undefined);
        }
        break;
      }
      if (!grown) this.free += at;
      this.position += at;
      if (grown) continue;
      if (at === 0) {
        if (torn || !this.advanceSegment()) break;
      }
    }
    return { frames, torn };
  }

  /** Scans forward to `offset` without keeping records. */
  skipTo(offset: number): void {
    while (this.nextOffset < offset) {
      const { frames } = this.read(Math.min(10_000, offset - this.nextOffset));
      if (frames.length === 0) return;
    }
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private open(): number | undefined {
    if (this.fd === undefined) {
      if (!existsSync(this.file)) return undefined;
      this.fd = openSync(this.file, 'r');
    }
    return this.fd;
  }

  /** At the end of a segment, moves on once a later one exists (the writer rolled). */
  private advanceSegment(): boolean {
    const next = path.join(this.dir, segmentName(this.nextOffset));
    if (next === this.file || !existsSync(next)) return false;
    // Only once this segment is complete: the writer creates the next file after the last append to this one.
    this.close();
    this.file = next;
    this.position = 0;
    return true;
  }

  /**
   * A record that is incomplete or fails its checksum at the end of the file is being written or was torn by a
   * crash; either way it is not there yet. The same damage followed by more data is corruption.
   */
  private checkTorn(fd: number, at: number, need: number, corrupt?: string, recordBytes?: number): boolean {
    const size = fstatSync(fd).size;
    // Some file systems leave zeros where a crash interrupted an append: that is a torn tail too.
    if (corrupt && zeros(fd, at, size)) return true;
    // A writer (holding the lock) must not cut off a damaged record that has acknowledged records after it.
    if (corrupt && recordBytes !== undefined && at + recordBytes < size) {
      throw new TributaryError('IO_ERROR', `${this.file}: corrupt record at byte ${at} (${corrupt}) followed by more data`);
    }
    if (corrupt && this.suspect?.position === at && size > this.suspect.size) {
      throw new TributaryError('IO_ERROR', `${this.file}: corrupt record at byte ${at} (${corrupt}) followed by more data`);
    }
    if (corrupt) this.suspect = { position: at, size };
    return corrupt !== undefined || at + need > size;
  }
}

const READ_BYTES = 1 << 20;
/** Below this much room left in the read buffer, a fresh one is started. */
const MIN_ROOM = 64 * 1024;

/** Whether the file holds only zero bytes from `from` to its end (checked up to 16 MB). */
function zeros(fd: number, from: number, size: number): boolean {
  if (size - from > 16 * 1024 * 1024) return false;
  const bytes = Buffer.alloc(size - from);
  readSync(fd, bytes, 0, bytes.length, from);
  return bytes.every((b) => b === 0);
}
