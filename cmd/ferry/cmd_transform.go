package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/urfave/cli/v2"
	"gopkg.in/yaml.v3"

	"github.com/ferryhq/ferry/host/transform"
	"github.com/ferryhq/ferry/host/transform/scaffold"
	"github.com/ferryhq/ferry/sdk/schema"
)

func transformCommand() *cli.Command {
	usageErr := func(_ *cli.Context, err error, _ bool) error { return usageError{err} }
	return &cli.Command{
		Name:  "transform",
		Usage: "write a WASM transform, and try one on records",
		Description: `A transform is a WebAssembly module that ferry runs over the records it
migrates, to change, drop, split or fail them (docs/transforms.md).

   ferry transform new tag-urgent           scaffold a Go transform in ./tag-urgent
   ferry transform test --wasm tag-urgent/tag-urgent.wasm --input tickets.jsonl`,
		Subcommands: []*cli.Command{
			{
				Name:      "new",
				Usage:     "scaffold a Go transform that builds and passes its tests as written",
				ArgsUsage: "NAME",
				Description: `Writes DIR/NAME: a Go module with a small working transform to edit
(transform.go), its tests (transform_test.go), a Makefile, sample records
and a README with the next steps. It carries a copy of ferry's transform SDK
(ferry-sdk/), so it builds and tests offline, anywhere:

   ferry transform new tag-urgent && cd tag-urgent
   make test     # go test ./...
   make build    # GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o tag-urgent.wasm .`,
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "dir", Value: ".", Usage: "the folder to create the transform's folder in"},
					&cli.StringFlag{Name: "module", Usage: "the transform's Go module path (default: NAME)"},
				},
				OnUsageError: usageErr,
				Action:       transformNew,
			},
			{
				Name:  "test",
				Usage: "run a transform module over records and show what it does to each",
				Description: `Runs the module as a migration would (same sandbox, limits and batches)
over records of one stream, one canonical JSON record per line, and prints
each record's result: what a kept record's columns became, a dropped or
failed record's reason, the records a split made. It also says when a record
would be refused when staged (a column of the wrong type, a changed id) and
when a column is not one of the stream's (staging leaves it out).

   ferry transform test --wasm transforms/legacy-id-subject/legacy-id-subject.wasm \
       --input tickets.jsonl --config '{"prefix": "ZD"}'
   ferry query -w acme --format json "SELECT * FROM tickets LIMIT 50" > tickets.jsonl

--config is the transform's config: as in ferry.yaml: JSON or YAML, inline or
@FILE. The module's log lines go to stderr (at info and above unless
--log-level says otherwise).`,
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "wasm", Usage: "the transform module (.wasm); required"},
					&cli.StringFlag{Name: "input", Usage: `records, one JSON object per line ("-" for stdin); required`},
					&cli.StringFlag{Name: "stream", Value: schema.Tickets, Usage: "the records' stream: " + strings.Join(schema.StreamNames(), ", ")},
					&cli.StringFlag{Name: "config", Usage: "the transform's config: JSON or YAML, or @FILE"},
					&cli.BoolFlag{Name: "json", Usage: "print the results as JSON, for scripts"},
				},
				OnUsageError: usageErr,
				Action:       transformTest,
			},
		},
	}
}

