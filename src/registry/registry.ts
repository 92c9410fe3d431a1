import { createHash } from 'node:crypto';
import type { CatalogDriver, CatalogSession } from '../catalog/driver.js';
import { RegistryError, schemaNotFound, subjectNotFound, versionNotFound } from './errors.js';
import { type ResolvedReference, schemaFormat } from './formats.js';

/** Confluent's compatibility levels. BACKWARD: a new schema reads data of the last one; TRANSITIVE: of all. */
export const COMPATIBILITY_LEVELS = ['BACKWARD', 'BACKWARD_TRANSITIVE', 'FORWARD', 'FORWARD_TRANSITIVE', 'FULL', 'FULL_TRANSITIVE', 'NONE'] as const;
export type CompatibilityLevel = (typeof COMPATIBILITY_LEVELS)[number];
/** Confluent's default. */
const DEFAULT_LEVEL: CompatibilityLevel = 'BACKWARD';

export interface SchemaReference {
  name: string;
  subject: string;
  version: number;
}

/** What a producer sends: `{ schema, schemaType?, references? }`. */
export interface SchemaInput {
  schema: string;
  schemaType?: string;
  references?: SchemaReference[];
}

export interface StoredSchema {
  id: number;
  schemaType: string;
  schema: string;
  references: SchemaReference[];
}

export interface SubjectVersion extends StoredSchema {
  subject: string;
  version: number;
  deleted: boolean;
}

export interface CompatibilityResult {
  compatible: boolean;
  /** One line per reason: which version, which direction, where and why. */
  messages: string[];
}

function isLevel(value: unknown): value is CompatibilityLevel {
  return typeof value === 'string' && (COMPATIBILITY_LEVELS as readonly string[]).includes(value);
}

/**
 * The schema registry, stored in the catalog: one registry for every process sharing a catalog (PostgreSQL), with
 * Confluent's semantics — one global id per distinct schema, versions per subject, compatibility checked at
 * registration, soft then hard deletes. The REST API over it is in `routes.ts`.
 */
export class SchemaRegistry {
  constructor(private readonly driver: CatalogDriver) {}

  // ---- reads -------------------------------------------------------------------------------------------------

  async schemaById(id: number): Promise<StoredSchema> {
    const rows = await this.driver.read((s) => s.query(`SELECT * FROM registry_schemas WHERE id = $1`, [id]));
    if (!rows[0]) throw schemaNotFound(String(id));
    return toSchema(rows[0]);
  }

  /** Subjects and versions (not deleted) that hold a schema id. */
  async versionsOfId(id: number): Promise<{ subject: string; version: number }[]> {
    await this.schemaById(id);
    const rows = await this.driver.read((s) =>
      s.query(`SELECT subject, version FROM registry_versions WHERE schema_id = $1 AND NOT deleted ORDER BY subject, version`, [id]),
    );
    return rows.map((r) => ({ subject: String(r.subject), version: Number(r.version) }));
  }

  async subjects(options: { deleted?: boolean; prefix?: string } = {}): Promise<string[]> {
    const rows = await this.driver.read((s) =>
      s.query(`SELECT DISTINCT subject FROM registry_versions ${options.deleted ? '' : 'WHERE NOT deleted'} ORDER BY subject`),
    );
    return rows.map((r) => String(r.subject)).filter((s) => !options.prefix || s.startsWith(options.prefix));
  }

  async versions(subject: string, options: { deleted?: boolean } = {}): Promise<number[]> {
    const rows = await this.versionRows(subject, options.deleted ?? false);
    if (!rows.length) throw subjectNotFound(subject);
    return rows.map((r) => r.version);
  }

