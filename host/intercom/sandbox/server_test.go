package sandbox_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferryhq/ferry/host/intercom/sandbox"
)

const token = "sandbox-test-token"

var testNow = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

// api calls a sandbox over real HTTP.
type api struct {
	t   *testing.T
	srv *httptest.Server
	sb  *sandbox.Server
}

func newAPI(t *testing.T, opts sandbox.Options) *api {
	t.Helper()
	if opts.Token == "" {
		opts.Token = token
	}
	if opts.Now == nil {
		opts.Now = func() time.Time { return testNow }
	}
	sb := sandbox.New(opts)
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	return &api{t: t, srv: srv, sb: sb}
}

type response struct {
	status int
	header http.Header
	body   map[string]any
}

// code returns the first error code of an error.list answer.
func (r response) code() string {
	errs, _ := r.body["errors"].([]any)
	if len(errs) == 0 {
		return ""
	}
	m, _ := errs[0].(map[string]any)
	s, _ := m["code"].(string)
	return s
}

func (r response) message() string {
	errs, _ := r.body["errors"].([]any)
	if len(errs) == 0 {
		return ""
	}
	m, _ := errs[0].(map[string]any)
	s, _ := m["message"].(string)
	return s
}

func (r response) str(key string) string {
	v, _ := r.body[key].(string)
	return v
}

// call sends method path with body (a string is sent as is, anything else
// as JSON) and the headers given as name, value pairs; the default headers
// are a valid token and version.
func (a *api) call(method, path string, body any, headers ...string) response {
	a.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			a.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, a.srv.URL+path, rd)
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Intercom-Version", "2.16")
	req.Header.Set("Accept", "application/json")
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
		} else {
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	resp, err := a.srv.Client().Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := response{status: resp.StatusCode, header: resp.Header}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out.body); err != nil {
			a.t.Fatalf("%s %s: body is not a JSON object: %q", method, path, raw)
		}
	}
	if resp.StatusCode >= 400 {
		if out.body["type"] != "error.list" || out.code() == "" || out.body["request_id"] == "" {
			a.t.Errorf("%s %s: %d answer is not an error.list: %s", method, path, resp.StatusCode, raw)
		}
	}
	return out
}

// must calls and fails the test unless the answer is 200.
func (a *api) must(method, path string, body any) response {
	a.t.Helper()
	r := a.call(method, path, body)
	if r.status != http.StatusOK {
		a.t.Fatalf("%s %s: %d %s: %s", method, path, r.status, r.code(), r.message())
	}
	return r
}

func TestAuth(t *testing.T) {
	a := newAPI(t, sandbox.Options{})
	tests := []struct {
		name, auth string
		want       int
	}{
		{"valid", "Bearer " + token, 200},
		{"missing", "", 401},
		{"wrong token", "Bearer nope", 401},
		{"wrong scheme", "Basic " + token, 401},
		{"token prefix only", "Bearer " + token[:5], 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := a.call("GET", "/me", nil, "Authorization", tt.auth)
			if r.status != tt.want {
				t.Fatalf("status %d, want %d", r.status, tt.want)
			}
			if tt.want == 401 && (r.code() != "unauthorized" || r.message() != "Access Token Invalid") {
				t.Errorf("401 body = %v", r.body)
			}
		})
	}
	t.Run("empty configured token rejects everything", func(t *testing.T) {
		sb := sandbox.New(sandbox.Options{})
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/me", nil)
		req.Header.Set("Authorization", "Bearer ")
		sb.ServeHTTP(rec, req)
		if rec.Code != 401 {
			t.Errorf("status %d, want 401", rec.Code)
		}
	})
}

func TestVersionHeader(t *testing.T) {
	a := newAPI(t, sandbox.Options{})
	tests := []struct {
		version string
		want    int
	}{
		{"", 200}, {"2.16", 200}, {"2.15", 400}, {"Unstable", 400}, {"banana", 400},
	}
	for _, tt := range tests {
		t.Run("version "+tt.version, func(t *testing.T) {
			r := a.call("GET", "/admins", nil, "Intercom-Version", tt.version)
			if r.status != tt.want {
				t.Fatalf("status %d, want %d", r.status, tt.want)
			}
			if tt.want == 400 && r.code() != "intercom_version_invalid" {
				t.Errorf("code %q", r.code())
			}
		})
	}
}

func TestNotFoundAndBadRequests(t *testing.T) {
	a := newAPI(t, sandbox.Options{})
	tests := []struct {
		name, method, path string
		body               any
		headers            []string
		status             int
		code               string
	}{
		{"unknown path", "GET", "/nope", nil, nil, 404, "not_found"},
		{"unimplemented endpoint", "GET", "/help_center/help_centers", nil, nil, 404, "not_found"},
		{"wrong method", "PATCH", "/contacts/abc", nil, nil, 404, "not_found"},
		{"wrong method on a collection", "PATCH", "/tags", nil, nil, 404, "not_found"},
		{"bad JSON", "POST", "/contacts", `{"email":`, nil, 400, "parameter_invalid"},
		{"JSON that is not an object", "POST", "/tags", `["x"]`, nil, 400, "parameter_invalid"},
		{"wrong field type", "POST", "/contacts", `{"email":"a@b.example","signed_up_at":"yesterday"}`, nil, 400, "parameter_invalid"},
		{"unsupported Accept", "GET", "/tags", nil, []string{"Accept", "text/html"}, 406, "unsupported"},
		{"conversation id not an integer", "GET", "/conversations/abc", nil, nil, 404, "not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := a.call(tt.method, tt.path, tt.body, tt.headers...)
			if r.status != tt.status || r.code() != tt.code {
				t.Errorf("got %d %q, want %d %q (%s)", r.status, r.code(), tt.status, tt.code, r.message())
			}
		})
	}
}

