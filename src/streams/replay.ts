import { serdeContext } from '../registry/open.js';
import type { ResolvedConfig } from '../config/types.js';
import { TributaryError } from '../errors.js';
import { Lake, OPEN_FOLDER } from '../lake/lake.js';
import { quoteLiteral } from '../engine/sql.js';
import type { Log, LogRecord } from '../log/log.js';
import { openLog } from '../log/open.js';
import { newId } from '../util/ids.js';
import { requireStream } from './definition.js';
import { LakeSink } from './lake-sink.js';
import { StreamProcessor, type WindowRow } from './processor.js';

export interface ReplayReport {
  stream: string;
  runId: string;
  from: string;
  records: number;
  /** Per output table: window rows the replay wrote, and rows of the table it replaced. */
  tables: { table: string; windows: number; replaced: number; snapshotId: number | undefined }[];
  watermark: number | null;
}

/**
 * Backfill by replay (Kappa, seed 003 §6.3): reprocesses the source topic from `from` up to where the live stream
 * has committed, with fresh state and the current definition, and replaces the windows it recomputed in each
 * output table with one new snapshot (the previous one stays readable by time travel). The live stream keeps
 * running: it has already passed every window the replay closes, so it never writes them again.
 */
export async function replayStream(
  config: ResolvedConfig,
  name: string,
  options: { from: 'earliest' | Date; log?: Log; onProgress?: (read: number, total: number) => void },
): Promise<ReplayReport> {
  let opened: Lake | undefined;
  const stream = requireStream(
    config.streams,
    name,
    serdeContext(config, async () => opened!.catalog.driver),
  );
  const log = options.log ?? (await openLog(config.log));
  const lake = await Lake.open(config);
  opened = lake;
  const runId = newId('replay');
  try {
    const live = await lake.catalog.streams.checkpoint(name, 'live');
    if (!live) {
      throw new TributaryError('CONFLICT', `stream ${name} has no committed batch yet: there is nothing to replay over`, {
        hint: `run it first: tributary stream run ${name}`,
      });
    }
    if (options.from !== 'earliest') {
      const session = stream.outputs.find((o) => o.window.kind === 'session');
      // A session that began before `from` would be replayed truncated, next to the live row it continues.
      if (session) throw new TributaryError('INVALID_INPUT', `--from: ${session.table} has session windows, which can only be replayed from 'earliest'`);
    }
    await lake.catalog.runs.start(runId, 'replay');
    const until = new Map(Object.entries(live.offsets).map(([p, o]) => [Number(p), o]));
    const starts =
      options.from === 'earliest'
        ? new Map((await log.offsets(stream.topic)).map((o) => [o.partition, o.start]))
        : await log.offsetsForTime(stream.topic, options.from.getTime());
    const positions = new Map([...until.keys()].map((p) => [p, Math.min(starts.get(p) ?? 0, until.get(p)!)]));
    const total = [...until].reduce((n, [p, end]) => n + end - positions.get(p)!, 0);
    const processor = new StreamProcessor(stream);
    processor.assign(new Map([...positions].filter(([p, o]) => o < until.get(p)!).map(([p]) => [p, until.get(p)!])));
    const emitted = new Map<string, WindowRow[]>(stream.outputs.map((o) => [o.table, []]));
    const reader = await log.reader(stream.topic, positions);
    let read = 0;
    try {
      while ([...until].some(([p, end]) => positions.get(p)! < end)) {
        const batch: LogRecord[] = [];
        for (const r of await reader.poll({ maxRecords: stream.maxRecords, maxWaitMs: 200 })) {
          if (r.offset < until.get(r.partition)!) batch.push(r);
          positions.set(r.partition, Math.max(positions.get(r.partition)!, r.offset + 1));
        }
        if (batch.length === 0) continue;
        read += batch.length;
        await stream.format.prepare?.(batch.map((r) => r.value));
        for (const [table, rows] of processor.process(batch).closed) emitted.get(table)!.push(...rows);
        options.onProgress?.(read, total);
      }
    } finally {
      await reader.close();
    }

    const fromMs = options.from === 'earliest' ? -Infinity : options.from.getTime();
    const watermark = processor.watermark;
    const sink = await LakeSink.open(lake, stream, { outputsOnly: true });
    const report: ReplayReport = {
      stream: name,
      runId,
      from: options.from === 'earliest' ? 'earliest' : options.from.toISOString(),
      records: read,
      tables: [],
      watermark: Number.isFinite(watermark) ? watermark : null,
    };
    for (const output of stream.outputs) {
      // Windows that began before `from` saw only part of their events in the replay: the live rows stay.
      const rows = emitted.get(output.table)!.filter((w) => w.start >= fromMs);
      const buffer = await sink.stage(output.table, rows);
      const closedBefore = watermark - output.lateness;
      const replaced = `window_start >= ${sqlTime(fromMs)} AND window_end <= ${sqlTime(closedBefore)}`;
      const result = await replaceWindows(lake, output.table, buffer, replaced, runId);
      report.tables.push({ table: output.table, windows: rows.length, replaced: result.replaced, snapshotId: result.snapshotId });
    }
    await lake.catalog.runs.finish(runId, 'success', report);
    return report;
  } catch (err) {
    await lake.catalog.runs.finish(runId, 'failed', {}, err instanceof Error ? err.message : String(err)).catch(() => undefined);
    throw err;
  } finally {
    if (!options.log) await log.close().catch(() => undefined);
    await lake.close();
  }
}

function sqlTime(ms: number): string {
  if (ms === -Infinity) return `'-infinity'::TIMESTAMPTZ`;
  if (!Number.isFinite(ms)) return `'-infinity'::TIMESTAMPTZ`; // no watermark yet: nothing is closed
  return `${quoteLiteral(new Date(ms).toISOString())}::TIMESTAMPTZ`;
}

/**
 * One new snapshot of `table`: its rows outside the recomputed range, plus the replay's rows. Optimistic: files the
 * live stream appends meanwhile are left alone (they hold later windows); a concurrent compaction makes us retry.
 */
async function replaceWindows(
  lake: Lake,
  table: string,
  buffer: string,
  replaced: string,
  runId: string,
): Promise<{ replaced: number; snapshotId: number | undefined }> {
  for (let attempt = 1; ; attempt++) {
    const resolved = (await lake.catalog.getTable(table)) ? await lake.catalog.resolveSnapshot(table) : undefined;
    const files = (resolved?.files ?? []).filter((f) => !f.path.includes(`/${OPEN_FOLDER}/`));
    const current = resolved ? await lake.selectOfFiles(files, resolved.snapshot.schema) : undefined;
    const [counted] = current ? await lake.engine.all(`SELECT count(*) AS n FROM (${current}) WHERE ${replaced}`) : [{ n: 0 }];
    const select = current ? `SELECT * FROM (${current}) WHERE NOT (${replaced}) UNION ALL BY NAME SELECT * FROM ${buffer}` : `SELECT * FROM ${buffer}`;
    const written = await lake.writeFiles(table, select);
    try {
      const result = await lake.commit({
        runId,
        changes: [{ ...lake.change(written, 'replay', { replay: runId }), removeFiles: files.map((f) => f.path) }],
      });
      return { replaced: Number(counted!.n), snapshotId: result.snapshots[table] };
    } catch (err) {
      if (!(err instanceof TributaryError && err.code === 'COMMIT_CONFLICT') || attempt >= 5) throw err;
    }
  }
}
