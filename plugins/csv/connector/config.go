package connector

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"time"
	// Exports name zones such as Europe/Paris; the plugin may run where the
	// system has no zone database (Windows, distroless images).
	_ "time/tzdata"
	"unicode/utf8"

	"github.com/ferryhq/ferry/sdk/schema"
)

// Config is the connector's configuration, as ferry.yaml's source.config
// gives it: one file per canonical stream the export has.
type Config struct {
	// BaseDir is the folder relative paths resolve against. Empty, or
	// relative itself, it is taken from the current directory.
	BaseDir string `json:"base_dir,omitempty"`
	// Files maps each canonical stream the export has (tickets, comments,
	// users, organizations) to its file. In JSON an entry may also be a bare
	// path, which takes every default.
	Files map[string]File `json:"files"`
	// CheckpointEvery is how many rows of a file one checkpoint commits
	// (default 10,000): a resumed read repeats at most that many.
	CheckpointEvery int `json:"checkpoint_every,omitempty"`
}

// File describes one export file and how its columns map to the stream's
// canonical columns.
type File struct {
	// Path is the file, relative to Config.BaseDir unless absolute.
	Path string `json:"path"`
	// Format is csv, tsv (CSV with tabs), jsonl or ndjson (JSON Lines);
	// empty, it follows the extension (.csv, .tsv, .jsonl, .ndjson).
	Format string `json:"format,omitempty"`
	// Delimiter separates CSV fields: one character, "tab" or "\t" for a
	// tab (default ",", or a tab for .tsv).
	Delimiter string `json:"delimiter,omitempty"`
	// LazyQuotes accepts quotes inside unquoted fields and lone quotes in
	// quoted ones, as some exporters write them; without it such rows are
	// malformed.
	LazyQuotes bool `json:"lazy_quotes,omitempty"`
	// Columns maps canonical columns to source columns (CSV header names, or
	// JSON keys where a dot walks into nested objects: "requester.id"). A
	// canonical column left out maps to a source column of the same name
	// when there is one; mapped to "", it is not read. A CSV without an id
	// column, or an id mapped to "", gets ids made from file and line.
	Columns map[string]string `json:"columns,omitempty"`
	// Values rewrites source values of a canonical column before they are
	// read, such as {"status": {"Pending Customer Response": "pending"}};
	// for a list column each item is rewritten.
	Values map[string]map[string]string `json:"values,omitempty"`
	// Defaults gives a canonical column's value for rows where its source
	// column is absent or empty, written as the source would write it.
	Defaults map[string]string `json:"defaults,omitempty"`
	// TimeFormat is one or more Go layouts for time columns (such as
	// "2006-01-02 15:04:05"), tried after RFC 3339; "unix" and "unix_ms"
	// read seconds or milliseconds since the epoch.
	TimeFormat Layouts `json:"time_format,omitempty"`
	// TimeZone is the IANA zone of times written without an offset
	// (default UTC).
	TimeZone string `json:"time_zone,omitempty"`
	// ListSeparator splits list columns (tags, cc_ids, domains) written as
	// text (default ","); JSON arrays need none.
	ListSeparator string `json:"list_separator,omitempty"`
	// CustomFields are source columns kept in the record's custom_fields
	// object, keyed by their names.
	CustomFields []string `json:"custom_fields,omitempty"`
	// CommentsFromTicket turns columns of a ticket row into comments of
	// the ticket: single-file exports carry the first message and the
	// resolution in the ticket's row. Tickets only.
	CommentsFromTicket []TicketComment `json:"comments_from_ticket,omitempty"`
	// UsersFromTicket turns columns of a ticket row into users: single-file
	// exports carry the requester (name, email, age...) in each ticket's
	// row and have no users file. Each user comes once, from the first row
	// that names it; the read keeps the ids of the users it brought, so its
	// memory grows with the number of distinct users, not with rows.
	// Tickets only.
	UsersFromTicket []TicketUser `json:"users_from_ticket,omitempty"`
}

// TicketComment makes one comment from columns of a ticket row.
type TicketComment struct {
	// IDSuffix names the comment: its id is the ticket's id, a dash and the
	// suffix (default: the body column's name in lower case, with dashes
	// for anything but letters and digits).
	IDSuffix string `json:"id_suffix,omitempty"`
	// Columns maps the comment's canonical columns (body_text or
	// body_html, and author_id, public, created_at) to columns of the
	// ticket row. A row whose body is empty has no such comment; one
	// without a time takes the ticket's created_at.
	Columns map[string]string `json:"columns"`
	// Defaults are as File.Defaults, for the comment's columns: public is
	// true unless said otherwise.
	Defaults map[string]string `json:"defaults,omitempty"`
}

