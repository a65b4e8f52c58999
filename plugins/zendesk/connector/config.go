package connector

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
)

// Config is the connector's configuration, as ferry.yaml's source.config
// gives it.
type Config struct {
	// BaseURL is the account's address, such as https://acme.zendesk.com.
	BaseURL string `json:"base_url"`
	// Email is the address of the admin whose API token Token is.
	Email string `json:"email,omitempty"`
	// Token is a Zendesk API token. It is a secret: it goes to BaseURL's
	// host and nowhere else, and is never logged.
	Token string `json:"token,omitempty"`
	// OAuthToken is an OAuth access token, the other way to sign in: give
	// either Email and Token or OAuthToken. It is as secret as Token.
	OAuthToken string `json:"oauth_token,omitempty"`
	// PageSize is how many records the incremental exports return a page
	// (1 to 1000, default 1000); list endpoints take at most 100 of it.
	PageSize int `json:"page_size,omitempty"`
	// IncrementalPerMinute is how many incremental export requests the
	// account allows a minute: 10 on most plans, 30 with the High Volume
	// API add-on (default 10).
	IncrementalPerMinute int `json:"incremental_per_minute,omitempty"`
	// TicketEvents reads each ticket's field changes (status, priority,
	// assignee, group, tags, custom fields) as ticket_events.
	TicketEvents bool `json:"ticket_events,omitempty"`
	// HelpCenter reads the knowledge base: categories and sections,
	// articles with their translations and attachments.
	HelpCenter bool `json:"help_center,omitempty"`
}

// Page-size and rate bounds Zendesk sets.
const (
	maxExportPage = 1000
	maxListPage   = 100
	// defaultIncrementalPerMinute is the incremental exports' limit on
	// plans without the High Volume add-on.
	defaultIncrementalPerMinute = 10
	maxIncrementalPerMinute     = 1000
)

