// Package config reads a migration's ferry.yaml.
//
// Secrets come from the environment: any string value may use ${VAR}, which
// is replaced by the variable's value after the YAML is parsed (so a value
// can never change the document's structure); $${ writes a literal ${. A
// variable that is not set is an error that names it, never its value.
package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/ferryhq/ferry/host/phone"
)

// FileName is the config's name inside the workspace folder.
const FileName = "ferry.yaml"

// Config is a migration's configuration.
type Config struct {
	Source     Source      `yaml:"source"`
	Filter     string      `yaml:"filter,omitempty"`
	Transforms []Transform `yaml:"transforms,omitempty"`
	// TransformLimits bound every transform module's instances.
	TransformLimits TransformLimits `yaml:"transform_limits,omitempty"`
	Target          Target          `yaml:"target"`
	Options         Options         `yaml:"options,omitempty"`
	// Workspace tunes the DuckDB database that stages the migration.
	Workspace Workspace `yaml:"workspace,omitempty"`
}

// Workspace tunes the workspace's DuckDB database.
type Workspace struct {
	// MemoryMB caps the memory DuckDB keeps while a command writes the
	// workspace (0: DuckDB's own limit, 80% of the machine's): past it, DuckDB writes the tables' pages out
	// and spills joins and sorts to disk. Raise it when a large migration
	// stops with DuckDB's "Out of Memory" error.
	MemoryMB int `yaml:"memory_mb,omitempty"`
}

// MinWorkspaceMemoryMB is the least workspace.memory_mb ferry accepts:
// below it DuckDB cannot hold what one batch of staging needs.
const MinWorkspaceMemoryMB = 64

// Source names the source plugin and its config.
type Source struct {
	// Plugin is the plugin's name: ferry runs ferry-source-<Plugin>.
	Plugin string `yaml:"plugin"`
	// SHA256 optionally pins the plugin binary's checksum.
	SHA256 string `yaml:"sha256,omitempty"`
	// Config is passed to the plugin as JSON.
	Config map[string]any `yaml:"config"`
	// StallTimeout is how long a read may bring nothing new before the
	// plugin is called stuck and stopped (default 15m): raise it for a
	// source whose rate limits make it wait longer.
	StallTimeout Duration `yaml:"stall_timeout,omitempty"`
}

// Duration is a time.Duration written as in Go: "90s", "15m", "1h30m".
type Duration time.Duration

