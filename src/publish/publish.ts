import { serdeContextOf } from '../registry/open.js';
import { TributaryError, errorMessage } from '../errors.js';
import { parseJson } from '../util/lossless-json.js';
import type { Lake } from '../lake/lake.js';
import type { LogProducer, ProduceRecord } from '../log/log.js';
import { openLog } from '../log/open.js';
import { quoteIdent } from '../engine/sql.js';
import { createSerde } from '../serdes/index.js';
import type { PublicationConfig } from './config.js';

/**
 * Publishing a lake table to a topic (seed 000's "enriched invoices to Kafka"): the rows a new snapshot brought are
 * sent as records, then the snapshot is recorded as published (a source state named `publish:<name>`), so that a
 * run after a success sends nothing again.
 *
 * The guarantee, end to end, is **at least once**: records are acknowledged by the log (fsynced by the embedded
 * log; by every in-sync replica of Kafka, whose idempotent producer drops the duplicates of its own retries) before
 * the snapshot is recorded; a crash between the two sends that snapshot's rows again at the next run, with the same
 * `tributary-snapshot` header and key, which is how a consumer drops them. Nothing is lost and nothing is sent for a
 * snapshot recorded as published.
 */

export interface PublishReport {
  publication: string;
  table: string;
  topic: string;
  /** The snapshot published (undefined: the table has none yet). */
  snapshot: number | undefined;
  /** Records sent by this run (0 when the snapshot was published before). */
  sent: number;
  /** How the rows were chosen: `files added`, `rows not in snapshot N`, `whole snapshot`, `already published`. */
  selection: string;
}

interface Published {
  table: string;
  snapshot: number;
  committedAt: string;
}

const BATCH = 1000;

export async function publishTable(lake: Lake, name: string, options: { signal?: AbortSignal } = {}): Promise<PublishReport> {
  const where = `publish.${name}`;
  const publication = lake.config.publish[name];
  if (!publication) {
    throw new TributaryError('NOT_FOUND', `no publication "${name}"`, { hint: `publications: ${Object.keys(lake.config.publish).join(', ') || 'none'}` });
  }
  const report: PublishReport = { publication: name, table: publication.table, topic: publication.topic, snapshot: undefined, sent: 0, selection: '' };
  const resolved = (await lake.catalog.getTable(publication.table)) ? await lake.catalog.resolveSnapshot(publication.table) : undefined;
  if (!resolved) {
    report.selection = 'the table has no snapshot yet';
    return report;
  }
  report.snapshot = resolved.snapshot.snapshotId;
  const stateName = `publish:${name}`;
  const state = await lake.catalog.sourceStates.get(stateName);
  const last = state?.state as Published | undefined;
  const same = (p: Published | undefined) =>
    p && p.table === publication.table && p.snapshot === resolved.snapshot.snapshotId && p.committedAt === resolved.snapshot.committedAt.toISOString();
  if (same(last)) {
    report.selection = 'already published';
    return report;
  }
  const select = await rowsToPublish(lake, publication, resolved, last, report);
  const format = createSerde(publication.format, `${where}.format`, { ...serdeContextOf(lake), topic: publication.topic });
  await format.prepare?.([]);
  if (publication.key && !resolved.snapshot.schema.some((c) => c.name === publication.key)) {
    throw new TributaryError('CONFIG_INVALID', `${where}.key: ${publication.table} has no column "${publication.key}"`, {
      hint: `columns: ${resolved.snapshot.schema.map((c) => c.name).join(', ')}`,
    });
  }
  const log = await openLog(lake.config.log);
  let producer: LogProducer | undefined;
  try {
    await log.createTopic(publication.topic, publication.partitions ?? 1);
    producer = await log.producer();
    const key = publication.key ? `CAST(__tributary_row.${quoteIdent(publication.key)} AS VARCHAR)` : 'NULL';
    // An alias no column is named (a column `t` would shadow a row alias `t`).
    const row = '__tributary_row';
    const stream = await lake.engine.connection
      .stream(`SELECT CAST(to_json(${row}) AS VARCHAR) AS v, ${key} AS k FROM (${select}) AS ${row}`)
      .catch((err: unknown) => {
        throw new TributaryError('SQL_ERROR', `${where}: reading ${publication.table}: ${errorMessage(err).split('\n')[0]}`, { cause: err });
      });
    const headers = { 'tributary-table': publication.table, 'tributary-snapshot': String(resolved.snapshot.snapshotId) };
    let batch: ProduceRecord[] = [];
    for (;;) {
      const chunk = await stream.fetchChunk();
      if (!chunk || chunk.rowCount === 0) break;
      for (const [v, k] of chunk.getRows()) {
        const text = String(v);
        batch.push({
          topic: publication.topic,
          key: k === null ? null : String(k),
          value: format.fromText ? format.fromText(text) : format.encode(parseJson(text)),
          headers,
        });
        if (batch.length >= BATCH) {
          await producer.send(batch);
          report.sent += batch.length;
          batch = [];
        }
      }
      if (options.signal?.aborted) break;
    }
    if (batch.length) {
      await producer.send(batch);
      report.sent += batch.length;
    }
    if (options.signal?.aborted) {
      throw new TributaryError(
        'CONFLICT',
        `${where}: stopped after ${report.sent} record(s) of snapshot ${resolved.snapshot.snapshotId}; the next run sends that snapshot again`,
      );
    }
  } finally {
    await producer?.close().catch(() => undefined);
    await log.close().catch(() => undefined);
  }
  // Recorded once every record is acknowledged: a crash before this line sends the snapshot again (at least once).
  const published: Published = { table: publication.table, snapshot: resolved.snapshot.snapshotId, committedAt: resolved.snapshot.committedAt.toISOString() };
  await lake.commit({ changes: [], parts: [lake.catalog.sourceStates.advance({ source: stateName, expectedVersion: state?.version ?? 0, state: published })] });
  return report;
}

