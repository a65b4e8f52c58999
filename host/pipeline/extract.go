package pipeline

import (
	"context"
	"fmt"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/ferryhq/ferry/host/plugin"
	"github.com/ferryhq/ferry/host/stage"
)

// ExtractResult counts what an extract committed.
type ExtractResult struct {
	// Rows committed per stream.
	Rows map[string]int64
}

// Extract reads the configured source into the workspace, resuming each
// stream after its last committed checkpoint.
func Extract(ctx context.Context, env *Env, runID int64) (ExtractResult, error) {
	return extract(ctx, env, runID, nil)
}

// extract is Extract telling onMark (when set) of each mark a stream
// commits (see plugin.MarkHandler).
func extract(ctx context.Context, env *Env, runID int64, onMark func(stream string, through time.Time)) (ExtractResult, error) {
	cfg := env.Config
	path, err := plugin.Locate(cfg.Source.Plugin, plugin.SearchDirs(env.PluginDirs...))
	if err != nil {
		return ExtractResult{}, err
	}
	src, err := plugin.Start(ctx, cfg.Source.Plugin, path, plugin.Options{
		SHA256: cfg.Source.SHA256, Logger: env.logger(), StallTimeout: time.Duration(cfg.Source.StallTimeout),
	})
	if err != nil {
		return ExtractResult{}, err
	}
	defer src.Close()
	return extractFrom(ctx, env, runID, src, onMark)
}

// ExtractFrom reads a started source into the workspace: Extract's work
// once the plugin runs, also used with a connector linked in-process
// (plugin.Local) to measure what the plugin boundary costs.
func ExtractFrom(ctx context.Context, env *Env, runID int64, src *plugin.Source) (ExtractResult, error) {
	return extractFrom(ctx, env, runID, src, nil)
}

func extractFrom(ctx context.Context, env *Env, runID int64, src *plugin.Source, onMark func(stream string, through time.Time)) (ExtractResult, error) {
	srcConfig, err := env.Config.SourceConfigJSON()
	if err != nil {
		return ExtractResult{}, fmt.Errorf("encode the source config: %w", err)
	}
	spec, err := src.Spec(ctx)
	if err != nil {
		return ExtractResult{}, err
	}
	env.logger().Info("source plugin started", "plugin", spec.Name, "version", spec.Version, "path", src.Path())
	if err := src.Check(ctx, srcConfig); err != nil {
		return ExtractResult{}, err
	}
	cursors, err := env.Workspace.Cursors(ctx)
	if err != nil {
		return ExtractResult{}, err
	}
	in, err := env.Workspace.NewIngest(ctx, runID)
	if err != nil {
		return ExtractResult{}, err
	}
	defer in.Close()

	prog := newProgress(env, "extract")
	defer prog.stop()
	h := &countingHandler{Ingest: in, prog: prog, onMark: onMark}
	err = src.Read(ctx, srcConfig, plugin.ReadOptions{Cursors: cursors, Progress: prog.total}, h)
	prog.stop()
	res := ExtractResult{Rows: in.Committed()}
	if err != nil {
		return res, err
	}
	fmt.Fprintf(env.progress(), "extract: done, %s\n", formatCounts(res.Rows))
	return res, nil
}

// countingHandler stages through the Ingest, counts rows for progress and
// passes the streams' marks on.
type countingHandler struct {
	*stage.Ingest
	prog   *progress
	onMark func(stream string, through time.Time)
}

// CompleteThrough hears a stream's mark, committed with its checkpoint.
func (h *countingHandler) CompleteThrough(_ context.Context, stream string, through time.Time) {
	if h.onMark != nil {
		h.onMark(stream, through)
	}
}

func (h *countingHandler) Batch(ctx context.Context, stream string, rec arrow.RecordBatch) error {
	if err := h.Ingest.Batch(ctx, stream, rec); err != nil {
		return err
	}
	h.prog.add(stream, rec.NumRows())
	return nil
}
