import type { ColumnInfo, TableInfo } from '../catalog/types.js';
import { errorMessage } from '../errors.js';
import type { Lake } from '../lake/lake.js';
import { quoteIdent } from '../engine/sql.js';

export interface LiveTable {
  name: string;
  snapshotId: number;
  rowCount: number;
  updatedAt: Date | undefined;
  columns: ColumnInfo[];
  /** The relation holding exactly this snapshot: a response names the snapshot it was read from, exactly. */
  view: string;
  /** Loaded into memory (small tables), or a view over the Parquet files. */
  inMemory: boolean;
}

/**
 * The exposed tables at their current snapshots. A poller looks at the catalog every `refreshMs` and mounts each new
 * snapshot as its own view (`"layer"."table@12"`), so requests never touch the catalog and new snapshots are
 * served without restart. A replaced snapshot's relation is dropped only after a grace period, so requests that
 * resolved it just before are not cut off; a table that fails to mount is reported and does not hold up the others.
 */
export class LiveTables {
  private tables = new Map<string, LiveTable>();
  private retired: { table: LiveTable; at: number }[] = [];
  private failures = new Map<string, string>();
  private static readonly GRACE_MS = 60_000;
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;

  constructor(
    private readonly lake: Lake,
    private readonly expose: readonly string[],
    /** Snapshots up to this many rows are loaded into memory: served in well under a millisecond. */
    private readonly memoryRows = 1_000_000,
  ) {}

  isExposed(name: string): boolean {
    return this.expose.some((p) => p === name || (p.endsWith('.*') && name.split('.')[0] === p.slice(0, -2)));
  }

  get(name: string): LiveTable | undefined {
    return this.tables.get(name);
  }

  /** Tables whose latest snapshot could not be mounted (they keep serving their previous one, if any). */
  errors(): { table: string; error: string }[] {
    return [...this.failures.entries()].map(([table, error]) => ({ table, error }));
  }

  list(): LiveTable[] {
    return [...this.tables.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  start(refreshMs: number): void {
    this.timer = setInterval(() => void this.refresh().catch(() => undefined), refreshMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Mounts snapshots that changed since the last look; safe to call concurrently (one refresh at a time). */
  refresh(): Promise<void> {
    this.refreshing ??= this.doRefresh().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private async doRefresh(): Promise<void> {
    const due = this.retired.filter((r) => Date.now() - r.at > LiveTables.GRACE_MS);
    this.retired = this.retired.filter((r) => !due.includes(r));
    for (const { table: old } of due) await this.lake.engine.run(`DROP ${old.inMemory ? 'TABLE' : 'VIEW'} IF EXISTS ${old.view}`).catch(() => undefined);
    for (const info of await this.lake.tables()) {
      if (!this.isExposed(info.name) || info.currentSnapshot === 0) continue;
      const known = this.tables.get(info.name);
      if (known?.snapshotId === info.currentSnapshot) continue;
      try {
        await this.mount(info, known);
        this.failures.delete(info.name);
      } catch (err) {
        this.failures.set(info.name, `snapshot ${info.currentSnapshot}: ${errorMessage(err).split('\n')[0]}`);
      }
    }
  }

  private async mount(info: TableInfo, known: LiveTable | undefined): Promise<void> {
    const resolved = await this.lake.catalog.resolveSnapshot(info.name, { snapshotId: info.currentSnapshot });
    if (!resolved) return;
    const [layer, table] = info.name.split('.') as [string, string];
    const view = `${quoteIdent(layer)}.${quoteIdent(`${table}@${info.currentSnapshot}`)}`;
    await this.lake.engine.run(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(layer)}`);
    // A snapshot never changes, so a copy in memory is as true as the files, and much faster to query.
    const inMemory = info.rowCount <= this.memoryRows;
    await this.lake.engine.run(
      `CREATE OR REPLACE ${inMemory ? 'TABLE' : 'VIEW'} ${view} AS ${await this.lake.selectOfFiles(resolved.files, resolved.snapshot.schema)}`,
    );
    // The schema as DuckDB reads it (union of files), which is what filters are typed against.
    const columns = (await this.lake.engine.describe(`SELECT * FROM ${view}`)).map((c) => ({ name: c.name, type: c.type }));
    this.tables.set(info.name, {
      name: info.name,
      snapshotId: info.currentSnapshot,
      rowCount: info.rowCount,
      updatedAt: info.updatedAt,
      columns,
      view,
      inMemory,
    });
    if (known) this.retired.push({ table: known, at: Date.now() });
  }
}
