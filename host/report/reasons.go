package report

import (
	"cmp"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// ReasonGroup is the records of one entity that failed (or were skipped)
// for the same reason.
type ReasonGroup struct {
	Entity string `json:"entity"`
	// Reason is the reason with what names a record left out (ids and
	// quoted values become "…"): "requester 123 was not migrated" and
	// "requester 456 was not migrated" are one group.
	Reason  string `json:"reason"`
	Records int64  `json:"records"`
	// ExampleReason is the whole reason of the first record of the group.
	ExampleReason string `json:"example_reason"`
	// ExampleSourceIDs are the first few records of the group.
	ExampleSourceIDs []string `json:"example_source_ids"`
}

// Limits of the reason groups: a report stays readable and its memory
// bounded however many records a workspace holds.
const (
	maxExamples    = 3
	maxGroups      = 10_000 // distinct groups counted; the records of more are only counted
	maxReasonRunes = 500    // a longer reason is cut, with "…"
	noReason       = "(no reason given)"
	reasonEllipsis = "…"
)

var (
	// quoted is a value a reason quotes: an email, a name, a field's value.
	quoted = regexp.MustCompile(`"[^"]*"`)
	// idLike is a word with a digit in it: 123, t2, 5f1c9a, 42-c1. Such
	// words say which record; the source id column says that already.
	idLike = regexp.MustCompile(`[A-Za-z0-9_-]*[0-9][A-Za-z0-9_-]*`)
)

// reasonPattern is what a reason says with the values that name one record
// left out. An HTTP error status stays (a number from 400 to 599 followed by
// its capitalized text, as in "404 Not Found"): it says what went wrong, not
// to which record.
func reasonPattern(reason string) string {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return noReason
	}
	p := quoted.ReplaceAllString(reason, `"`+reasonEllipsis+`"`)
	var b strings.Builder
	last := 0
	for _, m := range idLike.FindAllStringIndex(p, -1) {
		b.WriteString(p[last:m[0]])
		if isStatus(p[m[0]:m[1]], p[m[1]:]) {
			b.WriteString(p[m[0]:m[1]])
		} else {
			b.WriteString(reasonEllipsis)
		}
		last = m[1]
	}
	b.WriteString(p[last:])
	return shorten(b.String())
}

// isStatus says whether word, followed by rest, is an HTTP error status.
func isStatus(word, rest string) bool {
	return len(word) == 3 && (word[0] == '4' || word[0] == '5') && isDigits(word) &&
		len(rest) >= 2 && rest[0] == ' ' && rest[1] >= 'A' && rest[1] <= 'Z'
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// shorten cuts a text longer than maxReasonRunes.
func shorten(s string) string {
	if utf8.RuneCountInString(s) <= maxReasonRunes {
		return s
	}
	r := []rune(s)
	return string(r[:maxReasonRunes]) + reasonEllipsis
}

// reasonGroups counts records by entity and reason pattern as they stream
// by, keeping at most maxGroups groups.
type reasonGroups struct {
	groups map[[2]string]*ReasonGroup
	// leftOut counts the records of groups beyond maxGroups.
	leftOut int64
	// patterns remembers the patterns of reasons seen: many records share
	// a reason (every ticket a filter left out), and the regexps are the
	// cost of a row. Bounded: it starts over when full.
	patterns map[string]string
}

const maxPatternCache = 4096

func newReasonGroups() *reasonGroups {
	return &reasonGroups{groups: map[[2]string]*ReasonGroup{}, patterns: map[string]string{}}
}

func (g *reasonGroups) pattern(reason string) string {
	if p, ok := g.patterns[reason]; ok {
		return p
	}
	if len(g.patterns) >= maxPatternCache {
		clear(g.patterns)
	}
	p := reasonPattern(reason)
	g.patterns[reason] = p
	return p
}

// add counts one record.
func (g *reasonGroups) add(entity, sourceID, reason string) {
	key := [2]string{entity, g.pattern(reason)}
	grp, ok := g.groups[key]
	if !ok {
		if len(g.groups) >= maxGroups {
			g.leftOut++
			return
		}
		ex := strings.TrimSpace(reason)
		if ex == "" {
			ex = noReason
		}
		grp = &ReasonGroup{Entity: entity, Reason: key[1], ExampleReason: shorten(ex), ExampleSourceIDs: []string{}}
		g.groups[key] = grp
	}
	grp.Records++
	if len(grp.ExampleSourceIDs) < maxExamples {
		grp.ExampleSourceIDs = append(grp.ExampleSourceIDs, sourceID)
	}
}

// ReasonGroups are the largest groups of a kind of outcome, and how much
// is left out of them.
type ReasonGroups struct {
	Groups []ReasonGroup `json:"groups"`
	// OtherGroups counts the groups not listed, and OtherRecords their
	// records (with those of any groups beyond the most a report counts).
	OtherGroups  int64 `json:"other_groups"`
	OtherRecords int64 `json:"other_records"`
}

// top returns the n largest groups, most records first.
func (g *reasonGroups) top(n int) ReasonGroups {
	all := make([]ReasonGroup, 0, len(g.groups))
	for _, grp := range g.groups {
		all = append(all, *grp)
	}
	slices.SortFunc(all, func(a, b ReasonGroup) int {
		return cmp.Or(cmp.Compare(b.Records, a.Records), cmp.Compare(a.Entity, b.Entity), cmp.Compare(a.Reason, b.Reason))
	})
	out := ReasonGroups{Groups: all[:min(n, len(all))], OtherRecords: g.leftOut}
	for _, grp := range all[len(out.Groups):] {
		out.OtherGroups++
		out.OtherRecords += grp.Records
	}
	return out
}
