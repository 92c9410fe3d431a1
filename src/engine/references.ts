import { TributaryError } from '../errors.js';
import type { Engine } from './engine.js';

/** Parses already done, by engine and SQL text: a parse depends on the text alone (a worker tests freshness often). */
const parsed = new WeakMap<Engine, Map<string, string[]>>();

/** Tables a query reads, as `layer.table`, from DuckDB's own parse tree (CTE names and table functions excluded). */
export async function tableReferences(engine: Engine, sql: string, displayFile: string): Promise<string[]> {
  let memo = parsed.get(engine);
  if (!memo) parsed.set(engine, (memo = new Map()));
  const known = memo.get(sql);
  if (known) return [...known];
  const reads = await parseTableReferences(engine, sql, displayFile);
  if (memo.size >= 1000) memo.clear();
  memo.set(sql, reads);
  return [...reads];
}

async function parseTableReferences(engine: Engine, sql: string, displayFile: string): Promise<string[]> {
  const [row] = await engine.all(`SELECT json_serialize_sql($1::VARCHAR) AS tree`, [sql]);
  const tree = JSON.parse(String(row!.tree)) as { error?: boolean; error_message?: string; position?: string };
  if (tree.error) {
    const position = tree.position === undefined ? undefined : Number(tree.position);
    const line = position === undefined ? '' : `:${sql.slice(0, position).split('\n').length}`;
    const message = /Only SELECT/i.test(tree.error_message ?? '') ? 'a model is one SELECT query' : (tree.error_message ?? 'cannot parse');
    throw new TributaryError('SQL_ERROR', `${displayFile}${line}: ${message}`);
  }
  const found = new Set<string>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      const n = node as Record<string, unknown>;
      if (n.type === 'BASE_TABLE' && typeof n.schema_name === 'string' && n.schema_name && typeof n.table_name === 'string') {
        found.add(`${n.schema_name}.${n.table_name}`);
      }
      Object.values(n).forEach(walk);
    }
  };
  walk(tree);
  return [...found].sort();
}