func TestAdminsTeamsAndMe(t *testing.T) {
	a := newAPI(t, sandbox.Options{})
	me := a.must("GET", "/me", nil)
	if me.str("id") != sandbox.DefaultAdmins()[0].ID || me.body["app"].(map[string]any)["region"] != "US" {
		t.Errorf("/me = %v", me.body)
	}
	admins := a.must("GET", "/admins", nil).body["admins"].([]any)
	if len(admins) != 3 {
		t.Fatalf("%d admins", len(admins))
	}
	// team_ids are integers, as the 2.16 schema says.
	if ids := admins[0].(map[string]any)["team_ids"].([]any); len(ids) != 1 || ids[0] != float64(5600001) {
		t.Errorf("team_ids = %v", ids)
	}
	teams := a.must("GET", "/teams", nil).body["teams"].([]any)
	if len(teams) != 2 || teams[1].(map[string]any)["name"] != "Billing" {
		t.Errorf("teams = %v", teams)
	}
	custom := newAPI(t, sandbox.Options{Admins: []sandbox.Admin{{ID: "1", Name: "Solo", Email: "solo@x.example"}}, Teams: []sandbox.Team{}})
	if got := custom.must("GET", "/admins", nil).body["admins"].([]any); len(got) != 1 {
		t.Errorf("seeded admins = %v", got)
	}
}

func TestCreateContact(t *testing.T) {
	tests := []struct {
		name     string
		body     any
		status   int
		code     string
		conflict string // "ann" or "lead": the seeded contact named in the 409
	}{
		{"email only makes a user", map[string]any{"email": "new@example.com"}, 200, "", ""},
		{"external_id only", map[string]any{"external_id": "zd-9"}, 200, "", ""},
		{"numeric external_id", `{"external_id": 42}`, 200, "", ""},
		{"role lead only", map[string]any{"role": "lead"}, 200, "", ""},
		{"nothing", map[string]any{"name": "Nobody"}, 400, "parameter_invalid", ""},
		{"user without email or external_id", map[string]any{"role": "user"}, 400, "parameter_invalid", ""},
		{"bad role", map[string]any{"role": "admin", "email": "x@example.com"}, 400, "parameter_invalid", ""},
		{"bad email", map[string]any{"email": "not an email"}, 400, "parameter_invalid", ""},
		{"email_verified without email", map[string]any{"external_id": "e", "email_verified": true}, 400, "parameter_invalid", ""},
		{"unknown owner", map[string]any{"email": "o@example.com", "owner_id": "42"}, 400, "parameter_invalid", ""},
		{"same email", map[string]any{"email": "ann@example.com"}, 409, "conflict", "ann"},
		{"same email other case", map[string]any{"email": "ANN@Example.COM", "external_id": "zd-77"}, 409, "conflict", "ann"},
		{"same external_id", map[string]any{"external_id": "zd-1", "email": "other@example.com"}, 409, "conflict", "ann"},
		{"user with a lead's email", map[string]any{"email": "lead@example.com"}, 409, "conflict", "lead"},
		{"leads may share an email", map[string]any{"role": "lead", "email": "lead@example.com"}, 200, "", ""},
		{"nested custom attribute", map[string]any{"email": "n@example.com", "custom_attributes": map[string]any{"x": map[string]any{"y": 1}}}, 400, "parameter_invalid", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAPI(t, sandbox.Options{})
			seeded := map[string]string{
				"ann":  a.must("POST", "/contacts", map[string]any{"email": "ann@example.com", "external_id": "zd-1"}).str("id"),
				"lead": a.must("POST", "/contacts", map[string]any{"role": "lead", "email": "lead@example.com"}).str("id"),
			}
			r := a.call("POST", "/contacts", tt.body)
			if r.status != tt.status || r.code() != tt.code {
				t.Fatalf("got %d %q (%s), want %d %q", r.status, r.code(), r.message(), tt.status, tt.code)
			}
			if tt.conflict != "" {
				want := "A contact matching those details already exists with id=" + seeded[tt.conflict]
				if r.message() != want {
					t.Errorf("message %q, want %q", r.message(), want)
				}
			}
			if r.status == 200 {
				if id := r.str("id"); len(id) != 24 || strings.Trim(id, "0123456789abcdef") != "" {
					t.Errorf("id %q is not 24 hex digits", id)
				}
			}
		})
	}
}

func TestContactTimestampsAndUpdate(t *testing.T) {
	a := newAPI(t, sandbox.Options{})
	a.declare("contact", map[string]string{"a": "string", "b": "integer", "c": "boolean"})
	c := a.must("POST", "/contacts", map[string]any{
		"email": "ann@example.com", "signed_up_at": 1_400_000_000, "created_at": 1_000, "custom_attributes": map[string]any{"a": "1", "b": 2},
	})
	if c.body["created_at"] != float64(testNow.Unix()) || c.body["signed_up_at"] != float64(1_400_000_000) {
		t.Errorf("created_at %v signed_up_at %v: created_at must be the server's time, signed_up_at kept", c.body["created_at"], c.body["signed_up_at"])
	}
	id := c.str("id")
	u := a.must("PUT", "/contacts/"+id, map[string]any{"name": "Ann", "custom_attributes": map[string]any{"a": nil, "c": true}})
	attrs := u.body["custom_attributes"].(map[string]any)
	if u.str("name") != "Ann" || attrs["a"] != nil || attrs["b"] != float64(2) || attrs["c"] != true {
		t.Errorf("update = name %q attrs %v", u.str("name"), attrs)
	}
	other := a.must("POST", "/contacts", map[string]any{"email": "bob@example.com"}).str("id")
	if r := a.call("PUT", "/contacts/"+other, map[string]any{"email": "ann@example.com"}); r.status != 409 {
		t.Errorf("update onto another contact's email: %d", r.status)
	}
	if r := a.call("GET", "/contacts/ffffffffffffffffffffffff", nil); r.status != 404 || r.message() != "User Not Found" {
		t.Errorf("unknown contact: %d %s", r.status, r.message())
	}
	if r := a.call("PUT", "/contacts/ffffffffffffffffffffffff", map[string]any{"name": "x"}); r.status != 404 {
		t.Errorf("update unknown contact: %d", r.status)
	}
}

