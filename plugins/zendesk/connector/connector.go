// Package connector is ferry's Zendesk source: it reads a Zendesk Support
// account through the REST API and maps it into ferry's canonical streams.
//
// Users and tickets come from the incremental cursor exports, so that a
// run resumes where the last one stopped and a later run reads only what
// changed; organizations, groups and ticket fields are read whole. Each
// page of tickets brings its tickets' comments and the comments'
// attachments (metadata only: files are not downloaded), and is committed
// whole with the export's cursor.
//
// Credentials go to the configured base URL's host and to no other, and
// are never logged.
package connector

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/ferryhq/ferry/sdk/schema"
	"github.com/ferryhq/ferry/sdk/source"
)

// Name and Version identify the connector; its binary is
// ferry-source-zendesk.
const (
	Name    = "zendesk"
	Version = "0.1.0"
)

// commentWorkers is how many tickets' comments are fetched at once: enough
// to hide latency, few enough to stay friendly to the account's rate limit.
const commentWorkers = 4

// Connector is the Zendesk source connector. The zero Connector is ready
// to use, as is New's.
type Connector struct {
	// transport carries requests; nil uses a default with timeouts.
	transport http.RoundTripper
	// retry and check are the retry policies of reads and of Check; zero
	// ones take readPolicy and checkPolicy. Tests shorten them.
	retry, check retryPolicy
	// workers is how many tickets' comments are fetched at once; 0 takes
	// commentWorkers.
	workers int
}

// New returns the Zendesk connector.
func New() *Connector {
	return &Connector{retry: readPolicy(), check: checkPolicy(), workers: commentWorkers}
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
// an admin: the incremental exports are for admins only.
func (c *Connector) Check(ctx context.Context, raw json.RawMessage) error {
	cfg, err := parseConfig(raw)
	if err != nil {
		return err
	}
	cl, err := newClient(cfg, c.transport, c.checkPolicy(), nil)
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
		return fmt.Errorf("Zendesk at %s did not accept the credentials of %s: check email and token, and that API token access is enabled (Admin Center, Apps and integrations, Zendesk API)", cfg.BaseURL, cfg.Email)
	case !u.Active:
		return fmt.Errorf("the Zendesk user %s is not active", cfg.Email)
	case u.Role != "admin":
		return fmt.Errorf("the Zendesk user %s is an %s: reading the incremental exports needs an admin's API token", cfg.Email, strings.ReplaceAll(u.Role, "-", " "))
	}
	return nil
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
		return fmt.Errorf("Zendesk at %s did not accept the credentials of %s (401): check email and token, and that API token access is enabled (Admin Center, Apps and integrations, Zendesk API)", cfg.BaseURL, cfg.Email)
	case http.StatusForbidden:
		return fmt.Errorf("Zendesk at %s refused %s access (403): %w", cfg.BaseURL, cfg.Email, err)
	case http.StatusNotFound:
		return fmt.Errorf("%s has no Zendesk API (404): is base_url the account's address, such as https://acme.zendesk.com?", cfg.BaseURL)
	}
	return fmt.Errorf("check Zendesk at %s: %w", cfg.BaseURL, err)
}

// Streams lists the streams the connector reads, in the order the host
// stages them: people and their companies and teams, the fields, then
// the tickets with their conversations.
func (c *Connector) Streams(raw json.RawMessage) ([]source.Stream, error) {
	cfg, err := parseConfig(raw)
	if err != nil {
		return nil, err
	}
	// Each stream logs through its Emitter; the shared client logs
	// nowhere until then.
	cl, err := newClient(cfg, c.transport, c.readPolicy(), slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, err
	}
	listSize := min(cfg.PageSize, maxListPage)
	return []source.Stream{
		&usersStream{c: cl, pageSize: cfg.PageSize},
		&listStream[*schema.Organization]{c: cl, name: schema.Organizations, path: "/api/v2/organizations.json", key: "organizations", pageSize: listSize, mapper: mapOrganization},
		&listStream[*schema.Group]{c: cl, name: schema.Groups, path: "/api/v2/groups.json", key: "groups", pageSize: listSize, mapper: mapGroup},
		&listStream[*schema.TicketField]{c: cl, name: schema.TicketFields, path: "/api/v2/ticket_fields.json", key: "ticket_fields", pageSize: listSize, mapper: mapTicketField},
		&ticketsStream{c: cl, pageSize: cfg.PageSize, workers: cmp.Or(c.workers, commentWorkers)},
	}, nil
}
