import { z } from 'zod';
import { TributaryError } from '../errors.js';

/** A lake table address: `layer.table` (bronze, silver, gold, or any other namespace). */
export interface TableRef {
  layer: string;
  table: string;
  /** `layer.table` */
  name: string;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A table name in a config: `layer.table`, each part letters, digits and underscores. */
export const tableNameSchema = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$/, 'expected a table name layer.table');

/** A column (or parameter) name in a config: letters, digits and underscores, not starting with a digit. */
export const identifierSchema = z.string().regex(IDENT, 'names use letters, digits and _');

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
