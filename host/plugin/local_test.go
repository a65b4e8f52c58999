package plugin_test

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/ferryhq/ferry/host/plugin"
	"github.com/ferryhq/ferry/sdk/schema"
	"github.com/ferryhq/ferry/sdk/source"
)

// numbers is a connector of n tickets, linked in-process.
type numbers struct{ n, failAt int }

func (c numbers) Spec() source.Spec {
	return source.Spec{Name: "numbers", Version: "1.0.0", ConfigSchema: `{"type":"object"}`}
}
func (c numbers) Check(context.Context, json.RawMessage) error     { return nil }
func (c numbers) Streams(json.RawMessage) ([]source.Stream, error) { return []source.Stream{c}, nil }
func (c numbers) Info() source.StreamInfo                          { return source.StreamInfo{Name: schema.Tickets} }

func (c numbers) Read(ctx context.Context, _ []byte, out *source.Emitter) error {
	for i := 1; i <= c.n; i++ {
		if i == c.failAt {
			return errors.New("source went away")
		}
		if err := out.Emit(ctx, &schema.Ticket{ID: strconv.Itoa(i)}); err != nil {
			return err
		}
		if i%1000 == 0 {
			if err := out.Checkpoint(ctx, []byte(strconv.Itoa(i))); err != nil {
				return err
			}
		}
	}
	return nil
}

func TestLocal(t *testing.T) {
	src := plugin.Local("numbers", numbers{n: 25_000}, plugin.Options{})
	defer src.Close()
	spec, err := src.Spec(t.Context())
	if err != nil || spec.Version != "1.0.0" {
		t.Fatalf("spec = %+v, %v", spec, err)
	}
	var r recorder
	if err := src.Read(t.Context(), nil, plugin.ReadOptions{}, &r); err != nil {
		t.Fatal(err)
	}
	if r.committed != 25_000 || string(r.cursors["tickets"]) != "25000" {
		t.Errorf("committed %d, cursor %q", r.committed, r.cursors["tickets"])
	}

	src = plugin.Local("numbers", numbers{n: 25_000, failAt: 4500}, plugin.Options{})
	var r2 recorder
	err = src.Read(t.Context(), nil, plugin.ReadOptions{}, &r2)
	if err == nil || !strings.Contains(err.Error(), `plugin numbers, stream tickets, after checkpoint "4000": read stream tickets: source went away`) {
		t.Errorf("err = %v", err)
	}
}
