import { z } from 'zod';
import '../checks/builtin.js';
import { checkKinds, checkSpecSchema } from '../checks/kinds.js';
import { engineSettingsSchema } from '../engine/config.js';
import { lakeSettingsSchema, tableConfigSchema } from '../lake/config.js';
import { tableNameSchema } from '../lake/table-name.js';
import { jobNameSchema, jobSchema, orchestrationSettingsSchema, probeSchema, sensorSchema } from '../orchestration/config.js';
import { serveSettingsSchema } from '../serve/config.js';
import { sourceConnector, sourceKinds } from '../sources/registry.js';
import { publicationSchema } from '../publish/config.js';
import { storeSettingsSchema } from '../store/config.js';
import { streamSchema } from '../streams/config.js';
import { nearest } from '../util/nearest.js';

/**
 * The config's schema, composed from the features' own (each next to its code: `lake/config.ts`, `serve/config.ts`,
 * `streams/config.ts`, `orchestration/config.ts`, a source kind's or check kind's schema in its registry). The
 * TypeScript types (config/types.ts) are inferred from it, so the two cannot drift. Config files may be plain JS:
 * this is what protects a run from a wrong setting.
 */

/**
 * A value whose `kind` names a registered kind: that kind's own schema validates the rest, and its errors keep their
 * path (`sources.x.batchSize`, `checks.t.0.max`); an unknown kind is named with the nearest registered one.
 */
function registeredKind<T>(what: string, kinds: () => string[], schemaOf: (kind: string) => z.ZodType<T>) {
  return z.looseObject({ kind: z.string().min(1) }).transform((value, ctx): T => {
    if (!kinds().includes(value.kind)) {
      const near = nearest(value.kind, kinds());
      ctx.addIssue({
        code: 'custom',
        path: ['kind'],
        message: `unknown ${what} kind "${value.kind}" (${near ? `did you mean "${near}"? ` : ''}kinds: ${kinds().join(', ')})`,
      });
      return z.NEVER;
    }
    const parsed = schemaOf(value.kind).safeParse(value);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
      return z.NEVER;
    }
    return parsed.data;
  });
}

const sourceSchema = registeredKind('source', sourceKinds, (kind) => sourceConnector(kind).schema);
const checkSchema = registeredKind('check', checkKinds, checkSpecSchema);

export const configSchema = z.strictObject({
  name: z.string().optional(),
  lake: lakeSettingsSchema.optional(),
  /** 'embedded' (default: a DuckDB file inside the lake) or a PostgreSQL URL; `?schema=name` picks the schema. */
  catalog: z.string().min(1).optional(),
  engine: engineSettingsSchema.optional(),
  /** Sources by name: each a registered kind (`files`, …) with its own settings and the table it lands in. */
  sources: z.record(z.string().regex(/^[A-Za-z0-9_-]+$/, 'source names use letters, digits, _ and -'), sourceSchema).optional(),
  /** Folder of SQL models, `<layer>/<name>.sql` (default './models'). */
  models: z.string().min(1).optional(),
  /** Data-quality checks per table (`layer.table`). */
  checks: z.record(tableNameSchema, z.array(checkSchema)).optional(),
  serve: serveSettingsSchema.optional(),
  /** Operational store: gold tables upserted into PostgreSQL by key (`tributary sync`). */
  store: storeSettingsSchema.optional(),
  /**
   * Where streams' topics live: 'embedded' (default: files in `.tributary/log`), 'embedded:<folder>', or Apache Kafka
   * as 'kafka://host:port[,host:port…]'. The same streams run on either.
   */
  log: z.string().min(1).optional(),
  /**
   * The schema registry Avro formats read and register schemas with: 'embedded' (default: the catalog's own, also
   * served by `tributary serve` at /registry and by `tributary registry`), or a Confluent-compatible registry's URL
   * ('http://registry:8081', with user:password@ for basic auth).
   */
  registry: z
    .string()
    .regex(/^(embedded|https?:\/\/.+)$/, "'embedded', or the registry's http(s):// URL")
    .optional(),
  /** Stream definitions, by name (letters, digits, '-' and '_'). */
  streams: z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9_-]*$/, 'stream names use letters, digits, _ and -'), streamSchema).optional(),
  /** Jobs: selections of assets run together, by hand, on cron schedules or when a sensor fires. */
  jobs: z
    .record(
      jobNameSchema.refine((n) => n !== 'automation', "'automation' names the runs of declarative automation"),
      jobSchema,
    )
    .optional(),
  /** Sensors: conditions polled by the scheduler that start a job when they hold. */
  sensors: z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9_-]*$/, 'sensor names use letters, digits, _ and -'), sensorSchema).optional(),
  /** Publications: lake tables whose new rows are sent to a topic of the log (`publish:<name>`). */
  publish: z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9_-]*$/, 'publication names use letters, digits, _ and -'), publicationSchema).optional(),
  /** Probes: assets that check a system answers before the assets that need it (`probe:<name>`). */
  probes: z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9_-]*$/, 'probe names use letters, digits, _ and -'), probeSchema).optional(),
  /**
   * Declarative automation: models (names, layers or patterns like 'gold.*') rebuilt as soon as an input table
   * gets a new snapshot, with their automated downstream models, instead of waiting for a schedule.
   */
  automate: z.array(z.string().min(1)).optional(),
  /** Workers, failure notifications and scheduler timings. */
  orchestration: orchestrationSettingsSchema.optional(),
  /** Per-table settings of the lake (hidden partitioning). */
  tables: z.record(z.string(), tableConfigSchema).optional(),
});
