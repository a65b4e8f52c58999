package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/ferryhq/ferry/sdk/transform"
)

// tickets is the stream this transform drops records of (sdk/schema's
// Tickets; not imported, as it would bring Arrow into the module).
const tickets = "tickets"

// config is the transform's config in ferry.yaml.
type config struct {
	Rules               []ruleConfig `json:"rules"`
	RequesterEmailPaths []string     `json:"requester_email_paths"`
}

// ruleConfig is one rule as written in the config.
type ruleConfig struct {
	Name             string   `json:"name"`
	Tags             []string `json:"tags"`
	Status           []string `json:"status"`
	Subject          []string `json:"subject"`
	RequesterDomains []string `json:"requester_domains"`
}

// rule is a checked rule.
type rule struct {
	name     string
	tags     []string
	status   []string
	subject  []*regexp.Regexp
	domains  []string // lower case, without a leading @
	criteria int
}

// dropper holds the parsed config.
type dropper struct {
	rules      []rule
	emailPaths [][]string // dotted paths split
}

// defaultEmailPaths are where tickets' raw records name the requester's
// email: Zendesk's email channel, and a sideloaded requester (Zendesk's
// include=users, Freshdesk's include=requester).
var defaultEmailPaths = []string{"via.source.from.address", "requester.email"}

// setup checks the config once, when ferry loads the module, so that a bad
// rule stops the migration before any ticket is dropped by mistake or let
// through.
func setup(ctx *transform.Context) (transform.Handler, error) {
	cfg := config{RequesterEmailPaths: defaultEmailPaths}
	if err := ctx.Config(&cfg); err != nil {
		return nil, err
	}
	return cfg.dropper()
}

func (cfg config) dropper() (transform.Handler, error) {
	if len(cfg.Rules) == 0 {
		return nil, errors.New(`rules is missing or empty: give at least one, e.g. {"rules": [{"name": "spam", "tags": ["spam"]}]}`)
	}
	var d dropper
	for i, rc := range cfg.Rules {
		r, err := rc.rule(i)
		if err != nil {
			return nil, err
		}
		d.rules = append(d.rules, r)
	}
	for i, p := range cfg.RequesterEmailPaths {
		parts := strings.Split(p, ".")
		for _, part := range parts {
			if part == "" {
				return nil, fmt.Errorf("requester_email_paths[%d]: %q is not a dotted path such as via.source.from.address", i, p)
			}
		}
		d.emailPaths = append(d.emailPaths, parts)
	}
	return d.apply, nil
}

// rule checks a rule of the config; i is its index, for messages.
func (rc ruleConfig) rule(i int) (rule, error) {
	r := rule{name: strings.TrimSpace(rc.Name)}
	if r.name == "" {
		r.name = fmt.Sprintf("rules[%d]", i)
	}
	where := fmt.Sprintf("rule %q", r.name)
	var err error
	if r.tags, err = nonEmpty(where, "tags", rc.Tags); err != nil {
		return rule{}, err
	}
	if r.status, err = nonEmpty(where, "status", rc.Status); err != nil {
		return rule{}, err
	}
	domains, err := nonEmpty(where, "requester_domains", rc.RequesterDomains)
	if err != nil {
		return rule{}, err
	}
	for _, d := range domains {
		d = strings.ToLower(strings.TrimPrefix(d, "@"))
		if d == "" || strings.ContainsAny(d, "@ ") {
			return rule{}, fmt.Errorf("%s: requester_domains: %q is not a domain such as acme.example", where, d)
		}
		r.domains = append(r.domains, d)
	}
	if rc.Subject != nil && len(rc.Subject) == 0 {
		return rule{}, fmt.Errorf("%s: subject is empty: leave it out, or give at least one pattern", where)
	}
	for j, p := range rc.Subject {
		re, err := regexp.Compile(p)
		if err != nil {
			return rule{}, fmt.Errorf("%s: subject[%d]: %w", where, j, err)
		}
		r.subject = append(r.subject, re)
	}
	for _, set := range []bool{r.tags != nil, r.status != nil, r.subject != nil, r.domains != nil} {
		if set {
			r.criteria++
		}
	}
	if r.criteria == 0 {
		return rule{}, fmt.Errorf("%s has no criteria: give tags, status, subject or requester_domains", where)
	}
	return r, nil
}

