// Package stage is ferry's workspace: one DuckDB file (ferry.duckdb) in the
// migration's folder that holds everything staged, mapped, loaded and
// verified, so that every stage can be rerun or resumed alone and people can
// see every step in SQL.
//
// The workspace's tables:
//   - one table per canonical stream (sdk/schema), with the stream's columns,
//     raw as JSON, and _run_id and _extracted_at saying which extract wrote
//     the row; rows are upserted by id, so a delta extract updates them;
//   - transformed_<stream>: the records the WASM transforms kept or made,
//     with _transforms (the SHA-256 of the modules that touched the row);
//   - checkpoints: each stream's last committed cursor;
//   - runs: every ferry command that changed the workspace;
//   - id_map: source id → Intercom id for every object ferry created;
//   - ledger: every record's outcome (migrated, failed, skipped) and why;
//   - ferry_meta: the workspace's schema version.
//
// And the view migration_summary: per entity, the records available and how
// many were migrated, failed and skipped.
package stage
