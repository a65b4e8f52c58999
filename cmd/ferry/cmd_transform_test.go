package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/ferryhq/ferry/host/transform"
)

// transformCLI runs the CLI in-process, as ferryRun does, with stdin, and
// with the transform command in place even before app.go lists it.
func transformCLI(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	app := newApp(strings.NewReader(stdin), &out, &errOut)
	if !slices.ContainsFunc(app.Commands, func(c *cli.Command) bool { return c.Name == "transform" }) {
		cmd := transformCommand()
		cmd.OnUsageError = app.OnUsageError
		app.Commands = append(app.Commands, cmd)
	}
	// The exit codes of run().
	err := app.RunContext(t.Context(), append([]string{"ferry"}, args...))
	var ue usageError
	switch {
	case err == nil:
		code = exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(&errOut, "ferry: %v\n", err)
		code = exitUsage
	default:
		fmt.Fprintf(&errOut, "ferry: %v\n", err)
		code = exitFailed
	}
	return out.String(), errOut.String(), code
}

// The example modules, built once per test binary (the go build cache makes
// a rerun cheap).
var (
	addTagsWasm    = sync.OnceValues(func() (string, error) { return buildTransform("../../transforms/add-tags") })
	dropByRuleWasm = sync.OnceValues(func() (string, error) { return buildTransform("../../transforms/drop-by-rule") })
	misbehaveWasm  = sync.OnceValues(func() (string, error) { return buildTransform("../../host/transform/testdata/misbehave") })
	notesWasm      = sync.OnceValues(func() (string, error) { return buildTransform("../../transforms/custom-fields-note") })
	eventsWasm     = sync.OnceValues(func() (string, error) { return buildTransform("../../transforms/events-to-notes") })
	buildDir       = sync.OnceValues(func() (string, error) { return os.MkdirTemp("", "ferry-transform-cli-") })
)

// asWasm is the AssemblyScript example, committed built.
const asWasm = "../../transforms/drop-empty-subject-as/build/drop-empty-subject-as.wasm"

func TestMain(m *testing.M) {
	code := m.Run()
	if dir, err := buildDir(); err == nil {
		os.RemoveAll(dir)
	}
	os.Exit(code)
}

// buildTransform builds a transform package into a module file, as make does.
func buildTransform(pkg string) (string, error) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		return "", err
	}
	dir, err := buildDir()
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, filepath.Base(pkg)+".wasm")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, gobin, "build", "-buildmode=c-shared", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if output, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %w\n%s", pkg, err, output)
	}
	return out, nil
}

