package transform

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/ferryhq/ferry/sdk/schema"
)

// Chain applies modules in order, as the transforms: list of ferry.yaml does.
// A record dropped or failed by one module stops there; the records a module
// keeps or splits go on through the rest. A module that does not handle a
// stream (it declared columns of other streams only) is passed by.
//
// [Chain.ApplyArrow] is the fast path: Arrow batches in, the columns each
// module declared going to it in the columnar format. [Chain.Apply] takes
// and returns JSON records, for `ferry transform test` and for callers that
// hold records as JSON.
type Chain struct {
	modules []*Module
	// plans holds, for each canonical stream, what ApplyArrow does: the
	// columns it needs and the modules it runs.
	plans map[string]*streamPlan
}

// NewChain returns a chain of the modules, applied in the order given. The
// chain owns them: [Chain.Close] closes them.
func NewChain(modules ...*Module) *Chain {
	c := &Chain{modules: append([]*Module(nil), modules...), plans: map[string]*streamPlan{}}
	for _, stream := range schema.StreamNames() {
		// The canonical schemas are the package's own: a stream whose
		// plan cannot be made is a bug, caught by the tests.
		if p, err := newPlan(stream, c.modules); err == nil {
			c.plans[stream] = p
		}
	}
	return c
}

// Modules returns the chain's modules, in order.
func (c *Chain) Modules() []*Module { return append([]*Module(nil), c.modules...) }

// Columns returns what [Chain.ApplyArrow] needs of stream's batches and
// gives back: read, the columns its input must hold (the id first, then in
// schema order the columns any module reads or writes); write, the columns
// its Out holds besides the id (those any module writes). whole is true when
// a module of the chain reads whole records: read is then every column of
// the stream, and write every column but the id. For a stream that is not
// canonical, Columns returns nothing.
func (c *Chain) Columns(stream string) (read, write []string, whole bool) {
	p, ok := c.plans[stream]
	if !ok {
		return nil, nil, false
	}
	for _, i := range p.cols {
		read = append(read, p.canon[i].field.Name)
	}
	for _, i := range p.write {
		write = append(write, p.canon[p.cols[i]].field.Name)
	}
	return read, write, p.whole
}

// piece is a record in flight through the chain, with the input record it
// came from (several pieces share an origin once a module splits).
type piece struct {
	origin int
	record json.RawMessage
}

// Apply runs one batch of JSON records through every module and returns one
// result per input record, in order. Each module sees the records still in
// flight as one batch (those of a module that declared columns in the
// columnar format, see [Module.Apply]). An input record ends as:
//   - Error, when any module failed it or any record split from it;
//   - Drop, when every record it became was dropped (with the first reason);
//   - Keep, when it is one record at the end of the chain;
//   - Split, when it is several.
//
// ModuleSHA256 is the module that failed or dropped it, or else the last
// module that handles the stream. Extra holds what modules emitted for it.
// The error is as for [Module.Apply].
func (c *Chain) Apply(ctx context.Context, stream string, records []json.RawMessage) ([]Result, error) {
	results := make([]Result, len(records))
	if len(records) == 0 {
		return results, nil
	}
	pieces := make([]piece, len(records))
	for i, r := range records {
		pieces[i] = piece{origin: i, record: r}
	}
	drops := make([]Result, len(records))        // the first drop of each input record
	extra := make([][]ExtraRecord, len(records)) // what modules emitted for each
	last := ""
	for _, m := range c.modules {
		if len(pieces) == 0 {
			break
		}
		if m.Access(stream).Skip {
			continue
		}
		last = m.SHA256()
		batch := make([]json.RawMessage, len(pieces))
		for i, p := range pieces {
			batch[i] = p.record
		}
		out, err := m.Apply(ctx, stream, batch)
		if err != nil {
			return nil, err
		}
		var next []piece
		for i, r := range out {
			origin := pieces[i].origin
			for _, x := range r.Extra {
				x.From = origin
				extra[origin] = append(extra[origin], x)
			}
			switch r.Outcome {
			case Keep, Split:
				for _, rec := range r.Records {
					next = append(next, piece{origin: origin, record: rec})
				}
			case Drop:
				if drops[origin].Outcome == 0 {
					drops[origin] = r
				}
			case Error:
				if results[origin].Outcome != Error {
					results[origin] = r
				}
			}
		}
		// Pieces whose siblings failed go no further: their input record has failed.
		pieces = next[:0:0]
		for _, p := range next {
			if results[p.origin].Outcome != Error {
				pieces = append(pieces, p)
			}
		}
	}
	for _, p := range pieces {
		results[p.origin].Records = append(results[p.origin].Records, p.record)
	}
	for i := range results {
		r := &results[i]
		switch {
		case r.Outcome == Error:
			r.Records, r.Extra = nil, nil
			continue
		case len(r.Records) == 0:
			*r = drops[i]
		case len(r.Records) == 1:
			*r = Result{Outcome: Keep, Records: r.Records, ModuleSHA256: last}
		default:
			*r = Result{Outcome: Split, Records: r.Records, ModuleSHA256: last}
		}
		r.Extra = extra[i]
	}
	return results, nil
}

// Close closes every module of the chain.
func (c *Chain) Close(ctx context.Context) error {
	var errs []error
	for _, m := range c.modules {
		errs = append(errs, m.Close(ctx))
	}
	return errors.Join(errs...)
}
