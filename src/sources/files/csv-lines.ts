import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { CsvOptions } from '../../config/types.js';
import type { Refusal } from './precheck.js';

/** DuckDB's default `max_line_size` (bytes): a longer line fails the read unless `csv.maxLineSize` raises it. */
export const DEFAULT_MAX_LINE_SIZE = 2_000_000;

/**
 * Columns a CSV file may have unless `csv.maxColumns` says otherwise: DuckDB's cost grows faster than the column
 * count (10,000 columns read in 2.6 s, 100,000 in 107 s here), and no table of this platform is meant to be that wide.
 */
export const DEFAULT_MAX_COLUMNS = 10_000;

type Ending = 'CRLF' | 'LF' | 'CR';

/**
 * Scans CSV bytes the way a reader splits them: line terminators outside quotes (CRLF, LF or a lone CR). Reports the
 * first line with each kind of ending and the first line longer than `maxLineSize`. Streaming, so a whole file can be
 * scanned when DuckDB's error does not say enough (it numbers lines from the start of its buffer, not of the file).
 */
class LineScanner {
  line = 1;
  private length = 0;
  private quoted = false;
  private pendingCr = false;
  readonly endings = new Map<Ending, number>();
  tooLong: { line: number; bytes: number } | undefined;
  /** The overlong line has ended: its length is known, scanning further adds nothing. */
  tooLongMeasured = false;

  constructor(
    private readonly quote: number | undefined,
    private readonly maxLineSize: number,
  ) {}

  push(chunk: Buffer): void {
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (this.pendingCr) {
        this.pendingCr = false;
        if (b === 0x0a) {
          this.end('CRLF');
          continue;
        }
        this.end('CR');
      }
      if (b === this.quote) this.quoted = !this.quoted;
      if (!this.quoted && b === 0x0d) {
        this.pendingCr = true;
        continue;
      }
      if (!this.quoted && b === 0x0a) {
        this.end('LF');
        continue;
      }
      this.length++;
      if (this.length > this.maxLineSize && !this.tooLong) this.tooLong = { line: this.line, bytes: this.length };
    }
  }

  finish(): void {
    if (this.pendingCr) this.end('CR');
    this.pendingCr = false;
  }

  private end(kind: Ending): void {
    if (!this.endings.has(kind)) this.endings.set(kind, this.line);
    if (this.tooLong?.line === this.line) {
      this.tooLong.bytes = this.length;
      this.tooLongMeasured = true;
    }
    this.line++;
    this.length = 0;
  }
}

function scanner(csv: CsvOptions | undefined): LineScanner {
  const quote = csv?.quote ?? '"';
  return new LineScanner(quote ? quote.charCodeAt(0) : undefined, csv?.maxLineSize ?? DEFAULT_MAX_LINE_SIZE);
}

function describeProblem(s: LineScanner, partial: boolean, csv: CsvOptions | undefined): Refusal | undefined {
  if (s.tooLong) {
    const max = csv?.maxLineSize ?? DEFAULT_MAX_LINE_SIZE;
    return {
      code: 'unreadable',
      reason: `line ${s.tooLong.line} is ${partial && !s.tooLongMeasured ? 'over ' : ''}${s.tooLong.bytes} bytes long, over the maximum line size of ${max} bytes; if such lines are expected, raise csv: { maxLineSize }${s.tooLongMeasured ? ` to at least ${s.tooLong.bytes + 3}` : ''}`,
      details: { line: s.tooLong.line, bytes: s.tooLong.bytes, maxLineSize: max },
    };
  }
  if (s.endings.size > 1) {
    const kinds = [...s.endings].sort((a, b) => a[1] - b[1]).map(([kind, line]) => `line ${line} ends with ${kind}`);
    return {
      code: 'mixed_line_endings',
      reason: `mixed line endings: ${kinds.join(', ')}; a CSV file must use one kind (convert it, e.g. with dos2unix)`,
      details: { endings: Object.fromEntries(s.endings) },
    };
  }
  return undefined;
}

/** A line-level problem visible in the first bytes of a file (mixed endings, a line over the maximum size). */
export function headLineProblem(head: Buffer, csv: CsvOptions | undefined, wholeFile: boolean): Refusal | undefined {
  const s = scanner(csv);
  s.push(head);
  if (wholeFile) s.finish();
  return describeProblem(s, !wholeFile, csv);
}

/** Scans a whole file for a line-level problem, to explain a read that DuckDB refused. */
export async function fileLineProblem(file: string, csv: CsvOptions | undefined): Promise<Refusal | undefined> {
  const s = scanner(csv);
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    s.push(chunk as Buffer);
    if (s.tooLongMeasured) break;
  }
  s.finish();
  return describeProblem(s, false, csv);
}

/**
 * The first `lines` lines of a file (header and skipped lines), when they do not fit in the head already read:
 * a 100,000-column header is longer than 64 KiB. Undefined when they are longer than `limit` bytes.
 */
export async function readLeadingLines(file: string, lines: number, limit: number): Promise<Buffer | undefined> {
  const handle = await open(file, 'r');
  try {
    let read = Buffer.alloc(0);
    const buffer = Buffer.alloc(1 << 20);
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, read.length);
      if (bytesRead === 0) return read;
      read = Buffer.concat([read, buffer.subarray(0, bytesRead)]);
      const end = endOfLines(read, lines);
      if (end >= 0) return read.subarray(0, end);
      if (read.length > limit) return undefined;
    }
  } finally {
    await handle.close();
  }
}

/** Whether the head holds at least `lines` complete lines (or is the whole file). */
export function holdsLines(head: Buffer, lines: number, sizeBytes: number): boolean {
  return head.length >= sizeBytes || endOfLines(head, lines) >= 0;
}

/** The offset just past the `lines`-th line terminator (CRLF, LF or CR), or -1 when the bytes hold fewer. */
function endOfLines(bytes: Buffer, lines: number): number {
  let found = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] !== 0x0a && bytes[i] !== 0x0d) continue;
    if (bytes[i] === 0x0d && bytes[i + 1] === 0x0a) i++;
    if (++found >= lines) return i + 1;
  }
  return -1;
}
