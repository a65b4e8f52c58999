package stage

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/ferryhq/ferry/sdk/schema"
)

// Entities are what the ledger and the summary count: the Intercom-side
// names of what ferry migrates.
const (
	EntityCompanies   = "companies"   // from organizations
	EntityContacts    = "contacts"    // from end users
	EntityTickets     = "tickets"     // to conversations
	EntityComments    = "comments"    // to conversation parts
	EntityAttachments = "attachments" // to attachment URLs on parts
	EntityCollections = "collections" // from knowledge-base categories and sections
	EntityArticles    = "articles"    // from knowledge-base articles
)

// Outcomes of a record in the ledger.
const (
	Migrated = "migrated"
	Failed   = "failed"
	Skipped  = "skipped"
)

// EntityOfStream maps a canonical stream to the entity its records count
// as, or "" for streams that are not migrated as objects (agents map to
// admins, groups to teams).
func EntityOfStream(stream string) string {
	switch stream {
	case schema.Organizations:
		return EntityCompanies
	case schema.Users:
		return EntityContacts
	case schema.Tickets:
		return EntityTickets
	case schema.Comments:
		return EntityComments
	case schema.Attachments:
		return EntityAttachments
	case schema.KBCategories:
		return EntityCollections
	case schema.KBArticles:
		return EntityArticles
	}
	return ""
}

// columnType is the DuckDB type of a canonical column.
func columnType(f arrow.Field) (string, error) {
	switch {
	case schema.IsJSON(f):
		return "JSON", nil
	case f.Type.ID() == arrow.STRING:
		return "VARCHAR", nil
	case f.Type.ID() == arrow.BOOL:
		return "BOOLEAN", nil
	case f.Type.ID() == arrow.INT64:
		return "BIGINT", nil
	case f.Type.ID() == arrow.TIMESTAMP:
		return "TIMESTAMP", nil
	case f.Type.ID() == arrow.LIST:
		return "VARCHAR[]", nil
	}
	return "", fmt.Errorf("column %s: no DuckDB type for %s", f.Name, f.Type)
}

// streamColumns lists the DuckDB column definitions of a canonical stream.
func streamColumns(stream string) ([]string, error) {
	sc, err := schema.Schema(stream)
	if err != nil {
		return nil, err
	}
	var cols []string
	for _, f := range sc.Fields() {
		t, err := columnType(f)
		if err != nil {
			return nil, fmt.Errorf("stream %s: %w", stream, err)
		}
		def := QuoteIdent(f.Name) + " " + t
		if !f.Nullable {
			def += " NOT NULL"
		}
		cols = append(cols, def)
	}
	return cols, nil
}

// streamTableDDL creates the table of a stream (or a derived table such as
// transformed_tickets) with the stream's columns and extra ones. Ids are
// unique, but kept so by the Ingest rather than a key index (see upsert).
func streamTableDDL(table, stream string, extra ...string) (string, error) {
	cols, err := streamColumns(stream)
	if err != nil {
		return "", err
	}
	cols = append(cols, extra...)
	return fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s (\n  %s\n)", QuoteIdent(table), strings.Join(cols, ",\n  ")), nil
}

func schemaDDL() ([]string, error) {
	var stmts []string
	for _, stream := range schema.StreamNames() {
		ddl, err := streamTableDDL(stream, stream, "_run_id BIGINT", "_extracted_at TIMESTAMP")
		if err != nil {
			return nil, err
		}
		stmts = append(stmts, ddl)
	}
	stmts = append(stmts,
		`CREATE TABLE IF NOT EXISTS checkpoints (
  stream VARCHAR PRIMARY KEY,
  cursor BLOB,
  run_id BIGINT,
  committed_at TIMESTAMP
)`,
		`CREATE SEQUENCE IF NOT EXISTS run_ids START 1`,
		`CREATE TABLE IF NOT EXISTS runs (
  id BIGINT PRIMARY KEY DEFAULT nextval('run_ids'),
  command VARCHAR NOT NULL,
  started_at TIMESTAMP NOT NULL,
  finished_at TIMESTAMP,
  status VARCHAR NOT NULL,
  detail VARCHAR
)`,
		`CREATE TABLE IF NOT EXISTS id_map (
  entity VARCHAR NOT NULL,
  source_id VARCHAR NOT NULL,
  intercom_id VARCHAR NOT NULL,
  run_id BIGINT,
  created_at TIMESTAMP NOT NULL,
  adopted BOOLEAN NOT NULL DEFAULT false,
  PRIMARY KEY (entity, source_id)
)`,
		`CREATE TABLE IF NOT EXISTS ledger (
  entity VARCHAR NOT NULL,
  source_id VARCHAR NOT NULL,
  outcome VARCHAR NOT NULL,
  reason VARCHAR,
  intercom_id VARCHAR,
  stage VARCHAR NOT NULL,
  run_id BIGINT,
  recorded_at TIMESTAMP NOT NULL,
  source_updated_at TIMESTAMP,
  PRIMARY KEY (entity, source_id)
)`,
		selectionDDL,
		demoPicksDDL,
		intentsDDL,
		auditDDL,
		undoDDL,
	)
	return stmts, nil
}

// The tickets the last load took (Workspace.Select), and a demo's picks.
const (
	selectionDDL = `CREATE TABLE IF NOT EXISTS load_selection (ticket_id VARCHAR NOT NULL)`
	demoPicksDDL = `CREATE TABLE IF NOT EXISTS demo_picks (run_id BIGINT, seed VARCHAR, ticket_id VARCHAR, picked_at TIMESTAMP)`
)

// QuoteIdent quotes a SQL identifier, for queries ferry writes itself.
func QuoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}
