// Command ferry-source-counter is a source plugin for host/plugin's tests:
// it emits numbered tickets with a checkpoint every "every" records and can
// crash or fail on request, so the host's handling of each can be tested
// against a real plugin subprocess.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"syscall"

	"github.com/ferryhq/ferry/sdk/schema"
	"github.com/ferryhq/ferry/sdk/source"
)

type config struct {
	Tickets     int `json:"tickets"`
	Every       int `json:"every"`
	CrashAfter  int `json:"crash_after"`  // exit the process after this many tickets
	FailAfter   int `json:"fail_after"`   // return an error after this many tickets
	BadRecord   int `json:"bad_record"`   // report this ticket as a record error
	HangAfter   int `json:"hang_after"`   // block forever after this many tickets (the SDK's heartbeat goes on)
	FreezeAfter int `json:"freeze_after"` // stop the whole process (SIGSTOP) after this many tickets
	StdoutAfter int `json:"stdout_after"` // print to stdout after this many tickets
}

type counter struct{}

func (counter) Spec() source.Spec {
	return source.Spec{Name: "counter", Version: "0.0.1", ConfigSchema: `{"type":"object"}`}
}

func (counter) Check(_ context.Context, raw json.RawMessage) error {
	var c config
	if err := json.Unmarshal(raw, &c); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	if c.Tickets < 0 {
		return fmt.Errorf("tickets must be 0 or more")
	}
	return nil
}

func (counter) Streams(raw json.RawMessage) ([]source.Stream, error) {
	var c config
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, err
	}
	return []source.Stream{tickets{c}}, nil
}

type tickets struct{ c config }

func (t tickets) Info() source.StreamInfo {
	return source.StreamInfo{Name: schema.Tickets, CursorField: "id"}
}

func (t tickets) Read(ctx context.Context, cursor []byte, out *source.Emitter) error {
	start := 0
	if cursor != nil {
		n, err := strconv.Atoi(string(cursor))
		if err != nil {
			return fmt.Errorf("bad cursor %q", cursor)
		}
		start = n
	}
	for i := start + 1; i <= t.c.Tickets; i++ {
		if i == t.c.BadRecord {
			if err := out.RecordError(ctx, schema.Tickets, strconv.Itoa(i), "ticket is unreadable"); err != nil {
				return err
			}
		} else if err := out.Emit(ctx, &schema.Ticket{ID: strconv.Itoa(i), Subject: fmt.Sprintf("ticket %d", i)}); err != nil {
			return err
		}
		if i == t.c.CrashAfter {
			os.Exit(3)
		}
		if i == t.c.FailAfter {
			return fmt.Errorf("the source answered 500 at ticket %d", i)
		}
		if i == t.c.HangAfter {
			<-ctx.Done()
			return ctx.Err()
		}
		if i == t.c.FreezeAfter {
			syscall.Kill(os.Getpid(), syscall.SIGSTOP)
		}
		if i == t.c.StdoutAfter {
			fmt.Println("debug: ticket", i)
		}
		if t.c.Every > 0 && i%t.c.Every == 0 {
			if err := out.Checkpoint(ctx, []byte(strconv.Itoa(i))); err != nil {
				return err
			}
		}
	}
	return out.Progress(int64(t.c.Tickets), int64(t.c.Tickets))
}

func main() { source.Serve(counter{}) }
