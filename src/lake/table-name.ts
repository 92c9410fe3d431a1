import { TributaryError } from '../errors.js';

/** A lake table address: `layer.table` (bronze, silver, gold, or any other namespace). */
export interface TableRef {
  layer: string;
  table: string;
  /** `layer.table` */
  name: string;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function parseTableName(name: string, where = 'table'): TableRef {
  const parts = name.split('.');
  if (parts.length !== 2 || !parts.every((p) => IDENT.test(p))) {
    throw new TributaryError('TABLE_NAME_INVALID', `${where}: "${name}" is not a table name of the form layer.table`, {
      hint: 'use letters, digits and underscores, e.g. bronze.sales',
    });
  }
  const [layer, table] = parts as [string, string];
  return { layer, table, name: `${layer}.${table}` };
}