  /** A version by number, or the latest (`'latest'`, `-1`); soft-deleted versions only with `deleted`. */
  async version(subject: string, version: string | number, options: { deleted?: boolean } = {}): Promise<StoredVersion> {
    const all = await this.versionRows(subject, true);
    const live = all.filter((v) => !v.deleted);
    if (!(options.deleted ? all : live).length) throw subjectNotFound(subject);
    if (version === 'latest' || version === -1 || version === '-1') {
      const latest = live.at(-1) ?? (options.deleted ? all.at(-1) : undefined);
      if (!latest) throw versionNotFound(subject, 'latest');
      return latest;
    }
    const n = typeof version === 'number' ? version : /^\d+$/.test(version) ? Number(version) : Number.NaN;
    if (!Number.isInteger(n) || n < 1 || n > 2 ** 31 - 1)
      throw new RegistryError(
        422,
        42202,
        `The specified version '${version}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string "latest"`,
      );
    const found = (options.deleted ? all : live).find((v) => v.version === n);
    if (!found) throw versionNotFound(subject, n);
    return found;
  }

  /** Is this schema registered under the subject? (`POST /subjects/{subject}`.) */
  async lookup(subject: string, input: SchemaInput, options: { deleted?: boolean } = {}): Promise<SubjectVersion> {
    const all = await this.versionRows(subject, options.deleted ?? false);
    if (!all.length) throw subjectNotFound(subject);
    const { fingerprint } = await this.prepare(input);
    const rows = await this.driver.read((s) => s.query(`SELECT id FROM registry_schemas WHERE fingerprint = $1`, [fingerprint]));
    const id = rows[0] ? Number(rows[0].id) : undefined;
    const found = all.filter((v) => v.id === id).at(-1);
    if (!found) throw schemaNotFound('');
    return found;
  }

  async referencedBy(subject: string, version: string | number): Promise<number[]> {
    const v = await this.version(subject, version);
    const rows = await this.driver.read((s) => s.query(`SELECT id, references_json FROM registry_schemas ORDER BY id`));
    return rows
      .filter((r) => (JSON.parse(String(r.references_json)) as SchemaReference[]).some((ref) => ref.subject === subject && ref.version === v.version))
      .map((r) => Number(r.id));
  }

  // ---- compatibility -----------------------------------------------------------------------------------------

  async compatibility(subject?: string): Promise<CompatibilityLevel | undefined> {
    const rows = await this.driver.read((s) => s.query(`SELECT compatibility FROM registry_config WHERE subject = $1`, [subject ?? '']));
    const level = rows[0]?.compatibility;
    return isLevel(level) ? level : subject === undefined ? DEFAULT_LEVEL : undefined;
  }

  async effectiveCompatibility(subject: string): Promise<CompatibilityLevel> {
    return (await this.compatibility(subject)) ?? (await this.compatibility())!;
  }

  async setCompatibility(level: unknown, subject?: string): Promise<CompatibilityLevel> {
    if (!isLevel(level))
      throw new RegistryError(422, 42203, `Invalid compatibility level ${String(level)}. Valid values are ${COMPATIBILITY_LEVELS.join(', ')}`);
    await this.driver.transaction(async (s) => {
      await s.query(`DELETE FROM registry_config WHERE subject = $1`, [subject ?? '']);
      await s.query(`INSERT INTO registry_config (subject, compatibility) VALUES ($1, $2)`, [subject ?? '', level]);
    });
    return level;
  }

  async deleteCompatibility(subject?: string): Promise<CompatibilityLevel> {
    const previous = await this.compatibility(subject);
    if (subject !== undefined && previous === undefined)
      throw new RegistryError(404, 40408, `Subject '${subject}' does not have subject-level compatibility configured`);
    await this.driver.transaction((s) => s.query(`DELETE FROM registry_config WHERE subject = $1`, [subject ?? '']));
    return previous ?? DEFAULT_LEVEL;
  }

  /**
   * Would `input` be accepted under the subject? Against one version (`against`), or — without it — the versions the
   * subject's level names (the latest, or all for a transitive level).
   */
  async checkCompatibility(subject: string, input: SchemaInput, against?: string | number): Promise<CompatibilityResult> {
    const prepared = await this.prepare(input);
    const level = await this.effectiveCompatibility(subject);
    let existing: StoredVersion[];
    if (against !== undefined) existing = [await this.version(subject, against)];
    else {
      const live = (await this.versionRows(subject, true)).filter((v) => !v.deleted);
      existing = level.endsWith('_TRANSITIVE') ? live : live.slice(-1);
    }
    return this.compare(level, prepared, existing);
  }

