package main

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

// setup checks the config once, when ferry loads the module.
func setup(ctx *transform.Context) (transform.Handler, error) {
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
	return cfg.tagSubject, nil
}

// tagSubject puts "[<prefix>-<id>]" in front of a ticket's subject. A subject
// that already starts with the tag is left alone, so that a rerun of the
// migration does not tag a ticket twice.
func (c config) tagSubject(ctx *transform.Context, r *transform.Record) transform.Result {
	if ctx.Stream() != tickets {
		return transform.Keep(r)
	}
	id := r.ID()
	if id == "" {
		return transform.Fail("ticket without an id")
	}
	tag := "[" + c.Prefix + "-" + id + "]"
	subject := r.String("subject")
	switch {
	case strings.HasPrefix(subject, tag):
		return transform.Keep(r)
	case strings.TrimSpace(subject) == "":
		r.SetString("subject", tag)
	default:
		r.SetString("subject", tag+" "+subject)
	}
	return transform.Keep(r)
}