func mustModule(t *testing.T, build func() (string, error)) string {
	t.Helper()
	path, err := build()
	if errors.Is(err, exec.ErrNotFound) {
		t.Skip("no go command to build modules with")
	}
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// writeFile writes a file into a test's temp dir and returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestTransformTest(t *testing.T) {
	addTags, dropByRule, misbehave := mustModule(t, addTagsWasm), mustModule(t, dropByRuleWasm), mustModule(t, misbehaveWasm)
	notes, events := mustModule(t, notesWasm), mustModule(t, eventsWasm)
	tickets := writeFile(t, "tickets.jsonl", strings.Join([]string{
		`{"id":"1","subject":"Printer on fire","tags":["printer"],"raw":{"via":"email"}}`,
		``,
		`{"id":"2","subject":"Buy now","tags":["junk","migrated"]}`,
		`  {"id":"3","subject":"","status":"deleted"}  `,
	}, "\n")+"\n")
	rules := writeFile(t, "rules.yaml", "# as in ferry.yaml\nrules:\n  - {name: spam, tags: [junk]}\n  - name: deleted\n    status: [deleted]\n")
	tests := []struct {
		name  string
		stdin string
		args  []string
		want  []string // lines of stdout, in order
		not   []string
	}{
		{"a kept record's changes", "", []string{"--wasm", addTags, "--input", tickets, "--config", `{"tags": ["migrated"]}`}, []string{
			`line 1 (id 1): keep, 1 change`,
			`  ~ tags: ["printer"] → ["printer","migrated"]`,
			`line 3 (id 2): keep, unchanged`,
			`line 4 (id 3): keep, 1 change`,
			`  + tags: ["migrated"]`,
			`3 records of tickets through add-tags (`,
			`): 3 kept, 0 dropped, 0 split, 0 failed`,
		}, []string{"!"}},
		{"a YAML config from a file, and drops", "", []string{"--wasm", dropByRule, "--input", tickets, "--config", "@" + rules}, []string{
			`line 1 (id 1): keep, unchanged`,
			`line 3 (id 2): drop: rule "spam": tag "junk"`,
			`line 4 (id 3): drop: rule "deleted": status "deleted"`,
			`1 kept, 2 dropped, 0 split, 0 failed`,
		}, nil},
		{"splits, failures and records staging refuses, from stdin", strings.Join([]string{
			`{"id":"1","subject":"s","do":"split","a":"x"}`,
			`{"id":"2","do":"error"}`,
			`{"id":"3","tags":"not a list"}`,
			`{"id":"4","subject":"s"}`,
		}, "\n"), []string{"transform", "test", "--wasm", misbehave, "--input", "-"}, []string{
			`line 1 (id 1): split into 2 records`,
			`  [1] id 1-a: 2 changes`,
			`      ~ id: "1" → "1-a"`,
			`      ~ do: "split" → "x"`,
			`  [2] id 1-b: 2 changes`,
			`      - do: "split"`,
			`line 2 (id 2): error: failed 2`,
			`line 3 (id 3): keep, unchanged`,
			`  ! would fail when staged: decode tickets record: json: cannot unmarshal string into Go struct field Ticket.tags of type []string`,
			`line 4 (id 4): keep, unchanged`,
			`): 2 kept, 0 dropped, 1 split, 1 failed`,
		}, nil},
		{"records emitted to another stream", `{"id":"7","custom_fields":{"360001":"A-1042"},"created_at":"2024-03-01T10:20:30Z"}`,
			[]string{"--wasm", notes, "--input", "-", "--config", `{"titles": {"360001": "Order number"}}`}, []string{
				`line 1 (id 7): keep, unchanged`,
				`  emits comments 7-fields`,
				`      + id: "7-fields"`,
				`      + ticket_id: "7"`,
				`      + public: false`,
				`      + body_text: "Custom fields\nOrder number: A-1042"`,
				`      + created_at: "2024-03-01T10:20:30Z"`,
				`1 kept, 0 dropped, 0 split, 0 failed; 1 comments emitted`,
			}, []string{"!"}},
		{"an event turned into a note", `{"id":"5001","ticket_id":"7","author_id":"42","kind":"status_changed","detail":{"field":"status","from":"open","to":"pending"}}`,
			[]string{"--wasm", events, "--input", "-", "--stream", "ticket_events", "--config", `{users: {"42": Ann}}`}, []string{
				`line 1 (id 5001): drop: turned into a note`,
				`  emits comments 5001-note`,
				`      + body_text: "Status changed from open to pending by Ann"`,
				`0 kept, 1 dropped, 0 split, 0 failed; 1 comments emitted`,
			}, []string{"!"}},
		{"another language's module", "", []string{"--wasm", asWasm, "--input", tickets, "--stream", "tickets"}, []string{
			`line 1 (id 1): keep, unchanged`,
			`line 4 (id 3): drop: the ticket has no subject`,
			`3 records of tickets through drop-empty-subject-as (`,
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			if args[0] != "transform" {
				args = append([]string{"transform", "test"}, args...)
			}
			stdout, stderr, code := transformCLI(t, tt.stdin, args...)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			rest := stdout
			for _, want := range tt.want {
				i := strings.Index(rest, want)
				if i < 0 {
					t.Fatalf("stdout lacks %q (after the lines before it):\n%s", want, stdout)
				}
				rest = rest[i+len(want):]
			}
			for _, not := range tt.not {
				if strings.Contains(stdout, not) {
					t.Errorf("stdout has %q:\n%s", not, stdout)
				}
			}
		})
	}
}

