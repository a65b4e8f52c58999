package transformtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/ferryhq/ferry/sdk/transform"
	"github.com/ferryhq/ferry/sdk/transform/columnar"
)

// mode is how ferry sends a stream's records to a transform.
type mode int

const (
	whole   mode = iota // JSON records
	columns             // the columns declared, columnar
	skipped             // not at all: they pass by
)

// declared reads a ferry_columns answer.
func declared(answer []byte) (read, write []string, m mode, err error) {
	a, err := columnar.ParseDeclaration(answer)
	switch {
	case err != nil:
		return nil, nil, 0, fmt.Errorf("the transform's column declaration %s: %w", answer, err)
	case a.Skip:
		return nil, nil, skipped, nil
	case a.Refusal != nil:
		return nil, nil, 0, errors.New(*a.Refusal)
	case a.Whole:
		return nil, nil, whole, nil
	}
	return a.Read, a.Write, columns, nil
}

// applyColumnar runs records through the transform in the columnar format,
// as ferry does for a stream the transform declared columns for, and reads
// the reply back into JSON records: the input records with the values the
// transform set.
func (m *Module) applyColumnar(stream string, records []json.RawMessage, read, write []string) ([]Result, error) {
	types, err := canonical(stream)
	if err != nil {
		return nil, err
	}
	members := make([]map[string]json.RawMessage, len(records))
	for i, r := range records {
		if err := json.Unmarshal(r, &members[i]); err != nil {
			return nil, fmt.Errorf("record %d: %w", i, err)
		}
	}
	cols := make([]columnar.Column, len(read))
	for k, name := range read {
		t, ok := types[name]
		if !ok {
			return nil, fmt.Errorf("the transform declared column %s, which %s does not have", name, stream)
		}
		b := columnar.NewBuilder(t)
		for i := range records {
			v, err := columnar.ParseValue(t, members[i][name])
			if err != nil {
				return nil, fmt.Errorf("record %d: column %s: %w", i, name, err)
			}
			b.AppendValue(v)
		}
		cols[k] = b.Column(name)
		cols[k].Written = slices.Contains(write, name)
	}
	plan, err := columnar.PlanBatch(stream, cols, nil)
	if err != nil {
		return nil, err
	}
	batch := make([]byte, plan.Size())
	plan.Put(batch)
	// The reply is the instance's memory, which its next batch reuses.
	data := slices.Clone(m.instance.Transform(transform.FormatColumnar, batch))
	reply, err := columnar.ReadReply(data, cols, len(records))
	var batchErr *columnar.BatchError
	if errors.As(err, &batchErr) {
		return nil, fmt.Errorf("the batch failed: %s", batchErr.Reason)
	}
	if err != nil {
		return nil, fmt.Errorf("decode reply: %w", err)
	}
	extras, err := columnar.ReadExtras(reply.Extras, len(records))
	if err != nil {
		return nil, fmt.Errorf("decode reply: %w", err)
	}
	out := make([]Result, len(records))
	for i, o := range reply.Outcomes {
		res := &out[i]
		switch o {
		case columnar.Keep:
			*res = Result{Outcome: transform.OutcomeKeep, Records: []json.RawMessage{records[i]}}
		case columnar.KeepChanged:
			var patch []columnar.Member
			for _, c := range reply.Columns {
				if c.IsSet(i) {
					patch = append(patch, columnar.Member{Name: c.Name, Value: columnar.AppendCellJSON(nil, &c.Column, i)})
				}
			}
			rec, err := columnar.Patch(records[i], patch)
			if err != nil {
				return nil, fmt.Errorf("record %d: %w", i, err)
			}
			*res = Result{Outcome: transform.OutcomeKeep, Records: []json.RawMessage{rec}, Changed: len(patch) > 0}
		case columnar.Drop:
			*res = Result{Outcome: transform.OutcomeDrop, Reason: reply.Reason(i)}
		case columnar.Error:
			*res = Result{Outcome: transform.OutcomeError, Reason: reply.Reason(i)}
		case columnar.Split:
			*res = Result{Outcome: transform.OutcomeSplit, Changed: true}
		}
	}
	for _, x := range extras {
		res := &out[x.Row]
		if x.Stream != "" {
			res.Emitted = append(res.Emitted, Emitted{Stream: x.Stream, Record: x.Record})
			continue
		}
		if res.Outcome != transform.OutcomeSplit {
			return nil, fmt.Errorf("decode reply: a piece of row %d, which is not split", x.Row)
		}
		// A piece is the input record with the piece's written columns.
		var piece map[string]json.RawMessage
		if err := json.Unmarshal(x.Record, &piece); err != nil {
			return nil, fmt.Errorf("decode reply: piece of row %d: %w", x.Row, err)
		}
		var patch []columnar.Member
		for _, name := range write {
			if v, ok := piece[name]; ok {
				patch = append(patch, columnar.Member{Name: name, Value: v})
			}
		}
		rec, err := columnar.Patch(records[x.Row], patch)
		if err != nil {
			return nil, fmt.Errorf("record %d: %w", x.Row, err)
		}
		res.Records = append(res.Records, rec)
	}
	for i := range out {
		if out[i].Outcome == transform.OutcomeSplit && len(out[i].Records) == 0 {
			return nil, fmt.Errorf("decode reply: row %d is split into no pieces", i)
		}
	}
	return out, nil
}

