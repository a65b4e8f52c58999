package connector

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc"

	"github.com/ferryhq/ferry/plugins/csv/csvtest"
	sourcev1 "github.com/ferryhq/ferry/sdk/proto/source/v1"
	"github.com/ferryhq/ferry/sdk/schema"
	"github.com/ferryhq/ferry/sdk/source"
	"github.com/ferryhq/ferry/sdk/source/sourcetest"
)

// writeExport generates an export and writes it into a temporary folder.
func writeExport(t testing.TB, opts csvtest.Options, format string) (*csvtest.Export, *csvtest.Written) {
	t.Helper()
	e := csvtest.Generate(opts)
	w, err := e.Write(t.TempDir(), format)
	if err != nil {
		t.Fatal(err)
	}
	return e, w
}

// withConfig returns cfg with top-level keys set (nil deletes one).
func withConfig(t testing.TB, cfg json.RawMessage, set map[string]any) json.RawMessage {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(cfg, &m); err != nil {
		t.Fatal(err)
	}
	for k, v := range set {
		if v == nil {
			delete(m, k)
			continue
		}
		m[k] = v
	}
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// read reads streams (none: all) from cursors through the SDK's server over
// in-memory gRPC, as the host would.
func read(t testing.TB, cfg json.RawMessage, streams []string, cursors map[string][]byte) *sourcetest.Result {
	t.Helper()
	res := sourcetest.Read(t, sourcetest.Client(t, New(), source.DefaultLimits()), cfg, streams, cursors)
	if res.Err != nil {
		t.Fatalf("read: %v", res.Err)
	}
	return res
}

// canonical returns a record's canonical JSON as a map, without raw:
// custom_fields compare as objects, whatever their key order.
func canonical(t testing.TB, r schema.Record) map[string]any {
	t.Helper()
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "raw")
	return m
}

// sameRecords compares records by id, field by field; it returns the
// differences.
func sameRecords(t testing.TB, stream string, got, want []schema.Record) []string {
	t.Helper()
	var diffs []string
	byID := map[string]schema.Record{}
	for _, r := range got {
		if _, dup := byID[r.SourceID()]; dup {
			diffs = append(diffs, fmt.Sprintf("%s %s came twice", stream, r.SourceID()))
		}
		byID[r.SourceID()] = r
	}
	for _, w := range want {
		g, ok := byID[w.SourceID()]
		if !ok {
			diffs = append(diffs, fmt.Sprintf("%s %s is missing", stream, w.SourceID()))
			continue
		}
		delete(byID, w.SourceID())
		gm, wm := canonical(t, g), canonical(t, w)
		if !reflect.DeepEqual(gm, wm) {
			gj, _ := json.Marshal(gm)
			wj, _ := json.Marshal(wm)
			diffs = append(diffs, fmt.Sprintf("%s %s:\n  got  %s\n  want %s", stream, w.SourceID(), gj, wj))
		}
	}
	for id := range byID {
		diffs = append(diffs, fmt.Sprintf("%s %s is not in the export", stream, id))
	}
	return diffs
}

