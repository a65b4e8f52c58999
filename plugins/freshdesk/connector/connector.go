// Package connector is ferry's Freshdesk source: it reads a Freshdesk
// account through API v2 and maps it into ferry's canonical streams.
//
// Users (agents and contacts) and tickets are read by update time, so that
// a later run reads only what changed; companies, groups, ticket fields
// and the knowledge base are read whole. Each page of tickets brings its
// tickets' descriptions, conversations and attachment metadata (files are
// not downloaded), and is committed whole with the cursor after it. Spam
// and deleted tickets are reported as skipped.
//
// The API key goes to the configured base URL's host and to no other, and
// is never logged.
package connector

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/ferryhq/ferry/sdk/schema"
	"github.com/ferryhq/ferry/sdk/source"
)

// Name and Version identify the connector; its binary is
// ferry-source-freshdesk.
const (
	Name    = "freshdesk"
	Version = "0.1.0"
)

// ticketWorkers is how many tickets are fetched at once: enough to hide
// latency, few enough to stay friendly to the account's rate limit.
const ticketWorkers = 4

// Connector is the Freshdesk source connector. The zero Connector is ready
// to use, as is New's.
type Connector struct {
	// transport carries requests; nil uses a default with timeouts.
	transport http.RoundTripper
	// retry and check are the retry policies of reads and of Check; zero
	// ones take readPolicy and checkPolicy. Tests shorten them.
	retry, check retryPolicy
	// workers is how many tickets are fetched at once; 0 takes
	// ticketWorkers.
	workers int
	// now is the clock reads start by (nil: time.Now), and lag the window
	// of recent updates left for the next read (0: source.DefaultLag).
	now func() time.Time
	lag time.Duration
	// rateWindow is the span Freshdesk's rate limit counts over (0: a
	// minute); tests run the emulator with a shorter one.
	rateWindow time.Duration
}

// New returns the Freshdesk connector.
func New() *Connector {
	return &Connector{retry: readPolicy(), check: checkPolicy(), workers: ticketWorkers}
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

func (c *Connector) clock() clock {
	if c.now == nil {
		return time.Now
	}
	return c.now
}

// Spec describes the connector and its config.
func (c *Connector) Spec() source.Spec {
	return source.Spec{Name: Name, Version: Version, ConfigSchema: configSchema}
}

// Check verifies the config and that Freshdesk accepts its API key, for an
// agent who sees every ticket.
func (c *Connector) Check(ctx context.Context, raw json.RawMessage) error {
	cfg, err := parseConfig(raw)
	if err != nil {
		return err
	}
	cl, err := newClient(cfg, c.transport, c.checkPolicy(), c.rateWindow, nil)
	if err != nil {
		return err
	}
	body, err := cl.getObject(ctx, "/api/v2/agents/me", nil)
	if err != nil {
		return explain(cfg, err)
	}
	var me struct {
		ID          int64 `json:"id"`
		TicketScope int   `json:"ticket_scope"`
		Contact     *struct {
			Email string `json:"email"`
		} `json:"contact"`
	}
	if err := json.Unmarshal(body, &me); err != nil || me.ID == 0 || me.Contact == nil {
		return fmt.Errorf("%s did not answer like Freshdesk (GET /api/v2/agents/me): is base_url the account's address?", cfg.BaseURL)
	}
	if me.TicketScope > 1 {
		// Freshdesk would list only some tickets, and nothing would say so.
		return fmt.Errorf("the Freshdesk agent %s sees only some tickets (ticket scope %d): use the API key of an agent with global access", me.Contact.Email, me.TicketScope)
	}
	return nil
}

// explain turns a failed Check request into what a person can act on.
func explain(cfg Config, err error) error {
	switch statusOf(err) {
	case 0:
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("check Freshdesk at %s: %w", cfg.BaseURL, err)
		}
		return fmt.Errorf("cannot reach Freshdesk at %s: %w", cfg.BaseURL, err)
	case http.StatusUnauthorized:
		return fmt.Errorf("Freshdesk at %s did not accept the API key (401): check api_key (Profile settings, View API key)", cfg.BaseURL)
	case http.StatusForbidden:
		return fmt.Errorf("Freshdesk at %s refused access (403): %w", cfg.BaseURL, err)
	case http.StatusNotFound:
		return fmt.Errorf("%s has no Freshdesk API (404): is base_url the account's address, such as https://acme.freshdesk.com?", cfg.BaseURL)
	}
	return fmt.Errorf("check Freshdesk at %s: %w", cfg.BaseURL, err)
}

// Streams lists the streams the connector reads, in the order the host
// stages them: people and their companies and teams, the fields, the
// tickets with their conversations, then the knowledge base.
func (c *Connector) Streams(raw json.RawMessage) ([]source.Stream, error) {
	cfg, err := parseConfig(raw)
	if err != nil {
		return nil, err
	}
	// Each stream logs through its Emitter; the shared client logs
	// nowhere until then.
	cl, err := newClient(cfg, c.transport, c.readPolicy(), c.rateWindow, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, err
	}
	return []source.Stream{
		&usersStream{c: cl, pageSize: cfg.PageSize, now: c.clock(), lag: c.lag},
		&listStream[*schema.Organization]{c: cl, name: schema.Organizations, path: "/api/v2/companies", pageSize: cfg.PageSize, mapper: mapCompany},
		&listStream[*schema.Group]{c: cl, name: schema.Groups, path: "/api/v2/groups", pageSize: cfg.PageSize, mapper: mapGroup},
		&listStream[*schema.TicketField]{c: cl, name: schema.TicketFields, path: "/api/v2/ticket_fields", mapper: mapTicketField},
		&ticketsStream{c: cl, pageSize: cfg.PageSize, workers: cmp.Or(c.workers, ticketWorkers), now: c.clock(), lag: c.lag},
		&kbStream{c: cl, name: schema.KBCategories, pageSize: cfg.PageSize},
		&kbStream{c: cl, name: schema.KBArticles, pageSize: cfg.PageSize},
	}, nil
}
