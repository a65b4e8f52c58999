// Package connector is ferry's Zendesk source: it reads a Zendesk Support
// account through the REST API and maps it into ferry's canonical streams.
//
// Users and tickets come from the incremental cursor exports, so that a
// run resumes where the last one stopped and a later run reads only what
// changed; organizations, groups and ticket fields are read whole.
//
// Comments come from the incremental ticket events export, a thousand
// ticket updates a call, rather than from each ticket's comments endpoint,
// a call a ticket: they are a stream of their own, with their own cursor,
// whose records name their ticket; the host stages both streams and joins
// them (see commentsStream for why a resumed read neither loses nor
// repeats a comment). The same export brings the tickets' field changes,
// as ticket_events, when the config asks for them. The Help Center's
// categories, sections and articles come from its own API when asked for.
// Attachments are metadata only: files are not downloaded.
//
// Requests keep within the account's rate limits (see pacer). Credentials,
// an API token or an OAuth access token, go to the configured base URL's
// host and to no other, and are never logged.
package connector

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ferryhq/ferry/sdk/schema"
	"github.com/ferryhq/ferry/sdk/source"
)

// Name and Version identify the connector; its binary is
// ferry-source-zendesk.
const (
	Name    = "zendesk"
	Version = "0.1.0"
)

// workers is how many requests for per-record details (a ticket's
// comments, an article's attachments) go at once: enough to hide latency,
// few enough to stay friendly to the account's rate limit.
const workers = 4

// Connector is the Zendesk source connector. The zero Connector is ready
// to use, as is New's.
type Connector struct {
	// transport carries requests; nil uses a default with timeouts.
	transport http.RoundTripper
	// retry and check are the retry policies of reads and of Check; zero
	// ones take readPolicy and checkPolicy. Tests shorten them.
	retry, check retryPolicy
	// workers is how many detail requests go at once; 0 takes workers.
	workers int
	// window is the span the account's rate limits count over; 0 takes a
	// minute, Zendesk's. Tests shorten it to match an emulator's.
	window time.Duration
}

// New returns the Zendesk connector.
func New() *Connector {
	return &Connector{retry: readPolicy(), check: checkPolicy(), workers: workers}
}

func (c *Connector) readPolicy() retryPolicy {
	if c.retry.attempts == 0 {
		return readPolicy()
	}
	return c.retry
}

func (c *Connector) checkPolicy() retryPolicy {
	if c.check.attempts == 0 {
		return checkPolicy()
	}
	return c.check
}

// Spec describes the connector and its config.
func (c *Connector) Spec() source.Spec {
	return source.Spec{Name: Name, Version: Version, ConfigSchema: configSchema}
}

// Check verifies the config and that Zendesk accepts its credentials, as
// an admin's (the incremental exports are for admins only), and that the
// account has a Help Center when the config asks for it.
func (c *Connector) Check(ctx context.Context, raw json.RawMessage) error {
	cfg, err := parseConfig(raw)
	if err != nil {
		return err
	}
	cl, err := newClient(cfg, c.transport, c.checkPolicy(), nil, c.window)
	if err != nil {
		return err
	}
	body, err := cl.get(ctx, "/api/v2/users/me.json", nil)
	if err != nil {
		return explain(cfg, err)
	}
	var me struct {
		User *struct {
			ID     *int64 `json:"id"`
			Email  string `json:"email"`
			Role   string `json:"role"`
			Active bool   `json:"active"`
		} `json:"user"`
	}
	if err := json.Unmarshal(body, &me); err != nil || me.User == nil {
		return fmt.Errorf("%s did not answer like Zendesk (GET /api/v2/users/me.json): is base_url the account's address?", cfg.BaseURL)
	}
	switch u := me.User; {
	case u.ID == nil:
		// Zendesk answers requests it did not authenticate as the
		// anonymous user rather than with an error.
		return refused(cfg, "")
	case !u.Active:
		return fmt.Errorf("the Zendesk user %s is not active", cmp.Or(u.Email, cfg.who()))
	case u.Role != "admin":
		return fmt.Errorf("the Zendesk user %s is an %s: reading the incremental exports needs an admin's credentials", cmp.Or(u.Email, cfg.who()), strings.ReplaceAll(u.Role, "-", " "))
	}
	if cfg.HelpCenter {
		_, err := cl.get(ctx, "/api/v2/help_center/categories.json", url.Values{"page[size]": {"1"}})
		switch {
		case statusOf(err) == http.StatusNotFound:
			return fmt.Errorf("Zendesk at %s has no Help Center (404): enable Guide for the account, or set help_center to false", cfg.BaseURL)
		case err != nil:
			return fmt.Errorf("check the Help Center: %w", explain(cfg, err))
		}
	}
	return nil
}

