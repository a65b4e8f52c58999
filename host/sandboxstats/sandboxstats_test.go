package sandboxstats

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// TestWriteRead: what the sandbox writes is what the bench reads, a time
// not yet set stays nil, and no temporary file is left beside it.
func TestWriteRead(t *testing.T) {
	first := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	want := File{
		Intercom: Intercom{Requests: 3, ByStatus: map[int]int64{200: 2, 429: 1},
			Endpoints: map[string]Endpoint{"POST /contacts": {Requests: 3, ByStatus: map[int]int64{200: 2, 429: 1}}},
			First:     When(first), Last: When(first.Add(time.Second)), AdmittedBySecond: map[int64]int64{first.Unix(): 2}},
		Zendesk: Zendesk{Requests: 1, ByStatus: map[int]int{200: 1}, Endpoints: map[string]int{"/api/v2/users.json": 1}, Admitted: 1,
			First: When(time.Time{})},
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "stats.json")
	if err := Write(path, want); err != nil {
		t.Fatal(err)
	}
	got, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*got, want) {
		t.Errorf("read %+v\nwant %+v", *got, want)
	}
	if got.Zendesk.First != nil {
		t.Errorf("a zero time came back as %v, want nil", got.Zendesk.First)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("files %v, want only the stats file", entries)
	}
}