// canonical returns the column types of a canonical stream: those of
// sdk/schema, which the SDK does not import (it would bring Arrow into every
// module); a test of this package keeps the two the same.
func canonical(stream string) (map[string]columnar.Type, error) {
	const (
		s  = columnar.String
		j  = columnar.JSON
		b  = columnar.Bool
		i  = columnar.Int64
		ts = columnar.Timestamp
		l  = columnar.StringList
	)
	var t map[string]columnar.Type
	switch stream {
	case "users":
		t = map[string]columnar.Type{"id": s, "role": s, "name": s, "email": s, "phone": s, "organization_id": s,
			"active": b, "suspended": b, "created_at": ts, "updated_at": ts, "custom_fields": j}
	case "organizations":
		t = map[string]columnar.Type{"id": s, "name": s, "domains": l, "created_at": ts, "updated_at": ts, "custom_fields": j}
	case "groups":
		t = map[string]columnar.Type{"id": s, "name": s, "created_at": ts, "updated_at": ts}
	case "ticket_fields":
		t = map[string]columnar.Type{"id": s, "title": s, "type": s, "active": b, "options": j}
	case "tickets":
		t = map[string]columnar.Type{"id": s, "subject": s, "status": s, "priority": s, "type": s,
			"requester_id": s, "submitter_id": s, "assignee_id": s, "group_id": s, "organization_id": s,
			"tags": l, "cc_ids": l, "custom_fields": j, "created_at": ts, "updated_at": ts}
	case "comments":
		t = map[string]columnar.Type{"id": s, "ticket_id": s, "author_id": s, "public": b, "body_html": s, "body_text": s, "created_at": ts}
	case "attachments":
		t = map[string]columnar.Type{"id": s, "ticket_id": s, "comment_id": s, "article_id": s, "file_name": s,
			"content_type": s, "size": i, "url": s, "inline": b, "position": i}
	case "ticket_events":
		t = map[string]columnar.Type{"id": s, "ticket_id": s, "author_id": s, "kind": s, "detail": j, "created_at": ts}
	case "kb_categories", "kb_articles":
		t = map[string]columnar.Type{"id": s, "parent_id": s, "locale": s, "title": s, "body_html": s,
			"author_id": s, "translations": j, "created_at": ts, "updated_at": ts}
	default:
		return nil, fmt.Errorf("%q is not a canonical stream, and the transform declared columns of it", stream)
	}
	t["raw"] = j
	return t, nil
}