func jsonOf(t testing.TB, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The records a correct reading of a generated export gives, built from
// the generator's data, not from the files or the connector's mapping.

func wantOrganization(t testing.TB, o *csvtest.Organization) schema.Record {
	return &schema.Organization{ID: o.ID, Name: o.Name, Domains: o.Domains, CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt,
		CustomFields: jsonOf(t, map[string]string{"Tier": o.Tier})}
}

func wantUser(t testing.TB, u *csvtest.User) schema.Record {
	role := schema.RoleEndUser
	if u.Agent {
		role = schema.RoleAgent
	}
	var custom json.RawMessage
	if u.Plan != "" {
		custom = jsonOf(t, map[string]string{"Plan": u.Plan})
	}
	return &schema.User{ID: u.ID, Role: role, Name: u.Name, Email: u.Email, Phone: u.Phone, OrganizationID: u.OrganizationID,
		Active: u.Active, Suspended: u.Suspended, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt, CustomFields: custom}
}

// wantTicketUser is a user as a ticket row of a UsersFromTicket export
// carries it: a requester with its details, an agent with its name and
// email; the rest takes the defaults.
func wantTicketUser(t testing.TB, u *csvtest.User) schema.Record {
	if u.Agent {
		return &schema.User{ID: u.ID, Role: schema.RoleAgent, Name: u.Name, Email: u.Email, Active: true}
	}
	return &schema.User{ID: u.ID, Role: schema.RoleEndUser, Name: u.Name, Email: u.Email, Phone: u.Phone, OrganizationID: u.OrganizationID,
		Active: true, CreatedAt: u.CreatedAt, CustomFields: jsonOf(t, map[string]string{"Plan": u.Plan})}
}

func wantTicket(t testing.TB, tk *csvtest.Ticket) schema.Record {
	custom := map[string]string{"Channel": tk.Channel}
	if tk.Product != "" {
		custom["Product"] = tk.Product
	}
	return &schema.Ticket{ID: tk.ID, Subject: tk.Subject, Status: tk.Status, Priority: tk.Priority, Type: tk.Type,
		RequesterID: tk.RequesterID, SubmitterID: tk.SubmitterID, AssigneeID: tk.AssigneeID, GroupID: tk.GroupID,
		OrganizationID: tk.OrganizationID, Tags: tk.Tags, CCIDs: tk.CCIDs, CustomFields: jsonOf(t, custom),
		CreatedAt: tk.CreatedAt, UpdatedAt: tk.UpdatedAt}
}

func wantComment(c *csvtest.Comment) schema.Record {
	return &schema.Comment{ID: c.ID, TicketID: c.TicketID, AuthorID: c.AuthorID, Public: c.Public, BodyText: c.BodyText, BodyHTML: c.BodyHTML, CreatedAt: c.CreatedAt}
}

// wantRecords is every record of an export, by stream.
func wantRecords(t testing.TB, e *csvtest.Export) map[string][]schema.Record {
	out := map[string][]schema.Record{}
	for _, o := range e.Organizations {
		out[schema.Organizations] = append(out[schema.Organizations], wantOrganization(t, o))
	}
	if tu := e.TicketUsers(); tu != nil {
		for _, u := range tu {
			out[schema.Users] = append(out[schema.Users], wantTicketUser(t, u))
		}
	} else {
		for _, u := range e.Users {
			out[schema.Users] = append(out[schema.Users], wantUser(t, u))
		}
	}
	for _, tk := range e.Tickets {
		out[schema.Tickets] = append(out[schema.Tickets], wantTicket(t, tk))
	}
	for _, c := range e.Comments {
		out[schema.Comments] = append(out[schema.Comments], wantComment(c))
	}
	return out
}

// sourceRows parses an export file independently of the connector: each
// row as a JSON-like map (CSV: header → text; JSON Lines: the object), by
// the value of idKey.
func sourceRows(t testing.TB, path, idKey string) map[string]map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]any{}
	if strings.HasSuffix(path, ".csv") {
		rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for _, row := range rows[1:] {
			m := map[string]any{}
			for i, h := range rows[0] {
				m[h] = row[i]
			}
			out[fmt.Sprint(m[idKey])] = m
		}
		return out
	}
	for line := range strings.SplitSeq(strings.TrimSpace(string(data)), "\n") {
		dec := json.NewDecoder(strings.NewReader(line))
		dec.UseNumber()
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out[fmt.Sprint(m[idKey])] = m
	}
	return out
}

// rawOf decodes a record's raw column.
func rawOf(t testing.TB, r schema.Record) map[string]any {
	t.Helper()
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Raw json.RawMessage `json:"raw"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(v.Raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("%s %s: raw %q is not a JSON object: %v", r.Stream(), r.SourceID(), v.Raw, err)
	}
	return m
}

// recorder is an emitter that keeps what a read sends, for tests that
// call a stream's read directly.
type recorder struct {
	mu       sync.Mutex
	events   []event
	logs     bytes.Buffer
	progress [][2]int64
}

// event is one thing a read sent, in order.
type event struct {
	kind   string // record, error, checkpoint
	stream string
	rec    schema.Record
	id     string
	reason string
	cursor []byte
}

func (r *recorder) Emit(_ context.Context, rec schema.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, event{kind: "record", stream: rec.Stream(), rec: rec, id: rec.SourceID()})
	return nil
}

func (r *recorder) Checkpoint(_ context.Context, cursor []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, event{kind: "checkpoint", cursor: bytes.Clone(cursor)})
	return nil
}

func (r *recorder) RecordError(_ context.Context, stream, id, reason string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, event{kind: "error", stream: stream, id: id, reason: reason})
	return nil
}

func (r *recorder) Progress(done, total int64) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.progress = append(r.progress, [2]int64{done, total})
	return nil
}

func (r *recorder) Logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(&syncWriter{mu: &r.mu, w: &r.logs}, nil))
}

type syncWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func (r *recorder) kinds(kind string) []event {
	var out []event
	for _, e := range r.events {
		if e.kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// streamOf parses cfg and returns the stream of the given name.
func streamOf(t testing.TB, c *Connector, cfg json.RawMessage, name string) *fileStream {
	t.Helper()
	streams, err := c.Streams(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range streams {
		if st.Info().Name == name {
			return st.(*fileStream)
		}
	}
	t.Fatalf("no stream %s", name)
	return nil
}

// readStream reads one stream directly into a recorder.
func readStream(t testing.TB, c *Connector, cfg json.RawMessage, name string, cursor []byte) *recorder {
	t.Helper()
	rec := &recorder{}
	if err := streamOf(t, c, cfg, name).read(t.Context(), cursor, rec); err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return rec
}

// discard is the server side of a Read call that keeps nothing but
// counts: for benchmarks and the memory test.
type discard struct {
	grpc.ServerStream
	ctx     context.Context
	rows    map[string]int64
	errors  int64
	onBatch func()
}

func (d *discard) Context() context.Context { return d.ctx }

func (d *discard) Send(m *sourcev1.ReadMessage) error {
	switch m := m.Message.(type) {
	case *sourcev1.ReadMessage_Batch:
		d.rows[m.Batch.Stream] += m.Batch.Rows
		if d.onBatch != nil {
			d.onBatch()
		}
	case *sourcev1.ReadMessage_RecordError:
		d.errors++
	}
	return nil
}

// writeFile writes data into a temporary folder and returns its path.
func writeFile(t testing.TB, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
