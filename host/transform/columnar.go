package transform

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/ferryhq/ferry/sdk/transform/columnar"
)

// applyColumns sends the module one columnar batch of stream, with the
// columns given (flagged Written as the module declared) and the rows sel
// (every row without), and reads its reply, checking it all. A batch the
// module failed, or answered with a malformed reply, is a *batchFailure.
func (m *Module) applyColumns(ctx context.Context, stream string, cols []columnar.Column, sel []int32) (*columnar.Reply, []columnar.Extra, error) {
	plan, err := columnar.PlanBatch(stream, cols, sel)
	if err != nil {
		return nil, nil, fmt.Errorf("transform %s: %w", m.name, err)
	}
	data, err := m.run(ctx, stream, formatColumnar, plan.Size(), plan.Put)
	if err != nil {
		return nil, nil, err
	}
	rows := plan.Rows()
	reply, err := columnar.ReadReply(data, cols, rows)
	var refused *columnar.BatchError
	if errors.As(err, &refused) {
		return nil, nil, &batchFailure{reason: fmt.Sprintf("transform %s: %s", m.name, reason(refused.Reason, "the module failed the batch without a reason"))}
	}
	if err != nil {
		return nil, nil, &batchFailure{reason: fmt.Sprintf("transform %s: malformed reply: %v", m.name, err)}
	}
	extras, err := columnar.ReadExtras(reply.Extras, rows)
	if err == nil {
		err = checkExtras(reply, extras)
	}
	if err != nil {
		return nil, nil, &batchFailure{reason: fmt.Sprintf("transform %s: malformed reply: %v", m.name, err)}
	}
	return reply, extras, nil
}

// checkExtras checks that pieces belong to split rows, that every split row
// has one, and that emitted records are of canonical streams.
func checkExtras(r *columnar.Reply, extras []columnar.Extra) error {
	var pieces []int
	if slices.Contains(r.Outcomes, columnar.Split) {
		pieces = make([]int, r.Rows)
	}
	for i, x := range extras {
		if x.Stream != "" {
			if err := checkEmitted(x.Stream, x.Record); err != nil {
				return fmt.Errorf("extra %d: %w", i, err)
			}
			continue
		}
		if r.Outcomes[x.Row] != columnar.Split {
			return fmt.Errorf("extra %d: a piece of row %d, which is not split", i, x.Row)
		}
		pieces[x.Row]++
	}
	for i, o := range r.Outcomes {
		if o == columnar.Split && pieces[i] == 0 {
			return fmt.Errorf("row %d: split into no pieces", i)
		}
	}
	return nil
}

// applyTranscoded is Apply for a module that declared columns of stream:
// the records' declared columns go to it in the columnar format, and what it
// sets is written back into them, their other members kept as they are.
func (m *Module) applyTranscoded(ctx context.Context, stream string, acc Access, records []json.RawMessage) ([]Result, error) {
	canon, err := canonical(stream)
	if err != nil {
		return nil, fmt.Errorf("transform %s: %w", m.name, err)
	}
	members := make([]map[string]json.RawMessage, len(records))
	for i, r := range records {
		if !isObject(r) || json.Unmarshal(r, &members[i]) != nil || members[i] == nil {
			return nil, fmt.Errorf("transform %s: record %d is not a JSON object: %.60q", m.name, i, r)
		}
	}
	cols := make([]columnar.Column, 0, len(acc.Read))
	for _, c := range canon {
		name := c.field.Name
		if !slices.Contains(acc.Read, name) {
			continue
		}
		b := columnar.NewBuilder(c.typ)
		for i := range records {
			v, err := columnar.ParseValue(c.typ, members[i][name])
			if err != nil {
				return nil, fmt.Errorf("transform %s: record %d: column %s: %w", m.name, i, name, err)
			}
			b.AppendValue(v)
		}
		col := b.Column(name)
		col.Written = slices.Contains(acc.Write, name)
		cols = append(cols, col)
	}
	reply, extras, err := m.applyColumns(ctx, stream, cols, nil)
	var failed *batchFailure
	if errors.As(err, &failed) {
		return failAll(len(records), failed.reason, m.sha), nil
	}
	if err != nil {
		return nil, err
	}
	results := make([]Result, len(records))
	for i, o := range reply.Outcomes {
		res := &results[i]
		res.ModuleSHA256 = m.sha
		switch o {
		case columnar.Keep:
			res.Outcome, res.Records = Keep, []json.RawMessage{records[i]}
		case columnar.KeepChanged:
			rec, err := columnar.Patch(records[i], reply.Changes(i))
			if err != nil {
				return nil, fmt.Errorf("transform %s: record %d: %w", m.name, i, err)
			}
			res.Outcome, res.Records = Keep, []json.RawMessage{rec}
		case columnar.Drop:
			res.Outcome, res.Reason = Drop, reason(reply.Reason(i), "dropped by the transform")
		case columnar.Error:
			res.Outcome, res.Reason = Error, reason(reply.Reason(i), "failed by the transform without a reason")
		case columnar.Split:
			res.Outcome = Split
		}
	}
	for _, x := range extras {
		res := &results[x.Row]
		switch {
		case res.Outcome == Error:
		case x.Stream != "":
			res.Extra = append(res.Extra, ExtraRecord{From: x.Row, Stream: x.Stream, Record: x.Record, Module: m.sha})
		default:
			changes, err := columnar.PieceChanges(x.Record, acc.Write)
			if err != nil {
				// Not a piece ferry can read: the record fails, alone.
				*res = Result{Outcome: Error, Reason: fmt.Sprintf("transform %s: %v", m.name, err), ModuleSHA256: m.sha}
				continue
			}
			rec, err := columnar.Patch(records[x.Row], changes)
			if err != nil {
				return nil, fmt.Errorf("transform %s: record %d: %w", m.name, x.Row, err)
			}
			res.Records = append(res.Records, rec)
		}
	}
	return results, nil
}
