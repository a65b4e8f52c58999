package pipeline

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// progress shows how a stage advances, per stream or entity: the records so
// far, their rate, and an estimate of the time left when the source says how
// many there are. On a terminal it draws a bar each; elsewhere (a CI log, a
// file) it prints a line every few seconds, so a long run shows it is alive
// without flooding the log.
type progress struct {
	stage string
	out   io.Writer
	start time.Time

	mu     sync.Mutex
	counts map[string]int64
	totals map[string]int64
	order  []string

	// bars, on a terminal; shared: the container is a migration's, which
	// shows the extract's bars and the load's together, and waits for them
	bars   *mpb.Progress
	bar    map[string]*mpb.Bar
	shared bool

	// lines, elsewhere
	last string
	done chan struct{}
	once sync.Once
}

// lineInterval is how often progress lines are printed off a terminal.
const lineInterval = 2 * time.Second

func newProgress(env *Env, stage string) *progress {
	p := &progress{stage: stage, out: env.progress(), start: time.Now(), counts: map[string]int64{}, totals: map[string]int64{}, done: make(chan struct{})}
	if env.bars != nil {
		p.bars, p.bar, p.shared = env.bars, map[string]*mpb.Bar{}, true
		return p
	}
	if f, ok := env.terminal(); ok {
		p.bars = newBars(f)
		p.bar = map[string]*mpb.Bar{}
		return p
	}
	go p.loop()
	return p
}

// newBars is a container of progress bars drawn on a terminal.
func newBars(f *os.File) *mpb.Progress {
	return mpb.New(mpb.WithOutput(f), mpb.WithWidth(32), mpb.WithRefreshRate(150*time.Millisecond))
}

// terminal returns the terminal progress goes to, if it goes to one.
func (e *Env) terminal() (*os.File, bool) {
	f, ok := e.Progress.(*os.File)
	return f, ok && isatty.IsTerminal(f.Fd())
}

// add counts n more records of key (a stream, or "entity outcome").
func (p *progress) add(key string, n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.counts[key]; !ok {
		p.order = append(p.order, key)
	}
	p.counts[key] += n
	if p.bars != nil {
		p.barFor(key).IncrInt64(n)
	}
}

// total notes how many records a stream has, when the source says.
func (p *progress) total(stream string, _, total int64) {
	if total <= 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.totals[stream] = total
	if p.bars != nil {
		if b, ok := p.bar[stream]; ok {
			b.SetTotal(total, false)
		}
	}
}

// left notes that key has n records left to do: its total is what is
// done so far and those (a migration's load passes each say what is left).
func (p *progress) left(key string, n int64) {
	p.mu.Lock()
	done := p.counts[key]
	p.mu.Unlock()
	p.total(key, 0, done+n)
}

func (p *progress) barFor(key string) *mpb.Bar {
	if b, ok := p.bar[key]; ok {
		return b
	}
	name := fmt.Sprintf("%s %s", p.stage, key)
	var b *mpb.Bar
	if t := p.totals[key]; t > 0 {
		b = p.bars.New(t, mpb.BarStyle(),
			mpb.PrependDecorators(decor.Name(name, decor.WCSyncSpaceR), decor.CountersNoUnit("%d / %d", decor.WCSyncSpace)),
			mpb.AppendDecorators(decor.AverageSpeed(0, "%.0f/s", decor.WCSyncSpace), decor.OnComplete(decor.AverageETA(decor.ET_STYLE_GO, decor.WCSyncSpace), "done")))
	} else {
		b = p.bars.New(0, mpb.NopStyle(),
			mpb.PrependDecorators(decor.Name(name, decor.WCSyncSpaceR), decor.CurrentNoUnit("%d", decor.WCSyncSpace)),
			mpb.AppendDecorators(decor.AverageSpeed(0, "%.0f/s", decor.WCSyncSpace)))
	}
	p.bar[key] = b
	return b
}

func (p *progress) loop() {
	t := time.NewTicker(lineInterval)
	defer t.Stop()
	for {
		select {
		case <-p.done:
			return
		case <-t.C:
			p.printLine()
		}
	}
}

func (p *progress) printLine() {
	p.mu.Lock()
	defer p.mu.Unlock()
	secs := time.Since(p.start).Seconds()
	keys := append([]string{}, p.order...)
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		n := p.counts[k]
		rate := float64(n) / secs
		s := fmt.Sprintf("%s %d (%.0f/s)", k, n, rate)
		if t := p.totals[k]; t > 0 && n < t && rate > 0 {
			s += fmt.Sprintf(" of %d, ~%s left", t, (time.Duration(float64(t-n)/rate) * time.Second).Round(time.Second))
		}
		parts = append(parts, s)
	}
	line := strings.Join(parts, ", ")
	if line == "" || line == p.last {
		return
	}
	p.last = line
	fmt.Fprintf(p.out, "%s: %s\n", p.stage, line)
}

// stop ends the display; bars are completed and drawn one last time.
func (p *progress) stop() {
	p.once.Do(func() {
		close(p.done)
		if p.bars != nil {
			p.mu.Lock()
			for _, b := range p.bar {
				b.SetTotal(-1, true)
			}
			p.mu.Unlock()
			if !p.shared {
				p.bars.Wait()
			}
		}
	})
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
