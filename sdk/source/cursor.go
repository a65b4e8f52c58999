package source

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// UpdatedAt follows a cursor on records' update times, for sources whose
// API lists "records updated since T" (Freshdesk's updated_since, a CSV
// export re-read with a modified column, ...). Such a cursor has two traps,
// and UpdatedAt closes both:
//
//   - a record updated while the read runs, or stamped by a server whose
//     clock is behind, can appear later with an update time before the
//     newest one already read. So records updated within Lag of the read's
//     start are left for the next read, and the cursor never passes
//     now − Lag;
//   - update times are often whole seconds, and sources list "since T"
//     inclusively: the next read starts at the cursor itself and brings the
//     records at that instant again. So the cursor keeps the ids read at
//     its instant, and Keep refuses them once.
//
// The cursor it returns is a valid checkpoint only when the source lists
// records in update-time order; otherwise checkpoint Cursor() at the end of
// the read only.
type UpdatedAt struct {
	start    updatedAtCursor
	until    time.Time
	max      time.Time
	atMax    []string
	atMaxSet map[string]bool
}

// updatedAtCursor is UpdatedAt's cursor as JSON.
type updatedAtCursor struct {
	// Since is the update time reads start at (inclusive).
	Since time.Time `json:"since"`
	// IDs are the records already read whose update time is Since.
	IDs []string `json:"ids,omitempty"`
}

// DefaultLag is the lag window NewUpdatedAt uses when given 0.
const DefaultLag = time.Minute

// NewUpdatedAt starts a read from cursor (nil: from the beginning of time),
// leaving records updated after now − lag for the next read.
func NewUpdatedAt(cursor []byte, now time.Time, lag time.Duration) (*UpdatedAt, error) {
	if lag <= 0 {
		lag = DefaultLag
	}
	u := &UpdatedAt{until: now.Add(-lag).UTC(), atMaxSet: map[string]bool{}}
	if len(cursor) > 0 {
		if err := json.Unmarshal(cursor, &u.start); err != nil {
			return nil, fmt.Errorf("bad updated-at cursor %q: %w", cursor, err)
		}
	}
	u.start.Since = u.start.Since.UTC()
	u.max = u.start.Since
	for _, id := range u.start.IDs {
		u.addAtMax(id)
	}
	return u, nil
}

// Since is the update time to ask the source for records from (inclusive).
// It is the zero time on a first read.
func (u *UpdatedAt) Since() time.Time { return u.start.Since }

// Until is the newest update time this read takes; a source that can bound
// its listing should stop there.
func (u *UpdatedAt) Until() time.Time { return u.until }

// Newest is the newest update time kept so far (Since before the first).
// A stream listing in update-time order has emitted every record updated
// before it: the next read may bring more at that instant, none earlier.
func (u *UpdatedAt) Newest() time.Time { return u.max }

// Keep reports whether a record listed by the source is to be emitted:
// false for a record the previous read already brought (at the cursor's
// instant) and for one updated after Until (the next read brings it).
func (u *UpdatedAt) Keep(id string, updatedAt time.Time) bool {
	updatedAt = updatedAt.UTC()
	switch {
	case updatedAt.After(u.until):
		return false
	case updatedAt.Before(u.start.Since):
		// Older than the cursor: the source listed more than asked. It was
		// read before unless the cursor is the zero time.
		return u.start.Since.IsZero()
	case updatedAt.Equal(u.start.Since) && slices.Contains(u.start.IDs, id):
		return false
	}
	switch {
	case updatedAt.After(u.max):
		u.max = updatedAt
		u.atMax = u.atMax[:0]
		clear(u.atMaxSet)
		u.addAtMax(id)
	case updatedAt.Equal(u.max):
		u.addAtMax(id)
	}
	return true
}

func (u *UpdatedAt) addAtMax(id string) {
	if !u.atMaxSet[id] {
		u.atMaxSet[id] = true
		u.atMax = append(u.atMax, id)
	}
}

// Cursor is where the next read starts: the newest update time kept, with
// the ids kept at that instant.
func (u *UpdatedAt) Cursor() []byte {
	data, _ := json.Marshal(updatedAtCursor{Since: u.max, IDs: slices.Clone(u.atMax)})
	return data
}