func transformNew(c *cli.Context) error {
	if c.NArg() != 1 {
		return usagef("transform new takes one argument, the transform's name: ferry transform new tag-urgent")
	}
	name := c.Args().First()
	if err := scaffold.CheckName(name); err != nil {
		return usageError{err}
	}
	dir := filepath.Join(c.String("dir"), name)
	// Sources to commit and share, not a customer's data: made with the
	// user's own mask.
	userFiles()
	files, err := scaffold.Write(dir, scaffold.Options{Name: name, Module: c.String("module")})
	if errors.Is(err, scaffold.ErrExists) {
		return usagef("%v: choose another name or --dir", err)
	}
	if err != nil {
		return usageError{err}
	}
	w := c.App.Writer
	fmt.Fprintf(w, "wrote %s (%d files): a transform that tags tickets whose subject mentions a keyword, to edit\n\n", dir, len(files))
	fmt.Fprintf(w, "next:\n")
	fmt.Fprintf(w, "   cd %s\n", dir)
	fmt.Fprintf(w, "   make test      # go test ./...: the tests in transform_test.go\n")
	fmt.Fprintf(w, "   make build     # %s.wasm\n", name)
	fmt.Fprintf(w, "   ferry transform test --wasm %s.wasm --input testdata/records.jsonl\n", name)
	fmt.Fprintf(w, "then add it to the transforms: of ferry.yaml, as %s shows\n", filepath.Join(dir, "README.md"))
	return nil
}

// testBatch is how many records go to the module in one call, as in a
// migration (host/pipeline), so that a module that misbehaves on large
// batches does so here too.
const testBatch = 1000

// inputRecord is a record of --input, with the line it came from.
type inputRecord struct {
	line   int
	record json.RawMessage
}

func transformTest(c *cli.Context) error {
	if c.NArg() > 0 {
		return usagef("transform test takes no arguments (got %q): give the module with --wasm and the records with --input", c.Args().Slice())
	}
	// Checked here rather than with Required, so that a missing one is a
	// usage error (exit 2) like any other.
	for _, flag := range []string{"wasm", "input"} {
		if c.String(flag) == "" {
			return usagef("--%s is required: ferry transform test --wasm MODULE.wasm --input RECORDS.jsonl", flag)
		}
	}
	stream := c.String("stream")
	if !slices.Contains(schema.StreamNames(), stream) {
		return usagef("--stream %q: want one of %s", stream, strings.Join(schema.StreamNames(), ", "))
	}
	wasmPath := c.String("wasm")
	wasm, err := os.ReadFile(wasmPath)
	if err != nil {
		return usagef("--wasm: %v", err)
	}
	config, err := transformConfig(c.String("config"))
	if err != nil {
		return usageError{err}
	}
	records, err := readRecords(c, c.String("input"))
	if err != nil {
		return usageError{err}
	}

	level := slog.LevelInfo
	if c.IsSet("log-level") {
		if err := level.UnmarshalText([]byte(c.String("log-level"))); err != nil {
			return usagef("--log-level %q: want debug, info, warn or error", c.String("log-level"))
		}
	}
	log := slog.New(slog.NewTextHandler(c.App.ErrWriter, &slog.HandlerOptions{Level: level}))
	rt, err := transform.NewRuntime(c.Context, transform.Options{Logger: log})
	if err != nil {
		return err
	}
	defer rt.Close(context.WithoutCancel(c.Context))
	name := strings.TrimSuffix(filepath.Base(wasmPath), ".wasm")
	m, err := rt.Load(c.Context, wasm, name, config)
	if err != nil {
		// A module that is not a transform, or refuses its config: what
		// the user gave is wrong, as in ferry.yaml.
		return usageError{err}
	}
	defer m.Close(context.WithoutCancel(c.Context))

	report := testReport{Module: testModule{Name: m.Name(), SHA256: m.SHA256()}, Stream: stream, Counts: map[string]int{}, Emitted: map[string]int{}}
	for start := 0; start < len(records); start += testBatch {
		batch := records[start:min(start+testBatch, len(records))]
		in := make([]json.RawMessage, len(batch))
		for i, r := range batch {
			in[i] = r.record
		}
		results, err := m.Apply(c.Context, stream, in)
		if err != nil {
			return err
		}
		for i, res := range results {
			report.add(stream, batch[i], res)
		}
	}
	if c.Bool("json") {
		enc := json.NewEncoder(c.App.Writer)
		enc.SetIndent("", "  ")
		return enc.Encode(report)
	}
	return report.write(c.App.Writer)
}

