package stage

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// verify reads back from Intercom what the id map says ferry created and
// compares it with the source, fact by fact; each comparison is a row here.
// A verify replaces the rows of the one before: the table is the latest
// audit, and its run_id says which run made it.
const auditDDL = `CREATE TABLE IF NOT EXISTS audit_checks (
  entity VARCHAR NOT NULL,
  source_id VARCHAR NOT NULL,
  intercom_id VARCHAR,
  fact VARCHAR NOT NULL,
  ok BOOLEAN NOT NULL,
  expected VARCHAR,
  actual VARCHAR,
  reason VARCHAR,
  run_id BIGINT,
  checked_at TIMESTAMP NOT NULL,
  PRIMARY KEY (entity, source_id, fact)
)`

// The facts verify checks of a ticket, as audit_checks.fact. "found" is
// that the object exists in Intercom at all; the rest are compared only
// when it does.
const (
	FactFound       = "found"
	FactParts       = "parts"       // how many parts the comments make, split parts counted
	FactAuthors     = "authors"     // each part's author
	FactVisibility  = "visibility"  // each part's type: reply or note
	FactOrder       = "order"       // the parts in the comments' order
	FactTimestamps  = "timestamps"  // each part's created_at and the conversation's
	FactBodies      = "bodies"      // each part's body
	FactAttachments = "attachments" // each part's attachments: count, names, sizes, checksums
	FactTags        = "tags"
	FactAttributes  = "attributes" // custom attributes
	FactAssignee    = "assignee"
	FactTeam        = "team"
	FactState       = "state"
	FactTitle       = "title"
	// Of contacts, companies, collections and articles.
	FactEmail        = "email"
	FactName         = "name"
	FactPhone        = "phone"
	FactCompanies    = "companies" // a contact's company links
	FactTranslations = "translations"
	FactBody         = "body"
)

// TicketFacts are the facts of a ticket, in the order ticket_comparison
// shows them.
func TicketFacts() []string {
	return []string{FactFound, FactParts, FactAuthors, FactVisibility, FactOrder, FactTimestamps, FactBodies, FactAttachments, FactTags, FactAttributes, FactAssignee, FactTeam, FactState, FactTitle}
}

// A Check is one fact verify compared of one record. Expected and Actual
// are short, readable renderings of the source's and Intercom's values;
// Reason says in words what differs.
type Check struct {
	Entity, SourceID, IntercomID, Fact string
	OK                                 bool
	Expected, Actual, Reason           string
}

// ClearAudit removes the previous audit's checks, before a new one.
func (w *Workspace) ClearAudit(ctx context.Context) error {
	if _, err := w.db.ExecContext(ctx, `DELETE FROM audit_checks`); err != nil {
		return fmt.Errorf("clear the previous audit: %w", err)
	}
	return nil
}

// maxRowsPerStatement bounds the rows of one multi-row INSERT: an audit
// writes the checks of many records at once.
const maxRowsPerStatement = 2000

// WriteChecks records checks of run runID, replacing any of the same
// record and fact.
func (w *Workspace) WriteChecks(ctx context.Context, runID int64, checks []Check) error {
	release, err := w.mem.reserve(ctx, int64(len(checks)))
	if err != nil {
		return err
	}
	defer release()
	for chunk := range slices.Chunk(checks, maxRowsPerStatement) {
		vals := make([]string, 0, len(chunk))
		args := make([]any, 0, 9*len(chunk))
		for _, c := range chunk {
			vals = append(vals, "(?, ?, ?, ?, ?, ?, ?, ?, ?, now()::TIMESTAMP)")
			args = append(args, c.Entity, c.SourceID, nullIfEmpty(c.IntercomID), c.Fact, c.OK,
				nullIfEmpty(c.Expected), nullIfEmpty(c.Actual), nullIfEmpty(c.Reason), runID)
		}
		if _, err := w.db.ExecContext(ctx, `INSERT OR REPLACE INTO audit_checks
  (entity, source_id, intercom_id, fact, ok, expected, actual, reason, run_id, checked_at) VALUES `+strings.Join(vals, ", "), args...); err != nil {
			return fmt.Errorf("write %d audit checks: %w", len(chunk), err)
		}
	}
	return nil
}