func TestContactListAndSearch(t *testing.T) {
	a := newAPI(t, sandbox.Options{})
	a.declare("contact", map[string]string{"tier": "string"})
	var ids []string
	for i := range 5 {
		role := "user"
		if i%2 == 1 {
			role = "lead"
		}
		ids = append(ids, a.must("POST", "/contacts", map[string]any{
			"role": role, "email": fmt.Sprintf("p%d@example.com", i), "external_id": fmt.Sprintf("x-%d", i), "name": fmt.Sprintf("Person %d", i),
			"custom_attributes": map[string]any{"tier": []string{"gold", "silver"}[i%2]},
		}).str("id"))
	}
	var walked []string
	cursor := ""
	for pages := 0; pages < 10; pages++ {
		path := "/contacts?per_page=2"
		if cursor != "" {
			path += "&starting_after=" + cursor
		}
		r := a.must("GET", path, nil)
		for _, c := range r.body["data"].([]any) {
			walked = append(walked, c.(map[string]any)["id"].(string))
		}
		next, _ := r.body["pages"].(map[string]any)["next"].(map[string]any)
		if next == nil {
			break
		}
		cursor = next["starting_after"].(string)
	}
	if strings.Join(walked, ",") != strings.Join(ids, ",") {
		t.Errorf("list walked %v, want %v", walked, ids)
	}
	if r := a.call("GET", "/contacts?starting_after=garbage", nil); r.status != 400 {
		t.Errorf("bad cursor: %d", r.status)
	}

	filter := func(field, op string, value any) map[string]any {
		return map[string]any{"field": field, "operator": op, "value": value}
	}
	tests := []struct {
		name   string
		query  any
		want   []int
		status int
	}{
		{"email equals, any case", filter("email", "=", "P2@EXAMPLE.COM"), []int{2}, 200},
		{"external_id", filter("external_id", "=", "x-4"), []int{4}, 200},
		{"role", filter("role", "=", "lead"), []int{1, 3}, 200},
		{"not equal", filter("role", "!=", "lead"), []int{0, 2, 4}, 200},
		{"IN", filter("external_id", "IN", []string{"x-0", "x-3"}), []int{0, 3}, 200},
		{"contains", filter("name", "~", "son 1"), []int{1}, 200},
		{"starts with", filter("email", "^", "p4"), []int{4}, 200},
		{"custom attribute", filter("custom_attributes.tier", "=", "silver"), []int{1, 3}, 200},
		{"AND group", map[string]any{"operator": "AND", "value": []any{filter("role", "=", "user"), filter("custom_attributes.tier", "=", "gold")}}, []int{0, 2, 4}, 200},
		{"OR group", map[string]any{"operator": "OR", "value": []any{filter("external_id", "=", "x-1"), filter("external_id", "=", "x-2")}}, []int{1, 2}, 200},
		{"unknown field", filter("shoe_size", "=", "9"), nil, 400},
		{"unknown operator", filter("email", "LIKE", "x"), nil, 400},
		{"too deep", map[string]any{"operator": "AND", "value": []any{map[string]any{"operator": "OR", "value": []any{
			map[string]any{"operator": "AND", "value": []any{filter("role", "=", "user")}}}}}}, nil, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := a.call("POST", "/contacts/search", map[string]any{"query": tt.query})
			if r.status != tt.status {
				t.Fatalf("status %d (%s), want %d", r.status, r.message(), tt.status)
			}
			if tt.status != 200 {
				return
			}
			var got []string
			for _, c := range r.body["data"].([]any) {
				got = append(got, c.(map[string]any)["id"].(string))
			}
			var want []string
			for _, i := range tt.want {
				want = append(want, ids[i])
			}
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("matched %v, want %v", got, want)
			}
		})
	}
}

func TestCompanies(t *testing.T) {
	a := newAPI(t, sandbox.Options{})
	c1 := a.must("POST", "/companies", map[string]any{"company_id": "org-1", "name": "Acme", "remote_created_at": 1_300_000_000, "plan": "Pro", "monthly_spend": 99.9})
	c1b := a.must("POST", "/companies", map[string]any{"company_id": "org-1", "name": "Acme Inc", "size": 50})
	if c1b.str("id") != c1.str("id") || c1b.str("name") != "Acme Inc" || c1b.body["remote_created_at"] != float64(1_300_000_000) ||
		c1b.body["size"] != float64(50) || c1b.body["monthly_spend"] != float64(99) || c1b.body["plan"].(map[string]any)["name"] != "Pro" {
		t.Errorf("upsert: %v then %v", c1.body, c1b.body)
	}
	a.must("POST", "/companies", map[string]any{"company_id": "org-2", "name": "Beta"})
	a.must("POST", "/companies", map[string]any{"company_id": "org-3", "name": "Gamma"})

	errs := []struct {
		name   string
		body   any
		status int
		code   string
	}{
		{"unknown parameter", map[string]any{"company_id": "x", "test": "invalid"}, 400, "bad_request"},
		{"no company_id", map[string]any{"name": "Nameless"}, 400, "parameter_not_found"},
		{"monthly_spend too big", map[string]any{"company_id": "x", "monthly_spend": 1 << 40}, 400, "parameter_invalid"},
		{"size of the wrong type", map[string]any{"company_id": "x", "size": "big"}, 400, "parameter_invalid"},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			if r := a.call("POST", "/companies", tt.body); r.status != tt.status || r.code() != tt.code {
				t.Errorf("got %d %q, want %d %q", r.status, r.code(), tt.status, tt.code)
			}
		})
	}

	list := func(q string) response { return a.must("GET", "/companies"+q, nil) }
	if n := len(list("").body["data"].([]any)); n != 0 {
		t.Errorf("%d companies listed before any contact is attached; companies without contacts are not visible", n)
	}
	if got := list("?company_id=org-2").body["data"].([]any); len(got) != 1 || got[0].(map[string]any)["name"] != "Beta" {
		t.Errorf("lookup by company_id = %v", got)
	}
	if r := a.call("GET", "/companies?company_id=nope", nil); r.status != 404 || r.code() != "company_not_found" {
		t.Errorf("unknown company_id: %d %s", r.status, r.code())
	}

	contact := a.must("POST", "/contacts", map[string]any{"email": "ann@example.com"}).str("id")
	other := a.must("POST", "/contacts", map[string]any{"email": "bob@example.com"}).str("id")
	var companyIDs []string
	for _, q := range []string{"org-1", "org-2", "org-3"} {
		companyIDs = append(companyIDs, list("?company_id=" + q).body["data"].([]any)[0].(map[string]any)["id"].(string))
	}
	for _, id := range companyIDs {
		a.must("POST", "/contacts/"+contact+"/companies", map[string]any{"id": id})
	}
	// Attaching twice is a no-op; another contact counts.
	a.must("POST", "/contacts/"+contact+"/companies", map[string]any{"id": companyIDs[0]})
	r := a.must("POST", "/contacts/"+other+"/companies", map[string]any{"id": companyIDs[0]})
	if r.body["user_count"] != float64(2) {
		t.Errorf("user_count = %v, want 2", r.body["user_count"])
	}
	attachErrs := []struct {
		name, contact string
		body          any
		status        int
		code          string
	}{
		{"unknown company", contact, map[string]any{"id": "ffffffffffffffffffffffff"}, 404, "company_not_found"},
		{"unknown contact", "ffffffffffffffffffffffff", map[string]any{"id": companyIDs[0]}, 404, "not_found"},
		{"no company", contact, map[string]any{}, 400, "parameter_not_found"},
	}
	for _, tt := range attachErrs {
		t.Run(tt.name, func(t *testing.T) {
			if r := a.call("POST", "/contacts/"+tt.contact+"/companies", tt.body); r.status != tt.status || r.code() != tt.code {
				t.Errorf("got %d %q, want %d %q", r.status, r.code(), tt.status, tt.code)
			}
		})
	}
	attached := a.must("GET", "/contacts/"+contact+"/companies", nil).body["companies"].([]any)
	if len(attached) != 3 {
		t.Errorf("%d companies attached, want 3", len(attached))
	}
	p1 := list("?per_page=2&page=1")
	p2 := list("?per_page=2&page=2")
	pages := p1.body["pages"].(map[string]any)
	if len(p1.body["data"].([]any)) != 2 || len(p2.body["data"].([]any)) != 1 || pages["total_pages"] != float64(2) || p1.body["total_count"] != float64(3) {
		t.Errorf("pages: %v / %v", p1.body, p2.body)
	}
	contactBody := a.must("GET", "/contacts/"+contact, nil).body["companies"].(map[string]any)
	if contactBody["total_count"] != float64(3) {
		t.Errorf("contact.companies = %v", contactBody)
	}
}