// configSchema is the JSON Schema of Config, for Spec.
const configSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "Zendesk source",
  "description": "Reads users, organizations, groups, ticket fields, tickets, comments and attachment metadata from a Zendesk Support account through its REST API, and optionally ticket events and the Help Center.",
  "type": "object",
  "required": ["base_url"],
  "oneOf": [
    {"required": ["email", "token"], "not": {"required": ["oauth_token"]}},
    {"required": ["oauth_token"], "not": {"anyOf": [{"required": ["email"]}, {"required": ["token"]}]}}
  ],
  "additionalProperties": false,
  "properties": {
    "base_url": {
      "type": "string",
      "format": "uri",
      "description": "The account's address, such as https://acme.zendesk.com (http only for a loopback emulator).",
      "examples": ["https://acme.zendesk.com"]
    },
    "email": {
      "type": "string",
      "format": "email",
      "description": "The email address of the admin the API token belongs to: the incremental exports need an admin."
    },
    "token": {
      "type": "string",
      "minLength": 1,
      "writeOnly": true,
      "description": "A Zendesk API token (Admin Center, Apps and integrations, Zendesk API). Give it as ${ENV_VAR} in ferry.yaml."
    },
    "oauth_token": {
      "type": "string",
      "minLength": 1,
      "writeOnly": true,
      "description": "An OAuth access token of an admin, with the read scope, instead of email and token. Give it as ${ENV_VAR} in ferry.yaml."
    },
    "page_size": {
      "type": "integer",
      "minimum": 1,
      "maximum": 1000,
      "default": 1000,
      "description": "Records per page of the incremental exports; other endpoints take at most 100 of it."
    },
    "incremental_per_minute": {
      "type": "integer",
      "minimum": 1,
      "maximum": 1000,
      "default": 10,
      "description": "Incremental export requests the account allows a minute: 10, or 30 with the High Volume API add-on."
    },
    "ticket_events": {
      "type": "boolean",
      "default": false,
      "description": "Also read ticket events: the status, priority, assignee, group, tag and field changes of each ticket."
    },
    "help_center": {
      "type": "boolean",
      "default": false,
      "description": "Also read the Help Center: categories, sections, and articles with their translations and attachments."
    }
  }
}`

// String describes the config without its secrets, so that printing one
// never leaks them.
func (c Config) String() string {
	return fmt.Sprintf("zendesk %s as %s (page size %d)", c.BaseURL, c.who(), c.PageSize)
}

// GoString is String, so that %#v does not print the secrets either.
func (c Config) GoString() string { return c.String() }

// LogValue logs the config without its secrets.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(slog.String("base_url", c.BaseURL), slog.String("auth", c.who()), slog.Int("page_size", c.PageSize),
		slog.Bool("ticket_events", c.TicketEvents), slog.Bool("help_center", c.HelpCenter))
}

// who names the identity the config signs in as, for messages.
func (c Config) who() string {
	if c.OAuthToken != "" {
		return "the OAuth access token's user"
	}
	return c.Email
}

// parseConfig decodes and checks a config, and fills in defaults. Its
// errors say what to fix and never quote a secret.
func parseConfig(raw json.RawMessage) (Config, error) {
	var c Config
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		// A typo such as "base-url" otherwise reads as a missing base_url.
		return Config{}, fmt.Errorf("zendesk config: %w", err)
	}
	var problems []error
	if _, err := baseURL(c.BaseURL); err != nil {
		problems = append(problems, err)
	}
	problems = append(problems, c.credentialProblems()...)
	switch {
	case c.PageSize == 0:
		c.PageSize = maxExportPage
	case c.PageSize < 1 || c.PageSize > maxExportPage:
		problems = append(problems, fmt.Errorf("page_size %d is out of range: 1 to %d", c.PageSize, maxExportPage))
	}
	switch {
	case c.IncrementalPerMinute == 0:
		c.IncrementalPerMinute = defaultIncrementalPerMinute
	case c.IncrementalPerMinute < 1 || c.IncrementalPerMinute > maxIncrementalPerMinute:
		problems = append(problems, fmt.Errorf("incremental_per_minute %d is out of range: 1 to %d (10 on most plans, 30 with High Volume)",
			c.IncrementalPerMinute, maxIncrementalPerMinute))
	}
	if err := errors.Join(problems...); err != nil {
		return Config{}, fmt.Errorf("zendesk config: %w", err)
	}
	return c, nil
}

// credentialProblems checks that the config signs in exactly one way: an
// API token with its owner's email, or an OAuth access token.
func (c Config) credentialProblems() []error {
	hasOAuth := c.OAuthToken != ""
	hasAPI := c.Token != "" || strings.TrimSpace(c.Email) != ""
	switch {
	case hasOAuth && hasAPI:
		return []error{errors.New("give either email and token (an API token) or oauth_token (an OAuth access token), not both")}
	case hasOAuth:
		return nil
	case !hasAPI:
		return []error{errors.New("credentials are required: email and token (a Zendesk API token), or oauth_token (an OAuth access token); give secrets as ${ENV_VAR} in ferry.yaml")}
	}
	var problems []error
	switch {
	case strings.TrimSpace(c.Email) == "":
		problems = append(problems, errors.New("email is required with token: the address of the admin the API token belongs to"))
	case !strings.Contains(c.Email, "@"):
		problems = append(problems, fmt.Errorf("email %q is not an email address", c.Email))
	}
	if c.Token == "" {
		problems = append(problems, errors.New("token is required with email: a Zendesk API token (give it as ${ENV_VAR} in ferry.yaml)"))
	}
	return problems
}

// baseURL parses and checks the account's address. Credentials go to it,
// so it must be HTTPS, except on loopback where the emulator runs.
func baseURL(s string) (*url.URL, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("base_url is required, such as https://acme.zendesk.com")
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("base_url %q is not a URL: %w", s, err)
	}
	switch {
	case u.Scheme == "" || u.Host == "":
		return nil, fmt.Errorf("base_url %q is not an absolute URL: write it like https://acme.zendesk.com", s)
	case u.User != nil:
		return nil, fmt.Errorf("base_url must not hold credentials: give them as email and token, or oauth_token")
	case u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname())):
		return nil, fmt.Errorf("base_url %q must use https: the credentials would travel in clear text", s)
	case strings.Trim(u.Path, "/") != "" || u.RawQuery != "" || u.Fragment != "":
		return nil, fmt.Errorf("base_url %q must be the account's root, such as https://acme.zendesk.com, without a path", s)
	}
	return &url.URL{Scheme: u.Scheme, Host: u.Host}, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