  // ---- writes ------------------------------------------------------------------------------------------------

  /**
   * Registers a schema under a subject: its id (the existing one when the schema is already known, under any
   * subject), and a new version unless the subject already holds it. Refused (409) when incompatible.
   */
  async register(subject: string, input: SchemaInput): Promise<SubjectVersion> {
    if (!subject) throw new RegistryError(422, 42208, 'Invalid subject: empty');
    const prepared = await this.prepare(input);
    return this.driver.transaction(async (s) => {
      await this.driver.lock(s, 'registry');
      const versions = (await this.versionRowsIn(s, subject, true)).sort((a, b) => a.version - b.version);
      const live = versions.filter((v) => !v.deleted);
      const known = (await s.query(`SELECT id FROM registry_schemas WHERE fingerprint = $1`, [prepared.fingerprint]))[0];
      const knownId = known ? Number(known.id) : undefined;
      const same = live.find((v) => v.id === knownId);
      if (same) return same;
      const level = await this.effectiveCompatibilityIn(s, subject);
      const against = level.endsWith('_TRANSITIVE') ? live : live.slice(-1);
      const result = this.compare(level, prepared, against);
      if (!result.compatible) {
        throw new RegistryError(
          409,
          409,
          `Schema being registered is incompatible with an earlier schema for subject "${subject}", details: [${result.messages.join('; ')}]`,
        );
      }
      let id = knownId;
      if (id === undefined) {
        id = Number((await s.query(`SELECT coalesce(max(id), 0) + 1 AS id FROM registry_schemas`))[0]!.id);
        await s.query(
          `INSERT INTO registry_schemas (id, schema_type, schema_text, references_json, fingerprint, created_at) VALUES ($1, $2, $3, $4, $5, CAST($6 AS TIMESTAMPTZ))`,
          [id, prepared.schemaType, prepared.canonical, JSON.stringify(prepared.references), prepared.fingerprint, new Date().toISOString()],
        );
      }
      const version = (versions.at(-1)?.version ?? 0) + 1;
      await s.query(`INSERT INTO registry_versions (subject, version, schema_id, deleted, created_at) VALUES ($1, $2, $3, FALSE, CAST($4 AS TIMESTAMPTZ))`, [
        subject,
        version,
        id,
        new Date().toISOString(),
      ]);
      return { subject, version, id, schemaType: prepared.schemaType, schema: prepared.canonical, references: prepared.references, deleted: false };
    });
  }

  /** Soft-deletes a subject (every version), or deletes it for good once soft-deleted (`permanent`). */
  async deleteSubject(subject: string, permanent: boolean): Promise<number[]> {
    return this.driver.transaction(async (s) => {
      await this.driver.lock(s, 'registry');
      const all = await this.versionRowsIn(s, subject, true);
      if (!all.length) throw subjectNotFound(subject);
      const live = all.filter((v) => !v.deleted);
      if (permanent) {
        if (live.length) throw new RegistryError(404, 40405, `Subject '${subject}' was not deleted first before being permanently deleted`);
        await this.assertNotReferenced(
          s,
          subject,
          all.map((v) => v.version),
        );
        await s.query(`DELETE FROM registry_versions WHERE subject = $1`, [subject]);
        return all.map((v) => v.version);
      }
      if (!live.length) throw new RegistryError(404, 40404, `Subject '${subject}' was soft deleted.Set permanent=true to delete permanently`);
      await this.assertNotReferenced(
        s,
        subject,
        live.map((v) => v.version),
      );
      await s.query(`UPDATE registry_versions SET deleted = TRUE WHERE subject = $1`, [subject]);
      return live.map((v) => v.version);
    });
  }