// transformConfig reads --config: JSON or YAML (a superset of JSON, and what
// ferry.yaml's config: is written in), inline or from @FILE, as the JSON the
// module is given. "" is no config.
func transformConfig(arg string) (json.RawMessage, error) {
	if arg == "" {
		return nil, nil
	}
	text, from := []byte(arg), "--config"
	if file, ok := strings.CutPrefix(arg, "@"); ok {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("--config: %w", err)
		}
		text, from = data, file
	}
	// JSON goes to the module as written, so that what it sees is what the
	// user wrote; YAML is converted as ferry.yaml's config: is.
	if trimmed := bytes.TrimSpace(text); json.Valid(trimmed) {
		return trimmed, nil
	}
	var v any
	if err := yaml.Unmarshal(text, &v); err != nil {
		return nil, fmt.Errorf("%s: not JSON or YAML: %v", from, err)
	}
	data, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", from, err)
	}
	return data, nil
}

// maxRecordLine bounds a line of --input: records carry the source's whole
// record in raw, which can be large, but not without bound.
const maxRecordLine = 64 << 20

// readRecords reads --input: one JSON object per line; blank lines are
// skipped. Every problem names the line, so that it can be fixed.
func readRecords(c *cli.Context, path string) ([]inputRecord, error) {
	var r io.Reader
	name := path
	if path == "-" {
		r, name = c.App.Reader, "stdin"
	} else {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("--input: %w", err)
		}
		defer f.Close()
		r = f
	}
	var out []inputRecord
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxRecordLine)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		switch {
		case !utf8.Valid(line):
			return nil, fmt.Errorf("%s:%d: not valid UTF-8", name, n)
		case line[0] != '{' || !json.Valid(line):
			return nil, fmt.Errorf("%s:%d: not a JSON object (want one canonical record per line): %.60s", name, n, line)
		}
		out = append(out, inputRecord{line: n, record: bytes.Clone(line)})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s has no records", name)
	}
	return out, nil
}

// testReport is what transform test found; its JSON form is --json's output.
type testReport struct {
	Module  testModule     `json:"module"`
	Stream  string         `json:"stream"`
	Results []testResult   `json:"results"`
	Counts  map[string]int `json:"counts"`  // by outcome: keep, drop, split, error
	Emitted map[string]int `json:"emitted"` // records emitted, by stream
}

type testModule struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
}

// testResult is one input record's result.
type testResult struct {
	Line    int          `json:"line"`
	ID      string       `json:"id,omitempty"`
	Outcome string       `json:"outcome"`
	Reason  string       `json:"reason,omitempty"`
	Records []testRecord `json:"records,omitempty"`
	// Emitted holds the records the module added to other streams (or
	// its own) for this record, with Emit.
	Emitted []testRecord `json:"emitted,omitempty"`
}

// testRecord is a record a keep or split passes on, or one the module
// emitted, with what changed from the input (for an emitted record: every
// column, as added) and what staging would make of it.
type testRecord struct {
	Stream   string          `json:"stream,omitempty"` // an emitted record's
	Record   json.RawMessage `json:"record"`
	Changes  []change        `json:"changes"`
	Problems []string        `json:"problems,omitempty"`
}

// change is one column that differs between the input record and an output.
type change struct {
	Column string          `json:"column"`
	Op     string          `json:"op"` // added, changed or removed
	From   json.RawMessage `json:"from,omitempty"`
	To     json.RawMessage `json:"to,omitempty"`
}

func (rep *testReport) add(stream string, in inputRecord, res transform.Result) {
	members, _ := parseMembers(in.record) // the input was checked to be an object
	r := testResult{Line: in.line, Outcome: res.Outcome.String(), Reason: res.Reason}
	r.ID, _ = members.value("id").(string)
	rep.Counts[r.Outcome]++
	keptID := ""
	if res.Outcome == transform.Keep {
		keptID = r.ID
	}
	for _, out := range res.Records {
		r.Records = append(r.Records, outputRecord(stream, members, out, keptID))
	}
	for _, e := range res.Extra {
		rec := outputRecord(e.Stream, recordMembers{}, e.Record, "")
		rec.Stream = e.Stream
		r.Emitted = append(r.Emitted, rec)
		rep.Emitted[e.Stream]++
	}
	rep.Results = append(rep.Results, r)
}

