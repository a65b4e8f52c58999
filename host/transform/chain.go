package transform

import (
	"context"
	"encoding/json"
	"errors"
)

// Chain applies modules in order, as the transforms: list of ferry.yaml does.
// A record dropped or failed by one module stops there; the records a module
// keeps or splits go on through the rest.
type Chain struct {
	modules []*Module
}

// NewChain returns a chain of the modules, applied in the order given. The
// chain owns them: [Chain.Close] closes them.
func NewChain(modules ...*Module) *Chain {
	return &Chain{modules: append([]*Module(nil), modules...)}
}

// Modules returns the chain's modules, in order.
func (c *Chain) Modules() []*Module { return append([]*Module(nil), c.modules...) }

// piece is a record in flight through the chain, with the input record it
// came from (several pieces share an origin once a module splits).
type piece struct {
	origin int
	record json.RawMessage
}

// Apply runs one batch through every module and returns one result per
// input record, in order. Each module sees the records still in flight as
// one batch. An input record ends as:
//   - Error, when any module failed it or any record split from it;
//   - Drop, when every record it became was dropped (with the first reason);
//   - Keep, when it is one record at the end of the chain;
//   - Split, when it is several.
//
// ModuleSHA256 is the module that failed or dropped it, or else the last
// module. The error is as for [Module.Apply].
func (c *Chain) Apply(ctx context.Context, stream string, records []json.RawMessage) ([]Result, error) {
	results := make([]Result, len(records))
	if len(records) == 0 {
		return results, nil
	}
	pieces := make([]piece, len(records))
	for i, r := range records {
		pieces[i] = piece{origin: i, record: r}
	}
	drops := make([]Result, len(records)) // the first drop of each input record
	last := ""
	for _, m := range c.modules {
		if len(pieces) == 0 {
			break
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
		case len(r.Records) == 0:
			*r = drops[i]
		case len(r.Records) == 1:
			*r = Result{Outcome: Keep, Records: r.Records, ModuleSHA256: last}
		default:
			*r = Result{Outcome: Split, Records: r.Records, ModuleSHA256: last}
		}
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
