import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { escapePath } from 'tinyglobby';
import type { FileSourceConfig } from '../config/types.js';
import { TributaryError, errorMessage } from '../errors.js';
import type { Lake } from '../lake/lake.js';
import { parseTableName } from '../lake/table-name.js';
import { newId } from '../util/ids.js';
import { formatFromPath } from '../sources/files/files.js';
import { emptyReport, type IngestOptions, type SourceReport } from '../sources/connector.js';
import { adhocSourceName, ingestSource } from '../sources/files/ingest.js';
import { sourceConnector } from '../sources/registry.js';

export interface IngestRunReport {
  runId: string;
  status: 'success' | 'partial';
  sources: SourceReport[];
}

/** Runs declared sources (all, or the named ones) as one recorded run. */
export async function runIngest(lake: Lake, names: readonly string[] = [], options: IngestOptions = {}): Promise<IngestRunReport> {
  const declared = lake.config.sources;
  for (const name of names) {
    if (!declared[name]) {
      const known = Object.keys(declared);
      throw new TributaryError('SOURCE_NOT_FOUND', `source "${name}" is not declared in ${lake.config.configFile ?? 'the config'}`, {
        hint: known.length ? `declared sources: ${known.join(', ')}` : 'declare sources in tributary.config.ts, or use --into for ad hoc files',
      });
    }
  }
  const selected = names.length ? names : Object.keys(declared);
  if (selected.length === 0) {
    throw new TributaryError('SOURCE_NOT_FOUND', `no sources are declared in ${lake.config.configFile ?? lake.config.projectDir}`, {
      hint: 'declare sources in tributary.config.ts, or run `tributary ingest <path-or-glob> --into layer.table`',
    });
  }
  return recordRun(lake, async (runId) => {
    const reports: SourceReport[] = [];
    for (const name of selected) reports.push(await ingestDeclared(lake, name, { ...options, runId }));
    return reports;
  });
}

/** Ingests one declared source, whatever its kind, under an existing run (a job's task, or `runIngest`'s run). */
export async function ingestDeclared(lake: Lake, name: string, options: IngestOptions & { runId: string }): Promise<SourceReport> {
  const config = lake.config.sources[name];
  if (!config) throw new TributaryError('SOURCE_NOT_FOUND', `source "${name}" is no longer declared`);
  const connector = sourceConnector(config.kind, `sources.${name}.kind`);
  return connector.ingest(
    {
      lake,
      name,
      runId: options.runId,
      ...(options.partition ? { partition: options.partition } : {}),
      ...(options.strict ? { strict: true } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    },
    config,
  );
}

/**
 * Ad hoc: ingests files matching paths or globs into a table without declaring a source. Paths are relative to
 * `cwd` (the current folder); an existing file or folder is taken literally (brackets in names are not globs).
 */
export async function runIngestFiles(
  lake: Lake,
  patterns: string | readonly string[],
  into: string,
  overrides: Partial<Pick<FileSourceConfig, 'format' | 'csv' | 'onError' | 'schema'>> = {},
  options: IngestOptions & { cwd?: string } = {},
): Promise<IngestRunReport> {
  const table = parseTableName(into, '--into').name;
  const cwd = options.cwd ?? process.cwd();
  const glob = [patterns].flat().map((pattern) => {
    const abs = path.resolve(cwd, pattern);
    if (!existsSync(abs)) return abs;
    return statSync(abs).isDirectory() ? `${escapePath(abs)}/*` : escapePath(abs);
  });
  const source: FileSourceConfig = { kind: 'files', glob, into: table, ...overrides };
  return recordRun(lake, (runId) => ingestAll(lake, [[adhocSourceName(table), source]], { ...options, runId, requireMatch: true }));
}

/** Ingests a quarantined file again (from its preserved copy), with the source's current settings. */
export async function retryQuarantined(lake: Lake, id: number, options: IngestOptions = {}): Promise<IngestRunReport> {
  const entry = await lake.catalog.quarantine.get(id);
  if (entry.status !== 'open') {
    throw new TributaryError('CONFLICT', `quarantine entry ${id} is already ${entry.status}`);
  }
  const declared = lake.config.sources[entry.source];
  if (declared && declared.kind === 'http') {
    throw new TributaryError('CONFLICT', `quarantine entry ${id} is a response of the HTTP source ${entry.source}: an API is asked again, not replayed`, {
      hint: `run \`tributary ingest ${entry.source}\`: a run that reads ${entry.table} again resolves the entry (its body stays in ${entry.storedPath ?? 'the quarantine folder'})`,
    });
  }
  if (declared && declared.kind !== 'files') throw new TributaryError('CONFLICT', `quarantine entry ${id}: source ${entry.source} is no longer a file source`);
  // Ad hoc sources are not in the config: their options were kept with the entry.
  const kept = (entry.details as { sourceOptions?: Partial<FileSourceConfig> } | undefined)?.sourceOptions ?? {};
  const source: FileSourceConfig = declared ?? {
    kind: 'files',
    glob: entry.path,
    into: entry.table,
    ...kept,
    format: kept.format ?? formatFromPath(entry.path, `quarantine entry ${id}`),
  };
  if ((await lake.catalog.ingestion.hashes(entry.source)).has(entry.fileHash)) {
    // The same content was ingested since (e.g. by another process): nothing to do but close the entry.
    await lake.catalog.quarantine.resolve(id);
    const table = source.into;
    return {
      runId: '',
      status: 'success',
      sources: [{ ...emptyReport(entry.source, table, 'file'), discovered: 1, unchanged: 1 }],
    };
  }
  const stored = entry.storedPath ? await lake.storage.stat(entry.storedPath) : undefined;
  if (!entry.storedPath || !stored) {
    throw new TributaryError('IO_ERROR', `quarantine entry ${id}: the preserved copy ${entry.storedPath ?? '(none)'} is missing from ${lake.storage.root}`);
  }
  await lake.storage.prepareRead([entry.storedPath]);
  const file = { absPath: lake.storage.readPath(entry.storedPath), displayPath: entry.path, sizeBytes: stored.sizeBytes, hash: entry.fileHash };
  return recordRun(lake, (runId) => ingestAll(lake, [[entry.source, source]], { ...options, runId, explicitFiles: [file], retryQuarantineId: id }));
}

async function ingestAll(
  lake: Lake,
  sources: readonly (readonly [string, FileSourceConfig])[],
  options: Parameters<typeof ingestSource>[3],
): Promise<SourceReport[]> {
  const reports: SourceReport[] = [];
  for (const [name, source] of sources) reports.push(await ingestSource(lake, name, source, options));
  return reports;
}

async function recordRun(lake: Lake, work: (runId: string) => Promise<SourceReport[]>): Promise<IngestRunReport> {
  const runId = newId('ingest-');
  await lake.catalog.runs.start(runId, 'ingest');
  try {
    const sources = await work(runId);
    const status = sources.some((s) => s.quarantined.length > 0 || s.rejectedRows > 0) ? 'partial' : 'success';
    await lake.catalog.runs.finish(runId, status, summarise(sources));
    return { runId, status, sources };
  } catch (err) {
    await lake.catalog.runs.finish(runId, 'failed', null, errorMessage(err)).catch(() => undefined);
    throw err;
  }
}

function summarise(sources: SourceReport[]): Record<string, unknown> {
  return Object.fromEntries(
    sources.map((s) => [
      s.source,
      { table: s.table, files: s.ingested.length, rows: s.rows, rejectedRows: s.rejectedRows, quarantined: s.quarantined.length, unchanged: s.unchanged },
    ]),
  );
}
