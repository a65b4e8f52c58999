package stage

import (
	"slices"

	"github.com/zeebo/xxh3"
)

// idSet is the set of ids an Ingest staged into a table that was empty when
// it began (see Ingest.upsert), kept small: a first extract of a large help
// desk puts millions of ids in it. A Go map of their 64-bit hashes took 20
// bytes an id (61 MB of the host's heap for 3M ids, in the bench's memory
// run); this takes about 5.
//
// An id's hash picks one of 4,096 sorted slices by its top 12 bits and is
// kept there as its next 32 bits. Two ids that share those 44 bits are
// taken for one: add then reports a new id as known with a probability of
// (ids in the set) ÷ 2^44, about one in 600,000 with 30M ids. That costs
// only time (the caller deletes rows of that id, and there are none), never
// a row; an id given twice is always reported.
type idSet struct {
	parts [idSetParts][]uint32
}

const (
	idSetBits  = 12
	idSetParts = 1 << idSetBits
)

// add adds id and reports whether it was in the set already (or taken for
// one that was).
func (s *idSet) add(id string) (had bool) {
	h := xxh3.HashString(id)
	p := &s.parts[h>>(64-idSetBits)]
	v := uint32(h >> (64 - idSetBits - 32))
	i, found := slices.BinarySearch(*p, v)
	if found {
		return true
	}
	*p = slices.Insert(*p, i, v)
	return false
}

// len returns the number of ids in the set.
func (s *idSet) len() int {
	n := 0
	for _, p := range s.parts {
		n += len(p)
	}
	return n
}