// outputRecord describes a record the module returned or emitted: how it
// differs from the input (an emitted record from none) and what staging it
// as a record of stream would make of it. keptID is the input's id when the
// module kept the record, which must keep it; "" otherwise.
func outputRecord(stream string, input recordMembers, out json.RawMessage, keptID string) testRecord {
	rec := testRecord{Record: out, Changes: []change{}}
	got, err := parseMembers(out)
	if err != nil {
		rec.Problems = append(rec.Problems, err.Error())
		return rec
	}
	rec.Changes = diffMembers(input, got)
	rec.Problems = stagingProblems(stream, keptID, out, rec.Changes)
	return rec
}

// stagingProblems says what ferry would make of an output record when it
// stages it (host/pipeline): it decodes it as a record of the stream,
// refuses a kept record whose id changed (keptID, when not ""), and leaves
// out the columns the stream does not have.
func stagingProblems(stream, keptID string, out json.RawMessage, changes []change) []string {
	var problems []string
	rec, err := schema.DecodeJSON(stream, out)
	switch {
	case err != nil:
		problems = append(problems, "would fail when staged: "+err.Error())
	case keptID != "" && rec.SourceID() != keptID:
		problems = append(problems, fmt.Sprintf("would fail when staged: the transform changed the record's id from %s to %s", keptID, rec.SourceID()))
	}
	columns := map[string]bool{}
	if sc, err := schema.Schema(stream); err == nil {
		for _, f := range sc.Fields() {
			columns[f.Name] = true
		}
	}
	for _, ch := range changes {
		if ch.Op != "removed" && !columns[ch.Column] {
			problems = append(problems, fmt.Sprintf("%s is not a column of %s: staging leaves it out", ch.Column, stream))
		}
	}
	return problems
}

// recordMembers is a record's top-level members, in order.
type recordMembers struct {
	names  []string
	values map[string]json.RawMessage
}

func parseMembers(data json.RawMessage) (recordMembers, error) {
	m := recordMembers{values: map[string]json.RawMessage{}}
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return m, fmt.Errorf("not a JSON object")
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return m, err
		}
		name, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return m, err
		}
		if _, dup := m.values[name]; !dup {
			m.names = append(m.names, name)
		}
		m.values[name] = v
	}
	return m, nil
}

func (m recordMembers) value(name string) any {
	var v any
	_ = json.Unmarshal(m.values[name], &v)
	return v
}

// diffMembers lists the columns that differ between two records: changed and
// removed in the input's order, then added in the output's. A column that is
// null in one and absent in the other has not changed (canonical records may
// leave null columns out), nor has one whose value only changed in spacing or
// member order.
func diffMembers(in, out recordMembers) []change {
	changes := []change{}
	for _, name := range in.names {
		from, to := in.values[name], out.values[name]
		switch {
		case isNullJSON(from) && isNullJSON(to):
		case isNullJSON(to):
			changes = append(changes, change{Column: name, Op: "removed", From: compactJSON(from)})
		case !sameJSON(from, to):
			changes = append(changes, change{Column: name, Op: "changed", From: compactJSON(from), To: compactJSON(to)})
		}
	}
	for _, name := range out.names {
		if _, ok := in.values[name]; ok || isNullJSON(out.values[name]) {
			continue
		}
		changes = append(changes, change{Column: name, Op: "added", To: compactJSON(out.values[name])})
	}
	return changes
}

func isNullJSON(v json.RawMessage) bool { return len(v) == 0 || string(v) == "null" }