  /** Soft-deletes one version, or deletes it for good once soft-deleted (`permanent`). */
  async deleteVersion(subject: string, version: string | number, permanent: boolean): Promise<number> {
    const target = await this.version(subject, version, { deleted: permanent });
    return this.driver.transaction(async (s) => {
      await this.driver.lock(s, 'registry');
      if (permanent) {
        if (!target.deleted)
          throw new RegistryError(404, 40407, `Subject '${subject}' Version ${target.version} was not deleted first before being permanently deleted`);
        await s.query(`DELETE FROM registry_versions WHERE subject = $1 AND version = $2`, [subject, target.version]);
        return target.version;
      }
      if (target.deleted)
        throw new RegistryError(404, 40406, `Subject '${subject}' Version ${target.version} was soft deleted.Set permanent=true to delete permanently`);
      await this.assertNotReferenced(s, subject, [target.version]);
      await s.query(`UPDATE registry_versions SET deleted = TRUE WHERE subject = $1 AND version = $2`, [subject, target.version]);
      return target.version;
    });
  }

  // ---- internals ---------------------------------------------------------------------------------------------

  private compare(level: CompatibilityLevel, candidate: Prepared, existing: readonly StoredVersion[]): CompatibilityResult {
    if (level === 'NONE') return { compatible: true, messages: [] };
    const format = schemaFormat(candidate.schemaType);
    const messages: string[] = [];
    for (const old of existing) {
      if (old.schemaType !== candidate.schemaType) {
        messages.push(`version ${old.version} is a ${old.schemaType} schema, not ${candidate.schemaType}`);
        continue;
      }
      const oldRefs = old.resolved;
      if (level.startsWith('BACKWARD') || level.startsWith('FULL')) {
        for (const i of format.readIssues(candidate.canonical, candidate.resolved, old.schema, oldRefs))
          messages.push(`the new schema cannot read data written with version ${old.version}: ${i.path}: ${i.message}`);
      }
      if (level.startsWith('FORWARD') || level.startsWith('FULL')) {
        for (const i of format.readIssues(old.schema, oldRefs, candidate.canonical, candidate.resolved))
          messages.push(`version ${old.version} cannot read data written with the new schema: ${i.path}: ${i.message}`);
      }
    }
    return { compatible: messages.length === 0, messages };
  }

  private async prepare(input: SchemaInput): Promise<Prepared> {
    if (typeof input?.schema !== 'string' || !input.schema.trim()) throw new RegistryError(422, 42201, 'Invalid schema: `schema` must be a non-empty string');
    const schemaType = (input.schemaType ?? 'AVRO').toUpperCase();
    const format = schemaFormat(schemaType);
    const references = (input.references ?? []).map((r) => ({ name: String(r.name), subject: String(r.subject), version: Number(r.version) }));
    const resolved = await this.resolveReferences(references, new Set());
    const canonical = format.canonical(input.schema, resolved);
    const fingerprint = createHash('sha256')
      .update(`${schemaType}\u0000${canonical}\u0000${JSON.stringify(references)}`)
      .digest('hex');
    return { schemaType, canonical, references, resolved, fingerprint };
  }

  private async resolveReferences(refs: readonly SchemaReference[], visiting: Set<string>): Promise<ResolvedReference[]> {
    const out: ResolvedReference[] = [];
    for (const r of refs) {
      const key = `${r.subject}@${r.version}`;
      if (visiting.has(key)) throw new RegistryError(422, 42201, `Invalid schema: reference ${r.name} (${key}) refers back to itself`);
      let v: SubjectVersion;
      try {
        v = await this.version(r.subject, r.version);
      } catch (err) {
        if (err instanceof RegistryError)
          throw new RegistryError(422, 42201, `Invalid schema: reference ${r.name} to ${r.subject} version ${r.version}: ${err.message}`);
        throw err;
      }
      out.push({
        name: r.name,
        subject: r.subject,
        version: v.version,
        schemaType: v.schemaType,
        schema: v.schema,
        references: await this.resolveReferences(v.references, new Set([...visiting, key])),
      });
    }
    return out;
  }

