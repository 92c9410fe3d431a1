import { Ajv, type ValidateFunction } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule, { type FormatsPlugin } from 'ajv-formats';

// ajv-formats is CommonJS: under Node's ESM interop its plugin is the module or the module's `default`.
const addFormats = ((addFormatsModule as unknown as { default?: FormatsPlugin }).default ?? addFormatsModule) as FormatsPlugin;

/** A schema another one imports (Confluent's references): `$ref: "<name>"` finds it. */
export interface NamedSchema {
  name: string;
  schema: unknown;
}

/**
 * Compiles a JSON Schema with ajv for the draft its `$schema` names (draft-07 when it names none; 2019-09 and 2020-12
 * by their URIs), formats included, the schemas it references registered under their names. Throws, naming the
 * keyword, when the schema is not valid for its draft.
 */
export function compileJsonSchema(schema: unknown, references: readonly NamedSchema[] = []): ValidateFunction {
  const draft = typeof schema === 'object' && schema !== null ? String((schema as { $schema?: unknown }).$schema ?? '') : '';
  const options = { strict: false, allErrors: true, validateFormats: true } as const;
  const ajv = draft.includes('2020-12') ? new Ajv2020(options) : draft.includes('2019-09') ? new Ajv2019(options) : new Ajv(options);
  addFormats(ajv);
  for (const r of references) ajv.addSchema(r.schema as object, r.name);
  return ajv.compile(schema as object);
}

/** ajv's errors as one line each: `/user/age: must be integer`. */
export function describeJsonErrors(validate: ValidateFunction, max = 3): string {
  const errors = validate.errors ?? [];
  const lines = errors.slice(0, max).map((e) => {
    const extra = e.keyword === 'additionalProperties' ? ` (${(e.params as { additionalProperty?: string }).additionalProperty})` : '';
    return `${e.instancePath || '(the document)'}: ${e.message ?? e.keyword}${extra}`;
  });
  return `${lines.join('; ')}${errors.length > max ? ` (and ${errors.length - max} more)` : ''}`;
}
