package main

import (
	"errors"
	"fmt"
	"html"
	"log/slog"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/ferryhq/ferry/sdk/transform"
)

// usSSN matches a US social security number as the SSA issues them: area
// 001-899 but 666, group 01-99, serial 0001-9999, separated by dashes or
// spaces. RE2 has no lookahead, hence the ranges spelled out.
const usSSN = `\b(?:00[1-9]|0[1-9]\d|[1-578]\d\d|6[0-57-9]\d|66[0-57-9])[- ](?:0[1-9]|[1-9]\d)[- ](?:000[1-9]|00[1-9]\d|0[1-9]\d\d|[1-9]\d\d\d)\b`

// digitRun matches a run of digits in which single separators (a space, a
// dash, a non-breaking space, or its HTML entity) may stand between two
// digits: where a card number, grouped or not, can hide. (&#160; is left
// out: its own digits would count as the card's.)
var digitRun = regexp.MustCompile(`\d(?:(?: |-|\x{00A0}|&nbsp;)?\d)*`)

// config is the transform's config in ferry.yaml.
type config struct {
	Mask        string              `json:"mask"`
	Cards       *bool               `json:"cards"`
	NationalIDs []string            `json:"national_ids"`
	Columns     map[string][]string `json:"columns"`
}

// redactor holds the parsed config.
type redactor struct {
	mask        string
	cards       bool
	nationalIDs []*regexp.Regexp
	columns     map[string][]string
}

// defaultConfig is the config of a transform entry without config:. Its
// columns are set by redactor when the config has none, as decoding into a
// map would merge the config's streams into the default ones.
func defaultConfig() config {
	return config{Mask: "[redacted]", NationalIDs: []string{usSSN}}
}

// defaultColumns are the columns redacted when the config names none.
func defaultColumns() map[string][]string {
	return map[string][]string{"tickets": {"subject"}, "comments": {"body_html", "body_text"}}
}

// setup checks the config once, when ferry loads the module: a pattern that
// does not compile stops the migration, rather than letting ids through.
func setup(ctx *transform.Context) (transform.Handler, error) {
	cfg := defaultConfig()
	if err := ctx.Config(&cfg); err != nil {
		return nil, err
	}
	rd, err := cfg.redactor()
	if err != nil {
		return nil, err
	}
	return rd.redact, nil
}

// redactor checks the config and compiles its patterns.
func (cfg config) redactor() (redactor, error) {
	rd := redactor{mask: cfg.Mask, cards: cfg.Cards == nil || *cfg.Cards, columns: cfg.Columns}
	if rd.columns == nil {
		rd.columns = defaultColumns()
	}
	if rd.mask == "" {
		return redactor{}, errors.New(`mask is empty: a redaction should show where text was removed, e.g. "[redacted]"`)
	}
	for i, p := range cfg.NationalIDs {
		re, err := regexp.Compile(p)
		if err != nil {
			return redactor{}, fmt.Errorf("national_ids[%d]: %w", i, err)
		}
		if re.MatchString("") {
			return redactor{}, fmt.Errorf("national_ids[%d]: %q matches the empty string", i, p)
		}
		rd.nationalIDs = append(rd.nationalIDs, re)
	}
	if !rd.cards && len(rd.nationalIDs) == 0 {
		return redactor{}, errors.New("nothing to redact: cards is false and national_ids is empty")
	}
	if len(rd.columns) == 0 {
		return redactor{}, errors.New("columns is empty: name the columns to redact by stream")
	}
	for _, stream := range slices.Sorted(maps.Keys(rd.columns)) {
		for _, c := range rd.columns[stream] {
			if c == "" || c == "id" {
				return redactor{}, fmt.Errorf("columns.%s: %q cannot be redacted", stream, c)
			}
		}
	}
	return rd, nil
}

// counts is what was redacted.
type counts struct{ cards, nationalIDs int }

// redact masks what it finds in the configured columns of the record.
func (rd redactor) redact(ctx *transform.Context, r *transform.Record) transform.Result {
	var n counts
	for _, col := range rd.columns[ctx.Stream()] {
		text := r.String(col)
		if text == "" {
			continue
		}
		mask := rd.mask
		if strings.HasSuffix(col, "_html") {
			mask = html.EscapeString(mask)
		}
		if out := rd.text(text, mask, &n); out != text {
			r.SetString(col, out)
		}
	}
	if n != (counts{}) {
		ctx.Log(slog.LevelInfo, "redacted", "stream", ctx.Stream(), "id", r.ID(), "cards", n.cards, "national_ids", n.nationalIDs)
	}
	return transform.Keep(r)
}

// text returns s with card numbers, then national ids, replaced by mask,
// counting them in n. Cards go first: a national id pattern could match
// part of a card number and leave the rest of it readable.
func (rd redactor) text(s, mask string, n *counts) string {
	if rd.cards {
		s = digitRun.ReplaceAllStringFunc(s, func(run string) string {
			out, found := maskCards(run, mask)
			n.cards += found
			return out
		})
	}
	for _, re := range rd.nationalIDs {
		s = re.ReplaceAllStringFunc(s, func(string) string {
			n.nationalIDs++
			return mask
		})
	}
	return s
}

// maskCards masks the card numbers in a run of digit groups. The whole run
// is one card when its digits are one; otherwise each stretch of whole
// groups that is a card is masked, the longest from each group first, so
// that two cards separated by a single space are both found.
func maskCards(run, mask string) (string, int) {
	if isCard(run) {
		return mask, 1
	}
	groups := splitGroups(run)
	if len(groups) < 2 {
		return run, 0
	}
	var b strings.Builder
	found := 0
	for i := 0; i < len(groups); {
		// A card has at most 19 digits, which bounds the stretches to try
		// and so the work on a long run of digits.
		end, digits := -1, 0
		for j := i; j < len(groups); j++ {
			if digits += groups[j].end - groups[j].start; digits > maxCardDigits {
				break
			}
			if isCard(run[groups[i].start:groups[j].end]) {
				end = j + 1
			}
		}
		if end < 0 {
			// Not the start of a card: keep the group and what follows it.
			next := len(run)
			if i+1 < len(groups) {
				next = groups[i+1].start
			}
			b.WriteString(run[groups[i].start:next])
			i++
			continue
		}
		b.WriteString(mask)
		if end < len(groups) {
			b.WriteString(run[groups[end-1].end:groups[end].start])
		}
		found++
		i = end
	}
	return b.String(), found
}

// The lengths of payment card numbers (ISO/IEC 7812).
const (
	minCardDigits = 13
	maxCardDigits = 19
)

type span struct{ start, end int }

// splitGroups returns the spans of the digit groups of a run.
func splitGroups(run string) []span {
	var out []span
	start := -1
	for i := 0; i < len(run); i++ {
		digit := run[i] >= '0' && run[i] <= '9'
		switch {
		case digit && start < 0:
			start = i
		case !digit && start >= 0:
			out = append(out, span{start, i})
			start = -1
		}
	}
	if start >= 0 {
		out = append(out, span{start, len(run)})
	}
	return out
}

// isCard reports whether the digits of s are 13 to 19 and pass the Luhn check.
func isCard(s string) bool {
	var digits []byte
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			digits = append(digits, s[i]-'0')
		}
	}
	if len(digits) < minCardDigits || len(digits) > maxCardDigits {
		return false
	}
	return luhn(digits)
}

// luhn reports whether digits pass the Luhn checksum, which every payment
// card number carries in its last digit.
func luhn(digits []byte) bool {
	sum := 0
	for i := range digits {
		d := int(digits[len(digits)-1-i])
		if i%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}