// newConversation creates a contact and a conversation from it.
func newConversation(a *api, createdAt int64) (contactID, conversationID string) {
	contactID = a.must("POST", "/contacts", map[string]any{"email": fmt.Sprintf("c%d@example.com", createdAt), "external_id": fmt.Sprintf("ext-%d", createdAt), "name": "Cat"}).str("id")
	r := a.must("POST", "/conversations", map[string]any{"from": map[string]any{"type": "user", "id": contactID}, "body": "Help!", "created_at": createdAt})
	return contactID, r.str("conversation_id")
}

func parts(r response) []map[string]any {
	var out []map[string]any
	for _, p := range r.body["conversation_parts"].(map[string]any)["conversation_parts"].([]any) {
		out = append(out, p.(map[string]any))
	}
	return out
}

func TestConversationCreateAndReplies(t *testing.T) {
	a := newAPI(t, sandbox.Options{})
	admin := sandbox.DefaultAdmins()[0].ID
	contact, conv := newConversation(a, 1_600_000_000)

	got := a.must("GET", "/conversations/"+conv, nil)
	src := got.body["source"].(map[string]any)
	if got.body["created_at"] != float64(1_600_000_000) || src["body"] != "<p>Help!</p>" || src["delivered_as"] != "customer_initiated" ||
		src["author"].(map[string]any)["id"] != contact || got.body["state"] != "open" || got.body["admin_assignee_id"] != nil {
		t.Errorf("conversation = %v", got.body)
	}

	replies := []map[string]any{
		{"type": "admin", "admin_id": admin, "message_type": "comment", "body": "First", "created_at": 1_600_000_300, "skip_notifications": true},
		{"type": "admin", "admin_id": json.Number(admin), "message_type": "note", "body": "<b>internal</b>", "created_at": 1_600_000_100},
		{"type": "user", "intercom_user_id": contact, "message_type": "comment", "body": "by id", "created_at": 1_600_000_200},
		{"type": "user", "user_id": "ext-1600000000", "message_type": "comment", "body": "by external id"},
		{"type": "user", "email": "C1600000000@example.com", "message_type": "comment", "body": "by email", "created_at": 1_600_000_500,
			"attachment_urls": []string{"https://files.example/a.pdf"}},
	}
	for _, body := range replies {
		a.must("POST", "/conversations/"+conv+"/reply", body)
	}
	ps := parts(a.must("GET", "/conversations/"+conv, nil))
	want := []struct {
		typ, body string
		at        int64
	}{
		// Insertion order, each with the created_at it was given (or now).
		{"comment", "<p>First</p>", 1_600_000_300}, {"note", "<b>internal</b>", 1_600_000_100},
		{"comment", "<p>by id</p>", 1_600_000_200}, {"comment", "<p>by external id</p>", testNow.Unix()},
		{"comment", "<p>by email</p>", 1_600_000_500},
	}
	if len(ps) != len(want) {
		t.Fatalf("%d parts, want %d", len(ps), len(want))
	}
	for i, w := range want {
		if ps[i]["part_type"] != w.typ || ps[i]["body"] != w.body || ps[i]["created_at"] != float64(w.at) {
			t.Errorf("part %d = %v %v %v, want %v %v %v", i, ps[i]["part_type"], ps[i]["body"], ps[i]["created_at"], w.typ, w.body, w.at)
		}
	}
	if att := ps[4]["attachments"].([]any); len(att) != 1 || att[0].(map[string]any)["content_type"] != "application/pdf" {
		t.Errorf("attachments = %v", att)
	}
	snap, _ := a.sb.Snapshot().Conversation(conv)
	if !snap.Parts[0].SkipNotifications || snap.Parts[1].SkipNotifications {
		t.Errorf("skip_notifications not recorded: %+v", snap.Parts[:2])
	}

	eleven := make([]string, 11)
	for i := range eleven {
		eleven[i] = fmt.Sprintf("https://files.example/%d.png", i)
	}
	errs := []struct {
		name, method, path string
		body               any
		status             int
		code, message      string
	}{
		{"conversation from unknown contact", "POST", "/conversations", map[string]any{"from": map[string]any{"type": "user", "id": "ffffffffffffffffffffffff"}, "body": "x"}, 404, "not_found", "User Not Found"},
		{"conversation without body", "POST", "/conversations", map[string]any{"from": map[string]any{"type": "user", "id": contact}}, 400, "parameter_not_found", ""},
		{"conversation with 11 attachments", "POST", "/conversations", map[string]any{"from": map[string]any{"type": "user", "id": contact}, "body": "x", "attachment_urls": eleven}, 400, "parameter_invalid", ""},
		{"conversation with a bad from.type", "POST", "/conversations", map[string]any{"from": map[string]any{"type": "admin", "id": contact}, "body": "x"}, 400, "parameter_invalid", ""},
		{"reply by unknown admin", "POST", "/conversations/" + conv + "/reply", map[string]any{"type": "admin", "admin_id": "999", "message_type": "comment", "body": "x"}, 404, "not_found", ""},
		{"reply without admin_id", "POST", "/conversations/" + conv + "/reply", map[string]any{"type": "admin", "message_type": "comment", "body": "x"}, 400, "parameter_not_found", ""},
		{"reply without body", "POST", "/conversations/" + conv + "/reply", map[string]any{"type": "admin", "admin_id": admin, "message_type": "note"}, 400, "parameter_not_found", ""},
		{"reply with 11 attachments", "POST", "/conversations/" + conv + "/reply", map[string]any{"type": "admin", "admin_id": admin, "message_type": "comment", "body": "x", "attachment_urls": eleven}, 400, "parameter_invalid", ""},
		{"reply with an admin_id that is no id", "POST", "/conversations/" + conv + "/reply", map[string]any{"type": "admin", "admin_id": true, "message_type": "comment", "body": "x"}, 400, "parameter_invalid", ""},
		{"reply with a bad message_type", "POST", "/conversations/" + conv + "/reply", map[string]any{"type": "admin", "admin_id": admin, "message_type": "shout", "body": "x"}, 400, "parameter_invalid", ""},
		{"user reply by unknown email", "POST", "/conversations/" + conv + "/reply", map[string]any{"type": "user", "email": "ghost@example.com", "message_type": "comment", "body": "x"}, 404, "not_found", "User Not Found"},
		{"user reply naming nobody", "POST", "/conversations/" + conv + "/reply", map[string]any{"type": "user", "message_type": "comment", "body": "x"}, 400, "parameter_not_found", ""},
		{"user reply naming two", "POST", "/conversations/" + conv + "/reply", map[string]any{"type": "user", "email": "a@b.c", "user_id": "u", "message_type": "comment", "body": "x"}, 400, "parameter_invalid", ""},
		{"reply to unknown conversation", "POST", "/conversations/99999999/reply", map[string]any{"type": "admin", "admin_id": admin, "message_type": "comment", "body": "x"}, 404, "not_found", ""},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			r := a.call(tt.method, tt.path, tt.body)
			if r.status != tt.status || r.code() != tt.code || (tt.message != "" && r.message() != tt.message) {
				t.Errorf("got %d %q %q, want %d %q %q", r.status, r.code(), r.message(), tt.status, tt.code, tt.message)
			}
		})
	}
	if n := len(a.sb.Snapshot().Conversations); n != 1 {
		t.Errorf("%d conversations after failed creates, want 1", n)
	}
	if got := len(parts(a.must("GET", "/conversations/"+conv, nil))); got != len(want) {
		t.Errorf("%d parts after failed replies, want %d", got, len(want))
	}
}