func sameJSON(a, b json.RawMessage) bool {
	if bytes.Equal(a, b) {
		return true
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xs, _ := json.Marshal(x)
	ys, _ := json.Marshal(y)
	return bytes.Equal(xs, ys)
}

func compactJSON(v json.RawMessage) json.RawMessage {
	var b bytes.Buffer
	if json.Compact(&b, v) != nil {
		return v
	}
	return b.Bytes()
}

// maxShown is where the text output cuts a value: raw records and bodies
// would drown the changes; --json has them whole.
const maxShown = 120

func shown(v json.RawMessage) string {
	s := string(v)
	if utf8.RuneCountInString(s) <= maxShown {
		return s
	}
	r := []rune(s)
	return string(r[:maxShown]) + "…"
}

// write prints the report for a person: one paragraph per record, then the
// counts.
func (rep *testReport) write(w io.Writer) error {
	bw := bufio.NewWriter(w)
	for _, r := range rep.Results {
		head := fmt.Sprintf("line %d", r.Line)
		if r.ID != "" {
			head += fmt.Sprintf(" (id %s)", r.ID)
		}
		switch r.Outcome {
		case "keep":
			rec := r.Records[0]
			if len(rec.Changes) == 0 {
				fmt.Fprintf(bw, "%s: keep, unchanged\n", head)
			} else {
				fmt.Fprintf(bw, "%s: keep, %s\n", head, countNoun(len(rec.Changes), "change"))
			}
			writeRecord(bw, "  ", rec)
		case "split":
			fmt.Fprintf(bw, "%s: split into %d records\n", head, len(r.Records))
			for i, rec := range r.Records {
				members, _ := parseMembers(rec.Record)
				id, _ := members.value("id").(string)
				fmt.Fprintf(bw, "  [%d] id %s: %s\n", i+1, id, countNoun(len(rec.Changes), "change"))
				writeRecord(bw, "      ", rec)
			}
		case "drop":
			fmt.Fprintf(bw, "%s: drop: %s\n", head, r.Reason)
		case "error":
			fmt.Fprintf(bw, "%s: error: %s\n", head, r.Reason)
		}
		for _, e := range r.Emitted {
			members, _ := parseMembers(e.Record)
			id, _ := members.value("id").(string)
			fmt.Fprintf(bw, "  emits %s %s\n", e.Stream, id)
			writeRecord(bw, "      ", e)
		}
	}
	n := len(rep.Results)
	fmt.Fprintf(bw, "\n%s of %s through %s (%.12s): %d kept, %d dropped, %d split, %d failed",
		countNoun(n, "record"), rep.Stream, rep.Module.Name, rep.Module.SHA256,
		rep.Counts["keep"], rep.Counts["drop"], rep.Counts["split"], rep.Counts["error"])
	for _, stream := range slices.Sorted(maps.Keys(rep.Emitted)) {
		fmt.Fprintf(bw, "; %d %s emitted", rep.Emitted[stream], stream)
	}
	fmt.Fprintln(bw)
	return bw.Flush()
}

// writeRecord prints an output record's changes and problems.
func writeRecord(w io.Writer, indent string, rec testRecord) {
	for _, ch := range rec.Changes {
		switch ch.Op {
		case "changed":
			fmt.Fprintf(w, "%s~ %s: %s → %s\n", indent, ch.Column, shown(ch.From), shown(ch.To))
		case "added":
			fmt.Fprintf(w, "%s+ %s: %s\n", indent, ch.Column, shown(ch.To))
		case "removed":
			fmt.Fprintf(w, "%s- %s: %s\n", indent, ch.Column, shown(ch.From))
		}
	}
	for _, p := range rec.Problems {
		fmt.Fprintf(w, "%s! %s\n", indent, p)
	}
}

// countNoun says n nouns, with the noun's plural in -s.
func countNoun(n int, noun string) string {
	return fmt.Sprintf("%d %s", n, plural(int64(n), noun, noun+"s"))
}
