package stage

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"strings"
	"testing"

	"github.com/duckdb/duckdb-go/v2"
)

// parserDB is an in-memory DuckDB with a few of the workspace's table
// names, for parsing (and, in the fuzz test, preparing) queries.
func parserDB(tb testing.TB) *sql.DB {
	tb.Helper()
	db, err := sql.Open("duckdb", "?enable_external_access=false&autoload_known_extensions=false&autoinstall_known_extensions=false")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	for _, q := range []string{
		`CREATE TABLE tickets (id VARCHAR, subject VARCHAR, status VARCHAR, tags VARCHAR[], raw JSON)`,
		`CREATE TABLE comments (id VARCHAR, ticket_id VARCHAR, body_text VARCHAR)`,
		`CREATE VIEW open_tickets AS SELECT * FROM tickets WHERE status = 'open'`,
		`CREATE SEQUENCE run_ids`,
	} {
		if _, err := db.Exec(q); err != nil {
			tb.Fatal(err)
		}
	}
	return db
}

func TestCheckReadOnlySQL(t *testing.T) {
	db := parserDB(t)
	tests := []struct {
		name string
		sql  string
		kind QueryErrorKind // "" accepts
		msg  []string       // in the message
	}{
		// What people write.
		{name: "plain select", sql: "SELECT id, subject FROM tickets WHERE status = 'open'"},
		{name: "from first", sql: "FROM tickets LIMIT 3"},
		{name: "cte", sql: "WITH t AS (SELECT * FROM tickets) SELECT count(*) FROM t"},
		{name: "subquery", sql: "SELECT * FROM tickets WHERE id IN (SELECT ticket_id FROM comments)"},
		{name: "join and group", sql: "SELECT t.status, count(c.id) FROM tickets t LEFT JOIN comments c ON c.ticket_id = t.id GROUP BY ALL ORDER BY 2 DESC"},
		{name: "union", sql: "SELECT id FROM tickets UNION ALL SELECT id FROM comments"},
		{name: "view", sql: "SELECT * FROM open_tickets"},
		{name: "trailing semicolon and comment", sql: "SELECT 1; -- done"},
		{name: "multi-line", sql: "SELECT id\nFROM tickets\nWHERE list_contains(tags, 'vip')"},
		{name: "describe", sql: "DESCRIBE tickets"},
		{name: "show tables", sql: "SHOW TABLES"},
		{name: "summarize", sql: "SUMMARIZE tickets"},
		{name: "values", sql: "VALUES (1, 'a'), (2, 'b')"},
		{name: "catalog functions", sql: "SELECT table_name FROM duckdb_tables() UNION SELECT view_name FROM duckdb_views()"},
		{name: "information schema", sql: "SELECT table_name FROM information_schema.tables"},
		{name: "range and unnest", sql: "SELECT * FROM range(3), unnest([1, 2])"},
		{name: "json_each", sql: "SELECT key, value FROM tickets, json_each(tickets.raw)"},
		{name: "json operators", sql: "SELECT raw->>'$.via.channel' AS channel, count(*) FROM tickets GROUP BY 1"},
		{name: "dotted column", sql: "SELECT t.id FROM tickets AS t"},
		{name: "string with a path", sql: "SELECT '/etc/passwd' AS not_a_file, 'x.csv' LIKE '%.csv'"},

		// More than one statement, or not a SELECT.
		{name: "second select", sql: "SELECT 1; SELECT 2", kind: QueryRefused, msg: []string{`"SELECT 1; SELECT 2"`, "2 statements"}},
		{name: "select then delete", sql: "SELECT 1; DELETE FROM tickets", kind: QueryRefused, msg: []string{`"SELECT 1; DELETE FROM tickets"`, "not a single SELECT"}},
		{name: "insert", sql: "INSERT INTO tickets (id) VALUES ('9')", kind: QueryRefused, msg: []string{`"INSERT INTO tickets (id) VALUES ('9')" is not a single SELECT`}},
		{name: "update", sql: "UPDATE tickets SET status = 'closed'", kind: QueryRefused, msg: []string{"not a single SELECT"}},
		{name: "delete", sql: "DELETE FROM tickets", kind: QueryRefused, msg: []string{`"DELETE FROM tickets" is not a single SELECT`}},
		{name: "drop", sql: "DROP TABLE tickets", kind: QueryRefused, msg: []string{"not a single SELECT"}},
		{name: "create as select", sql: "CREATE TABLE x AS SELECT * FROM tickets", kind: QueryRefused, msg: []string{"not a single SELECT"}},
		{name: "copy to", sql: "COPY tickets TO '/tmp/tickets.csv'", kind: QueryRefused, msg: []string{"not a single SELECT"}},
		{name: "copy select to", sql: "COPY (SELECT * FROM tickets) TO '/tmp/t.parquet' (FORMAT parquet)", kind: QueryRefused, msg: []string{"not a single SELECT"}},
		{name: "attach", sql: "ATTACH '/tmp/other.duckdb' AS other", kind: QueryRefused, msg: []string{"not a single SELECT"}},
		{name: "install", sql: "INSTALL httpfs", kind: QueryRefused, msg: []string{"not a single SELECT"}},
		{name: "load", sql: "LOAD httpfs", kind: QueryRefused, msg: []string{"not a single SELECT"}},
		{name: "set", sql: "SET enable_external_access = true", kind: QueryRefused, msg: []string{"not a single SELECT"}},
		{name: "pragma", sql: "PRAGMA database_list", kind: QueryRefused, msg: []string{"not a single SELECT"}},
		{name: "call", sql: "CALL pragma_version()", kind: QueryRefused, msg: []string{"not a single SELECT"}},
		{name: "export", sql: "EXPORT DATABASE '/tmp/dump'", kind: QueryRefused, msg: []string{"not a single SELECT"}},
		{name: "explain analyze", sql: "EXPLAIN ANALYZE SELECT 1", kind: QueryRefused, msg: []string{"not a single SELECT"}},
		{name: "transaction", sql: "BEGIN TRANSACTION", kind: QueryRefused, msg: []string{"not a single SELECT"}},
		{name: "checkpoint", sql: "CHECKPOINT", kind: QueryRefused, msg: []string{"not a single SELECT"}},

		// Reading files, directly or in disguise.
		{name: "replacement scan", sql: "FROM 'x.csv'", kind: QueryRefused, msg: []string{`"x.csv" looks like a file`}},
		{name: "replacement scan url", sql: "SELECT * FROM 'https://example.com/t.parquet'", kind: QueryRefused, msg: []string{"looks like a file or URL"}},
		{name: "quoted path", sql: `SELECT * FROM "data/tickets"`, kind: QueryRefused, msg: []string{"looks like a file"}},
		{name: "home path", sql: `SELECT * FROM "~tickets"`, kind: QueryRefused, msg: []string{"looks like a file"}},
		{name: "describe a file", sql: "DESCRIBE 'x.parquet'", kind: QueryRefused, msg: []string{"looks like a file"}},
		{name: "read_csv", sql: "SELECT * FROM read_csv('/etc/passwd')", kind: QueryRefused, msg: []string{`"SELECT * FROM read_csv('/etc/passwd')"`, "read_csv() is not allowed"}},
		{name: "read_csv upper case", sql: "SELECT * FROM READ_CSV_AUTO('/etc/passwd')", kind: QueryRefused, msg: []string{"read_csv_auto() is not allowed"}},
		{name: "read_json", sql: "FROM read_json('x.json')", kind: QueryRefused, msg: []string{"read_json() is not allowed"}},
		{name: "read_parquet", sql: "FROM read_parquet('x.parquet')", kind: QueryRefused, msg: []string{"read_parquet() is not allowed"}},
		{name: "parquet_metadata", sql: "FROM parquet_metadata('x.parquet')", kind: QueryRefused, msg: []string{"parquet_metadata() is not allowed"}},
		{name: "read_text", sql: "SELECT content FROM read_text('/etc/hostname')", kind: QueryRefused, msg: []string{"read_text() is not allowed"}},
		{name: "read_blob", sql: "SELECT content FROM read_blob('/etc/hostname')", kind: QueryRefused, msg: []string{"read_blob() is not allowed"}},
		{name: "glob", sql: "SELECT * FROM glob('*')", kind: QueryRefused, msg: []string{"glob() is not allowed"}},
		{name: "sniff_csv", sql: "FROM sniff_csv('x.csv')", kind: QueryRefused, msg: []string{"sniff_csv() is not allowed"}},
		{name: "sqlite_scan", sql: "FROM sqlite_scan('x.db', 't')", kind: QueryRefused, msg: []string{"sqlite_scan() is not allowed"}},
		{name: "query()", sql: "FROM query('DELETE FROM tickets')", kind: QueryRefused, msg: []string{"query() is not allowed"}},
		{name: "serialized sql", sql: "FROM json_execute_serialized_sql(json_serialize_sql('SELECT 1'))", kind: QueryRefused, msg: []string{"json_execute_serialized_sql() is not allowed"}},
		{name: "table function in a subquery", sql: "SELECT * FROM tickets WHERE id IN (SELECT file FROM glob('*'))", kind: QueryRefused, msg: []string{"glob() is not allowed"}},
		{name: "table function in a cte", sql: "WITH f AS (SELECT * FROM read_csv('x.csv')) SELECT * FROM f", kind: QueryRefused, msg: []string{"read_csv() is not allowed"}},
		{name: "table function in a lateral join", sql: "SELECT * FROM tickets t, LATERAL (SELECT * FROM read_text(t.subject))", kind: QueryRefused, msg: []string{"read_text() is not allowed"}},
		{name: "table function in a union", sql: "SELECT id FROM tickets UNION SELECT file FROM glob('*')", kind: QueryRefused, msg: []string{"glob() is not allowed"}},
		{name: "nextval", sql: "SELECT nextval('run_ids')", kind: QueryRefused, msg: []string{"nextval() changes the database"}},

		// Not SQL.
		{name: "syntax error", sql: "SELEC 1", kind: QuerySyntax, msg: []string{`syntax error at or near "SELEC"`, "position 0 (line 1, column 1)", "\n    SELEC 1\n    ^"}},
		{name: "syntax error on line 3", sql: "SELECT id\nFROM tickets\nWHERE id = = 1", kind: QuerySyntax, msg: []string{"line 3, column 12", "\n    WHERE id = = 1\n               ^"}},
		{name: "empty", sql: "", kind: QueryRefused, msg: []string{"empty"}},
		{name: "only a semicolon", sql: " ; ", kind: QueryRefused, msg: []string{"no statement"}},
		{name: "only a comment", sql: "-- nothing", kind: QueryRefused, msg: []string{"no statement"}},
		{name: "nul", sql: "SELECT 1\x00; DROP TABLE tickets", kind: QueryRefused, msg: []string{"NUL"}},
		{name: "not utf-8", sql: "SELECT '\xff'", kind: QueryRefused, msg: []string{"UTF-8"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckReadOnlySQL(t.Context(), db, tt.sql)
			if tt.kind == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			qe, ok := asQueryError(err)
			if !ok {
				t.Fatalf("got %v (%T), want a QueryError of kind %s", err, err, tt.kind)
			}
			if qe.Kind != tt.kind {
				t.Errorf("kind %s, want %s: %v", qe.Kind, tt.kind, qe)
			}
			for _, m := range tt.msg {
				if !strings.Contains(qe.Message, m) {
					t.Errorf("message lacks %q:\n%s", m, qe.Message)
				}
			}
		})
	}
}