func TestConversationActions(t *testing.T) {
	a := newAPI(t, sandbox.Options{})
	admins, teams := sandbox.DefaultAdmins(), sandbox.DefaultTeams()
	_, conv := newConversation(a, 1_600_000_000)
	later := testNow.Add(time.Hour).Unix()
	steps := []struct {
		body                  map[string]any
		partType, state       string
		adminAssignee, teamAs any
	}{
		{map[string]any{"message_type": "assignment", "type": "admin", "admin_id": admins[0].ID, "assignee_id": admins[1].ID}, "assignment", "open", float64(7340002), nil},
		{map[string]any{"message_type": "assignment", "type": "team", "admin_id": admins[0].ID, "assignee_id": teams[1].ID}, "assignment", "open", float64(7340002), float64(5600002)},
		{map[string]any{"message_type": "snoozed", "admin_id": admins[0].ID, "snoozed_until": later}, "snoozed", "snoozed", float64(7340002), float64(5600002)},
		{map[string]any{"message_type": "open", "admin_id": admins[0].ID}, "open", "open", float64(7340002), float64(5600002)},
		{map[string]any{"message_type": "assignment", "type": "admin", "admin_id": admins[0].ID, "assignee_id": "0"}, "assignment", "open", nil, float64(5600002)},
		{map[string]any{"message_type": "close", "type": "admin", "admin_id": admins[0].ID, "body": "Done"}, "close", "closed", nil, float64(5600002)},
	}
	for i, st := range steps {
		r := a.must("POST", "/conversations/"+conv+"/parts", st.body)
		ps := parts(r)
		last := ps[len(ps)-1]
		if last["part_type"] != st.partType || last["created_at"] != float64(testNow.Unix()) || r.body["state"] != st.state ||
			r.body["open"] != (st.state != "closed") || r.body["admin_assignee_id"] != st.adminAssignee || r.body["team_assignee_id"] != st.teamAs {
			t.Errorf("step %d: part %v state %v open %v admin %v team %v", i, last["part_type"], r.body["state"], r.body["open"], r.body["admin_assignee_id"], r.body["team_assignee_id"])
		}
	}
	// A customer writing into a closed conversation reopens it.
	contact := a.sb.Snapshot().Conversations[0].ContactIDs[0]
	r := a.must("POST", "/conversations/"+conv+"/reply", map[string]any{"type": "user", "intercom_user_id": contact, "message_type": "comment", "body": "Again"})
	if ps := parts(r); r.body["state"] != "open" || ps[len(ps)-1]["part_type"] != "open" {
		t.Errorf("after a customer reply: state %v part %v", r.body["state"], ps[len(ps)-1]["part_type"])
	}

	for name, typ := range map[string]string{"source_id": "string", "priority_score": "integer"} {
		a.must("POST", "/conversations/attributes", map[string]any{"name": name, "data_type": typ})
	}
	u := a.must("PUT", "/conversations/"+conv, map[string]any{"title": "Printer", "read": true, "custom_attributes": map[string]any{"source_id": "ZD-1", "priority_score": 3}})
	if u.body["title"] != "Printer" || u.body["read"] != true || u.body["custom_attributes"].(map[string]any)["source_id"] != "ZD-1" {
		t.Errorf("update = %v", u.body)
	}

	errs := []struct {
		name   string
		body   map[string]any
		status int
		code   string
	}{
		{"unknown message_type", map[string]any{"message_type": "delete", "admin_id": admins[0].ID}, 400, "parameter_invalid"},
		{"no admin", map[string]any{"message_type": "open"}, 400, "parameter_not_found"},
		{"unknown admin", map[string]any{"message_type": "open", "admin_id": "1"}, 404, "not_found"},
		{"close without type", map[string]any{"message_type": "close", "admin_id": admins[0].ID}, 400, "parameter_invalid"},
		{"snooze into the past", map[string]any{"message_type": "snoozed", "admin_id": admins[0].ID, "snoozed_until": 1}, 400, "parameter_invalid"},
		{"assign to unknown admin", map[string]any{"message_type": "assignment", "type": "admin", "admin_id": admins[0].ID, "assignee_id": "424242"}, 404, "assignee_not_found"},
		{"assign to unknown team", map[string]any{"message_type": "assignment", "type": "team", "admin_id": admins[0].ID, "assignee_id": "424242"}, 404, "assignee_not_found"},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			if r := a.call("POST", "/conversations/"+conv+"/parts", tt.body); r.status != tt.status || r.code() != tt.code {
				t.Errorf("got %d %q (%s), want %d %q", r.status, r.code(), r.message(), tt.status, tt.code)
			}
		})
	}
}

