package config

import (
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

const base = `
source:
  plugin: zendesk
  config: { base_url: "https://acme.zendesk.com", email: "ops@acme.example", token: "${ZENDESK_TOKEN}" }
target:
  intercom: { token: "${INTERCOM_TOKEN}", region: eu }
`

func TestParse(t *testing.T) {
	vars := env(map[string]string{"ZENDESK_TOKEN": "zt-123", "INTERCOM_TOKEN": "it-456", "NUM": "0042"})
	tests := []struct {
		name    string
		doc     string
		check   func(t *testing.T, c *Config)
		wantErr string
	}{
		{name: "secrets from the environment", doc: base, check: func(t *testing.T, c *Config) {
			if c.Source.Config["token"] != "zt-123" || c.Target.Intercom.Token != "it-456" || c.Target.Intercom.Region != "eu" {
				t.Errorf("got %+v", c)
			}
		}},
		{name: "a variable stays a string", doc: base + "options: { default_admin_email: \"${NUM}\" }\n", check: func(t *testing.T, c *Config) {
			if c.Options.DefaultAdminEmail != "0042" {
				t.Errorf("got %q", c.Options.DefaultAdminEmail)
			}
		}},
		{name: "escaped dollar", doc: strings.Replace(base, "ops@acme.example", "a$${b}", 1), check: func(t *testing.T, c *Config) {
			if c.Source.Config["email"] != "a${b}" {
				t.Errorf("got %q", c.Source.Config["email"])
			}
		}},
		{name: "a value cannot inject YAML", doc: strings.Replace(base, "${ZENDESK_TOKEN}", "${INJECT}", 1), check: func(t *testing.T, c *Config) {
			if c.Source.Config["token"] != "x\nfilter: evil" || c.Filter != "" {
				t.Errorf("got %+v", c)
			}
		}},
		{name: "transforms", doc: base + "transforms:\n  - wasm: t.wasm\n    config: { prefix: ZD }\n", check: func(t *testing.T, c *Config) {
			if len(c.Transforms) != 1 || c.Transforms[0].Config["prefix"] != "ZD" {
				t.Errorf("got %+v", c.Transforms)
			}
		}},
		{name: "transform limits", doc: base + "transform_limits:\n  memory_mb: 512\n  batch_timeout: 30s\n", check: func(t *testing.T, c *Config) {
			if c.TransformLimits.MemoryMB != 512 || time.Duration(c.TransformLimits.BatchTimeout) != 30*time.Second {
				t.Errorf("transform limits = %+v", c.TransformLimits)
			}
		}},
		{name: "workspace memory", doc: base + "workspace:\n  memory_mb: 1024\n", check: func(t *testing.T, c *Config) {
			if c.Workspace.MemoryMB != 1024 {
				t.Errorf("workspace memory = %d", c.Workspace.MemoryMB)
			}
		}},
		{name: "workspace memory too small", doc: base + "workspace: { memory_mb: 16 }\n", wantErr: "workspace.memory_mb 16: want 64 or more"},
		{name: "stall timeout", doc: strings.Replace(base, "plugin: zendesk", "plugin: zendesk\n  stall_timeout: 45m", 1), check: func(t *testing.T, c *Config) {
			if time.Duration(c.Source.StallTimeout) != 45*time.Minute {
				t.Errorf("stall timeout = %v", time.Duration(c.Source.StallTimeout))
			}
		}},
		{name: "bad stall timeout", doc: strings.Replace(base, "plugin: zendesk", "plugin: zendesk\n  stall_timeout: soon", 1), wantErr: `"soon" is not a duration`},
		{name: "unset variable", doc: strings.Replace(base, "${ZENDESK_TOKEN}", "${NOPE}", 1), wantErr: "source.config.token: environment variable NOPE is not set"},
		{name: "bad reference", doc: strings.Replace(base, "${ZENDESK_TOKEN}", "${1x}", 1), wantErr: "not a valid ${VAR} reference"},
		{name: "unknown key", doc: base + "optoins: {}\n", wantErr: "field optoins not found"},
		{name: "transform memory too large", doc: base + "transform_limits:\n  memory_mb: 5000\n", wantErr: "transform_limits.memory_mb 5000: want 1 to 4096"},
		{name: "no plugin", doc: strings.Replace(base, "plugin: zendesk", "plugin: \"\"", 1), wantErr: "source.plugin is missing"},
		{name: "bad phone country", doc: base + "options: { phone_country: \"+44\" }\n", wantErr: `options.phone_country: country calling code "+44"`},
		{name: "phone country", doc: base + "options: { phone_country: \"44\" }\n", check: func(t *testing.T, c *Config) {
			if c.Options.PhoneCountry != "44" {
				t.Errorf("phone country = %q", c.Options.PhoneCountry)
			}
		}},
		{name: "negative snooze", doc: base + "options: { snooze_days: -1 }\n", wantErr: "options.snooze_days cannot be negative"},
		{name: "bad region", doc: strings.Replace(base, "region: eu", "region: mars", 1), wantErr: `region "mars"`},
		{name: "transform without wasm", doc: base + "transforms:\n  - config: {}\n", wantErr: "transforms[0].wasm is missing"},
		{name: "not yaml", doc: "source: [", wantErr: "not valid YAML"},
		{name: "empty", doc: "", wantErr: "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vs := vars
			if tt.name == "a value cannot inject YAML" {
				vs = env(map[string]string{"INJECT": "x\nfilter: evil", "INTERCOM_TOKEN": "t"})
			}
			c, err := Parse([]byte(tt.doc), vs)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

func TestErrorsNeverShowSecrets(t *testing.T) {
	doc := base + "target2: x\n"
	_, err := Parse([]byte(doc), env(map[string]string{"ZENDESK_TOKEN": "zt-secret", "INTERCOM_TOKEN": "it-secret"}))
	if err == nil {
		t.Fatal("want an error")
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("error shows a secret: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(base))
	f.Add([]byte("source: {plugin: csv}\ntarget: {intercom: {token: x}}\n"))
	f.Add([]byte("a: ${"))
	f.Add([]byte("- $${x}\n- ${Y}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data, env(map[string]string{"Y": "y", "ZENDESK_TOKEN": "z", "INTERCOM_TOKEN": "i"}))
		if err == nil && (c.Source.Plugin == "" || c.Target.Intercom.Token == "") {
			t.Fatalf("accepted a config without plugin or token: %q", data)
		}
	})
}

func TestTemplatesParse(t *testing.T) {
	vars := env(map[string]string{"ZENDESK_TOKEN": "z", "FRESHDESK_API_KEY": "f", "INTERCOM_TOKEN": "i"})
	for _, s := range Sources() {
		doc, err := Template(s)
		if err != nil {
			t.Fatal(err)
		}
		c, err := Parse([]byte(doc), vars)
		if err != nil {
			t.Fatalf("%s template does not parse: %v", s, err)
		}
		if c.Source.Plugin != s {
			t.Errorf("%s template names plugin %q", s, c.Source.Plugin)
		}
	}
	if _, err := Template("jira"); err == nil {
		t.Error("unknown source accepted")
	}
}