// UnmarshalYAML reads a duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil || v < 0 {
		return fmt.Errorf("line %d: %q is not a duration such as 90s or 15m", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// Transform is one WASM transform of the chain.
type Transform struct {
	// WASM is the module's path, relative to the workspace folder unless
	// absolute.
	WASM string `yaml:"wasm"`
	// Config is passed to the module as JSON.
	Config map[string]any `yaml:"config,omitempty"`
	// Streams the transform applies to; default: tickets.
	Streams []string `yaml:"streams,omitempty"`
}

// TransformLimits bound what a transform may take; a module past a limit
// fails its batch's records, with the reason, and the run goes on.
type TransformLimits struct {
	// MemoryMB caps each module instance's memory (default 256, at most
	// 4096, what a wasm32 module can address).
	MemoryMB int `yaml:"memory_mb,omitempty"`
	// BatchTimeout is how long a module may take over one batch, and over
	// its start-up (default 10s).
	BatchTimeout Duration `yaml:"batch_timeout,omitempty"`
}

// Target is the Intercom workspace to load into.
type Target struct {
	Intercom Intercom `yaml:"intercom"`
}

// Intercom says how to reach Intercom.
type Intercom struct {
	Token string `yaml:"token"`
	// Region is us (default), eu or au.
	Region string `yaml:"region,omitempty"`
	// BaseURL overrides Region, for the sandbox or a proxy.
	BaseURL string `yaml:"base_url,omitempty"`
	// Ceiling caps calls per 10-second window below what Intercom allows,
	// to leave room for other apps sharing the workspace's limit.
	Ceiling int `yaml:"ceiling,omitempty"`
	// Concurrency is how many conversations load at once (default 32).
	Concurrency int `yaml:"concurrency,omitempty"`
	// TicketType, when set, loads tickets as Intercom tickets of the type
	// of that name (created when missing) instead of conversations.
	TicketType string `yaml:"ticket_type,omitempty"`
}

// Options are the migration's choices.
type Options struct {
	// TagMigrated, when set, tags every migrated conversation.
	TagMigrated string `yaml:"tag_migrated,omitempty"`
	// DefaultAdminEmail is the admin that agents without an Intercom admin
	// of the same email are mapped to.
	DefaultAdminEmail string `yaml:"default_admin_email,omitempty"`
	// PhoneCountry is the country calling code ("1", "44") of phone
	// numbers the source holds without one; such numbers are left out of
	// contacts (with a warning) when it is not set.
	PhoneCountry string `yaml:"phone_country,omitempty"`
	// CustomAttributes, unless false, makes the help desk's custom fields
	// custom attributes of conversations, contacts and companies (created
	// when missing).
	CustomAttributes *bool `yaml:"custom_attributes,omitempty"`
	// SnoozeDays is how long tickets that wait on someone (pending, on
	// hold) are snoozed for in Intercom (default 7).
	SnoozeDays int `yaml:"snooze_days,omitempty"`
}

// CustomAttributesOn says whether custom fields become custom attributes
// (the default).
func (o Options) CustomAttributesOn() bool { return o.CustomAttributes == nil || *o.CustomAttributes }

// Load reads and checks the config at path; getenv resolves ${VAR}.
func Load(path string, getenv func(string) (string, bool)) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	c, err := Parse(data, getenv)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Parse reads and checks a config document.
func Parse(data []byte, getenv func(string) (string, bool)) (*Config, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("not valid YAML: %w", err)
	}
	if len(doc.Content) == 0 {
		return nil, errors.New("the config is empty")
	}
	if err := expand(&doc, "", getenv); err != nil {
		return nil, err
	}
	var c Config
	// Decode the expanded tree strictly: an unknown key is most often a typo
	// that would otherwise silently do nothing.
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	if err := enc.Encode(&doc); err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(&buf)
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("bad config: %w", err)
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

func (c *Config) validate() error {
	var problems []string
	if c.Source.Plugin == "" {
		problems = append(problems, "source.plugin is missing (e.g. zendesk)")
	}
	ic := c.Target.Intercom
	if ic.Token == "" {
		problems = append(problems, "target.intercom.token is missing (use ${INTERCOM_TOKEN})")
	}
	switch ic.Region {
	case "", "us", "eu", "au":
	default:
		problems = append(problems, fmt.Sprintf("target.intercom.region %q: want us, eu or au", ic.Region))
	}
	if cc := c.Options.PhoneCountry; cc != "" {
		if err := phone.CheckCountry(cc); err != nil {
			problems = append(problems, "options.phone_country: "+err.Error())
		}
	}
	if c.Options.SnoozeDays < 0 {
		problems = append(problems, "options.snooze_days cannot be negative")
	}
	if ic.Ceiling < 0 || ic.Concurrency < 0 {
		problems = append(problems, "target.intercom ceiling and concurrency cannot be negative")
	}
	if l := c.TransformLimits.MemoryMB; l < 0 || l > 4096 {
		problems = append(problems, fmt.Sprintf("transform_limits.memory_mb %d: want 1 to 4096 (0: the default, 256)", l))
	}
	if m := c.Workspace.MemoryMB; m != 0 && m < MinWorkspaceMemoryMB {
		problems = append(problems, fmt.Sprintf("workspace.memory_mb %d: want %d or more, or 0 for the default", m, MinWorkspaceMemoryMB))
	}
	for i, t := range c.Transforms {
		if t.WASM == "" {
			problems = append(problems, fmt.Sprintf("transforms[%d].wasm is missing", i))
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// SourceConfigJSON is the source's config as the JSON the plugin gets.
func (c *Config) SourceConfigJSON() (json.RawMessage, error) {
	cfg := c.Source.Config
	if cfg == nil {
		cfg = map[string]any{}
	}
	return json.Marshal(cfg)
}

var varRef = regexp.MustCompile(`\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$\{[^}]*\}?`)

// expand replaces ${VAR} in every string scalar of the tree.
func expand(n *yaml.Node, path string, getenv func(string) (string, bool)) error {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for i, c := range n.Content {
			p := path
			if n.Kind == yaml.SequenceNode {
				p = fmt.Sprintf("%s[%d]", path, i)
			}
			if err := expand(c, p, getenv); err != nil {
				return err
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			p := n.Content[i].Value
			if path != "" {
				p = path + "." + p
			}
			if err := expand(n.Content[i+1], p, getenv); err != nil {
				return err
			}
		}
	case yaml.ScalarNode:
		if !strings.Contains(n.Value, "$") || n.ShortTag() != "!!str" {
			return nil
		}
		var err error
		n.Value = varRef.ReplaceAllStringFunc(n.Value, func(m string) string {
			if m == "$${" {
				return "${"
			}
			sub := varRef.FindStringSubmatch(m)
			if sub[1] == "" {
				if err == nil {
					err = fmt.Errorf("%s: %q is not a valid ${VAR} reference", path, m)
				}
				return m
			}
			v, ok := getenv(sub[1])
			if !ok {
				if err == nil {
					err = fmt.Errorf("%s: environment variable %s is not set", path, sub[1])
				}
				return m
			}
			return v
		})
		// The value came from the environment: keep it a string even if it
		// looks like a number or a boolean.
		n.Style = yaml.DoubleQuotedStyle
		return err
	}
	return nil
}