func TestPartsCap(t *testing.T) {
	a := newAPI(t, sandbox.Options{})
	_, conv := newConversation(a, 1_600_000_000)
	const n = 520
	for i := range n {
		a.must("POST", "/conversations/"+conv+"/reply", map[string]any{
			"type": "admin", "admin_id": sandbox.DefaultAdmins()[0].ID, "message_type": "note",
			"body": "note " + strconv.Itoa(i), "created_at": 1_600_000_001 + i,
		})
	}
	r := a.must("GET", "/conversations/"+conv, nil)
	ps := parts(r)
	if len(ps) != 500 {
		t.Fatalf("%d parts returned, want the 500 most recent", len(ps))
	}
	if ps[0]["body"] != "<p>note 20</p>" || ps[499]["body"] != "<p>note 519</p>" {
		t.Errorf("returned parts run from %v to %v, want note 20 to note 519", ps[0]["body"], ps[499]["body"])
	}
	if tc := r.body["conversation_parts"].(map[string]any)["total_count"]; tc != float64(n) {
		t.Errorf("total_count = %v, want %d", tc, n)
	}
	if snap, _ := a.sb.Snapshot().Conversation(conv); len(snap.Parts) != n {
		t.Errorf("snapshot holds %d parts, want all %d", len(snap.Parts), n)
	}
}

func TestRateLimit(t *testing.T) {
	const limit = 5
	a := newAPI(t, sandbox.Options{RateLimit: limit, Window: time.Hour})
	// The window is the hour holding testNow; it resets at its end.
	wantReset := strconv.FormatInt(testNow.Truncate(time.Hour).Add(time.Hour).Unix(), 10)
	for i := range limit + 2 {
		r := a.call("GET", "/tags", nil)
		if got := r.header.Get("X-RateLimit-Limit"); got != strconv.Itoa(limit) {
			t.Errorf("call %d: X-RateLimit-Limit = %q", i, got)
		}
		if got := r.header.Get("X-RateLimit-Reset"); got != wantReset {
			t.Errorf("call %d: X-RateLimit-Reset = %q, want %s", i, got, wantReset)
		}
		wantRemaining := max(0, limit-i-1)
		if got := r.header.Get("X-RateLimit-Remaining"); got != strconv.Itoa(wantRemaining) {
			t.Errorf("call %d: X-RateLimit-Remaining = %q, want %d", i, got, wantRemaining)
		}
		if i < limit && r.status != 200 {
			t.Errorf("call %d: %d within the limit", i, r.status)
		}
		if i >= limit {
			if r.status != 429 || r.code() != "rate_limit_exceeded" || r.message() != "Exceeded rate limit of 5 in 3600_seconds" {
				t.Errorf("call %d: %d %q %q", i, r.status, r.code(), r.message())
			}
		}
	}
	// Rate-limit headers come on authenticated responses only.
	if r := a.call("GET", "/tags", nil, "Authorization", "Bearer wrong"); r.status != 401 || r.header.Get("X-RateLimit-Limit") != "" {
		t.Errorf("401 answer: %d with headers %v", r.status, r.header)
	}
	if got := a.sb.Stats().ByStatus[429]; got != 2 {
		t.Errorf("stats count %d 429s, want 2", got)
	}

	t.Run("the window refills", func(t *testing.T) {
		var mu sync.Mutex
		now := testNow
		b := newAPI(t, sandbox.Options{RateLimit: 1, Window: 10 * time.Second, Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now }})
		if r := b.call("GET", "/tags", nil); r.status != 200 {
			t.Fatalf("first call %d", r.status)
		}
		if r := b.call("GET", "/tags", nil); r.status != 429 || r.message() != "Exceeded rate limit of 1 in 10_seconds" {
			t.Fatalf("second call %d %s", r.status, r.message())
		}
		mu.Lock()
		now = now.Add(10 * time.Second)
		mu.Unlock()
		if r := b.call("GET", "/tags", nil); r.status != 200 {
			t.Fatalf("call in the next window %d", r.status)
		}
	})
}

