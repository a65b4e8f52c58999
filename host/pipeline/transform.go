package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/ferryhq/ferry/host/stage"
	"github.com/ferryhq/ferry/host/transform"
	"github.com/ferryhq/ferry/sdk/schema"
)

// transformBatch is how many records go to a transform in one call.
const transformBatch = 1000

// TransformResult says what the transform stage did.
type TransformResult struct {
	// Tables maps each transformed stream to the table that holds its
	// transformed records, for the loader.
	Tables map[string]string
	// Counts per stream and outcome (keep, drop, split, error).
	Counts map[string]map[string]int64
}

// DerivedTable is the table holding a stream's transformed records.
func DerivedTable(stream string) string { return "transformed_" + stream }

// Transform runs the configured WASM transforms over the staged records of
// each stream they apply to, writing transformed_<stream>. Records a
// transform drops are recorded as skipped, records it fails as failed, with
// its reason, unless they were migrated already.
func Transform(ctx context.Context, env *Env, runID int64) (TransformResult, error) {
	res := TransformResult{Tables: map[string]string{}, Counts: map[string]map[string]int64{}}
	if len(env.Config.Transforms) == 0 {
		return res, nil
	}
	cacheDir := filepath.Join(env.Workspace.Dir(), "cache", "wasm")
	if err := os.MkdirAll(cacheDir, 0o700); err != nil {
		return res, fmt.Errorf("create the transform cache: %w", err)
	}
	rt, err := transform.NewRuntime(ctx, transform.Options{CacheDir: cacheDir, Logger: env.logger()})
	if err != nil {
		return res, fmt.Errorf("start the transform runtime: %w", err)
	}
	defer rt.Close(context.WithoutCancel(ctx))

	// Chains per stream, in config order.
	chains := map[string][]*transform.Module{}
	var streams []string
	for i, t := range env.Config.Transforms {
		path := env.path(t.WASM)
		wasm, err := os.ReadFile(path)
		if err != nil {
			return res, fmt.Errorf("transforms[%d]: read %s: %w", i, t.WASM, err)
		}
		cfg, err := json.Marshal(t.Config)
		if err != nil {
			return res, fmt.Errorf("transforms[%d]: encode config: %w", i, err)
		}
		name := strings.TrimSuffix(filepath.Base(path), ".wasm")
		m, err := rt.Load(ctx, wasm, name, cfg)
		if err != nil {
			return res, fmt.Errorf("transforms[%d]: %w", i, err)
		}
		on := t.Streams
		if len(on) == 0 {
			on = []string{schema.Tickets}
		}
		for _, s := range on {
			if stage.EntityOfStream(s) == "" {
				return res, fmt.Errorf("transforms[%d]: streams: %q is not a stream ferry loads (tickets, comments, attachments, users, organizations)", i, s)
			}
			if !slices.Contains(streams, s) {
				streams = append(streams, s)
			}
			chains[s] = append(chains[s], m)
		}
	}
	for _, s := range streams {
		counts, err := transformStream(ctx, env, runID, s, transform.NewChain(chains[s]...))
		if err != nil {
			return res, err
		}
		res.Tables[s] = DerivedTable(s)
		res.Counts[s] = counts
		fmt.Fprintf(env.progress(), "transform %s: %s\n", s, formatCounts(counts))
	}
	return res, nil
}

func transformStream(ctx context.Context, env *Env, runID int64, stream string, chain *transform.Chain) (map[string]int64, error) {
	ws := env.Workspace
	entity := stage.EntityOfStream(stream)
	done, err := ws.Outcomes(ctx, entity)
	if err != nil {
		return nil, err
	}
	var shas []string
	for _, m := range chain.Modules() {
		shas = append(shas, "'"+m.SHA256()+"'")
	}
	extra := map[string]string{"_transforms": "[" + strings.Join(shas, ", ") + "]::VARCHAR[]", "_run_id": fmt.Sprint(runID)}
	counts := map[string]int64{}
	var outcomes []stage.Outcome

	err = ws.ReplaceDerived(ctx, DerivedTable(stream), stream, []string{"_transforms VARCHAR[]", "_run_id BIGINT"}, extra, func(put func(arrow.RecordBatch) error) error {
		b, err := schema.NewBuilder(memory.NewGoAllocator(), stream)
		if err != nil {
			return err
		}
		defer b.Release()
		var batch []schema.Record
		flush := func() error {
			if len(batch) == 0 {
				return nil
			}
			in := make([]json.RawMessage, len(batch))
			for i, r := range batch {
				if in[i], err = json.Marshal(r); err != nil {
					return fmt.Errorf("encode %s %s: %w", stream, r.SourceID(), err)
				}
			}
			results, err := chain.Apply(ctx, stream, in)
			if err != nil {
				return fmt.Errorf("transform %s: %w", stream, err)
			}
			for i, r := range results {
				id := batch[i].SourceID()
				counts[r.Outcome.String()]++
				switch r.Outcome {
				case transform.Keep, transform.Split:
					for _, out := range r.Records {
						rec, err := schema.DecodeJSON(stream, out)
						if err == nil && r.Outcome == transform.Keep && rec.SourceID() != id {
							err = fmt.Errorf("the transform changed the record's id from %s to %s", id, rec.SourceID())
						}
						if err != nil {
							outcomes = append(outcomes, stage.Outcome{Entity: entity, SourceID: id, Outcome: stage.Failed, Reason: "transform output: " + err.Error()})
							continue
						}
						if err := b.Append(rec); err != nil {
							return err
						}
					}
				case transform.Drop:
					outcomes = append(outcomes, stage.Outcome{Entity: entity, SourceID: id, Outcome: stage.Skipped, Reason: "dropped by a transform: " + r.Reason})
				case transform.Error:
					outcomes = append(outcomes, stage.Outcome{Entity: entity, SourceID: id, Outcome: stage.Failed, Reason: "transform failed: " + r.Reason})
				}
			}
			batch = batch[:0]
			if b.Rows() == 0 {
				return nil
			}
			rec := b.NewRecordBatch()
			defer rec.Release()
			return put(rec)
		}
		err = ws.Records(ctx, stage.Select{Stream: stream, Where: selectedOnly(stream)}, func(r schema.Record) error {
			batch = append(batch, r)
			if len(batch) >= transformBatch {
				return flush()
			}
			return nil
		})
		if err != nil {
			return err
		}
		return flush()
	})
	if err != nil {
		return nil, err
	}
	var record []stage.Outcome
	for _, o := range outcomes {
		if done[o.SourceID] == stage.Migrated {
			continue // in Intercom already: a later transform's verdict does not undo that
		}
		o.Stage, o.RunID = "transform", runID
		record = append(record, o)
	}
	if err := ws.SetOutcomes(ctx, record); err != nil {
		return nil, fmt.Errorf("record the transforms' outcomes: %w", err)
	}
	return counts, nil
}

// selectedOnly narrows a stream's records to the load's selection (see
// stage.Workspace.Select): transforms need not run over what does not load.
func selectedOnly(stream string) string {
	switch stream {
	case schema.Tickets:
		return stage.SelectedTickets("id")
	case schema.Comments, schema.Attachments:
		return stage.SelectedTickets("ticket_id")
	}
	return ""
}