// TicketUser makes a user from columns of a ticket row: the requester of a
// single-file export, say.
//
// A user is emitted at the first row, in file order, that names it (by id)
// with columns that read: later rows naming it are not read for it, so a
// user whose name differs between rows has its first row's name. A row
// whose id (or email) column is empty names no user; a row whose ticket
// does not read (a bad date, no ticket id) still brings its users. A user's columns that
// do not read (a created_at that is not a time, say) make a record error
// that names the file and line, and the next row naming the user tries
// again. Emails are kept as written: they are not checked.
//
// The read keeps the id of every user it emitted, so memory grows with the
// number of distinct users, not with rows: 50 to 100 bytes a user, about
// 100 MB for a million users keyed by email. A read resumed from a
// checkpoint first parses the rows before it again, emitting nothing, to
// learn which users they brought, so that it brings exactly the records
// after the checkpoint with a cursor of constant size. That parse costs
// about a third of what reading those rows did (990,000 rows, 490 MB: 4.3
// s, against 14.5 s for reading the whole file); a read with no row after
// its cursor, such as a delta read of an unchanged file, skips it.
type TicketUser struct {
	// Columns maps the user's canonical columns (id, email, name, phone,
	// organization_id, role, active, suspended, created_at, updated_at) to
	// columns of the ticket row; only the columns listed are read. Map id,
	// or email: without an id the user's id is its email in lower case,
	// and the ticket's own references to that column (requester_id,
	// submitter_id, assignee_id, cc_ids, and comments_from_ticket's
	// author_id) are lower-cased alike, so that they name the user.
	// created_at is not made up: map it (to the ticket's created column,
	// say, for the time of the first ticket in the file) or leave it
	// empty.
	Columns map[string]string `json:"columns"`
	// Values are as File.Values, for the user's columns: {"role":
	// {"Staff": "agent"}}.
	Values map[string]map[string]string `json:"values,omitempty"`
	// Defaults are as File.Defaults, for the user's columns: role is
	// end_user and active true unless said otherwise.
	Defaults map[string]string `json:"defaults,omitempty"`
	// CustomFields are columns of the ticket row kept in the user's
	// custom_fields object (such as "Customer Age").
	CustomFields []string `json:"custom_fields,omitempty"`
}

// Layouts is one or more Go time layouts; JSON gives one as a string or
// several as an array.
type Layouts []string