func TestTags(t *testing.T) {
	a := newAPI(t, sandbox.Options{})
	admin := sandbox.DefaultAdmins()[0].ID
	t1 := a.must("POST", "/tags", map[string]any{"name": "VIP"})
	t2 := a.must("POST", "/tags", map[string]any{"name": "vip"})
	if t1.str("id") != t2.str("id") || t2.str("name") != "VIP" {
		t.Errorf("create-or-return by name: %v then %v", t1.body, t2.body)
	}
	a.must("POST", "/tags", map[string]any{"name": "Spam"})
	if data := a.must("GET", "/tags", nil).body["data"].([]any); len(data) != 2 {
		t.Errorf("GET /tags = %v", data)
	}
	renamed := a.must("POST", "/tags", map[string]any{"id": t1.str("id"), "name": "Very Important"})
	if renamed.str("id") != t1.str("id") || renamed.str("name") != "Very Important" {
		t.Errorf("rename = %v", renamed.body)
	}
	contact, conv := newConversation(a, 1_600_000_000)
	applied := a.must("POST", "/conversations/"+conv+"/tags", map[string]any{"id": t1.str("id"), "admin_id": admin})
	if applied.body["applied_by"].(map[string]any)["id"] != admin || applied.body["applied_at"] != float64(testNow.Unix()) {
		t.Errorf("tag conversation = %v", applied.body)
	}
	a.must("POST", "/conversations/"+conv+"/tags", map[string]any{"id": t1.str("id"), "admin_id": admin})
	tags := a.must("GET", "/conversations/"+conv, nil).body["tags"].(map[string]any)["tags"].([]any)
	if len(tags) != 1 {
		t.Errorf("tagging twice gave %d tags", len(tags))
	}
	a.must("POST", "/contacts/"+contact+"/tags", map[string]any{"id": t1.str("id")})
	if ct, _ := a.sb.Snapshot().Contact(contact); len(ct.TagIDs) != 1 {
		t.Errorf("contact tags = %v", ct.TagIDs)
	}
	bulk := a.must("POST", "/tags", map[string]any{"name": "Spam", "users": []any{map[string]any{"id": contact}, map[string]any{"id": "ghost"}}})
	if users := bulk.body["users"].([]any); len(users) != 2 || users[0].(map[string]any)["tagged"] != true || users[1].(map[string]any)["tagged"] != false {
		t.Errorf("bulk users = %v", bulk.body["users"])
	}

	errs := []struct {
		name, path string
		body       any
		status     int
		code       string
	}{
		{"tag without name", "/tags", map[string]any{"name": ""}, 400, "parameter_invalid"},
		{"tag with a stray key", "/tags", map[string]any{"test": "invalid"}, 400, "parameter_invalid"},
		{"rename unknown tag", "/tags", map[string]any{"id": "1", "name": "x"}, 404, "tag_not_found"},
		{"tag conversation without admin", "/conversations/" + conv + "/tags", map[string]any{"id": t1.str("id")}, 400, "parameter_not_found"},
		{"tag conversation by unknown admin", "/conversations/" + conv + "/tags", map[string]any{"id": t1.str("id"), "admin_id": "1"}, 404, "not_found"},
		{"tag unknown conversation", "/conversations/424242/tags", map[string]any{"id": t1.str("id"), "admin_id": admin}, 404, "not_found"},
		{"unknown tag on conversation", "/conversations/" + conv + "/tags", map[string]any{"id": "1", "admin_id": admin}, 404, "tag_not_found"},
		{"tag unknown contact", "/contacts/ffffffffffffffffffffffff/tags", map[string]any{"id": t1.str("id")}, 404, "not_found"},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			if r := a.call("POST", tt.path, tt.body); r.status != tt.status || r.code() != tt.code {
				t.Errorf("got %d %q (%s), want %d %q", r.status, r.code(), r.message(), tt.status, tt.code)
			}
		})
	}
}

func TestConversationList(t *testing.T) {
	a := newAPI(t, sandbox.Options{})
	var want []string
	for i := range 5 {
		_, conv := newConversation(a, int64(1_600_000_000+i))
		want = append(want, conv)
	}
	var got []string
	path := "/conversations?per_page=2"
	for range 10 {
		r := a.must("GET", path, nil)
		if r.str("type") != "conversation.list" || r.body["total_count"] != float64(5) {
			t.Fatalf("list = %v", r.body)
		}
		for _, c := range r.body["conversations"].([]any) {
			m := c.(map[string]any)
			if _, has := m["conversation_parts"]; has {
				t.Errorf("list items carry conversation_parts")
			}
			got = append(got, m["id"].(string))
		}
		next, _ := r.body["pages"].(map[string]any)["next"].(map[string]any)
		if next == nil {
			break
		}
		path = "/conversations?per_page=2&starting_after=" + next["starting_after"].(string)
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("walked %v, want %v", got, want)
	}
}

func TestSnapshotIsADeepCopy(t *testing.T) {
	a := newAPI(t, sandbox.Options{})
	a.declare("contact", map[string]string{"k": "string"})
	contact := a.must("POST", "/contacts", map[string]any{"email": "ann@example.com", "custom_attributes": map[string]any{"k": "v"}}).str("id")
	_, conv := newConversation(a, 1_600_000_000)
	a.must("POST", "/conversations/"+conv+"/reply", map[string]any{"type": "admin", "admin_id": sandbox.DefaultAdmins()[0].ID, "message_type": "note", "body": "x"})

	snap := a.sb.Snapshot()
	snap.Contacts[0].CustomAttributes["k"] = "changed"
	snap.Conversations[0].Parts[0].Body = "changed"
	snap.Conversations[0].ContactIDs[0] = "changed"
	snap.Admins[0].Name = "changed"

	again := a.sb.Snapshot()
	if c, _ := again.Contact(contact); c.CustomAttributes["k"] != "v" {
		t.Errorf("changing a snapshot changed the server's contact")
	}
	if c, _ := again.Conversation(conv); c.Parts[0].Body != "<p>x</p>" || c.ContactIDs[0] == "changed" {
		t.Errorf("changing a snapshot changed the server's conversation")
	}
	if again.Admins[0].Name == "changed" {
		t.Errorf("changing a snapshot changed the admins")
	}
}

func TestStats(t *testing.T) {
	a := newAPI(t, sandbox.Options{})
	a.must("POST", "/contacts", map[string]any{"email": "ann@example.com"})
	a.call("POST", "/contacts", map[string]any{"email": "ann@example.com"})
	a.call("GET", "/contacts/ffffffffffffffffffffffff", nil)
	a.call("GET", "/nowhere", nil)
	a.call("GET", "/me", nil, "Authorization", "")
	st := a.sb.Stats()
	if st.Requests != 5 || st.ByStatus[200] != 1 || st.ByStatus[409] != 1 || st.ByStatus[404] != 2 || st.ByStatus[401] != 1 {
		t.Errorf("stats = %+v", st)
	}
	if e := st.Endpoints["POST /contacts"]; e.Requests != 2 || e.ByStatus[409] != 1 {
		t.Errorf("POST /contacts stats = %+v", e)
	}
	if e := st.Endpoints["GET /contacts/{contact_id}"]; e.Requests != 1 || e.ByStatus[404] != 1 {
		t.Errorf("GET /contacts/{contact_id} stats = %+v", e)
	}
	if e := st.Endpoints["unmatched"]; e.Requests != 1 {
		t.Errorf("unmatched stats = %+v", e)
	}
	if e := st.Endpoints["GET /me"]; e.ByStatus[401] != 1 {
		t.Errorf("GET /me stats = %+v", e)
	}
}

