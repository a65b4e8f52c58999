// Package subject is the legacy-id-subject transform itself, apart from its
// main package so that a native program (ferry's benchmark, say) can run it
// without wasm: see transform.NewInstanceOf.
package subject

import (
	"errors"
	"strings"

	"github.com/ferryhq/ferry/sdk/transform"
)

// tickets is the canonical stream this transform changes (schema.Tickets;
// sdk/schema itself is not imported, as it would bring Arrow into the module).
const tickets = "tickets"

// config is the transform's config in ferry.yaml.
type config struct {
	// Prefix names the source help desk in the tag: "ZD" gives "[ZD-123]".
	Prefix string `json:"prefix"`
}

// Setup checks the config once, when ferry loads the module, and declares
// what the transform touches: the subject of tickets (and their id, which
// every transform reads). ferry then sends it that column and nothing else,
// and passes the other streams by.
func Setup(ctx *transform.Context) (transform.Handler, error) {
	cfg := config{Prefix: "ZD"}
	if err := ctx.Config(&cfg); err != nil {
		return nil, err
	}
	cfg.Prefix = strings.TrimSpace(cfg.Prefix)
	if cfg.Prefix == "" {
		return nil, errors.New("prefix must not be empty")
	}
	if strings.ContainsAny(cfg.Prefix, "[]") {
		return nil, errors.New("prefix must not contain [ or ]")
	}
	ctx.Declare(tickets, []string{"subject"}, []string{"subject"})
	t := &tagger{prefix: cfg.Prefix}
	ctx.HandleBatches(t.tagSubjects)
	return t.tagSubject, nil
}

// tagger is the handler's state: Setup runs once per module instance, and
// an instance's handler is called one record at a time, so the buffer is
// the handler's own to reuse.
type tagger struct {
	prefix string
	// buf is where a new subject is built, record after record: SetBytes
	// copies it, so that a ticket costs no allocation (in a module an
	// allocation costs more than the rest of this transform).
	buf []byte
}

// tagSubject puts "[<prefix>-<id>]" in front of a ticket's subject. A subject
// that already starts with the tag is left alone, so that a rerun of the
// migration does not tag a ticket twice.
func (c *tagger) tagSubject(ctx *transform.Context, r *transform.Record) transform.Result {
	if ctx.Stream() != tickets {
		return transform.Keep(r)
	}
	id := r.ID()
	if id == "" {
		return transform.Fail("ticket without an id")
	}
	subject := r.String("subject")
	if hasTag(subject, c.prefix, id) {
		return transform.Keep(r)
	}
	c.buf = c.tag(c.buf[:0], id, subject)
	r.SetBytes("subject", c.buf)
	return transform.Keep(r)
}

// tagSubjects is tagSubject over a whole batch, the way a module runs it
// fastest (see transform.BatchHandler): the same subjects, and a ticket
// without an id passed to tagSubject, which fails it with the reason.
func (c *tagger) tagSubjects(ctx *transform.Context, b *transform.Batch) {
	ids := b.IDs()
	subjects, ok := b.Strings("subject")
	set, ok2 := b.Setter("subject")
	if ctx.Stream() != tickets || !ok || !ok2 {
		b.PassAll()
		return
	}
	buf := c.buf
	for i := range b.Len() {
		id, subject := ids.At(i), subjects.At(i)
		if id == "" {
			b.Pass(i)
			continue
		}
		if hasTag(subject, c.prefix, id) {
			continue
		}
		buf = c.tag(buf[:0], id, subject)
		set.Set(i, buf)
	}
	c.buf = buf
}

// tag appends "[<prefix>-<id>] <subject>" to b, or "[<prefix>-<id>]" for a
// blank subject.
func (c *tagger) tag(b []byte, id, subject string) []byte {
	b = append(b, '[')
	b = append(b, c.prefix...)
	b = append(b, '-')
	b = append(b, id...)
	b = append(b, ']')
	if strings.TrimSpace(subject) != "" {
		b = append(b, ' ')
		b = append(b, subject...)
	}
	return b
}

// hasTag reports whether s starts with "[<prefix>-<id>]".
func hasTag(s, prefix, id string) bool {
	n := len(prefix) + len(id) + 3
	return len(s) >= n && s[0] == '[' && s[1:1+len(prefix)] == prefix && s[1+len(prefix)] == '-' &&
		s[2+len(prefix):n-1] == id && s[n-1] == ']'
}
