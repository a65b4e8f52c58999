package stage

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// FilterError is a filter ferry refuses, with the problem in words and, where
// the parser gave one, where it is.
type FilterError struct {
	Filter  string
	Problem string
	// Near quotes the filter around the problem, when its place is known.
	Near string
}

func (e *FilterError) Error() string {
	msg := fmt.Sprintf("filter %q: %s", e.Filter, e.Problem)
	if e.Near != "" {
		msg += fmt.Sprintf(" (near %q)", e.Near)
	}
	return msg + ". A filter is one condition over the columns of ticket_overview, e.g. created_at >= DATE '2023-01-01' AND NOT list_contains(tags, 'spam')"
}

// filterPrefix is what a filter is placed into to be parsed and run. The
// newline before the closing parenthesis keeps a trailing -- comment in the
// filter from swallowing it.
const filterPrefix = "SELECT id FROM ticket_overview WHERE ("

func filterQuery(filter string) string { return filterPrefix + filter + "\n)" }

// ValidateFilter checks that filter is one boolean SQL expression over the
// ticket_overview view, using DuckDB's own parser and binder on db. It
// refuses, quoting the problem: a statement, a second statement, anything
// that turns the expression into more than a condition (a LIMIT, a UNION),
// a table function (read_csv and its kin read files), a reference to
// anything but the workspace's tables and views (FROM 'file.csv' reads a
// file), and an expression that does not bind (an unknown column) or is not
// a condition. An empty filter keeps every ticket.
func ValidateFilter(ctx context.Context, db *sql.DB, filter string) error {
	if strings.TrimSpace(filter) == "" {
		return nil
	}
	fail := func(problem, near string) error { return &FilterError{Filter: filter, Problem: problem, Near: near} }
	parsed, err := parseSQL(ctx, db, filterQuery(filter))
	if err != nil {
		return fmt.Errorf("parse the filter: %w", err)
	}
	if parsed.Error {
		if parsed.ErrorType == "not implemented" {
			return fail("it holds a statement of its own (only a condition may be given, not a command)", "")
		}
		near := ""
		if pos, err := strconv.Atoi(parsed.Position); err == nil {
			near = around(filter, pos-len(filterPrefix))
		}
		return fail(parsed.ErrorMessage, near)
	}
	if len(parsed.Statements) != 1 {
		return fail(fmt.Sprintf("it holds %d statements; a filter is one condition", len(parsed.Statements)), "")
	}
	var stmt struct {
		Node map[string]any `json:"node"`
	}
	if err := json.Unmarshal(parsed.Statements[0], &stmt); err != nil {
		return fmt.Errorf("parse the filter: %w", err)
	}
	node := stmt.Node
	if node["type"] != "SELECT_NODE" || len(asList(node["modifiers"])) > 0 || len(asList(node["group_expressions"])) > 0 ||
		node["having"] != nil || node["qualify"] != nil || !isTicketOverview(node["from_table"]) {
		return fail("it reaches outside the condition (a closing parenthesis followed by LIMIT, ORDER BY, GROUP BY or UNION?)", "")
	}
	allowed, err := workspaceRelations(ctx, db)
	if err != nil {
		return err
	}
	if err := checkRelations(node["where_clause"], allowed); err != nil {
		return fail(err.Error(), "")
	}
	// Bind it: unknown columns surface here, and the type says whether it
	// is a condition (typeof is the bound type, whatever the rows).
	var typ string
	err = db.QueryRowContext(ctx, "SELECT typeof(("+filter+"\n)) FROM (SELECT 1) one LEFT JOIN ticket_overview ON false").Scan(&typ)
	if err != nil {
		return fail(duckdbMessage(err), "")
	}
	if typ != "BOOLEAN" {
		return fail(fmt.Sprintf("it is a value of type %s, not a condition (true or false for each ticket)", typ), "")
	}
	return nil
}

// around quotes the filter around byte offset pos.
func around(filter string, pos int) string {
	if pos < 0 {
		pos = 0
	}
	if pos > len(filter) {
		pos = len(filter)
	}
	start, end := max(0, pos-20), min(len(filter), pos+20)
	return filter[start:end]
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

func isTicketOverview(v any) bool {
	m, ok := v.(map[string]any)
	return ok && m["type"] == "BASE_TABLE" && m["table_name"] == "ticket_overview" && m["schema_name"] == ""
}

// checkRelations walks a parse tree and refuses table functions and any
// relation that is not one of the workspace's tables and views.
func checkRelations(v any, allowed []string) error {
	switch x := v.(type) {
	case map[string]any:
		switch x["type"] {
		case "TABLE_FUNCTION":
			name := "a table function"
			if f, ok := x["function"].(map[string]any); ok {
				if n, ok := f["function_name"].(string); ok {
					name = n
				}
			}
			return fmt.Errorf("it calls the table function %s; filters read the workspace only", name)
		case "BASE_TABLE":
			name, _ := x["table_name"].(string)
			schema, _ := x["schema_name"].(string)
			catalog, _ := x["catalog_name"].(string)
			if schema != "" || catalog != "" || !slices.Contains(allowed, name) {
				return fmt.Errorf("it reads %q, which is not a table or view of the workspace (a file?)", name)
			}
		}
		for _, child := range x {
			if err := checkRelations(child, allowed); err != nil {
				return err
			}
		}
	case []any:
		for _, child := range x {
			if err := checkRelations(child, allowed); err != nil {
				return err
			}
		}
	}
	return nil
}

// workspaceRelations lists the workspace's own tables and views.
func workspaceRelations(ctx context.Context, db *sql.DB) ([]string, error) {
	rows, err := db.QueryContext(ctx, `SELECT table_name FROM duckdb_tables() WHERE NOT internal AND schema_name = 'main'
		UNION SELECT view_name FROM duckdb_views() WHERE NOT internal AND schema_name = 'main'`)
	if err != nil {
		return nil, fmt.Errorf("list the workspace's tables: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// duckdbMessage trims DuckDB's error text to what a person needs.
func duckdbMessage(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "\n\nLINE"); i > 0 {
		msg = msg[:i]
	}
	return strings.TrimSpace(msg)
}

// parsedSQL is DuckDB's parse of a text (json_serialize_sql): an error, or
// the statements' parse trees.
type parsedSQL struct {
	Error        bool              `json:"error"`
	ErrorType    string            `json:"error_type"`
	ErrorMessage string            `json:"error_message"`
	Position     string            `json:"position"`
	Statements   []json.RawMessage `json:"statements"`
}

// parseSQL has DuckDB parse text without running it.
func parseSQL(ctx context.Context, db RowQueryer, text string) (parsedSQL, error) {
	var parsed parsedSQL
	var js string
	if err := db.QueryRowContext(ctx, "SELECT json_serialize_sql(?::VARCHAR)::VARCHAR", text).Scan(&js); err != nil {
		return parsed, err
	}
	if err := json.Unmarshal([]byte(js), &parsed); err != nil {
		return parsed, fmt.Errorf("read DuckDB's parse tree: %w", err)
	}
	return parsed, nil
}