func TestTransformTestJSON(t *testing.T) {
	misbehave := mustModule(t, misbehaveWasm)
	input := writeFile(t, "in.jsonl", `{"id":"1","subject":"s","tags":["a"]}`+"\n"+`{"id":"2","do":"drop"}`+"\n"+`{"id":"3","do":"split"}`+"\n")
	stdout, stderr, code := transformCLI(t, "", "transform", "test", "--wasm", misbehave, "--input", input, "--json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var got struct {
		Module struct{ Name, SHA256 string }
		Stream string
		Counts map[string]int
		// Results as the contract of --json names them.
		Results []struct {
			Line    int
			ID      string
			Outcome string
			Reason  string
			Records []struct {
				Record  map[string]any
				Changes []struct {
					Column, Op string
					From, To   json.RawMessage
				}
				Problems []string
			}
		}
	}
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("%v:\n%s", err, stdout)
	}
	wasm, _ := os.ReadFile(misbehave)
	rt, err := transform.NewRuntime(t.Context(), transform.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(context.Background())
	m, err := rt.Load(t.Context(), wasm, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.Module.Name != "misbehave" || got.Module.SHA256 != m.SHA256() || got.Stream != "tickets" {
		t.Errorf("module %+v, stream %q", got.Module, got.Stream)
	}
	if want := map[string]int{"keep": 1, "drop": 1, "split": 1}; !equalCounts(got.Counts, want) {
		t.Errorf("counts %v, want %v", got.Counts, want)
	}
	if len(got.Results) != 3 {
		t.Fatalf("%d results:\n%s", len(got.Results), stdout)
	}
	keep, drop, split := got.Results[0], got.Results[1], got.Results[2]
	if keep.Line != 1 || keep.ID != "1" || keep.Outcome != "keep" || len(keep.Records) != 1 ||
		keep.Records[0].Record["subject"] != "s" || len(keep.Records[0].Changes) != 0 || keep.Records[0].Problems != nil {
		t.Errorf("keep: %+v", keep)
	}
	if drop.Line != 2 || drop.Outcome != "drop" || drop.Reason != "dropped 2" || drop.Records != nil {
		t.Errorf("drop: %+v", drop)
	}
	if split.Outcome != "split" || len(split.Records) != 2 || split.Records[1].Record["id"] != "3-b" {
		t.Fatalf("split: %+v", split)
	}
	ch := split.Records[1].Changes
	if len(ch) != 2 || ch[0].Column != "id" || ch[0].Op != "changed" || string(ch[0].From) != `"3"` || string(ch[0].To) != `"3-b"` ||
		ch[1].Column != "do" || ch[1].Op != "removed" {
		t.Errorf("split changes: %+v", ch)
	}
}

func equalCounts(got, want map[string]int) bool {
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	for k, v := range got {
		if want[k] != v {
			return false
		}
	}
	return true
}

func TestTransformTestUsageErrors(t *testing.T) {
	addTags := mustModule(t, addTagsWasm)
	good := writeFile(t, "good.jsonl", `{"id":"1"}`+"\n")
	notJSON := writeFile(t, "bad.jsonl", `{"id":"1"}`+"\n\n"+`{"id":`+"\n")
	array := writeFile(t, "array.jsonl", `[{"id":"1"}]`+"\n")
	empty := writeFile(t, "empty.jsonl", "\n\n")
	notWasm := writeFile(t, "x.wasm", "not wasm")
	const tags = `{"tags":["a"]}`
	tests := []struct {
		name     string
		args     []string
		inStderr string
	}{
		{"no module", []string{"--input", good}, "--wasm is required"},
		{"no input", []string{"--wasm", addTags}, "--input is required"},
		{"an argument", []string{"--wasm", addTags, "--input", good, "extra"}, "transform test takes no arguments"},
		{"unknown stream", []string{"--wasm", addTags, "--input", good, "--stream", "ticket"}, `--stream "ticket": want one of users,`},
		{"missing module file", []string{"--wasm", "/nonexistent.wasm", "--input", good}, "--wasm: open /nonexistent.wasm"},
		{"not a module", []string{"--wasm", notWasm, "--input", good, "--config", tags}, "transform x: compile"},
		{"missing input file", []string{"--wasm", addTags, "--input", "/nonexistent.jsonl"}, "--input: open /nonexistent.jsonl"},
		{"a line that is not JSON", []string{"--wasm", addTags, "--input", notJSON, "--config", tags}, "bad.jsonl:3: not a JSON object"},
		{"a line that is not an object", []string{"--wasm", addTags, "--input", array, "--config", tags}, "array.jsonl:1: not a JSON object"},
		{"no records", []string{"--wasm", addTags, "--input", empty, "--config", tags}, "empty.jsonl has no records"},
		{"config the module refuses", []string{"--wasm", addTags, "--input", good, "--config", `{"tags":[]}`}, "transform add-tags: config: tags is missing or empty"},
		{"config that is neither JSON nor YAML", []string{"--wasm", addTags, "--input", good, "--config", `{tags: [}`}, "--config: not JSON or YAML"},
		{"missing config file", []string{"--wasm", addTags, "--input", good, "--config", "@/nonexistent.yaml"}, "--config: open /nonexistent.yaml"},
		{"unknown flag", []string{"--wasm", addTags, "--nope"}, "flag provided but not defined: -nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := transformCLI(t, "", append([]string{"transform", "test"}, tt.args...)...)
			if code != exitUsage || !strings.Contains(stderr, tt.inStderr) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, exitUsage, tt.inStderr)
			}
		})
	}
}

