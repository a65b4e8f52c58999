package pipeline

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

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
