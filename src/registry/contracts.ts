import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { TributaryError, errorMessage } from '../errors.js';
import type { RegistryClient } from './client.js';

/** A schema of the project: `contracts/<subject>.avsc` (Avro) or `contracts/<subject>.json` (JSON Schema). */
export interface Contract {
  subject: string;
  file: string;
  schemaType: 'AVRO' | 'JSON';
  schema: string;
}

export interface ContractCheck {
  subject: string;
  file: string;
  /** compatible with what the subject holds; new (the subject has no version yet); incompatible; invalid (refused). */
  status: 'compatible' | 'new' | 'incompatible' | 'invalid';
  messages: string[];
}

/** The project's contracts, by subject (the file's name without its extension), in name order. */
export function discoverContracts(dir: string): Contract[] {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch (err) {
    throw new TributaryError('NOT_FOUND', `no contracts folder ${dir}: ${errorMessage(err)}`, {
      hint: 'put each schema in contracts/<subject>.avsc (Avro) or contracts/<subject>.json (JSON Schema)',
    });
  }
  const contracts: Contract[] = [];
  for (const name of names) {
    const ext = path.extname(name);
    if (ext !== '.avsc' && ext !== '.json') continue;
    const file = path.join(dir, name);
    const schema = readFileSync(file, 'utf8');
    try {
      JSON.parse(schema);
    } catch (err) {
      throw new TributaryError('INVALID_INPUT', `${file}: not JSON: ${errorMessage(err)}`);
    }
    contracts.push({ subject: name.slice(0, -ext.length), file, schemaType: ext === '.avsc' ? 'AVRO' : 'JSON', schema });
  }
  if (!contracts.length) throw new TributaryError('NOT_FOUND', `no .avsc or .json schema in ${dir}`);
  return contracts;
}

/** Each contract against the registry's versions of its subject, under the subject's compatibility level. */
export async function checkContracts(registry: RegistryClient, contracts: readonly Contract[]): Promise<ContractCheck[]> {
  const out: ContractCheck[] = [];
  for (const c of contracts) {
    try {
      const result = await registry.compatibility(c.subject, { schema: c.schema, schemaType: c.schemaType });
      out.push({
        subject: c.subject,
        file: c.file,
        status: !result.subjectExists ? 'new' : result.compatible ? 'compatible' : 'incompatible',
        messages: result.messages,
      });
    } catch (err) {
      if ((err as { errorCode?: number }).errorCode === undefined) throw err; // the registry itself failed
      out.push({ subject: c.subject, file: c.file, status: 'invalid', messages: [errorMessage(err)] });
    }
  }
  return out;
}