  private async assertNotReferenced(s: CatalogSession, subject: string, versions: number[]): Promise<void> {
    const rows = await s.query(`SELECT id, references_json FROM registry_schemas`);
    for (const r of rows) {
      const refs = JSON.parse(String(r.references_json)) as SchemaReference[];
      const used = refs.find((ref) => ref.subject === subject && versions.includes(ref.version));
      if (!used) continue;
      const holders = await s.query(`SELECT subject FROM registry_versions WHERE schema_id = $1 AND NOT deleted`, [Number(r.id)]);
      if (holders.length)
        throw new RegistryError(422, 42206, `One or more references exist to the schema {subject=${subject},version=${used.version}} (schema ${Number(r.id)})`);
    }
  }

  private async effectiveCompatibilityIn(s: CatalogSession, subject: string): Promise<CompatibilityLevel> {
    const rows = await s.query(`SELECT subject, compatibility FROM registry_config WHERE subject IN ($1, '')`, [subject]);
    const own = rows.find((r) => r.subject === subject)?.compatibility;
    const global = rows.find((r) => r.subject === '')?.compatibility;
    return isLevel(own) ? own : isLevel(global) ? global : DEFAULT_LEVEL;
  }

  private versionRows(subject: string, deleted: boolean): Promise<StoredVersion[]> {
    return this.driver.read((s) => this.versionRowsIn(s, subject, deleted));
  }

  private async versionRowsIn(s: CatalogSession, subject: string, deleted: boolean): Promise<StoredVersion[]> {
    const rows = await s.query(
      `SELECT v.subject, v.version, v.deleted, s.id, s.schema_type, s.schema_text, s.references_json
       FROM registry_versions v JOIN registry_schemas s ON s.id = v.schema_id
       WHERE v.subject = $1 ${deleted ? '' : 'AND NOT v.deleted'} ORDER BY v.version`,
      [subject],
    );
    const out: StoredVersion[] = [];
    for (const r of rows) {
      const schema = toSchema(r);
      out.push({
        ...schema,
        subject: String(r.subject),
        version: Number(r.version),
        deleted: Boolean(r.deleted),
        resolved: schema.references.length ? await this.resolveStored(s, schema.references, new Set()) : [],
      });
    }
    return out;
  }

  /** References of a stored schema, resolved in the same session (deleted versions included: data still uses them). */
  private async resolveStored(s: CatalogSession, refs: readonly SchemaReference[], visiting: Set<string>): Promise<ResolvedReference[]> {
    const out: ResolvedReference[] = [];
    for (const r of refs) {
      const key = `${r.subject}@${r.version}`;
      if (visiting.has(key)) continue;
      const row = (
        await s.query(
          `SELECT s.schema_type, s.schema_text, s.references_json FROM registry_versions v JOIN registry_schemas s ON s.id = v.schema_id
           WHERE v.subject = $1 AND v.version = $2`,
          [r.subject, r.version],
        )
      )[0];
      if (!row) continue;
      const nested = JSON.parse(String(row.references_json)) as SchemaReference[];
      out.push({
        ...r,
        schemaType: String(row.schema_type),
        schema: String(row.schema_text),
        references: await this.resolveStored(s, nested, new Set([...visiting, key])),
      });
    }
    return out;
  }
}

/** A version with its references resolved, for compatibility checks. */
interface StoredVersion extends SubjectVersion {
  resolved: ResolvedReference[];
}

interface Prepared {
  schemaType: string;
  canonical: string;
  references: SchemaReference[];
  resolved: ResolvedReference[];
  fingerprint: string;
}

function toSchema(r: Record<string, unknown>): StoredSchema {
  return {
    id: Number(r.id),
    schemaType: String(r.schema_type),
    schema: String(r.schema_text),
    references: JSON.parse(String(r.references_json)) as SchemaReference[],
  };
}
