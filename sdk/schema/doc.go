// Package schema is ferry's canonical help-desk model: one Arrow schema per
// stream, and a Go struct per stream that appends itself to an Arrow batch.
//
// Plugins map their source's records into these structs; the host stages the
// resulting batches in DuckDB tables of the same names and columns. Every row
// keeps the source's own record in the raw column (JSON text) so that
// transforms and SQL can reach fields the model does not name.
//
// Conventions shared by every stream:
//   - ids are strings, whatever the source uses, so that no source's id space
//     is privileged and Intercom's string ids fit beside them;
//   - an empty string in an optional string column is stored as null;
//   - timestamps are microseconds since the epoch, UTC, without a zone
//     (DuckDB TIMESTAMP); a zero time.Time is stored as null;
//   - custom_fields is a JSON object keyed by the source's field id.
package schema