// UnmarshalJSON reads a layout or an array of them.
func (l *Layouts) UnmarshalJSON(data []byte) error {
	var one string
	if err := json.Unmarshal(data, &one); err == nil {
		*l = Layouts{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(data, &many); err != nil {
		return errors.New("time_format must be a Go layout or an array of them")
	}
	*l = many
	return nil
}

// UnmarshalJSON reads a file entry: an object, or a bare path. Unknown keys
// are refused, so that a typo is not silently a default.
func (f *File) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '"' {
		*f = File{}
		return json.Unmarshal(data, &f.Path)
	}
	type plain File // without this method
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var p plain
	if err := dec.Decode(&p); err != nil {
		return err
	}
	*f = File(p)
	return nil
}

// Formats and defaults.
const (
	formatCSV   = "csv"
	formatJSONL = "jsonl"

	defaultCheckpointEvery = 10_000
	defaultListSeparator   = ","

	// Special time layouts.
	layoutUnix   = "unix"
	layoutUnixMS = "unix_ms"
)

// configSchema is the JSON Schema of Config, for Spec.
const configSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "CSV / JSON Lines source",
  "description": "Reads tickets, comments, users and organizations from a help desk's export: one CSV or JSON Lines file per stream, each with a column mapping.",
  "type": "object",
  "required": ["files"],
  "additionalProperties": false,
  "properties": {
    "base_dir": {
      "type": "string",
      "description": "The folder relative paths resolve against (default: the current directory)."
    },
    "checkpoint_every": {
      "type": "integer",
      "minimum": 1,
      "default": 10000,
      "description": "Rows of a file committed by one checkpoint: a resumed read repeats at most that many."
    },
    "files": {
      "type": "object",
      "description": "One entry per stream the export has: a file and how its columns map.",
      "minProperties": 1,
      "additionalProperties": false,
      "properties": {
        "tickets": {"$ref": "#/$defs/file"},
        "comments": {"$ref": "#/$defs/file"},
        "users": {"$ref": "#/$defs/file"},
        "organizations": {"$ref": "#/$defs/file"}
      }
    }
  },
  "$defs": {
    "columns": {
      "type": "object",
      "description": "Canonical column → source column (a CSV header name, or a JSON key; a dot walks into nested objects). Unlisted canonical columns map to a source column of the same name; \"\" reads none.",
      "additionalProperties": {"type": "string"}
    },
    "defaults": {
      "type": "object",
      "description": "Canonical column → value for rows where the source column is absent or empty.",
      "additionalProperties": {"type": "string"}
    },
    "file": {
      "oneOf": [
        {"type": "string", "description": "The file's path, every option at its default."},
        {
          "type": "object",
          "required": ["path"],
          "additionalProperties": false,
          "properties": {
            "path": {"type": "string", "minLength": 1, "description": "The file, relative to base_dir unless absolute."},
            "format": {"enum": ["csv", "tsv", "jsonl", "ndjson"], "description": "csv, tsv (CSV with tabs), jsonl or ndjson (JSON Lines); default: from the extension (.csv, .tsv, .jsonl, .ndjson)."},
            "delimiter": {"type": "string", "description": "CSV field delimiter: one character, or \"tab\" (default \",\"; a tab for .tsv)."},
            "lazy_quotes": {"type": "boolean", "default": false, "description": "Accept stray quotes in CSV fields instead of calling the row malformed."},
            "columns": {"$ref": "#/$defs/columns"},
            "values": {
              "type": "object",
              "description": "Canonical column → {source value: value}, applied before a value is read.",
              "additionalProperties": {"type": "object", "additionalProperties": {"type": "string"}}
            },
            "defaults": {"$ref": "#/$defs/defaults"},
            "time_format": {
              "description": "Go layouts tried after RFC 3339, such as \"2006-01-02 15:04:05\"; \"unix\" and \"unix_ms\" read epoch seconds or milliseconds.",
              "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "minItems": 1}]
            },
            "time_zone": {"type": "string", "default": "UTC", "description": "IANA zone of times written without an offset."},
            "list_separator": {"type": "string", "minLength": 1, "default": ",", "description": "Splits list columns (tags, cc_ids, domains) written as text."},
            "custom_fields": {"type": "array", "items": {"type": "string"}, "uniqueItems": true, "description": "Source columns kept in custom_fields."},
            "comments_from_ticket": {
              "type": "array",
              "description": "Tickets only: comments made from columns of the ticket's row (a single-file export's first message and resolution).",
              "items": {
                "type": "object",
                "required": ["columns"],
                "additionalProperties": false,
                "properties": {
                  "id_suffix": {"type": "string", "description": "The comment's id is the ticket's id, a dash and this (default: from the body column's name)."},
                  "columns": {"$ref": "#/$defs/columns"},
                  "defaults": {"$ref": "#/$defs/defaults"}
                }
              }
            },
            "users_from_ticket": {
              "type": "array",
              "description": "Tickets only: users made from columns of the ticket's row (a single-file export's requester, with no users file); the tickets stream then also emits users. Each user comes once, from the first row in file order that names it; its id is the id column, or else the email in lower case. The read keeps the ids of the users it brought: memory grows with the number of distinct users, not with rows. A resumed read parses the rows before its checkpoint again, emitting nothing, to learn which users they brought.",
              "items": {
                "type": "object",
                "required": ["columns"],
                "additionalProperties": false,
                "properties": {
                  "columns": {
                    "type": "object",
                    "description": "User column (id, email, name, phone, organization_id, role, active, suspended, created_at, updated_at) → column of the ticket row; only these are read. Map id or email; without id, the id is the email in lower case, and the ticket's references to that column are lower-cased alike.",
                    "additionalProperties": {"type": "string"}
                  },
                  "values": {
                    "type": "object",
                    "description": "User column → {source value: value}, applied before a value is read, such as {\"role\": {\"Staff\": \"agent\"}}.",
                    "additionalProperties": {"type": "object", "additionalProperties": {"type": "string"}}
                  },
                  "defaults": {"$ref": "#/$defs/defaults", "description": "User column → value for rows where its column is empty (role is end_user and active true unless said otherwise)."},
                  "custom_fields": {"type": "array", "items": {"type": "string"}, "uniqueItems": true, "description": "Columns of the ticket row kept in the user's custom_fields (such as \"Customer Age\")."}
                }
              }
            }
          }
        }
      ]
    }
  }
}`

// supportedStreams are the canonical streams an export file can hold, in
// the order they are read (schema.StreamNames' order).
func supportedStreams() []string {
	return []string{schema.Users, schema.Organizations, schema.Tickets, schema.Comments}
}

// settings is one file's validated configuration.
type settings struct {
	stream  string
	file    File
	display string // the path as configured: in messages and generated ids
	path    string // resolved
	format  string
	comma   rune
	layouts []string
	loc     *time.Location
	sep     string
	// comments are the comments_from_ticket entries, validated.
	comments []commentSettings
	// users are the users_from_ticket entries, validated.
	users []TicketUser
	// every is the checkpoint interval in rows.
	every int
	// mapping fingerprints the file's configuration, so that a cursor
	// written under another mapping is not resumed.
	mapping string
}

// commentSettings is a validated comments_from_ticket entry.
type commentSettings struct {
	suffix   string
	columns  map[string]string
	defaults map[string]string
}

// parseConfig decodes and checks a config without touching the files. It
// reports every problem it finds at once.
func parseConfig(raw json.RawMessage) ([]*settings, error) {
	// Config, with each file left to decode on its own, so that a problem
	// names its entry.
	var top struct {
		BaseDir         string                     `json:"base_dir"`
		Files           map[string]json.RawMessage `json:"files"`
		CheckpointEvery int                        `json:"checkpoint_every"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&top); err != nil {
		return nil, fmt.Errorf("csv config: %w", err)
	}
	every := top.CheckpointEvery
	var problems []error
	switch {
	case every == 0:
		every = defaultCheckpointEvery
	case every < 0:
		problems = append(problems, fmt.Errorf("checkpoint_every %d: want a number of rows, at least 1", every))
	}
	if len(top.Files) == 0 {
		problems = append(problems, errors.New("files is empty: give at least the tickets file, as {\"files\": {\"tickets\": {\"path\": \"export/tickets.csv\"}}}"))
	}
	var out []*settings
	for _, name := range slices.Sorted(maps.Keys(top.Files)) {
		if !slices.Contains(supportedStreams(), name) {
			problems = append(problems, fmt.Errorf("files.%s: not a stream this source reads: want %s", name, strings.Join(supportedStreams(), ", ")))
			continue
		}
		var f File
		if err := json.Unmarshal(top.Files[name], &f); err != nil {
			problems = append(problems, fmt.Errorf("files.%s: %w", name, err))
			continue
		}
		s, errs := checkFile(name, f, top.BaseDir, every)
		problems = append(problems, errs...)
		if s != nil {
			out = append(out, s)
		}
	}
	if err := errors.Join(problems...); err != nil {
		return nil, fmt.Errorf("csv config: %w", err)
	}
	slices.SortFunc(out, func(a, b *settings) int {
		return slices.Index(supportedStreams(), a.stream) - slices.Index(supportedStreams(), b.stream)
	})
	return out, nil
}

