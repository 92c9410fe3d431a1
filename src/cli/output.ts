import type { ColumnInfo } from '../catalog/types.js';
import { plain } from '../util/json.js';

/** Printing for the CLI: aligned tables for people, JSON and CSV for programs. */

export type OutputFormat = 'table' | 'json' | 'csv';

export function toJson(value: unknown): string {
  return JSON.stringify(plain(value), null, 2);
}

function cell(value: unknown): string {
  const v = plain(value);
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

export function renderTable(columns: readonly string[], rows: readonly Record<string, unknown>[], maxWidth = 60): string {
  if (columns.length === 0) return '(no columns)';
  const text = rows.map((r) =>
    columns.map((c) => {
      const s = cell(r[c]).replace(/\s+/g, ' ');
      return s.length > maxWidth ? `${s.slice(0, maxWidth - 1)}…` : s;
    }),
  );
  const widths = columns.map((c, i) => Math.max(c.length, ...text.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((s, i) => s.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(columns), line(widths.map((w) => '─'.repeat(w))), ...text.map(line)].join('\n');
}

export function renderCsv(columns: readonly string[], rows: readonly Record<string, unknown>[]): string {
  const esc = (s: string) => (/[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);
  return [columns.map(esc).join(','), ...rows.map((r) => columns.map((c) => esc(cell(r[c]))).join(','))].join('\n');
}

export function renderRows(format: OutputFormat, columns: readonly ColumnInfo[] | readonly string[], rows: readonly Record<string, unknown>[]): string {
  const names = columns.map((c) => (typeof c === 'string' ? c : c.name));
  if (format === 'json') return toJson(rows);
  if (format === 'csv') return renderCsv(names, rows);
  return renderTable(names, rows);
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = bytes / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

/** A single self-updating line on stderr, only when stderr is a terminal. */
export class Progress {
  private readonly enabled: boolean;
  private last = 0;
  constructor(enabled: boolean) {
    this.enabled = enabled && Boolean(process.stderr.isTTY);
  }
  update(text: string): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.last < 100) return;
    this.last = now;
    process.stderr.write(`\r\x1b[2K${text}`);
  }
  done(): void {
    if (this.enabled) process.stderr.write('\r\x1b[2K');
  }
}