// refused says that Zendesk did not accept the config's credentials, and
// what to check for the kind of credentials it has.
func refused(cfg Config, status string) error {
	if cfg.OAuthToken != "" {
		return fmt.Errorf("Zendesk at %s did not accept the OAuth access token%s: it may have expired or been revoked, or belong to another account", cfg.BaseURL, status)
	}
	return fmt.Errorf("Zendesk at %s did not accept the credentials of %s%s: check email and token, and that API token access is enabled (Admin Center, Apps and integrations, Zendesk API)", cfg.BaseURL, cfg.Email, status)
}

// explain turns a failed Check request into what a person can act on.
func explain(cfg Config, err error) error {
	switch statusOf(err) {
	case 0:
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("check Zendesk at %s: %w", cfg.BaseURL, err)
		}
		return fmt.Errorf("cannot reach Zendesk at %s: %w", cfg.BaseURL, err)
	case http.StatusUnauthorized:
		return refused(cfg, " (401)")
	case http.StatusForbidden:
		return fmt.Errorf("Zendesk at %s refused %s access (403): %w", cfg.BaseURL, cfg.who(), err)
	case http.StatusNotFound:
		return fmt.Errorf("%s has no Zendesk API (404): is base_url the account's address, such as https://acme.zendesk.com?", cfg.BaseURL)
	}
	return fmt.Errorf("check Zendesk at %s: %w", cfg.BaseURL, err)
}

// Streams lists the streams the connector reads, in the order the host
// stages them: people and their companies and teams, the fields, the
// tickets, the knowledge base when asked for, and last the comments, whose
// export is the longest read: whatever is short is staged before it.
func (c *Connector) Streams(raw json.RawMessage) ([]source.Stream, error) {
	cfg, err := parseConfig(raw)
	if err != nil {
		return nil, err
	}
	// Each stream logs through its Emitter; the shared client logs
	// nowhere until then.
	cl, err := newClient(cfg, c.transport, c.readPolicy(), slog.New(slog.DiscardHandler), c.window)
	if err != nil {
		return nil, err
	}
	listSize := min(cfg.PageSize, maxListPage)
	n := cmp.Or(c.workers, workers)
	streams := []source.Stream{
		&usersStream{c: cl, pageSize: cfg.PageSize},
		&listStream[*schema.Organization]{c: cl, name: schema.Organizations, path: "/api/v2/organizations.json", key: "organizations", pageSize: listSize, mapper: mapOrganization},
		&listStream[*schema.Group]{c: cl, name: schema.Groups, path: "/api/v2/groups.json", key: "groups", pageSize: listSize, mapper: mapGroup},
		&listStream[*schema.TicketField]{c: cl, name: schema.TicketFields, path: "/api/v2/ticket_fields.json", key: "ticket_fields", pageSize: listSize, mapper: mapTicketField},
		&ticketsStream{c: cl, pageSize: cfg.PageSize},
	}
	if cfg.HelpCenter {
		streams = append(streams, &kbCategoriesStream{c: cl}, &kbArticlesStream{c: cl, workers: n})
	}
	streams = append(streams, &commentsStream{c: cl, pageSize: cfg.PageSize, workers: n, ticketEvents: cfg.TicketEvents})
	return streams, nil
}