// checkFile validates one file entry; its problems name the stream and
// the file.
func checkFile(stream string, f File, baseDir string, every int) (*settings, []error) {
	where := "files." + stream
	if f.Path != "" {
		where = fmt.Sprintf("files.%s (%s)", stream, f.Path)
	}
	var problems []error
	problem := func(format string, args ...any) {
		problems = append(problems, fmt.Errorf(where+": "+format, args...))
	}
	s := &settings{stream: stream, file: f, every: every, sep: cmp.Or(f.ListSeparator, defaultListSeparator), loc: time.UTC}
	if strings.TrimSpace(f.Path) == "" {
		problem("path is required: the export file of %s", stream)
	} else {
		s.display = filepath.ToSlash(filepath.Clean(f.Path))
		s.path = f.Path
		if !filepath.IsAbs(s.path) {
			s.path = filepath.Join(baseDir, s.path)
		}
		if abs, err := filepath.Abs(s.path); err == nil {
			s.path = abs
		}
	}

	ext := strings.ToLower(filepath.Ext(f.Path))
	switch strings.ToLower(f.Format) {
	case "":
		switch ext {
		case ".csv", ".tsv", ".tab", ".txt":
			s.format = formatCSV
		case ".jsonl", ".ndjson":
			s.format = formatJSONL
		default:
			if f.Path != "" {
				problem("cannot tell the format from the extension %q: set format to csv or jsonl", ext)
			}
		}
	case "csv", "tsv":
		s.format = formatCSV
	case "jsonl", "ndjson":
		s.format = formatJSONL
	default:
		problem("format %q is not one this source reads: want csv or jsonl", f.Format)
	}

	s.comma = ','
	if ext == ".tsv" || ext == ".tab" || strings.EqualFold(f.Format, "tsv") {
		s.comma = '\t'
	}
	if f.Delimiter != "" {
		switch d := f.Delimiter; {
		case s.format == formatJSONL:
			problem("delimiter is for CSV files, not JSON Lines")
		case strings.EqualFold(d, "tab") || d == `\t`:
			s.comma = '\t'
		case utf8.RuneCountInString(d) != 1:
			problem("delimiter %q: want one character, or \"tab\"", d)
		default:
			r, _ := utf8.DecodeRuneInString(d)
			if r == '"' || r == '\r' || r == '\n' || r == utf8.RuneError || r == 0xFEFF {
				problem("delimiter %q cannot separate fields", d)
			}
			s.comma = r
		}
	}
	if f.LazyQuotes && s.format == formatJSONL {
		problem("lazy_quotes is for CSV files, not JSON Lines")
	}

	for _, l := range f.TimeFormat {
		switch {
		case l == layoutUnix || l == layoutUnixMS:
		case strings.TrimSpace(l) == "":
			problem("time_format has an empty layout")
		case sampleTime().Format(l) == l:
			problem("time_format %q is not a Go layout: write the reference time Mon Jan 2 15:04:05 MST 2006 the way the export writes times, such as 2006-01-02 15:04:05", l)
		}
	}
	s.layouts = f.TimeFormat
	if f.TimeZone != "" {
		loc, err := time.LoadLocation(f.TimeZone)
		if err != nil {
			problem("time_zone %q is not an IANA zone such as Europe/Paris", f.TimeZone)
		} else {
			s.loc = loc
		}
	}

	canon := columnsOf(stream)
	kindOf := func(col string) (kind, bool) {
		for _, c := range canon {
			if c.name == col {
				return c.kind, true
			}
		}
		return 0, false
	}
	names := columnNames(canon)
	for _, col := range slices.Sorted(maps.Keys(f.Columns)) {
		if _, ok := kindOf(col); !ok {
			problem("columns: %q is not a column of %s: want one of %s", col, stream, strings.Join(names, ", "))
		}
	}
	for _, col := range slices.Sorted(maps.Keys(f.Values)) {
		if _, ok := kindOf(col); !ok {
			problem("values: %q is not a column of %s: want one of %s", col, stream, strings.Join(names, ", "))
		}
	}
	p := s.parser()
	for _, col := range slices.Sorted(maps.Keys(f.Defaults)) {
		k, ok := kindOf(col)
		switch {
		case !ok:
			problem("defaults: %q is not a column of %s: want one of %s", col, stream, strings.Join(names, ", "))
		case k == kindID:
			problem("defaults: %s cannot have a default: every row has its own", col)
		default:
			if _, err := p.parse(k, col, f.Defaults[col], f.Values[col]); err != nil {
				problem("defaults.%s: %v", col, err)
			}
		}
	}
	seen := map[string]bool{}
	for _, c := range f.CustomFields {
		switch {
		case c == "":
			problem("custom_fields has an empty column name")
		case seen[c]:
			problem("custom_fields lists %q twice", c)
		}
		seen[c] = true
	}
	if stream == schema.Comments {
		if col, ok := f.Columns["ticket_id"]; ok && col == "" {
			problem("columns.ticket_id cannot be \"\": every comment belongs to a ticket")
		}
	}

	if len(f.CommentsFromTicket) > 0 && stream != schema.Tickets {
		problem("comments_from_ticket is for the tickets file only")
	}
	if stream == schema.Tickets {
		suffixes := map[string]bool{}
		commentCols := columnsOf(schema.Comments)
		for i, tc := range f.CommentsFromTicket {
			cw := fmt.Sprintf("comments_from_ticket[%d]", i)
			body := cmp.Or(tc.Columns["body_text"], tc.Columns["body_html"])
			if body == "" {
				problem("%s: map body_text or body_html to the column that holds the comment", cw)
			}
			cs := commentSettings{suffix: tc.IDSuffix, columns: tc.Columns, defaults: tc.Defaults}
			if cs.suffix == "" {
				cs.suffix = cmp.Or(slug(body), fmt.Sprintf("comment-%d", i+1))
			}
			if suffixes[cs.suffix] {
				problem("%s: id_suffix %q is taken by another comment: set a different id_suffix", cw, cs.suffix)
			}
			suffixes[cs.suffix] = true
			for _, col := range slices.Sorted(maps.Keys(tc.Columns)) {
				switch col {
				case "author_id", "public", "body_html", "body_text", "created_at":
				default:
					problem("%s: columns: %q is not a column a ticket's comment takes: want author_id, public, body_html, body_text or created_at", cw, col)
				}
			}
			for _, col := range slices.Sorted(maps.Keys(tc.Defaults)) {
				k, ok := kindOfIn(commentCols, col)
				if !ok || col == "id" || col == "ticket_id" {
					problem("%s: defaults: %q is not a column a ticket's comment takes: want author_id, public, body_html, body_text or created_at", cw, col)
					continue
				}
				if _, err := p.parse(k, col, tc.Defaults[col], nil); err != nil {
					problem("%s: defaults.%s: %v", cw, col, err)
				}
			}
			s.comments = append(s.comments, cs)
		}
	}

	if len(f.UsersFromTicket) > 0 && stream != schema.Tickets {
		problem("users_from_ticket is for the tickets file only")
	}
	if stream == schema.Tickets {
		for i, tu := range f.UsersFromTicket {
			for _, err := range checkTicketUser(tu, p) {
				problem("users_from_ticket[%d]: %v", i, err)
			}
		}
		s.users = f.UsersFromTicket
	}

	fp, _ := json.Marshal(f) // a struct of strings, maps and slices always marshals
	sum := sha256.Sum256(fp)
	s.mapping = hex.EncodeToString(sum[:8])
	if len(problems) > 0 {
		return nil, problems
	}
	return s, nil
}

