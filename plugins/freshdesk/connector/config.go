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
	// BaseURL is the account's address, such as https://acme.freshdesk.com.
	BaseURL string `json:"base_url"`
	// APIKey is a Freshdesk agent's API key (Profile settings, View API
	// key). It is a secret: it goes to BaseURL's host and nowhere else,
	// and is never logged.
	APIKey string `json:"api_key"`
	// PageSize is how many records a list page holds (1 to 100, default
	// 100).
	PageSize int `json:"page_size,omitempty"`
}

// maxPageSize is the largest per_page Freshdesk accepts.
const maxPageSize = 100

// configSchema is the JSON Schema of Config, for Spec.
const configSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "Freshdesk source",
  "description": "Reads agents, contacts, companies, groups, ticket fields, tickets with their conversations and attachment metadata, and the knowledge base (solutions) from a Freshdesk account through its API v2.",
  "type": "object",
  "required": ["base_url", "api_key"],
  "additionalProperties": false,
  "properties": {
    "base_url": {
      "type": "string",
      "format": "uri",
      "description": "The account's address, such as https://acme.freshdesk.com (http only for a loopback emulator).",
      "examples": ["https://acme.freshdesk.com"]
    },
    "api_key": {
      "type": "string",
      "minLength": 1,
      "writeOnly": true,
      "description": "The API key of an agent who can see every ticket (Profile settings, View API key). Give it as ${ENV_VAR} in ferry.yaml."
    },
    "page_size": {
      "type": "integer",
      "minimum": 1,
      "maximum": 100,
      "default": 100,
      "description": "Records per page of Freshdesk's lists."
    }
  }
}`

// String describes the config without its API key, so that printing one
// never leaks the secret.
func (c Config) String() string {
	return fmt.Sprintf("freshdesk %s (page size %d)", c.BaseURL, c.PageSize)
}

// GoString is String, so that %#v does not print the API key either.
func (c Config) GoString() string { return c.String() }

// LogValue logs the config without its API key.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(slog.String("base_url", c.BaseURL), slog.Int("page_size", c.PageSize))
}

// parseConfig decodes and checks a config, and fills in defaults. Its
// errors say what to fix and never quote the API key.
func parseConfig(raw json.RawMessage) (Config, error) {
	var c Config
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		// A typo such as "apikey" otherwise reads as a missing api_key.
		return Config{}, fmt.Errorf("freshdesk config: %w", err)
	}
	var problems []error
	if _, err := baseURL(c.BaseURL); err != nil {
		problems = append(problems, err)
	}
	if strings.TrimSpace(c.APIKey) == "" {
		problems = append(problems, errors.New("api_key is required: an agent's Freshdesk API key (give it as ${ENV_VAR} in ferry.yaml)"))
	}
	switch {
	case c.PageSize == 0:
		c.PageSize = maxPageSize
	case c.PageSize < 1 || c.PageSize > maxPageSize:
		problems = append(problems, fmt.Errorf("page_size %d is out of range: 1 to %d", c.PageSize, maxPageSize))
	}
	if err := errors.Join(problems...); err != nil {
		return Config{}, fmt.Errorf("freshdesk config: %w", err)
	}
	return c, nil
}

// baseURL parses and checks the account's address. The API key goes to
// it, so it must be HTTPS, except on loopback where the emulator runs.
func baseURL(s string) (*url.URL, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("base_url is required, such as https://acme.freshdesk.com")
	}
	u, err := url.Parse(s)
	if err != nil {
		// url.Parse quotes the input: say it ourselves, once.
		return nil, fmt.Errorf("base_url %q is not a URL", s)
	}
	switch {
	case u.User != nil:
		// Checked first: the other messages quote base_url.
		return nil, errors.New("base_url must not hold credentials: give the API key as api_key")
	case u.Scheme == "" || u.Host == "":
		return nil, fmt.Errorf("base_url %q is not an absolute URL: write it like https://acme.freshdesk.com", s)
	case u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname())):
		return nil, fmt.Errorf("base_url %q must use https: the API key would travel in clear text", s)
	case strings.Trim(u.Path, "/") != "" || u.RawQuery != "" || u.Fragment != "":
		return nil, fmt.Errorf("base_url %q must be the account's root, such as https://acme.freshdesk.com, without a path", s)
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