// nonEmpty checks a list of values of a rule: absent is fine, but an empty
// list or an empty value is a mistake that would otherwise match nothing
// without a word.
func nonEmpty(where, name string, vs []string) ([]string, error) {
	if vs == nil {
		return nil, nil
	}
	if len(vs) == 0 {
		return nil, fmt.Errorf("%s: %s is empty: leave it out, or give at least one value", where, name)
	}
	out := make([]string, 0, len(vs))
	for j, v := range vs {
		v = strings.TrimSpace(v)
		if v == "" {
			return nil, fmt.Errorf("%s: %s[%d] is empty", where, name, j)
		}
		out = append(out, v)
	}
	return out, nil
}

// apply drops a ticket that matches a rule, with a reason naming the rule
// and what matched; other tickets, and other streams, go on unchanged.
func (d dropper) apply(ctx *transform.Context, r *transform.Record) transform.Result {
	if ctx.Stream() != tickets {
		return transform.Keep(r)
	}
	t := ticket{record: r, emailPaths: d.emailPaths}
	for _, rl := range d.rules {
		if why, ok := rl.match(&t); ok {
			return transform.Drop(fmt.Sprintf("rule %q: %s", rl.name, why))
		}
	}
	return transform.Keep(r)
}

// ticket reads a ticket's columns once, however many rules look at them.
type ticket struct {
	record     *transform.Record
	emailPaths [][]string

	read    bool
	tags    []string
	status  string
	subject string

	emailRead bool
	email     string
}

func (t *ticket) load() {
	if t.read {
		return
	}
	t.read = true
	t.tags = t.record.Strings("tags")
	t.status = t.record.String("status")
	t.subject = t.record.String("subject")
}

// requesterEmail returns the requester's email, lower case, or "".
func (t *ticket) requesterEmail() string {
	if t.emailRead {
		return t.email
	}
	t.emailRead = true
	if id := t.record.String("requester_id"); strings.Contains(id, "@") {
		t.email = strings.ToLower(id)
		return t.email
	}
	raw := t.record.Raw()
	if raw == nil {
		return ""
	}
	var obj map[string]any
	if json.Unmarshal(raw, &obj) != nil {
		return ""
	}
	for _, path := range t.emailPaths {
		if s, ok := lookup(obj, path).(string); ok && strings.Contains(s, "@") {
			t.email = strings.ToLower(strings.TrimSpace(s))
			return t.email
		}
	}
	return ""
}

// lookup walks a decoded JSON object along path; nil when a step is missing.
func lookup(v any, path []string) any {
	for _, key := range path {
		obj, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = obj[key]
	}
	return v
}

// match reports whether every criterion of the rule matches the ticket, and
// says what matched.
func (rl rule) match(t *ticket) (why string, ok bool) {
	t.load()
	var reasons []string
	if rl.tags != nil {
		tag, ok := anyFold(t.tags, rl.tags)
		if !ok {
			return "", false
		}
		reasons = append(reasons, fmt.Sprintf("tag %q", tag))
	}
	if rl.status != nil {
		if _, ok := anyFold([]string{t.status}, rl.status); !ok {
			return "", false
		}
		reasons = append(reasons, fmt.Sprintf("status %q", t.status))
	}
	if rl.subject != nil {
		re := matchAny(rl.subject, t.subject)
		if re == nil {
			return "", false
		}
		reasons = append(reasons, fmt.Sprintf("subject matches %q", re.String()))
	}
	if rl.domains != nil {
		domain := matchDomain(t.requesterEmail(), rl.domains)
		if domain == "" {
			return "", false
		}
		// The domain, not the address: reasons go into reports.
		reasons = append(reasons, "requester at "+domain)
	}
	return strings.Join(reasons, ", "), true
}

// anyFold returns the first of have that is one of want, without regard to case.
func anyFold(have, want []string) (string, bool) {
	for _, h := range have {
		for _, w := range want {
			if strings.EqualFold(h, w) {
				return h, true
			}
		}
	}
	return "", false
}

func matchAny(res []*regexp.Regexp, s string) *regexp.Regexp {
	for _, re := range res {
		if re.MatchString(s) {
			return re
		}
	}
	return nil
}

// matchDomain returns the domain of domains that email is at, directly or
// at a subdomain, or "".
func matchDomain(email string, domains []string) string {
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return ""
	}
	host := email[at+1:]
	for _, d := range domains {
		if host == d || strings.HasSuffix(host, "."+d) {
			return d
		}
	}
	return ""
}