// checkTicketUser validates a users_from_ticket entry.
func checkTicketUser(tu TicketUser, p parser) []error {
	var problems []error
	problem := func(format string, args ...any) {
		problems = append(problems, fmt.Errorf(format, args...))
	}
	userCols := columnsOf(schema.Users)
	want := strings.Join(columnNames(userCols), ", ")
	if tu.Columns["id"] == "" && tu.Columns["email"] == "" {
		problem("map id, or email, to the column that names the user")
	}
	for _, col := range slices.Sorted(maps.Keys(tu.Columns)) {
		if _, ok := kindOfIn(userCols, col); !ok {
			problem("columns: %q is not a column of users: want one of %s", col, want)
		}
	}
	for _, col := range slices.Sorted(maps.Keys(tu.Values)) {
		if _, ok := kindOfIn(userCols, col); !ok {
			problem("values: %q is not a column of users: want one of %s", col, want)
		}
	}
	for _, col := range slices.Sorted(maps.Keys(tu.Defaults)) {
		k, ok := kindOfIn(userCols, col)
		switch {
		case !ok:
			problem("defaults: %q is not a column of users: want one of %s", col, want)
		case k == kindID:
			problem("defaults: id cannot have a default: every user has its own")
		case col == "email" && tu.Columns["id"] == "":
			// The email is the id then: a default would make one user of
			// every row without an email.
			problem("defaults: email is the user's id here (no id column), so it cannot have a default")
		default:
			v, err := p.parse(k, col, tu.Defaults[col], tu.Values[col])
			if err == nil && col == "role" {
				// A role is read when it is set: say now that it never will.
				_, err = roleOf(v.text)
			}
			if err != nil {
				problem("defaults.%s: %v", col, err)
			}
		}
	}
	seen := map[string]bool{}
	for _, c := range tu.CustomFields {
		switch {
		case c == "":
			problem("custom_fields has an empty column name")
		case seen[c]:
			problem("custom_fields lists %q twice", c)
		}
		seen[c] = true
	}
	return problems
}

func kindOfIn(cols []columnInfo, name string) (kind, bool) {
	for _, c := range cols {
		if c.name == name {
			return c.kind, true
		}
	}
	return 0, false
}

// sampleTime differs from Go's reference time in every element: a layout
// that formats it to itself has no layout elements.
func sampleTime() time.Time {
	return time.Date(2011, time.November, 12, 13, 14, 15, 0, time.FixedZone("X", 3600))
}

// slug makes an id suffix from a column name: "Ticket Description" →
// "ticket-description".
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if ('a' <= r && r <= 'z') || ('0' <= r && r <= '9') {
			b.WriteRune(r)
			dash = false
			continue
		}
		if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}
