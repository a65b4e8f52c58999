package plugin

import (
	"context"
	"sync"
	"time"

	sourcev1 "github.com/ferryhq/ferry/sdk/proto/source/v1"
)

// watchdog tells a slow source from a hung plugin: any message resets the
// idle clock, only data (a batch, checkpoint, record outcome or a progress
// that moved) resets the stall clock.
type watchdog struct {
	idle, stall time.Duration

	mu       sync.Mutex
	lastAny  time.Time
	lastData time.Time
	progress map[string]int64
}

func newWatchdog(idle, stall time.Duration) *watchdog {
	now := time.Now()
	return &watchdog{idle: idle, stall: stall, lastAny: now, lastData: now, progress: map[string]int64{}}
}

// heard notes a message from the plugin.
func (w *watchdog) heard(m *sourcev1.ReadMessage) {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := time.Now()
	w.lastAny = now
	switch msg := m.GetMessage().(type) {
	case *sourcev1.ReadMessage_Log:
		// A log line is not progress: a stuck plugin may log forever.
	case *sourcev1.ReadMessage_Progress:
		p := msg.Progress
		if prev, ok := w.progress[p.GetStream()]; !ok || prev != p.GetDone() {
			w.progress[p.GetStream()] = p.GetDone()
			w.lastData = now
		}
	default:
		w.lastData = now
	}
}

// run calls stop once with why the read is hung, or returns when ctx ends.
func (w *watchdog) run(ctx context.Context, stop func(error)) {
	tick := min(w.idle, w.stall) / 10
	t := time.NewTicker(max(tick, 10*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			w.mu.Lock()
			silent, stalled := now.Sub(w.lastAny), now.Sub(w.lastData)
			w.mu.Unlock()
			switch {
			case silent >= w.idle:
				stop(&HungError{Silent: true, For: w.idle})
				return
			case stalled >= w.stall:
				stop(&HungError{For: w.stall})
				return
			}
		}
	}
}
