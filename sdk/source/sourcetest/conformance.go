package sourcetest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/ipc"

	sourcev1 "github.com/ferryhq/ferry/sdk/proto/source/v1"
	"github.com/ferryhq/ferry/sdk/schema"
	"github.com/ferryhq/ferry/sdk/source"
)

// Options tune the conformance checks.
type Options struct {
	// BadConfigs are configs Check must refuse, each with a message.
	BadConfigs []json.RawMessage
	// Changing says the source may change while the kit runs; the checks
	// that compare two reads are then left out. Run the kit against a
	// source that holds still: an emulator.
	Changing bool
	// MayBeEmpty lists streams the source is allowed to have no records
	// of; every other stream the connector reads must bring some, so that
	// the kit checks something.
	MayBeEmpty []string
}

var (
	nameRE    = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)
	versionRE = regexp.MustCompile(`^\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$`)
)

// Run checks connector c, configured with config against a source that
// holds still, as subtests of t:
//   - spec: a plugin name, a semantic version, a JSON Schema of the config;
//   - check: config passes, every Options.BadConfigs fails with a message;
//   - discover: canonical stream names, each once, with canonical schemas;
//   - read: every batch decodes, belongs to the stream read or one it
//     emits, every record has an id, a raw source record, and is read once;
//     every stream ends with a checkpoint;
//   - small batches: with tiny batch bounds the same records come, in
//     batches within the bounds (split, never dropped);
//   - resume: a read started from a checkpoint of a stream brings exactly
//     the records after it, none twice and none missing;
//   - delta: a read from the final cursors brings nothing new.
func Run(t *testing.T, c source.Connector, config json.RawMessage, opts Options) {
	t.Helper()
	client := Client(t, c, source.DefaultLimits())
	ctx := context.Background()

	t.Run("spec", func(t *testing.T) {
		sp, err := client.Spec(ctx, &sourcev1.SpecRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if !nameRE.MatchString(sp.GetName()) {
			t.Errorf("name %q: want lower case letters, digits and dashes (the binary is ferry-source-<name>)", sp.GetName())
		}
		if !versionRE.MatchString(sp.GetVersion()) {
			t.Errorf("version %q is not a semantic version", sp.GetVersion())
		}
		var js map[string]any
		if err := json.Unmarshal([]byte(sp.GetConfigSchemaJson()), &js); err != nil || js["type"] == nil {
			t.Errorf("config schema is not a JSON Schema object: %v", err)
		}
	})

	t.Run("check", func(t *testing.T) {
		r, err := client.Check(ctx, &sourcev1.CheckRequest{ConfigJson: config})
		if err != nil {
			t.Fatal(err)
		}
		if !r.GetOk() {
			t.Fatalf("check refused the config: %s", r.GetMessage())
		}
		for _, bad := range opts.BadConfigs {
			r, err := client.Check(ctx, &sourcev1.CheckRequest{ConfigJson: bad})
			if err != nil {
				t.Fatal(err)
			}
			if r.GetOk() || r.GetMessage() == "" {
				t.Errorf("check of %s: ok=%v message %q; want a refusal that says why", bad, r.GetOk(), r.GetMessage())
			}
		}
	})

	var streams []*sourcev1.Stream
	t.Run("discover", func(t *testing.T) {
		r, err := client.Discover(ctx, &sourcev1.DiscoverRequest{ConfigJson: config})
		if err != nil {
			t.Fatal(err)
		}
		streams = r.GetStreams()
		if len(streams) == 0 {
			t.Fatal("no streams")
		}
		seen := map[string]bool{}
		for _, st := range streams {
			want, err := schema.Schema(st.GetName())
			if err != nil {
				t.Errorf("stream %q is not canonical", st.GetName())
				continue
			}
			if seen[st.GetName()] {
				t.Errorf("stream %s listed twice", st.GetName())
			}
			seen[st.GetName()] = true
			rdr, err := ipc.NewReader(bytes.NewReader(st.GetArrowSchema()))
			if err != nil {
				t.Errorf("stream %s: schema does not decode: %v", st.GetName(), err)
				continue
			}
			if !rdr.Schema().Equal(want) {
				t.Errorf("stream %s: schema is not the canonical one", st.GetName())
			}
			rdr.Release()
			for _, e := range st.GetEmits() {
				if _, err := schema.Schema(e); err != nil || e == st.GetName() {
					t.Errorf("stream %s emits %q: not another canonical stream", st.GetName(), e)
				}
			}
		}
	})
	if len(streams) == 0 {
		return
	}
	emits := map[string][]string{}
	for _, st := range streams {
		emits[st.GetName()] = append([]string{st.GetName()}, st.GetEmits()...)
	}

	var full *Result
	t.Run("read", func(t *testing.T) {
		full = Read(t, client, config, nil, nil)
		if full.Err != nil {
			t.Fatalf("read: %v", full.Err)
		}
		for _, p := range readProblems(full, streams, emits, opts) {
			t.Error(p)
		}
	})
	if full == nil || full.Err != nil {
		return
	}

	t.Run("small batches", func(t *testing.T) {
		limits := source.Limits{MaxRows: 3, MaxBytes: 16 << 10}
		small := Read(t, Client(t, c, limits), config, nil, nil)
		if small.Err != nil {
			t.Fatalf("read: %v", small.Err)
		}
		for _, m := range small.Messages {
			if m.Kind == "batch" && len(m.Records) > limits.MaxRows {
				t.Errorf("a %s batch of %d rows, over the bound of %d", m.Stream, len(m.Records), limits.MaxRows)
			}
		}
		for _, st := range streams {
			for _, s := range emits[st.GetName()] {
				if !sameIDs(ids(full.Records(s)), ids(small.Records(s))) {
					t.Errorf("%s: small batches brought %d records, default ones %d", s, len(small.Records(s)), len(full.Records(s)))
				}
			}
		}
	})

	if opts.Changing {
		return
	}

	t.Run("resume", func(t *testing.T) {
		for _, p := range resumeProblems(t, client, config, full, streams, emits) {
			t.Error(p)
		}
	})

	t.Run("delta", func(t *testing.T) {
		cursors := map[string][]byte{}
		for _, st := range streams {
			if st.GetCursorField() == "" {
				continue
			}
			if cps := nonEmpty(full.Checkpoints(st.GetName())); len(cps) > 0 {
				cursors[st.GetName()] = cps[len(cps)-1]
			}
		}
		if len(cursors) == 0 {
			t.Skip("no stream has a cursor")
		}
		names := make([]string, 0, len(cursors))
		for n := range cursors {
			names = append(names, n)
		}
		again := Read(t, client, config, names, cursors)
		if again.Err != nil {
			t.Fatalf("read from the final cursors: %v", again.Err)
		}
		for _, n := range names {
			for _, s := range emits[n] {
				if recs := again.Records(s); len(recs) > 0 {
					t.Errorf("%s: a read from the final cursor brought %d %s from a source that did not change (first: %s)", n, len(recs), s, recs[0].SourceID())
				}
			}
		}
	})
}

// readProblems checks one full read.
func readProblems(res *Result, streams []*sourcev1.Stream, emits map[string][]string, opts Options) []string {
	var problems []string
	errorf := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	// Progress, log and checkpoint messages carry the stream being read;
	// batches, record errors and skips may be of a stream it emits. What
	// comes after a stream's last checkpoint would never be committed.
	current := ""
	pending := map[string]bool{}
	checkpoints := map[string]int{}
	for i, m := range res.Messages {
		switch m.Kind {
		case "progress", "log":
			current = m.Stream
		case "checkpoint":
			current = m.Stream
			pending[current] = false
			checkpoints[current]++
		case "batch", "record_error", "record_skipped":
			if !slices.Contains(emits[current], m.Stream) {
				errorf("message %d: a %s of stream %s while reading %q, which does not emit it", i, m.Kind, m.Stream, current)
			}
			pending[current] = true
		}
	}
	for _, st := range streams {
		if pending[st.GetName()] || checkpoints[st.GetName()] == 0 {
			errorf("stream %s does not end with a checkpoint", st.GetName())
		}
		for _, s := range emits[st.GetName()] {
			recs := res.Records(s)
			if len(recs) == 0 && !slices.Contains(opts.MayBeEmpty, s) {
				errorf("stream %s brought no records: the kit checks nothing (or list it in Options.MayBeEmpty)", s)
			}
			seen := map[string]bool{}
			for _, r := range recs {
				id := r.SourceID()
				if seen[id] {
					errorf("%s %s came twice in one read", s, id)
				}
				seen[id] = true
				if err := checkRaw(r); err != nil {
					errorf("%s %s: %v", s, id, err)
				}
			}
		}
	}
	return problems
}

// checkRaw checks that a record keeps its source record.
func checkRaw(r schema.Record) error {
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	var fields struct {
		Raw json.RawMessage `json:"raw"`
	}
	if err := json.Unmarshal(data, &fields); err != nil {
		return err
	}
	var obj map[string]any
	if len(fields.Raw) == 0 || json.Unmarshal(fields.Raw, &obj) != nil {
		return fmt.Errorf("raw is %q, want the source's record as a JSON object", fields.Raw)
	}
	return nil
}

// resumeProblems reads each stream that checkpointed before its end again
// from its middle checkpoint, and compares with the full read.
func resumeProblems(t testing.TB, client sourcev1.SourceClient, config json.RawMessage, full *Result, streams []*sourcev1.Stream, emits map[string][]string) []string {
	var problems []string
	errorf := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	resumed := 0
	for _, st := range streams {
		name := st.GetName()
		cps := nonEmpty(full.Checkpoints(name))
		if len(cps) < 2 {
			continue // no checkpoint before the end to resume from
		}
		mid := cps[len(cps)/2-1]
		before := recordsBefore(full, name, emits[name], mid)
		rest := Read(t, client, config, []string{name}, map[string][]byte{name: mid})
		if rest.Err != nil {
			errorf("%s: read from checkpoint %q: %v", name, mid, rest.Err)
			continue
		}
		for _, s := range emits[name] {
			all := ids(full.Records(s))
			b, r := before[s], ids(rest.Records(s))
			for _, id := range r {
				if slices.Contains(b, id) {
					errorf("%s: %s %s came before checkpoint %q and again after it", name, s, id, mid)
					break
				}
			}
			if !sameIDs(all, append(slices.Clone(b), r...)) {
				errorf("%s: %d %s before checkpoint %q and %d from it; the whole read had %d", name, len(b), s, mid, len(r), len(all))
			}
		}
		resumed++
	}
	if resumed == 0 {
		t.Log("no stream checkpointed before its end: nothing to resume from (use a source big enough for several pages)")
	}
	return problems
}

// recordsBefore returns the ids of each emitted stream's records that came
// before the checkpoint with cursor of stream name.
func recordsBefore(res *Result, name string, emitted []string, cursor []byte) map[string][]string {
	out := map[string][]string{}
	for _, m := range res.Messages {
		if m.Kind == "checkpoint" && m.Stream == name && bytes.Equal(m.Cursor, cursor) {
			return out
		}
		if m.Kind == "batch" && slices.Contains(emitted, m.Stream) {
			out[m.Stream] = append(out[m.Stream], ids(m.Records)...)
		}
	}
	return out
}

func ids(recs []schema.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.SourceID()
	}
	return out
}

func sameIDs(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func nonEmpty(cps [][]byte) [][]byte {
	var out [][]byte
	for _, c := range cps {
		if len(c) > 0 {
			out = append(out, c)
		}
	}
	return out
}