// FuzzCheckReadOnlySQL: CheckReadOnlySQL never panics, answers every input
// with nil or a QueryError, and never accepts what DuckDB does not see as
// exactly one SELECT statement. The oracle is independent of the check:
// DuckDB's driver prepares (without running) only a single statement, and
// tells the prepared statement's type.
func FuzzCheckReadOnlySQL(f *testing.F) {
	for _, s := range []string{
		"SELECT 1", "SELECT 1; SELECT 2", "SELECT 1; DELETE FROM tickets", "FROM tickets", "DELETE FROM tickets",
		"WITH a AS (SELECT 1) SELECT * FROM a", "FROM 'x.csv'", "SELECT * FROM read_csv('/etc/passwd')", "SELECT * FROM glob('*')",
		"INSERT INTO tickets (id) VALUES ('1')", "COPY tickets TO 'x.csv'", "ATTACH 'x.db'", "INSTALL httpfs", "LOAD httpfs",
		"SET threads = 1", "PRAGMA version", "SELEC 1", "", ";", "SELECT 1 -- ; DROP TABLE tickets", "SELECT ';DROP TABLE tickets'",
		"SELECT $$; DROP TABLE tickets; $$", "/* ; */ SELECT 1", "DESCRIBE tickets", "SHOW TABLES", "SUMMARIZE tickets",
		"SELECT nextval('run_ids')", "CREATE TABLE x AS SELECT 1", "FROM query('DROP TABLE tickets')", "EXPLAIN SELECT 1",
		"SELECT 1\x00; DROP TABLE tickets", "(SELECT 1) UNION (SELECT 2)", "VALUES (1)", "TABLE tickets",
	} {
		f.Add(s)
	}
	db := parserDB(f)
	conn, err := db.Conn(context.Background())
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { conn.Close() })
	f.Fuzz(func(t *testing.T, query string) {
		err := CheckReadOnlySQL(t.Context(), conn, query)
		if err != nil {
			if _, ok := asQueryError(err); !ok {
				t.Fatalf("%q: %v (%T), want a QueryError", query, err, err)
			}
			return
		}
		// Accepted: DuckDB must see one SELECT.
		err = conn.Raw(func(dc any) error {
			// The driver's Prepare (without a context) refuses more than
			// one statement rather than running the first ones.
			st, err := dc.(driver.Conn).Prepare(query)
			if err != nil {
				if strings.Contains(err.Error(), "multi-statement") {
					t.Fatalf("%q was accepted, but it holds several statements: %v", query, err)
				}
				return nil // it does not bind (an unknown column): nothing to see
			}
			defer st.Close()
			typ, err := st.(*duckdb.Stmt).StatementType()
			if err != nil {
				return err
			}
			if typ != duckdb.STATEMENT_TYPE_SELECT {
				t.Fatalf("%q was accepted, but it is a statement of type %v", query, typ)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}
