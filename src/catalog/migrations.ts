/**
 * The catalog schema, as ordered migrations in SQL that DuckDB and PostgreSQL both accept.
 * Append new migrations; never edit a released one.
 */
export const MIGRATIONS: readonly string[][] = [
  [
    `CREATE TABLE IF NOT EXISTS lake_tables (
       name TEXT PRIMARY KEY,
       layer TEXT NOT NULL,
       table_name TEXT NOT NULL,
       created_at TIMESTAMPTZ NOT NULL,
       partition_spec TEXT,
       current_snapshot BIGINT NOT NULL DEFAULT 0)`,
    `CREATE TABLE IF NOT EXISTS snapshots (
       table_name TEXT NOT NULL,
       snapshot_id BIGINT NOT NULL,
       parent_id BIGINT NOT NULL,
       operation TEXT NOT NULL,
       committed_at TIMESTAMPTZ NOT NULL,
       row_count BIGINT NOT NULL,
       file_count BIGINT NOT NULL,
       size_bytes BIGINT NOT NULL,
       schema_json TEXT NOT NULL,
       run_id TEXT,
       summary_json TEXT,
       expired BOOLEAN NOT NULL DEFAULT FALSE,
       PRIMARY KEY (table_name, snapshot_id))`,
    `CREATE TABLE IF NOT EXISTS data_files (
       table_name TEXT NOT NULL,
       path TEXT NOT NULL,
       row_count BIGINT NOT NULL,
       size_bytes BIGINT NOT NULL,
       partition_key TEXT,
       added_snapshot BIGINT NOT NULL,
       removed_snapshot BIGINT,
       PRIMARY KEY (table_name, path))`,
    `CREATE TABLE IF NOT EXISTS ingested_files (
       source TEXT NOT NULL,
       file_hash TEXT NOT NULL,
       path TEXT NOT NULL,
       size_bytes BIGINT NOT NULL,
       table_name TEXT NOT NULL,
       snapshot_id BIGINT NOT NULL,
       batch_id TEXT NOT NULL,
       run_id TEXT,
       ingested_at TIMESTAMPTZ NOT NULL,
       row_count BIGINT NOT NULL,
       rejected_rows BIGINT NOT NULL,
       PRIMARY KEY (source, file_hash))`,
    `CREATE SEQUENCE IF NOT EXISTS quarantine_ids START 1`,
    `CREATE TABLE IF NOT EXISTS quarantine (
       id BIGINT PRIMARY KEY,
       source TEXT NOT NULL,
       path TEXT NOT NULL,
       file_hash TEXT NOT NULL,
       stored_path TEXT,
       target_table TEXT NOT NULL,
       reason_code TEXT NOT NULL,
       reason TEXT NOT NULL,
       details_json TEXT,
       quarantined_at TIMESTAMPTZ NOT NULL,
       run_id TEXT,
       status TEXT NOT NULL,
       resolved_at TIMESTAMPTZ)`,
    `CREATE TABLE IF NOT EXISTS runs (
       run_id TEXT PRIMARY KEY,
       kind TEXT NOT NULL,
       started_at TIMESTAMPTZ NOT NULL,
       finished_at TIMESTAMPTZ,
       status TEXT NOT NULL,
       summary_json TEXT,
       error TEXT)`,
  ],
  [
    // One row per model (or table's checks) per run: what ran, on which inputs, with what result.
    `CREATE TABLE IF NOT EXISTS model_runs (
       run_id TEXT NOT NULL,
       model TEXT NOT NULL,
       status TEXT NOT NULL,
       materialization TEXT,
       mode TEXT,
       started_at TIMESTAMPTZ NOT NULL,
       finished_at TIMESTAMPTZ,
       rows_in BIGINT,
       rows_out BIGINT,
       snapshot_id BIGINT,
       input_snapshots TEXT,
       sql_hash TEXT,
       error TEXT,
       PRIMARY KEY (run_id, model))`,
    `CREATE TABLE IF NOT EXISTS check_results (
       run_id TEXT NOT NULL,
       table_name TEXT NOT NULL,
       check_name TEXT NOT NULL,
       severity TEXT NOT NULL,
       status TEXT NOT NULL,
       failing_rows BIGINT NOT NULL,
       sample_json TEXT,
       error TEXT,
       checked_at TIMESTAMPTZ NOT NULL,
       PRIMARY KEY (run_id, table_name, check_name))`,
  ],
  [
    // Exactly-once streams: the offsets and window state a stream (or a replay of it) reached, committed in the
    // same transaction as the lake files its batch wrote. `seq` fences out a second worker of the same stream.
    `CREATE TABLE IF NOT EXISTS stream_checkpoints (
       stream TEXT NOT NULL,
       run TEXT NOT NULL,
       seq BIGINT NOT NULL,
       topic TEXT NOT NULL,
       offsets_json TEXT NOT NULL,
       watermark TIMESTAMPTZ,
       state_json TEXT NOT NULL,
       committed_at TIMESTAMPTZ NOT NULL,
       PRIMARY KEY (stream, run))`,
    // Dead letters re-injected into their source topic, so they are not replayed twice.
    `CREATE TABLE IF NOT EXISTS dlq_replays (
       stream TEXT NOT NULL,
       topic TEXT NOT NULL,
       source_partition BIGINT NOT NULL,
       source_offset BIGINT NOT NULL,
       replayed_at TIMESTAMPTZ NOT NULL,
       edited BOOLEAN NOT NULL,
       PRIMARY KEY (stream, topic, source_partition, source_offset))`,
  ],
  [
    // Orchestration. A job run is a `runs` row plus `job_runs` (what triggered it, which partition); its tasks are
    // the queue workers claim from (`SELECT … FOR UPDATE SKIP LOCKED` on PostgreSQL), each attempt kept with its logs.
    `CREATE TABLE IF NOT EXISTS job_runs (
       run_id TEXT PRIMARY KEY,
       job TEXT NOT NULL,
       trigger_kind TEXT NOT NULL,
       trigger_detail TEXT,
       partition_key TEXT,
       backfill_id TEXT,
       parent_run TEXT,
       priority BIGINT NOT NULL,
       concurrency BIGINT NOT NULL,
       created_at TIMESTAMPTZ NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS run_tasks (
       run_id TEXT NOT NULL,
       task TEXT NOT NULL,
       seq BIGINT NOT NULL,
       status TEXT NOT NULL,
       attempts BIGINT NOT NULL,
       max_attempts BIGINT NOT NULL,
       retry_delay_ms BIGINT NOT NULL,
       max_retry_delay_ms BIGINT NOT NULL,
       timeout_ms BIGINT NOT NULL,
       not_before TIMESTAMPTZ NOT NULL,
       started_at TIMESTAMPTZ,
       finished_at TIMESTAMPTZ,
       worker TEXT,
       heartbeat_at TIMESTAMPTZ,
       error TEXT,
       PRIMARY KEY (run_id, task))`,
    `CREATE TABLE IF NOT EXISTS run_task_deps (
       run_id TEXT NOT NULL,
       task TEXT NOT NULL,
       upstream TEXT NOT NULL,
       PRIMARY KEY (run_id, task, upstream))`,
    `CREATE TABLE IF NOT EXISTS task_attempts (
       run_id TEXT NOT NULL,
       task TEXT NOT NULL,
       attempt BIGINT NOT NULL,
       worker TEXT NOT NULL,
       started_at TIMESTAMPTZ NOT NULL,
       finished_at TIMESTAMPTZ,
       status TEXT NOT NULL,
       error TEXT,
       summary_json TEXT,
       logs TEXT,
       PRIMARY KEY (run_id, task, attempt))`,
    // Cursors of schedules and sensors, updated compare-and-set so that two schedulers never fire one tick twice.
    `CREATE TABLE IF NOT EXISTS scheduler_state (
       name TEXT PRIMARY KEY,
       cursor_json TEXT NOT NULL,
       evaluated_at TIMESTAMPTZ NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS backfills (
       backfill_id TEXT PRIMARY KEY,
       job TEXT NOT NULL,
       partitions_json TEXT NOT NULL,
       parallelism BIGINT NOT NULL,
       status TEXT NOT NULL,
       created_at TIMESTAMPTZ NOT NULL,
       resumed_at TIMESTAMPTZ,
       finished_at TIMESTAMPTZ)`,
  ],
  [
    // Who runs a run: a run left 'running' by a process that is gone (killed, crashed) is recognised as abandoned.
    `ALTER TABLE runs ADD COLUMN IF NOT EXISTS owner_host TEXT`,
    `ALTER TABLE runs ADD COLUMN IF NOT EXISTS owner_pid BIGINT`,
  ],
  [
    // What a check read: its definition's hash and the snapshots of the tables it read. A job's check task whose
    // checks all passed on the same snapshots, with the same definitions, is finished without running them again.
    `ALTER TABLE check_results ADD COLUMN IF NOT EXISTS spec_hash TEXT`,
    `ALTER TABLE check_results ADD COLUMN IF NOT EXISTS snapshots TEXT`,
  ],
  [
    // Cursor-style sources (SQL tables, HTTP APIs…): the position their last commit reached, saved in the same
    // transaction as the rows it covers (the file source keeps its state as ingested_files).
    `CREATE TABLE IF NOT EXISTS source_state (
       source TEXT PRIMARY KEY,
       version BIGINT NOT NULL,
       state_json TEXT NOT NULL,
       committed_at TIMESTAMPTZ NOT NULL)`,
  ],
  [
    // The schema registry (Confluent's REST API, src/registry/): schemas by global id (one id per distinct schema,
    // whatever the subjects), the versions of each subject, and compatibility levels ('' is the global one).
    `CREATE TABLE IF NOT EXISTS registry_schemas (
       id BIGINT PRIMARY KEY,
       schema_type TEXT NOT NULL,
       schema_text TEXT NOT NULL,
       references_json TEXT NOT NULL,
       fingerprint TEXT NOT NULL UNIQUE,
       created_at TIMESTAMPTZ NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS registry_versions (
       subject TEXT NOT NULL,
       version BIGINT NOT NULL,
       schema_id BIGINT NOT NULL,
       deleted BOOLEAN NOT NULL DEFAULT FALSE,
       created_at TIMESTAMPTZ NOT NULL,
       PRIMARY KEY (subject, version))`,
    `CREATE TABLE IF NOT EXISTS registry_config (
       subject TEXT PRIMARY KEY,
       compatibility TEXT NOT NULL)`,
  ],
];
