package pipeline

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
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
	cfg := env.Config
	path, err := plugin.Locate(cfg.Source.Plugin, plugin.SearchDirs(env.PluginDirs...))
	if err != nil {
		return ExtractResult{}, err
	}
	srcConfig, err := cfg.SourceConfigJSON()
	if err != nil {
		return ExtractResult{}, fmt.Errorf("encode the source config: %w", err)
	}
	src, err := plugin.Start(ctx, cfg.Source.Plugin, path, plugin.Options{SHA256: cfg.Source.SHA256, Logger: env.logger()})
	if err != nil {
		return ExtractResult{}, err
	}
	defer src.Close()
	spec, err := src.Spec(ctx)
	if err != nil {
		return ExtractResult{}, err
	}
	env.logger().Info("source plugin started", "plugin", spec.Name, "version", spec.Version, "path", path)
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
	h := &countingHandler{Ingest: in, prog: prog}
	err = src.Read(ctx, srcConfig, plugin.ReadOptions{Cursors: cursors, Progress: prog.total}, h)
	prog.stop()
	res := ExtractResult{Rows: in.Committed()}
	if err != nil {
		return res, err
	}
	fmt.Fprintf(env.progress(), "extract: done, %s\n", formatCounts(res.Rows))
	return res, nil
}

// countingHandler stages through the Ingest and counts rows for progress.
type countingHandler struct {
	*stage.Ingest
	prog *progress
}

func (h *countingHandler) Batch(ctx context.Context, stream string, rec arrow.RecordBatch) error {
	if err := h.Ingest.Batch(ctx, stream, rec); err != nil {
		return err
	}
	h.prog.add(stream, rec.NumRows())
	return nil
}

func formatCounts(m map[string]int64) string {
	if len(m) == 0 {
		return "nothing new"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d %s", m[k], k)
	}
	return strings.Join(parts, ", ")
}

// progress prints one line per stage and second while records flow, so a
// long run shows it is alive without flooding the terminal.
type progress struct {
	env   *Env
	stage string
	start time.Time

	mu     sync.Mutex
	counts map[string]int64
	totals map[string]int64
	last   string
	done   chan struct{}
	once   sync.Once
}

func newProgress(env *Env, stage string) *progress {
	p := &progress{env: env, stage: stage, start: time.Now(), counts: map[string]int64{}, totals: map[string]int64{}, done: make(chan struct{})}
	go p.loop()
	return p
}

func (p *progress) add(stream string, n int64) {
	p.mu.Lock()
	p.counts[stream] += n
	p.mu.Unlock()
}

func (p *progress) total(stream string, _, total int64) {
	p.mu.Lock()
	if total > 0 {
		p.totals[stream] = total
	}
	p.mu.Unlock()
}

func (p *progress) loop() {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-p.done:
			return
		case <-t.C:
			p.print()
		}
	}
}

func (p *progress) print() {
	p.mu.Lock()
	defer p.mu.Unlock()
	secs := time.Since(p.start).Seconds()
	var parts []string
	keys := make([]string, 0, len(p.counts))
	for k := range p.counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		n := p.counts[k]
		s := fmt.Sprintf("%s %d (%.0f/s)", k, n, float64(n)/secs)
		if t := p.totals[k]; t > 0 && n < t {
			rate := float64(n) / secs
			if rate > 0 {
				s += fmt.Sprintf(" of %d, ~%s left", t, (time.Duration(float64(t-n)/rate) * time.Second).Round(time.Second))
			}
		}
		parts = append(parts, s)
	}
	line := strings.Join(parts, ", ")
	if line == "" || line == p.last {
		return
	}
	p.last = line
	fmt.Fprintf(p.env.progress(), "%s: %s\n", p.stage, line)
}

func (p *progress) stop() {
	p.once.Do(func() { close(p.done) })
}