/** The SELECT of the rows to send, and how they were chosen (in the report). */
async function rowsToPublish(
  lake: Lake,
  publication: PublicationConfig,
  current: NonNullable<Awaited<ReturnType<Lake['catalog']['resolveSnapshot']>>>,
  last: Published | undefined,
  report: PublishReport,
): Promise<string> {
  const all = await lake.selectOfFiles(current.files, current.snapshot.schema);
  if (publication.mode === 'snapshot' || !last || last.table !== publication.table) {
    report.selection = 'whole snapshot';
    return all;
  }
  const before = await lake.catalog.resolveSnapshot(publication.table, { snapshotId: last.snapshot }).catch(() => undefined);
  if (!before || before.snapshot.committedAt.toISOString() !== last.committedAt) {
    // The snapshot published last is gone (expired, or the table was dropped and written again): every row.
    report.selection = `whole snapshot (snapshot ${last.snapshot} published before is gone)`;
    return all;
  }
  const now = new Set(current.files.map((f) => f.path));
  if (before.files.every((f) => now.has(f.path))) {
    const old = new Set(before.files.map((f) => f.path));
    const added = current.files.filter((f) => !old.has(f.path));
    report.selection = `files added since snapshot ${last.snapshot}`;
    if (added.length === 0) return `SELECT * FROM (${all}) WHERE false`;
    return lake.selectOfFiles(added, current.snapshot.schema);
  }
  // Rewritten (a merge, an overwrite, a compaction): the rows the published snapshot did not hold, compared column by
  // column by name (both sides read with the current schema: a column added since is NULL in the old rows).
  report.selection = `rows not in snapshot ${last.snapshot}`;
  const columns = current.snapshot.schema.map((c) => quoteIdent(c.name)).join(', ');
  const had = new Set(before.snapshot.schema.map((c) => c.name));
  const old = current.snapshot.schema
    .map((c) => `${had.has(c.name) ? `CAST(${quoteIdent(c.name)} AS ${c.type})` : `CAST(NULL AS ${c.type})`} AS ${quoteIdent(c.name)}`)
    .join(', ');
  return `SELECT ${columns} FROM (${all}) EXCEPT ALL SELECT ${old} FROM (${await lake.selectOfFiles(before.files, before.snapshot.schema)})`;
}
