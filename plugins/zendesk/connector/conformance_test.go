package connector

import (
	"encoding/json"
	"testing"

	"github.com/ferryhq/ferry/plugins/zendesk/zendesktest"
	"github.com/ferryhq/ferry/sdk/source/sourcetest"
)

func TestConformance(t *testing.T) {
	// Small pages, so that streams checkpoint several times.
	z := startZendesk(t, zendesktest.GenerateOptions{Seed: 3, Tickets: 120}, zendesktest.ServerOptions{})
	cfg := z.config(t, 25)
	email, _ := z.srv.Credentials()
	bad := func(c Config) json.RawMessage {
		b, _ := json.Marshal(c)
		return b
	}
	sourcetest.Run(t, testConnector(), cfg, sourcetest.Options{
		BadConfigs: []json.RawMessage{
			json.RawMessage(`{}`),
			bad(Config{BaseURL: z.ts.URL, Email: email, Token: "wrong"}),
			bad(Config{BaseURL: "ftp://acme.example", Email: email, Token: "x"}),
		},
	})
}
