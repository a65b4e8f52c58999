// Package connector is ferry's CSV and JSON Lines source: it reads the
// export files of any help desk (tickets, comments, users, organizations)
// and maps their columns into ferry's canonical streams.
//
// The config names one file per stream, each with a column mapping. A
// single-file export, whose ticket rows carry the first message, the
// resolution and the customer, needs only the tickets file:
//
//	{"base_dir": "export",
//	 "files": {
//	   "tickets": {"path": "customer_support_tickets.csv",
//	     "columns": {"id": "Ticket ID", "subject": "Ticket Subject", "status": "Ticket Status",
//	                 "type": "Ticket Type", "requester_id": "Customer Email", "created_at": "Date of Purchase"},
//	     "values": {"status": {"Open": "open", "Pending Customer Response": "pending", "Closed": "closed"}},
//	     "time_format": ["2006-01-02", "2006-01-02 15:04:05"],
//	     "custom_fields": ["Product Purchased", "Ticket Channel"],
//	     "comments_from_ticket": [
//	       {"id_suffix": "description", "columns": {"body_text": "Ticket Description", "author_id": "Customer Email"}},
//	       {"id_suffix": "resolution", "columns": {"body_text": "Resolution", "created_at": "Time to Resolution"}}],
//	     "users_from_ticket": [
//	       {"columns": {"email": "Customer Email", "name": "Customer Name"},
//	        "custom_fields": ["Customer Age", "Customer Gender"]}]}}}
//
// An export in several files names each, as in
//
//	"files": {
//	  "tickets": {"path": "tickets.csv", "columns": {"id": "Ticket ID", "requester_id": "Requester"}},
//	  "comments": {"path": "comments.jsonl",
//	    "columns": {"ticket_id": "ticket", "author_id": "author.id", "body_text": "text", "created_at": "at"}},
//	  "users": "users.csv"}
//
// users_from_ticket makes a user (an end user unless its role says
// otherwise) of the columns of a ticket row, so that every ticket's
// requester exists: each user once, at the first row in file order that
// names it. Without an id column the user's id is its email in lower case,
// and the row's references to that email column (requester_id, author_id)
// are lower-cased alike. The read keeps the ids of the users it emitted,
// so its memory grows with the number of distinct users, not with rows;
// and a read resumed from a checkpoint parses the rows before it again,
// emitting nothing, to learn which users they brought (see TicketUser). A
// user both in a users file and named by ticket rows is staged twice, the
// tickets file's record replacing the other: with a users file, make
// users_from_ticket only of people it does not list.
//
// A canonical column the mapping leaves out is read from a source column
// of the same name when the file has one; so a file whose columns already
// have canonical names needs no mapping at all. Times are RFC 3339 or a
// configured Go layout, booleans true/false, yes/no or 1/0, and list
// columns text split on a separator (or JSON arrays). Source columns
// listed in custom_fields go into the record's custom_fields object, and
// the whole source row (header → value, or the JSON object) into raw.
//
// Each file is streamed, in constant memory whatever its size (but for
// users_from_ticket's ids). The cursor
// is the position after the last committed row, with the file's size and
// a fingerprint of its start, so that a resumed read seeks there and goes
// on exactly, and a file that was replaced is read again from the start.
// A malformed row (bad quoting, a wrong number of fields, a value that
// does not read as its column's kind, invalid UTF-8, no id) becomes a
// record error that names the file and line, and the read goes on.
package connector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/ferryhq/ferry/sdk/source"
)

// Name and Version identify the connector; its binary is ferry-source-csv.
const (
	Name    = "csv"
	Version = "0.1.0"
)

// Connector is the CSV and JSON Lines source connector. The zero
// Connector is ready to use, as is New's.
type Connector struct {
	// maxRow bounds one row in bytes; 0 takes defaultMaxRow. Tests lower it.
	maxRow int64
}

// New returns the CSV and JSON Lines connector.
func New() *Connector { return &Connector{} }

// Spec describes the connector and its config.
func (c *Connector) Spec() source.Spec {
	return source.Spec{Name: Name, Version: Version, ConfigSchema: configSchema}
}

// Check verifies the config and the files: each exists and is readable, a
// CSV file's header has every column the config names, and a JSON Lines
// file holds objects with the keys it names. It reports every problem at
// once, each with its file.
func (c *Connector) Check(ctx context.Context, raw json.RawMessage) error {
	files, err := parseConfig(raw)
	if err != nil {
		return err
	}
	var problems []error
	for _, s := range files {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("check the export files: %w", err)
		}
		for _, p := range c.inspect(s) {
			problems = append(problems, fmt.Errorf("files.%s (%s): %w", s.stream, s.display, p))
		}
	}
	if err := errors.Join(problems...); err != nil {
		return fmt.Errorf("csv config: %w", err)
	}
	return nil
}

// jsonlSample is how many lines of a JSON Lines file Check reads to find
// the keys the config names: a key may be missing from some records.
const jsonlSample = 1000

// inspect opens a file as Read would and lists what does not fit the
// config.
func (c *Connector) inspect(s *settings) []error {
	f, err := os.Open(s.path)
	if err != nil {
		return []error{fmt.Errorf("cannot open the file: %w", err)}
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return []error{fmt.Errorf("cannot read the file: %w", err)}
	}
	if !info.Mode().IsRegular() {
		return []error{fmt.Errorf("%s is not a regular file", s.path)}
	}
	st := &fileStream{s: s, maxRow: c.maxRow}
	src, err := st.open(f)
	if err != nil {
		return []error{err}
	}
	_, problems := st.bind(src)
	if j, ok := src.(*jsonlSource); ok {
		problems = append(problems, sampleJSONL(j, namedColumns(s))...)
	}
	return problems
}

// sampleJSONL reads the first lines of a JSON Lines file and reports the
// keys the config names that none of them has, or that the lines are not
// JSON objects at all.
func sampleJSONL(j *jsonlSource, named []namedColumn) []error {
	found := make([]bool, len(named))
	objects, lines := 0, 0
	var firstBad *rowError
read:
	for lines < jsonlSample {
		row, _, err := j.next()
		var re *rowError
		switch {
		case errors.Is(err, io.EOF):
			break read
		case errors.As(err, &re):
			lines++
			if firstBad == nil {
				firstBad = re
			}
			continue
		case err != nil:
			return []error{err}
		}
		lines++
		objects++
		for i, n := range named {
			if !found[i] {
				ref, _ := j.ref(n.column)
				_, found[i] = row.(*jsonRow).lookup(ref)
			}
		}
	}
	if lines > 0 && objects == 0 {
		return []error{fmt.Errorf("line %d: %s: is this a JSON Lines file?", firstBad.line, firstBad.msg)}
	}
	if objects == 0 {
		return nil
	}
	var problems []error
	for i, n := range named {
		if !found[i] {
			problems = append(problems, fmt.Errorf("%s: no key %q in the first %d records", n.key, n.column, objects))
		}
	}
	return problems
}

// Streams lists a stream per configured file, in the order the host
// stages them: users, organizations, tickets, comments.
func (c *Connector) Streams(raw json.RawMessage) ([]source.Stream, error) {
	files, err := parseConfig(raw)
	if err != nil {
		return nil, err
	}
	out := make([]source.Stream, len(files))
	for i, s := range files {
		out[i] = &fileStream{s: s, maxRow: c.maxRow}
	}
	return out, nil
}
