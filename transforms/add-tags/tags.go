package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ferryhq/ferry/sdk/transform"
)

// taggable lists the canonical streams that have a tags column (sdk/schema;
// it is not imported, as it would bring Arrow into the module). A tags
// column added to a record of another stream would be dropped silently when
// ferry stages it, so such a stream is refused in the config instead.
var taggable = []string{"tickets"}

// config is the transform's config in ferry.yaml.
type config struct {
	// Tags are added to each record, in this order, after its own tags.
	Tags []string `json:"tags"`
	// Streams are the streams whose records get the tags.
	Streams []string `json:"streams"`
}

// setup checks the config once, when ferry loads the module.
func setup(ctx *transform.Context) (transform.Handler, error) {
	cfg := config{Streams: []string{"tickets"}}
	if err := ctx.Config(&cfg); err != nil {
		return nil, err
	}
	if len(cfg.Tags) == 0 {
		return nil, errors.New(`tags is missing or empty: list the tags to add, e.g. {"tags": ["migrated"]}`)
	}
	var tags []string
	for i, t := range cfg.Tags {
		t = strings.TrimSpace(t)
		if t == "" {
			return nil, fmt.Errorf("tags[%d] is empty", i)
		}
		// A tag listed twice is still added once.
		if !slices.Contains(tags, t) {
			tags = append(tags, t)
		}
	}
	if len(cfg.Streams) == 0 {
		return nil, fmt.Errorf("streams is empty: leave it out for tickets, or list streams among %s", strings.Join(taggable, ", "))
	}
	for _, s := range cfg.Streams {
		if !slices.Contains(taggable, s) {
			return nil, fmt.Errorf("streams: %q has no tags column (streams with tags: %s)", s, strings.Join(taggable, ", "))
		}
	}
	a := adder{tags: tags, streams: cfg.Streams}
	return a.addTags, nil
}

// adder adds a fixed set of tags.
type adder struct {
	tags    []string
	streams []string
}

// addTags appends the configured tags the record lacks. A record that has
// them all goes back unchanged, byte for byte, which is what makes the
// transform idempotent.
func (a adder) addTags(ctx *transform.Context, r *transform.Record) transform.Result {
	if !slices.Contains(a.streams, ctx.Stream()) {
		return transform.Keep(r)
	}
	var have []string
	// Decode rather than Strings: a tags column that is not a list of
	// strings is a broken record, and overwriting it would hide that.
	if err := r.Decode("tags", &have); err != nil {
		return transform.Fail(fmt.Sprintf("cannot add tags: %v", err))
	}
	tags := have
	for _, t := range a.tags {
		if !slices.Contains(tags, t) {
			tags = append(tags, t)
		}
	}
	if len(tags) == len(have) {
		return transform.Keep(r)
	}
	r.SetStrings("tags", tags)
	return transform.Keep(r)
}
