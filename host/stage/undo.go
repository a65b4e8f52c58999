package stage

// undo deletes from Intercom what the workspace created; each object it
// tried is a row here: deleted, already gone, or kept with the reason (the
// API cannot delete it, or refused).
const undoDDL = `CREATE TABLE IF NOT EXISTS undo_log (
  entity VARCHAR NOT NULL,
  source_id VARCHAR NOT NULL,
  intercom_id VARCHAR NOT NULL,
  outcome VARCHAR NOT NULL,
  reason VARCHAR,
  run_id BIGINT,
  recorded_at TIMESTAMP NOT NULL
)`
