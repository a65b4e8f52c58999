// Package sandboxstats is the file `ferry sandbox --stats-file` writes when
// it stops: what the Intercom sandbox and the Zendesk emulator answered. The
// sandbox writes it and `make bench` reads it, through these types, so that
// the two agree on its shape.
package sandboxstats

import (
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// File is the whole stats file.
type File struct {
	Intercom Intercom `json:"intercom"`
	Zendesk  Zendesk  `json:"zendesk"`
}

// Intercom is what the Intercom sandbox answered.
type Intercom struct {
	Requests int64         `json:"requests"`
	ByStatus map[int]int64 `json:"by_status"`
	// Endpoints by route pattern, e.g. "POST /conversations/{conversation_id}/reply".
	Endpoints map[string]Endpoint `json:"endpoints"`
	// First and Last are when the first and the latest request arrived;
	// nil before any.
	First *time.Time `json:"first"`
	Last  *time.Time `json:"last"`
	// AdmittedBySecond counts the requests not answered 429 by the unix
	// second they arrived in.
	AdmittedBySecond map[int64]int64 `json:"admitted_by_second,omitempty"`
}

// Endpoint is what one route of the Intercom sandbox answered.
type Endpoint struct {
	Requests int64         `json:"requests"`
	ByStatus map[int]int64 `json:"by_status"`
}

// Zendesk is what the Zendesk emulator answered.
type Zendesk struct {
	Requests  int            `json:"requests"`
	ByStatus  map[int]int    `json:"by_status"`
	Endpoints map[string]int `json:"endpoints"`
	// Admitted and AdmittedIncremental count the requests let through by
	// the general and the incremental-export rate limits.
	Admitted            int        `json:"admitted"`
	AdmittedIncremental int        `json:"admitted_incremental"`
	First               *time.Time `json:"first"`
	Last                *time.Time `json:"last"`
}

// When is t as the file holds it: nil for the zero time.
func When(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// Write writes f to path, whole or not at all (a reader polling for the
// file never sees half of it).
func Write(path string, f File) error {
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("sandbox stats: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("sandbox stats: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("sandbox stats: %w", err)
	}
	return nil
}

// Read reads the file at path.
func Read(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("sandbox stats: %w", err)
	}
	var f File
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("sandbox stats %s: %w", path, err)
	}
	return &f, nil
}
