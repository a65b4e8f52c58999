package source

import (
	"strings"
	"testing"
	"time"
)

func TestUpdatedAt(t *testing.T) {
	base := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	sec := func(s int) time.Time { return base.Add(time.Duration(s) * time.Second) }
	type rec struct {
		id string
		at int
	}
	// The source: records and their update times, listed in update order,
	// "since T" inclusive, as Freshdesk's updated_since does.
	source := []rec{{"a", 1}, {"b", 2}, {"c", 2}, {"d", 3}, {"e", 3}, {"f", 70}}
	read := func(cursor []byte, now time.Time) (kept []string, next []byte) {
		u, err := NewUpdatedAt(cursor, now, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range source {
			if !sec(r.at).Before(u.Since()) && u.Keep(r.id, sec(r.at)) {
				kept = append(kept, r.id)
			}
		}
		return kept, u.Cursor()
	}

	// First read at 12:01:05: f (12:01:10) is after now − lag... and so
	// is nothing else; everything up to 12:00:05 is read.
	kept, cur := read(nil, sec(65))
	if want := "a b c d e"; strings.Join(kept, " ") != want {
		t.Fatalf("first read kept %q, want %q", strings.Join(kept, " "), want)
	}
	// Second read from the cursor (12:00:03, ids d e): the boundary records
	// are not brought twice; f is still too new.
	kept, cur2 := read(cur, sec(100))
	if len(kept) != 0 {
		t.Fatalf("second read kept %q, want nothing", strings.Join(kept, " "))
	}
	if string(cur2) != string(cur) {
		t.Errorf("an empty read moved the cursor: %s → %s", cur, cur2)
	}
	// Later, f is old enough.
	kept, _ = read(cur2, sec(200))
	if strings.Join(kept, " ") != "f" {
		t.Errorf("third read kept %q, want f", strings.Join(kept, " "))
	}
	// A record updated again at the boundary instant but with a new id is
	// new; the same id is not.
	source = append(source, rec{"g", 3})
	kept, _ = read(cur, sec(100))
	if strings.Join(kept, " ") != "g" {
		t.Errorf("kept %q, want the new record g at the boundary", strings.Join(kept, " "))
	}
	if _, err := NewUpdatedAt([]byte("nope"), base, 0); err == nil {
		t.Error("a bad cursor was accepted")
	}
}