func TestTransformNew(t *testing.T) {
	dir := t.TempDir()
	stdout, stderr, code := transformCLI(t, "", "transform", "new", "--dir", dir, "--module", "example.com/acme/tag-urgent", "tag-urgent")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	target := filepath.Join(dir, "tag-urgent")
	for _, want := range []string{"wrote " + target + " (", "make test", "ferry transform test --wasm tag-urgent.wasm --input testdata/records.jsonl"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	for _, f := range []string{"main.go", "transform.go", "transform_test.go", "Makefile", "README.md", "ferry-sdk/go.mod", "ferry-sdk/sdk/transform/record.go"} {
		if _, err := os.Stat(filepath.Join(target, f)); err != nil {
			t.Errorf("no %s: %v", f, err)
		}
	}
	if gomod, _ := os.ReadFile(filepath.Join(target, "go.mod")); !strings.HasPrefix(string(gomod), "module example.com/acme/tag-urgent\n") {
		t.Errorf("go.mod:\n%s", gomod)
	}

	tests := []struct {
		name     string
		args     []string
		inStderr string
	}{
		{"again", []string{"--dir", dir, "tag-urgent"}, "the folder exists and is not empty: choose another name or --dir"},
		{"no name", []string{"--dir", dir}, "transform new takes one argument, the transform's name"},
		{"two names", []string{"a", "b"}, "transform new takes one argument"},
		{"bad name", []string{"--dir", dir, "Tag_Urgent!"}, `transform name "Tag_Urgent!": use lower case letters`},
		{"bad module", []string{"--dir", dir, "--module", "a b", "x"}, `module path "a b" is not a Go module path`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := transformCLI(t, "", append([]string{"transform", "new"}, tt.args...)...)
			if code != exitUsage || !strings.Contains(stderr, tt.inStderr) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, exitUsage, tt.inStderr)
			}
		})
	}
}

func TestTransformDiffMembers(t *testing.T) {
	tests := []struct {
		name    string
		in, out string
		want    string // the changes, as JSON
	}{
		{"same", `{"a":1,"b":"x"}`, `{"a":1,"b":"x"}`, `[]`},
		{"reordered and respaced", `{"a":{"x":1,"y":[1,2]},"b":2}`, `{"b":2, "a":{"y":[1, 2],"x":1}}`, `[]`},
		{"null and absent are the same", `{"a":null,"b":1}`, `{"b":1,"c":null}`, `[]`},
		{"changed", `{"a":"x"}`, `{"a":"y"}`, `[{"column":"a","op":"changed","from":"x","to":"y"}]`},
		{"removed, set to null or left out", `{"a":1,"b":2}`, `{"a":null}`,
			`[{"column":"a","op":"removed","from":1},{"column":"b","op":"removed","from":2}]`},
		{"added, in the output's order", `{"a":1}`, `{"z":1,"a":1,"b":[ 1 ]}`,
			`[{"column":"z","op":"added","to":1},{"column":"b","op":"added","to":[1]}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, err := parseMembers(json.RawMessage(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			out, err := parseMembers(json.RawMessage(tt.out))
			if err != nil {
				t.Fatal(err)
			}
			got, _ := json.Marshal(diffMembers(in, out))
			if string(got) != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestTransformStagingProblems(t *testing.T) {
	tests := []struct {
		name    string
		outcome transform.Outcome
		in, out string
		want    []string
	}{
		{"fine", transform.Keep, `{"id":"1"}`, `{"id":"1","subject":"s"}`, nil},
		{"a changed id", transform.Keep, `{"id":"1"}`, `{"id":"2"}`,
			[]string{"would fail when staged: the transform changed the record's id from 1 to 2"}},
		{"a split may change ids", transform.Split, `{"id":"1"}`, `{"id":"1-a"}`, nil},
		{"no id", transform.Split, `{"id":"1"}`, `{"subject":"s"}`,
			[]string{"would fail when staged: decode tickets record: no id"}},
		{"a column of the wrong type", transform.Keep, `{"id":"1"}`, `{"id":"1","tags":"a"}`,
			[]string{"would fail when staged: decode tickets record: json: cannot unmarshal string into Go struct field Ticket.tags of type []string"}},
		{"a column the stream does not have", transform.Keep, `{"id":"1","raw":{}}`, `{"id":"1","raw":{},"note":"x"}`,
			[]string{"note is not a column of tickets: staging leaves it out"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, _ := parseMembers(json.RawMessage(tt.in))
			out, _ := parseMembers(json.RawMessage(tt.out))
			keptID := ""
			if tt.outcome == transform.Keep {
				keptID = "1"
			}
			got := stagingProblems("tickets", keptID, json.RawMessage(tt.out), diffMembers(in, out))
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
