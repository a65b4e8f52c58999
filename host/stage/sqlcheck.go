package stage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// QueryErrorKind says what is wrong with a query ferry did not run.
type QueryErrorKind string

// Kinds of QueryError.
const (
	// QueryRefused: the SQL is not one read-only SELECT over the workspace
	// (a second statement, an INSERT, a table function that reads files, …).
	QueryRefused QueryErrorKind = "refused"
	// QuerySyntax: DuckDB's parser could not read the SQL.
	QuerySyntax QueryErrorKind = "syntax"
	// QueryInvalid: DuckDB parsed the SELECT but could not run it: an unknown
	// table or column, a type mismatch, a failed cast.
	QueryInvalid QueryErrorKind = "invalid"
)

// QueryError is a query that ferry refuses or that DuckDB cannot run: the
// fault is in the SQL, not in the workspace. Both ways of running a query
// (reading the file, or asking the ferry that holds it) return the same
// errors for the same SQL.
type QueryError struct {
	Kind QueryErrorKind
	// Message says what is wrong in words, quoting the SQL where it helps.
	Message string
}

func (e *QueryError) Error() string { return e.Message }

// maxQueryBytes bounds the SQL text ferry parses: a query is typed or
// scripted by a person, and the bound keeps a runaway script from making
// the writer's DuckDB parse megabytes.
const maxQueryBytes = 1 << 20

// allowedTableFunctions are the table functions a query may call. It is an
// allow-list, not a deny-list: DuckDB has many table functions that reach
// outside the workspace (read_csv and its kin, glob, query() and
// json_execute_serialized_sql, which run SQL the parse tree does not show,
// sqlite_scan and the other scanners of extensions, duckdb_secrets, …) and
// every release and extension adds more, so naming the harmless ones is the
// only list that stays safe. These generate rows or read DuckDB's own
// catalog of the workspace.
var allowedTableFunctions = []string{
	"duckdb_columns", "duckdb_constraints", "duckdb_databases", "duckdb_dependencies", "duckdb_functions",
	"duckdb_indexes", "duckdb_keywords", "duckdb_schemas", "duckdb_sequences", "duckdb_settings",
	"duckdb_tables", "duckdb_types", "duckdb_views",
	"generate_series", "json_each", "json_tree", "pragma_database_size", "pragma_storage_info",
	"pragma_table_info", "range", "repeat", "unnest",
}

// refusedScalarFunctions are the scalar functions a query may not call:
// those that change state rather than compute a value. (The writer's own
// DuckDB runs served queries, so nextval would move its sequences.)
var refusedScalarFunctions = []string{"nextval", "setseed"}

// RowQueryer is what CheckReadOnlySQL parses with: a *sql.DB, *sql.Conn or
// *sql.Tx of a DuckDB database.
type RowQueryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// CheckReadOnlySQL returns nil when query is exactly one SELECT statement
// that reads nothing but the workspace, and a *QueryError saying why
// otherwise. It parses with DuckDB's own parser (json_serialize_sql, which
// serializes SELECT statements only) on db, so what it accepts is what DuckDB
// runs, then walks the parse tree and refuses table functions outside
// allowedTableFunctions, references to tables that look like files or URLs
// (DuckDB reads FROM 'x.csv' as the file), and the scalar functions that
// change state. It runs before every query of `ferry query`, whether ferry
// reads the file itself or asks the ferry that holds it.
func CheckReadOnlySQL(ctx context.Context, db RowQueryer, query string) error {
	refuse := func(format string, args ...any) error {
		return &QueryError{Kind: QueryRefused, Message: fmt.Sprintf(format, args...)}
	}
	switch {
	case strings.TrimSpace(query) == "":
		return refuse("the query is empty: give one SELECT statement")
	case len(query) > maxQueryBytes:
		return refuse("the query is %d bytes long; ferry query takes at most %d", len(query), maxQueryBytes)
	case !utf8.ValidString(query):
		return refuse("the query is not valid UTF-8 text")
	case strings.ContainsRune(query, 0):
		// DuckDB reads C strings: it would see less SQL than was given.
		return refuse("the query holds a NUL character")
	}
	parsed, err := parseSQL(ctx, db, query)
	if err != nil {
		return fmt.Errorf("parse the query: %w", err)
	}
	if parsed.Error {
		switch {
		case parsed.ErrorType == "parser":
			return &QueryError{Kind: QuerySyntax, Message: syntaxMessage(query, parsed.ErrorMessage, parsed.Position)}
		case strings.Contains(parsed.ErrorMessage, "Only SELECT statements"):
			// json_serialize_sql refuses any statement but a SELECT, and a
			// script in which any statement is not one.
			return refuse("%s is not a single SELECT: ferry query only reads the workspace (SELECT, WITH … SELECT, FROM …, TABLE, VALUES, DESCRIBE, SHOW and SUMMARIZE)", quoteSQL(query))
		default:
			return refuse("%s: %s", quoteSQL(query), parsed.ErrorMessage)
		}
	}
	switch len(parsed.Statements) {
	case 0:
		return refuse("the query %s holds no statement: give one SELECT statement", quoteSQL(query))
	case 1:
	default:
		return refuse("%s holds %d statements: ferry query runs one SELECT at a time", quoteSQL(query), len(parsed.Statements))
	}
	dec := json.NewDecoder(strings.NewReader(string(parsed.Statements[0])))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return fmt.Errorf("parse the query: read DuckDB's parse tree: %w", err)
	}
	if problem := checkParseTree(tree); problem != "" {
		return refuse("%s: %s", quoteSQL(query), problem)
	}
	return nil
}

