package connector

import (
	"encoding/json"
	"testing"

	"github.com/ferryhq/ferry/plugins/freshdesk/freshdesktest"
	"github.com/ferryhq/ferry/sdk/source/sourcetest"
)

func TestConformance(t *testing.T) {
	// Small pages, so that streams checkpoint several times.
	f := startFreshdesk(t, freshdesktest.GenerateOptions{Seed: 3, Tickets: 80}, freshdesktest.ServerOptions{})
	sourcetest.Run(t, testConnector(), f.config(t, 10), sourcetest.Options{
		BadConfigs: []json.RawMessage{
			json.RawMessage(`{}`),
			configFor(t, f.ts.URL, "not-the-key", 10),
			configFor(t, "ftp://acme.example", "key", 10),
			configFor(t, "http://acme.freshdesk.example", "key", 10),
			json.RawMessage(`{"base_url": "` + f.ts.URL + `", "api_key": "k", "page_size": 101}`),
			json.RawMessage(`{"base_url": "` + f.ts.URL + `", "apikey": "k"}`),
		},
	})
}
