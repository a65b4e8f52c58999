package stage

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/ferryhq/ferry/sdk/schema"
)

// docs reads docs/workspace.md: its sections by heading, and its code blocks
// by language.
func docs(t *testing.T) (sections map[string]string, blocks map[string][]string) {
	t.Helper()
	data, err := os.ReadFile("../../docs/workspace.md")
	if err != nil {
		t.Fatal(err)
	}
	sections, blocks = map[string]string{}, map[string][]string{}
	current := ""
	var block *strings.Builder
	lang := ""
	for _, line := range strings.Split(string(data), "\n") {
		switch {
		case block != nil && line == "```":
			blocks[lang] = append(blocks[lang], strings.TrimSpace(block.String()))
			block = nil
		case block != nil:
			block.WriteString(line + "\n")
		case strings.HasPrefix(line, "```"):
			lang = strings.TrimPrefix(line, "```")
			block = &strings.Builder{}
		case strings.HasPrefix(line, "### "):
			current = strings.TrimPrefix(line, "### ")
		default:
			sections[current] += line + "\n"
		}
	}
	return sections, blocks
}

// TestWorkspaceDocsCoverEveryColumn keeps docs/workspace.md true: every
// table and view of the workspace has a section that names each column.
func TestWorkspaceDocsCoverEveryColumn(t *testing.T) {
	ctx := t.Context()
	w := openTest(t)
	stageTickets(t, w, 3)
	// An overlay and its load view, as transforms make.
	b := overlayBatch([][4]string{{"t1", "[ZD-1] s", OverlayChanged, "sha"}})
	defer b.Release()
	if err := w.ReplaceOverlay(ctx, schema.Tickets, 1, func(put func(arrow.RecordBatch) error) error { return put(b) }); err != nil {
		t.Fatal(err)
	}
	if err := w.CreateLoadView(ctx, schema.Tickets, []string{"subject"}, false); err != nil {
		t.Fatal(err)
	}
	sections, _ := docs(t)
	rows, err := w.DB().QueryContext(ctx, `SELECT table_name, column_name FROM duckdb_columns() WHERE NOT internal AND schema_name = 'main' ORDER BY table_name, column_index`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var table, column string
		rows.Scan(&table, &column)
		if base, ok := strings.CutPrefix(table, "load_"); ok && sections[base] != "" {
			// A load view has its stream's columns, documented with the
			// stream; the overlay's section tells what the view is.
			if !regexp.MustCompile("`" + regexp.QuoteMeta(column) + "`").MatchString(sections[base]) {
				t.Errorf("docs/workspace.md: %s.%s is not documented with %s", table, column, base)
			}
			if !strings.Contains(sections[OverlayTable(base)], "`"+table+"`") {
				t.Errorf("docs/workspace.md: %s is not named in the section of %s", table, OverlayTable(base))
			}
			continue
		}
		sec, ok := sections[table]
		if !ok {
			t.Errorf("docs/workspace.md has no section for %s", table)
			sections[table] = "" // once
			continue
		}
		if base, ok := strings.CutPrefix(table, "transformed_"); ok && sections[base] != "" && regexp.MustCompile("`"+regexp.QuoteMeta(column)+"`").MatchString(sections[base]) {
			continue // a stream's own column, documented with the stream
		}
		if !regexp.MustCompile("`" + regexp.QuoteMeta(column) + "`").MatchString(sec) {
			t.Errorf("docs/workspace.md: %s.%s is not documented", table, column)
		}
	}
}

// TestWorkspaceDocsExamplesRun runs every query and filter the docs show.
func TestWorkspaceDocsExamplesRun(t *testing.T) {
	ctx := t.Context()
	w := openTest(t)
	stageTickets(t, w, 10)
	w.SetOutcome(ctx, Outcome{Entity: EntityTickets, SourceID: "t1", Outcome: Migrated, IntercomID: "c1", Stage: "load", RunID: 1})
	w.SetOutcome(ctx, Outcome{Entity: EntityTickets, SourceID: "t2", Outcome: Failed, Reason: "400 parameter_invalid", Stage: "load", RunID: 1})
	_, blocks := docs(t)
	if len(blocks["sql"]) < 5 || len(blocks["filter"]) < 3 {
		t.Fatalf("found %d queries and %d filters in the docs", len(blocks["sql"]), len(blocks["filter"]))
	}
	for _, q := range blocks["sql"] {
		rows, err := w.DB().QueryContext(ctx, q)
		if err != nil {
			t.Errorf("docs query fails: %v\n%s", err, q)
			continue
		}
		rows.Close()
	}
	for _, f := range blocks["filter"] {
		if err := ValidateFilter(ctx, w.DB(), f); err != nil {
			t.Errorf("docs filter refused: %v", err)
			continue
		}
		if _, err := PlanSelection(ctx, w.DB(), Selection{Filter: f}); err != nil {
			t.Errorf("docs filter does not plan: %v", err)
		}
	}
}