// checkParseTree walks a statement's parse tree (json_serialize_sql's
// form) and returns what makes it more than a read of the workspace, or "".
// It looks at every node whatever its place (FROM, joins, subqueries in
// expressions, CTEs, set operations, DESCRIBE's inner query), so it needs no
// knowledge of where DuckDB puts which node; keys are visited in order so
// that the problem reported is the same on every run.
func checkParseTree(v any) string {
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
			if !slices.Contains(allowedTableFunctions, strings.ToLower(name)) {
				return fmt.Sprintf("the table function %s() is not allowed: ferry query reads the workspace's tables and views only "+
					"(table functions that read or list files, or run SQL of their own, are refused; allowed: %s)",
					name, strings.Join(allowedTableFunctions, ", "))
			}
		case "BASE_TABLE", "SHOW_REF":
			if name, _ := x["table_name"].(string); looksLikeFile(name) {
				return fmt.Sprintf("%q looks like a file or URL, and ferry query reads the workspace's tables and views only", name)
			}
		}
		if x["class"] == "FUNCTION" {
			if name, ok := x["function_name"].(string); ok && slices.Contains(refusedScalarFunctions, strings.ToLower(name)) {
				return fmt.Sprintf("%s() changes the database, and ferry query only reads it", name)
			}
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if p := checkParseTree(x[k]); p != "" {
				return p
			}
		}
	case []any:
		for _, child := range x {
			if p := checkParseTree(child); p != "" {
				return p
			}
		}
	}
	return ""
}

// looksLikeFile says whether a table name in a query would make DuckDB read
// a file or URL rather than a table: its replacement scans turn a name with
// an extension (FROM 'tickets.csv') or a path or URL into a read of that
// file. The workspace's own tables and views have plain names.
func looksLikeFile(name string) bool {
	return strings.ContainsAny(name, `./\:`) || strings.HasPrefix(name, "~")
}

// syntaxMessage words a parser error and shows where it is: DuckDB gives
// the byte offset of the token it stopped at.
func syntaxMessage(query, msg, position string) string {
	pos, err := strconv.Atoi(position)
	if err != nil || pos < 0 || pos > len(query) {
		return fmt.Sprintf("%s in %s", msg, quoteSQL(query))
	}
	lineStart := strings.LastIndexByte(query[:pos], '\n') + 1
	lineEnd := len(query)
	if i := strings.IndexByte(query[pos:], '\n'); i >= 0 {
		lineEnd = pos + i
	}
	line := strings.Count(query[:pos], "\n") + 1
	col := utf8.RuneCountInString(query[lineStart:pos]) + 1
	// The caret keeps the line's tabs so that it lines up under the token.
	var caret strings.Builder
	for _, r := range query[lineStart:pos] {
		if r == '\t' {
			caret.WriteRune('\t')
		} else {
			caret.WriteRune(' ')
		}
	}
	return fmt.Sprintf("%s at position %d (line %d, column %d):\n    %s\n    %s^",
		msg, pos, line, col, strings.TrimRight(query[lineStart:lineEnd], "\r"), caret.String())
}

// quoteSQL quotes a query for a message: on one line, and cut when long.
func quoteSQL(query string) string {
	const maxRunes = 160
	q := strings.Join(strings.Fields(query), " ")
	if utf8.RuneCountInString(q) > maxRunes {
		q = string([]rune(q)[:maxRunes]) + "…"
	}
	return strconv.Quote(q)
}

// asQueryError returns err's *QueryError, if it has one.
func asQueryError(err error) (*QueryError, bool) {
	var qe *QueryError
	ok := errors.As(err, &qe)
	return qe, ok
}
