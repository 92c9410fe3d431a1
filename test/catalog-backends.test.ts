import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerCatalogBackend, unregisterCatalogBackend } from '../src/catalog/backends.js';
import type { CatalogDriver, CatalogSession } from '../src/catalog/driver.js';
import { DuckDbCatalogDriver } from '../src/catalog/embedded/duckdb-driver.js';
import { runIngest } from '../src/ingest/run.js';
import { runModels } from '../src/models/run.js';
import type { CountingCatalogLocation } from './support/extension-types.js';
import { openTestLake, rows } from './support/project.js';

// The recipe of docs/architecture.md, "Adding a catalog backend": a CatalogDriver and one registration line. This
// one wraps the embedded driver and counts the statements it runs: every catalog query goes through the driver.

let statements = 0;
class CountingDriver implements CatalogDriver {
  private readonly inner: CatalogDriver;
  constructor(file: string) {
    this.inner = new DuckDbCatalogDriver(file);
  }
  get dialect() {
    return this.inner.dialect;
  }
  get location() {
    return `counting:${this.inner.location}`;
  }
  private counted(session: CatalogSession): CatalogSession {
    return {
      query: (sql, params) => {
        statements++;
        return session.query(sql, params);
      },
    };
  }
  transaction<T>(fn: (s: CatalogSession) => Promise<T>): Promise<T> {
    return this.inner.transaction((s) => fn(this.counted(s)));
  }
  read<T>(fn: (s: CatalogSession) => Promise<T>): Promise<T> {
    return this.inner.read((s) => fn(this.counted(s)));
  }
  bootstrap(s: CatalogSession) {
    return this.inner.bootstrap(s);
  }
  lock(s: CatalogSession, key: string) {
    return this.inner.lock(s, key);
  }
  tryLock(s: CatalogSession, key: string) {
    return this.inner.tryLock(s, key);
  }
  isUniqueViolation(err: unknown) {
    return this.inner.isUniqueViolation(err);
  }
  close() {
    return this.inner.close();
  }
}

beforeAll(() => registerCatalogBackend({ kind: 'counting', open: (l) => new CountingDriver((l as CountingCatalogLocation).url.slice('counting://'.length)) }));
afterAll(() => unregisterCatalogBackend('counting'));

describe('a catalog backend added outside the tree (the recipe)', () => {
  it('holds the catalog of a project: migrations, ingestion, models and time travel all go through its driver', async () => {
    const dir = path.join((await import('node:os')).tmpdir(), `trib-counting-${process.pid}-${Date.now()}`);
    const { lake, write } = await openTestLake({
      catalog: `counting://${path.join(dir, 'catalog.duckdb')}`,
      sources: { sales: { kind: 'files', glob: 'in/*.csv', into: 'bronze.sales' } },
    });
    expect(lake.catalog.location).toBe(`counting:${path.join(dir, 'catalog.duckdb')}`);
    const afterMigrations = statements;
    expect(afterMigrations).toBeGreaterThan(0);
    write('in/a.csv', 'id,amount\n1,10\n2,20\n');
    write('models/gold/total.sql', 'SELECT sum(amount) AS total FROM bronze.sales');
    await runIngest(lake);
    expect((await runModels(lake)).status).toBe('success');
    expect(await rows(lake, 'SELECT total FROM gold.total')).toEqual([{ total: 30 }]);
    expect(statements).toBeGreaterThan(afterMigrations);
  });
});
