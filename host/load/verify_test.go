package load

import (
	"io"
	"net/http"
	"net/http/httptest"
	"path"
	"strings"
	"testing"

	"github.com/ferryhq/ferry/host/stage"
)

func TestBodyText(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"<p>Hello <b>there</b></p>", "Hello there"},
		{"Hello\n\nthere", "Hello there"},
		{"<p>a</p><p>b</p>", "a b"},
		{"<p>x &amp; y</p>", "x & y"},
		{"line<br>next", "line next"},
		{"", ""},
	} {
		if got := bodyText(tt.in); got != tt.want {
			t.Errorf("bodyText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestAttributeText(t *testing.T) {
	for _, tt := range []struct {
		in   any
		want string
	}{
		{int64(1765497600), "1765497600"}, {float64(1765497600), "1765497600"}, {1.5, "1.5"}, {"x", "x"}, {true, "true"},
	} {
		if got := attributeText(tt.in); got != tt.want {
			t.Errorf("attributeText(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestComparePartsOf checks that a lost part, a doubled one, a changed
// body and parts out of order are each named, and nothing else.
func TestComparePartsOf(t *testing.T) {
	part := func(ref, author string, at int64, body string) threadPart {
		return threadPart{ref: ref, authorType: "admin", authorID: author, kind: "comment", createdAt: at, body: body}
	}
	opening := threadPart{ref: "opening", authorType: "user", authorID: "c1", kind: "comment", createdAt: 100, body: "hi"}
	want := thread{createdAt: 100, opening: opening, parts: []threadPart{part("comment 2", "a1", 200, "<p>two</p>"), part("comment 3", "a2", 300, "<p>three</p>")}}
	tests := []struct {
		name  string
		parts []threadPart
		bad   map[string]string // fact → a word its reason must hold
	}{
		{"equal", []threadPart{part("part 1", "a1", 200, "two"), part("part 2", "a2", 300, "three")}, nil},
		{"lost", []threadPart{part("part 1", "a1", 200, "two")}, map[string]string{stage.FactParts: "comment 3"}},
		{"doubled", []threadPart{part("part 1", "a1", 200, "two"), part("part 2", "a2", 300, "three"), part("part 3", "a2", 300, "three")},
			map[string]string{stage.FactParts: "doubled"}},
		{"body changed", []threadPart{part("part 1", "a1", 200, "two"), part("part 2", "a2", 300, "thirty")}, map[string]string{stage.FactBodies: "thirty"}},
		{"author changed", []threadPart{part("part 1", "a1", 200, "two"), part("part 2", "a9", 300, "three")}, map[string]string{stage.FactAuthors: "a9"}},
		{"out of order", []threadPart{part("part 1", "a2", 300, "three"), part("part 2", "a1", 200, "two")},
			map[string]string{stage.FactOrder: "part 2", stage.FactTimestamps: "comment 2", stage.FactAuthors: "comment 2", stage.FactBodies: "comment 2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &facts{entity: stage.EntityTickets, sourceID: "t1"}
			comparePartsOf(f, want, thread{createdAt: 100, opening: opening, parts: tt.parts}, nil)
			for _, c := range f.checks {
				word, bad := tt.bad[c.Fact]
				if c.OK == bad {
					t.Errorf("%s: ok = %v (reason %q)", c.Fact, c.OK, c.Reason)
				}
				if bad && !strings.Contains(c.Reason, word) {
					t.Errorf("%s: reason %q does not name %q", c.Fact, c.Reason, word)
				}
			}
		})
	}
}

// TestFileChecksums downloads a file from the source and Intercom's copy
// (two servers on loopback) and compares the bytes: equal, different,
// Intercom's copy gone, and a source file that cannot be downloaded (not
// compared). No request carries credentials.
func TestFileChecksums(t *testing.T) {
	serve := func(files map[string]string) *httptest.Server {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "" {
				t.Errorf("a download carried credentials: %s", r.URL)
			}
			body, ok := files[r.URL.Path]
			if !ok {
				http.NotFound(w, r)
				return
			}
			io.WriteString(w, body)
		}))
		t.Cleanup(srv.Close)
		return srv
	}
	src := serve(map[string]string{"/f/a.png": "the bytes", "/f/b.png": "the bytes"})
	ic := serve(map[string]string{"/copy/a.png": "the bytes", "/copy/b.png": "other bytes"})
	a := &auditor{l: New(nil, nil, Options{VerifyChecksums: true})}
	same := a.sameBytes(t.Context())
	file := func(base, p string) []attachmentFacts {
		return []attachmentFacts{{names: []string{path.Base(p)}, url: base + p}}
	}
	for _, tt := range []struct {
		name, source, copy, want string
	}{
		{"equal", "/f/a.png", "/copy/a.png", ""},
		{"different", "/f/b.png", "/copy/b.png", "bytes differ"},
		{"copy gone", "/f/a.png", "/copy/gone.png", "404"},
		{"source not downloadable", "/f/private.png", "/copy/a.png", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := compareFiles(file(src.URL, tt.source), []attachmentFacts{{names: []string{path.Base(tt.source)}, url: ic.URL + tt.copy}}, same)
			if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
				t.Errorf("compareFiles = %q, want %q", got, tt.want)
			}
		})
	}
	if a2 := (&auditor{l: New(nil, nil, Options{})}); a2.sameBytes(t.Context()) != nil {
		t.Error("checksums compared without VerifyChecksums")
	}
}
