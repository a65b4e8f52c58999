package connector

import (
	"encoding/json"
	"testing"

	"github.com/ferryhq/ferry/plugins/zendesk/zendesktest"
	"github.com/ferryhq/ferry/sdk/source/sourcetest"
)

func TestConformance(t *testing.T) {
	// Small pages, so that the incremental streams checkpoint several times
	// and the kit resumes each from the middle.
	z := startZendesk(t, zendesktest.GenerateOptions{Seed: 3, Tickets: 120}, zendesktest.ServerOptions{})
	email, token := z.srv.Credentials()
	bad := func(c Config) json.RawMessage {
		b, _ := json.Marshal(c)
		return b
	}
	badConfigs := []json.RawMessage{
		json.RawMessage(`{}`),
		bad(Config{BaseURL: z.ts.URL, Email: email, Token: "wrong"}),
		bad(Config{BaseURL: z.ts.URL, OAuthToken: "wrong"}),
		bad(Config{BaseURL: z.ts.URL, Email: email, Token: token, OAuthToken: z.srv.OAuthToken()}),
		bad(Config{BaseURL: "ftp://acme.example", Email: email, Token: "x"}),
	}
	for _, tt := range []struct {
		name string
		cfg  json.RawMessage
	}{
		{"every option, API token", z.config(t, 25, everything)},
		{"every option, OAuth", z.config(t, 25, everything, z.withOAuth)},
		{"defaults", z.config(t, 25)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sourcetest.Run(t, testConnector(), tt.cfg, sourcetest.Options{BadConfigs: badConfigs})
		})
	}
}