func TestStatsFirstLast(t *testing.T) {
	var mu sync.Mutex
	now := testNow
	a := newAPI(t, sandbox.Options{Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now }})
	if st := a.sb.Stats(); !st.First.IsZero() || !st.Last.IsZero() {
		t.Errorf("before any request: first %v, last %v", st.First, st.Last)
	}
	for range 3 {
		a.call("GET", "/tags", nil)
		mu.Lock()
		now = now.Add(time.Second)
		mu.Unlock()
	}
	st := a.sb.Stats()
	if !st.First.Equal(testNow) || !st.Last.Equal(testNow.Add(2*time.Second)) {
		t.Errorf("first %v, last %v; want %v and 2s later", st.First, st.Last, testNow)
	}
	sec := testNow.Unix()
	if want := map[int64]int64{sec: 1, sec + 1: 1, sec + 2: 1}; !maps.Equal(st.AdmittedBySecond, want) {
		t.Errorf("admitted by second %v, want %v", st.AdmittedBySecond, want)
	}
}

// TestConcurrentCreates checks the store is safe under concurrent writers:
// of many creates of the same contact exactly one wins, the rest get 409s
// naming it.
func TestConcurrentCreates(t *testing.T) {
	a := newAPI(t, sandbox.Options{})
	const n = 32
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		statuses = map[int]int{}
		ids      = map[string]bool{}
	)
	for range n {
		wg.Go(func() {
			raw, _ := json.Marshal(map[string]any{"email": "race@example.com"})
			req, _ := http.NewRequest("POST", a.srv.URL+"/contacts", bytes.NewReader(raw))
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := a.srv.Client().Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			var body struct {
				ID     string `json:"id"`
				Errors []struct {
					Message string `json:"message"`
				} `json:"errors"`
			}
			json.NewDecoder(resp.Body).Decode(&body)
			mu.Lock()
			defer mu.Unlock()
			statuses[resp.StatusCode]++
			if body.ID != "" {
				ids[body.ID] = true
			}
			if len(body.Errors) > 0 {
				ids[strings.TrimPrefix(body.Errors[0].Message, "A contact matching those details already exists with id=")] = true
			}
		})
	}
	wg.Wait()
	if statuses[200] != 1 || statuses[409] != n-1 || len(ids) != 1 {
		t.Errorf("statuses %v, ids %v: want one 200 and %d 409s naming it", statuses, ids, n-1)
	}
	if got := len(a.sb.Snapshot().Contacts); got != 1 {
		t.Errorf("%d contacts stored", got)
	}
}

func TestLatency(t *testing.T) {
	a := newAPI(t, sandbox.Options{Latency: 60 * time.Millisecond})
	start := time.Now()
	a.must("GET", "/tags", nil)
	if d := time.Since(start); d < 60*time.Millisecond {
		t.Errorf("answer after %v, want at least the 60ms latency", d)
	}
}

// declare creates model's custom attributes (name → data type), as a
// workspace must have them before values are written.
func (a *api) declare(model string, attrs map[string]string) {
	a.t.Helper()
	for name, typ := range attrs {
		a.must("POST", "/data_attributes", map[string]any{"name": name, "model": model, "data_type": typ})
	}
}

// Custom attributes: created once, listed, and enforced on writes by name
// and type, as Intercom does.
func TestCustomAttributes(t *testing.T) {
	a := newAPI(t, sandbox.Options{})
	a.declare("contact", map[string]string{"plan": "string", "seats": "integer"})
	a.must("POST", "/data_attributes", map[string]any{"name": "size", "model": "company", "data_type": "options", "options": []any{map[string]any{"value": "S"}, map[string]any{"value": "L"}}})
	a.must("POST", "/conversations/attributes", map[string]any{"name": "Order number", "data_type": "string"})
	tests := []struct {
		name, method, path string
		body               any
		status             int
		code               string
	}{
		{"a name in use", "POST", "/data_attributes", map[string]any{"name": "plan", "model": "contact", "data_type": "string"}, 400, "parameter_invalid"},
		{"a name with a space", "POST", "/data_attributes", map[string]any{"name": "my plan", "model": "contact", "data_type": "string"}, 400, "parameter_invalid"},
		{"an unknown type", "POST", "/data_attributes", map[string]any{"name": "x", "model": "contact", "data_type": "text"}, 400, "parameter_invalid"},
		{"options without two", "POST", "/data_attributes", map[string]any{"name": "y", "model": "company", "data_type": "options", "options": []any{map[string]any{"value": "S"}}}, 400, "parameter_invalid"},
		{"conversation model listed here", "GET", "/data_attributes?model=conversation", nil, 422, "parameter_invalid"},
		{"a bad conversation type", "POST", "/conversations/attributes", map[string]any{"name": "z", "data_type": "text"}, 422, "parameter_invalid"},
		{"an undeclared attribute", "POST", "/contacts", map[string]any{"email": "a@example.com", "custom_attributes": map[string]any{"nope": "x"}}, 400, "parameter_not_found"},
		{"a value of another type", "POST", "/contacts", map[string]any{"email": "b@example.com", "custom_attributes": map[string]any{"seats": "many"}}, 400, "parameter_invalid"},
		{"an option not offered", "POST", "/companies", map[string]any{"company_id": "c1", "custom_attributes": map[string]any{"size": "XL"}}, 400, "parameter_invalid"},
		{"a declared value", "POST", "/contacts", map[string]any{"email": "c@example.com", "custom_attributes": map[string]any{"plan": "pro", "seats": 3}}, 200, ""},
		{"a declared option", "POST", "/companies", map[string]any{"company_id": "c2", "custom_attributes": map[string]any{"size": "L"}}, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := a.call(tt.method, tt.path, tt.body)
			if r.status != tt.status || (tt.code != "" && r.code() != tt.code) {
				t.Errorf("%s %s: %d %q, want %d %q", tt.method, tt.path, r.status, r.code(), tt.status, tt.code)
			}
		})
	}
	list := a.must("GET", "/data_attributes?model=contact", nil)
	types := map[string]any{}
	for _, d := range list.body["data"].([]any) {
		types[d.(map[string]any)["name"].(string)] = d.(map[string]any)["data_type"]
	}
	if fmt.Sprint(types) != "map[plan:string seats:integer]" {
		t.Errorf("contact attributes = %v", list.body)
	}
	if n := len(a.sb.Snapshot().Attributes); n != 4 {
		t.Errorf("the snapshot holds %d attributes, want 4", n)
	}
}
