import type { Lake } from '../lake/lake.js';
import { type ContractColumn, contractColumns, readContract } from '../registry/lake-columns.js';
import { compileStream } from '../streams/definition.js';

/**
 * The contract behind each table that has one, for the API's row schemas: a table's own (`tables[…].contract`,
 * enforced at ingestion: its non-nullable columns hold values, its enums their symbols) and a stream's events table
 * whose columns come from the format's schema (enforced by decoding: Avro, or a JSON Schema validated by ajv).
 * A contract that cannot be read leaves its table without annotations (the config names the problem when it runs).
 */
export function tableContracts(lake: Lake): Map<string, ContractColumn[]> {
  const out = new Map<string, ContractColumn[]>();
  for (const [table, settings] of Object.entries(lake.config.tables)) {
    if (!settings.contract) continue;
    try {
      out.set(table, contractColumns(readContract(lake.config.projectDir, settings.contract, `tables['${table}'].contract`), `tables['${table}'].contract`));
    } catch {
      // Not annotated: ingestion refuses the table with the reason.
    }
  }
  for (const [name, config] of Object.entries(lake.config.streams)) {
    if (!config.events || config.fields) continue;
    try {
      const compiled = compileStream(name, config, { projectDir: lake.config.projectDir });
      if (compiled.events?.contract) out.set(compiled.events.table, compiled.events.contract);
    } catch {
      // The stream's own errors are its worker's to report.
    }
  }
  return out;
}
