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
	Email string `json:"email"`
	// Token is a Zendesk API token. It is a secret: it goes to BaseURL's
	// host and nowhere else, and is never logged.
	Token string `json:"token"`
	// PageSize is how many records the incremental exports return a page
	// (1 to 1000, default 1000); list endpoints and ticket comments take
	// at most 100 of it.
	PageSize int `json:"page_size,omitempty"`
}

// Page-size bounds Zendesk sets.
const (
	maxExportPage = 1000
	maxListPage   = 100
)

// configSchema is the JSON Schema of Config, for Spec.
const configSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "Zendesk source",
  "description": "Reads users, organizations, groups, ticket fields, tickets, comments and attachment metadata from a Zendesk Support account through its REST API.",
  "type": "object",
  "required": ["base_url", "email", "token"],
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
    "page_size": {
      "type": "integer",
      "minimum": 1,
      "maximum": 1000,
      "default": 1000,
      "description": "Records per page of the incremental exports; other endpoints take at most 100 of it."
    }
  }
}`

// String describes the config without its token, so that printing one
// never leaks the secret.
func (c Config) String() string {
	return fmt.Sprintf("zendesk %s as %s (page size %d)", c.BaseURL, c.Email, c.PageSize)
}

// GoString is String, so that %#v does not print the token either.
func (c Config) GoString() string { return c.String() }

// LogValue logs the config without its token.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(slog.String("base_url", c.BaseURL), slog.String("email", c.Email), slog.Int("page_size", c.PageSize))
}

// parseConfig decodes and checks a config, and fills in defaults. Its
// errors say what to fix and never quote the token.
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
	switch {
	case strings.TrimSpace(c.Email) == "":
		problems = append(problems, errors.New("email is required: the address of the admin the API token belongs to"))
	case !strings.Contains(c.Email, "@"):
		problems = append(problems, fmt.Errorf("email %q is not an email address", c.Email))
	}
	if c.Token == "" {
		problems = append(problems, errors.New("token is required: a Zendesk API token (give it as ${ENV_VAR} in ferry.yaml)"))
	}
	switch {
	case c.PageSize == 0:
		c.PageSize = maxExportPage
	case c.PageSize < 1 || c.PageSize > maxExportPage:
		problems = append(problems, fmt.Errorf("page_size %d is out of range: 1 to %d", c.PageSize, maxExportPage))
	}
	if err := errors.Join(problems...); err != nil {
		return Config{}, fmt.Errorf("zendesk config: %w", err)
	}
	return c, nil
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
		return nil, fmt.Errorf("base_url must not hold credentials: give them as email and token")
	case u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname())):
		return nil, fmt.Errorf("base_url %q must use https: the API token would travel in clear text", s)
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
