package connector

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ferryhq/ferry/sdk/schema"
)

// The objects below are written for these tests in Freshdesk's shapes; the
// values are made up.

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

// rawless returns a copy of r with Raw cleared, for comparison: each test
// checks Raw separately.
func rawless[R any](r *R) *R {
	if r == nil {
		return nil
	}
	cp := *r
	v := reflect.ValueOf(&cp).Elem()
	if f := v.FieldByName("Raw"); f.IsValid() {
		f.SetBytes(nil)
	}
	return &cp
}

func checkMapped[R any](t *testing.T, got *R, err error, want *R, wantErr string) {
	t.Helper()
	if wantErr != "" {
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("error = %v, want one saying %q", err, wantErr)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if g := rawless(got); !reflect.DeepEqual(g, want) {
		t.Errorf("got  %+v\nwant %+v", g, want)
	}
}

func TestMapAgent(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    *schema.User
		wantErr string
	}{
		{
			name: "agent whose contact changed last, phone as a number",
			in: `{"available": true, "occasional": false, "id": 1, "ticket_scope": 1, "created_at": "2015-08-18T16:18:05Z",
				"updated_at": "2015-08-18T16:18:05Z", "contact": {"active": true, "email": "ada@acme.example", "mobile": 1234,
				"name": "Ada Okafor", "phone": 5678, "created_at": "2015-08-18T16:18:05Z", "updated_at": "2015-08-25T08:50:20Z"}}`,
			want: &schema.User{ID: "1", Role: schema.RoleAgent, Name: "Ada Okafor", Email: "ada@acme.example", Phone: "5678",
				Active: true, CreatedAt: at("2015-08-18T16:18:05Z"), UpdatedAt: at("2015-08-25T08:50:20Z")},
		},
		{
			name: "unverified agent, mobile only, times with an offset",
			in: `{"id": 432, "created_at": "2015-08-28T11:47:58+05:30", "updated_at": "2015-08-28T11:47:58+05:30",
				"contact": {"active": false, "email": "bo@acme.example", "mobile": "+1 415 555 0100", "phone": null, "name": "Bo",
				"updated_at": "2015-08-28T11:47:58+05:30"}}`,
			want: &schema.User{ID: "432", Role: schema.RoleAgent, Name: "Bo", Email: "bo@acme.example", Phone: "+1 415 555 0100",
				Active: true, CreatedAt: at("2015-08-28T06:17:58Z"), UpdatedAt: at("2015-08-28T06:17:58Z")},
		},
		{
			name: "deactivated agent",
			in:   `{"id": 3, "deactivated": true, "contact": {"name": "Cy", "email": "cy@acme.example"}}`,
			want: &schema.User{ID: "3", Role: schema.RoleAgent, Name: "Cy", Email: "cy@acme.example"},
		},
		{name: "no contact", in: `{"id": 4}`, wantErr: "has no contact"},
		{name: "no id", in: `{"contact": {"name": "x"}}`, wantErr: "no id"},
		{name: "phone neither string nor number", in: `{"id": 5, "contact": {"phone": [1]}}`, wantErr: "decode agent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := mapAgent(json.RawMessage(tt.in))
			checkMapped(t, got, err, tt.want, tt.wantErr)
			if err == nil && string(got.Raw) != tt.in {
				t.Error("Raw is not the input")
			}
		})
	}
}

func TestMapContact(t *testing.T) {
	base := `"name": "Rachel Moreau", "email": "rachel@mail.example", "phone": null, "mobile": "+44 20 7946 0001",
		"created_at": "2014-12-31T12:27:09+10:00", "updated_at": "2015-01-31T12:27:09+10:00"`
	tests := []struct {
		name, in, state string
		want            *schema.User
		wantErr         string
	}{
		{
			name: "unverified customer of a company", state: "",
			in: `{"id": 10, "active": false, "deleted": false, "company_id": 7, "custom_fields": {"plan": "Growth", "since": null}, ` + base + `}`,
			want: &schema.User{ID: "10", Role: schema.RoleEndUser, Name: "Rachel Moreau", Email: "rachel@mail.example",
				Phone: "+44 20 7946 0001", OrganizationID: "7", Active: true, CreatedAt: at("2014-12-31T02:27:09Z"),
				UpdatedAt: at("2015-01-31T02:27:09Z"), CustomFields: json.RawMessage(`{"plan": "Growth", "since": null}`)},
		},
		{
			name: "blocked", state: "blocked",
			in: `{"id": 11, "active": true, "deleted": false, "company_id": null, "custom_fields": {}, ` + base + `}`,
			want: &schema.User{ID: "11", Role: schema.RoleEndUser, Name: "Rachel Moreau", Email: "rachel@mail.example",
				Phone: "+44 20 7946 0001", Active: true, Suspended: true, CreatedAt: at("2014-12-31T02:27:09Z"), UpdatedAt: at("2015-01-31T02:27:09Z")},
		},
		{
			name: "deleted", state: "deleted",
			in:   `{"id": 12, "deleted": true, "email": null, "phone": 4155550100, "name": "Gone"}`,
			want: &schema.User{ID: "12", Role: schema.RoleEndUser, Name: "Gone", Phone: "4155550100"},
		},
		{
			name: "deleted, listed by default", state: "",
			in:   `{"id": 13, "deleted": true, "name": "Also gone"}`,
			want: &schema.User{ID: "13", Role: schema.RoleEndUser, Name: "Also gone"},
		},
		{name: "no id", in: `{"name": "Nobody"}`, wantErr: "no id"},
		{name: "id as a string", in: `{"id": "10"}`, wantErr: "decode contact"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := mapContact(json.RawMessage(tt.in), tt.state)
			checkMapped(t, got, err, tt.want, tt.wantErr)
		})
	}
}

func TestMapTicket(t *testing.T) {
	meta := ticketMeta{statuses: map[int]string{6: "Waiting on Customer"}, fieldIDs: map[string]string{"cf_order": "901", "cf_vip": "902"}}
	tests := []struct {
		name    string
		in      string
		want    *schema.Ticket
		wantErr string
	}{
		{
			name: "viewed ticket with everything",
			in: `{"cc_emails": ["cc@mail.example"], "spam": false, "group_id": 5, "priority": 4, "requester_id": 20, "responder_id": 30,
				"source": 1, "company_id": 40, "status": 2, "subject": "Printer on fire", "id": 7, "type": "Incident",
				"custom_fields": {"cf_order": 123, "cf_vip": true, "cf_gone": null}, "tags": ["a", "b"],
				"created_at": "2016-05-18T04:36:04Z", "updated_at": "2016-05-18T23:42:50Z",
				"description": "<div>Help</div>", "description_text": "Help", "attachments": []}`,
			want: &schema.Ticket{ID: "7", Subject: "Printer on fire", Status: "open", Priority: "urgent", Type: "Incident",
				RequesterID: "20", AssigneeID: "30", GroupID: "5", OrganizationID: "40", Tags: []string{"a", "b"},
				CustomFields: json.RawMessage(`{"901":123,"902":true,"cf_gone":null}`),
				CreatedAt:    at("2016-05-18T04:36:04Z"), UpdatedAt: at("2016-05-18T23:42:50Z")},
		},
		{
			name: "an account's own status, nulls",
			in: `{"id": 8, "status": 6, "priority": 1, "type": null, "requester_id": 1, "responder_id": null, "group_id": null,
				"company_id": null, "tags": [], "custom_fields": {}}`,
			want: &schema.Ticket{ID: "8", Status: "waiting on customer", Priority: "low", RequesterID: "1", Tags: []string{}},
		},
		{
			name: "statuses and priorities nobody named",
			in:   `{"id": 9, "status": 12, "priority": 9}`,
			want: &schema.Ticket{ID: "9", Status: "12", Priority: "9"},
		},
		{
			name: "resolved and closed, medium and high",
			in:   `{"id": 10, "status": 4, "priority": 2}`,
			want: &schema.Ticket{ID: "10", Status: "resolved", Priority: "medium"},
		},
		{name: "no id", in: `{"subject": "?"}`, wantErr: "no id"},
		{name: "tags not a list", in: `{"id": 11, "tags": "a,b"}`, wantErr: "decode ticket"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := mapTicket(json.RawMessage(tt.in), meta)
			checkMapped(t, got, err, tt.want, tt.wantErr)
		})
	}
}

func TestMapDescription(t *testing.T) {
	in := `{"id": 7, "requester_id": 20, "source": 10, "subject": "x", "created_at": "2016-05-18T04:36:04Z",
		"description": "<div>Help</div>", "description_text": "Help",
		"attachments": [
			{"id": 1, "content_type": "text/plain", "size": 44115, "name": "a.txt", "attachment_url": "https://files.example/a.txt"},
			{"id": 2, "content_type": "image/png", "file_size": 10, "name": "b.png", "attachment_url": "https://files.example/b.png"}]}`
	c, atts, err := mapDescription(json.RawMessage(in))
	if err != nil {
		t.Fatal(err)
	}
	want := &schema.Comment{ID: "description-7", TicketID: "7", AuthorID: "20", Public: true, BodyHTML: "<div>Help</div>",
		BodyText: "Help", CreatedAt: at("2016-05-18T04:36:04Z")}
	if !reflect.DeepEqual(rawless(c), want) {
		t.Errorf("got  %+v\nwant %+v", rawless(c), want)
	}
	var raw map[string]any
	if err := json.Unmarshal(c.Raw, &raw); err != nil || raw["ticket_id"] != 7.0 || raw["source"] != 10.0 || raw["subject"] != nil {
		t.Errorf("raw %s: want the ticket's first message", c.Raw)
	}
	wantAtts := []*schema.Attachment{
		{ID: "1", TicketID: "7", CommentID: "description-7", FileName: "a.txt", ContentType: "text/plain", Size: 44115, URL: "https://files.example/a.txt"},
		{ID: "2", TicketID: "7", CommentID: "description-7", FileName: "b.png", ContentType: "image/png", Size: 10, URL: "https://files.example/b.png", Position: 1},
	}
	for i := range atts {
		if !reflect.DeepEqual(rawless(atts[i]), wantAtts[i]) {
			t.Errorf("attachment %d: %+v, want %+v", i, rawless(atts[i]), wantAtts[i])
		}
	}
	if _, _, err := mapDescription(json.RawMessage(`{"id": 7, "attachments": [{"name": "x"}]}`)); err == nil || !strings.Contains(err.Error(), "has no id") {
		t.Errorf("an attachment without id: %v", err)
	}
}

func TestMapConversation(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		want     *schema.Comment
		wantAtts int
		wantErr  string
	}{
		{
			name: "private note",
			in: `{"body": "<div>This is a private note</div>", "body_text": "This is a private note", "id": 1, "incoming": false,
				"private": true, "user_id": 3, "source": 2, "ticket_id": 7, "created_at": "2016-05-19T05:36:12Z", "attachments": []}`,
			want: &schema.Comment{ID: "1", TicketID: "7", AuthorID: "3", BodyHTML: "<div>This is a private note</div>",
				BodyText: "This is a private note", CreatedAt: at("2016-05-19T05:36:12Z")},
		},
		{
			name: "public reply with an attachment",
			in: `{"body": "<div>Hi</div>", "body_text": "Hi", "id": 2, "private": false, "user_id": 4, "source": 0,
				"created_at": "2016-05-19T05:36:14Z", "attachments": [{"id": 9, "name": "x.pdf", "size": 1, "content_type": "application/pdf"}]}`,
			want: &schema.Comment{ID: "2", TicketID: "7", AuthorID: "4", Public: true, BodyHTML: "<div>Hi</div>", BodyText: "Hi",
				CreatedAt: at("2016-05-19T05:36:14Z")},
			wantAtts: 1,
		},
		{name: "no id", in: `{"body": "?"}`, wantErr: "no id"},
		{name: "attachment not an object", in: `{"id": 3, "attachments": ["x"]}`, wantErr: "decode attachment 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, atts, err := mapConversation("7", json.RawMessage(tt.in))
			checkMapped(t, got, err, tt.want, tt.wantErr)
			if err == nil && (len(atts) != tt.wantAtts || string(got.Raw) != tt.in) {
				t.Errorf("%d attachments, raw %s", len(atts), got.Raw)
			}
		})
	}
}

func TestMapTicketField(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    *schema.TicketField
		wantErr string
	}{
		{
			name: "status, an account's own included",
			in: `{"id": 1, "name": "status", "label": "Status", "type": "default_status",
				"choices": {"6": ["Waiting on Customer", "Awaiting your Reply"], "2": ["Open", "Being Processed"], "5": ["Closed", "Closed"]}}`,
			want: &schema.TicketField{ID: "1", Title: "Status", Type: "default_status", Active: true,
				Options: json.RawMessage(`[{"name":"Open","value":"open"},{"name":"Closed","value":"closed"},{"name":"Waiting on Customer","value":"waiting on customer"}]`)},
		},
		{
			name: "priority",
			in:   `{"id": 2, "label": "Priority", "type": "default_priority", "choices": {"Urgent": 4, "Low": 1, "High": 3, "Medium": 2}}`,
			want: &schema.TicketField{ID: "2", Title: "Priority", Type: "default_priority", Active: true,
				Options: json.RawMessage(`[{"name":"Low","value":"low"},{"name":"Medium","value":"medium"},{"name":"High","value":"high"},{"name":"Urgent","value":"urgent"}]`)},
		},
		{
			name: "group: names to ids",
			in:   `{"id": 3, "label": "Group", "type": "default_group", "choices": {"Billing": 67000050002, "Support": 67000050001}}`,
			want: &schema.TicketField{ID: "3", Title: "Group", Type: "default_group", Active: true,
				Options: json.RawMessage(`[{"name":"Support","value":"67000050001"},{"name":"Billing","value":"67000050002"}]`)},
		},
		{
			name: "drop-down",
			in:   `{"id": 4, "name": "cf_product", "label": "Product", "type": "custom_dropdown", "choices": ["Web app", "API"]}`,
			want: &schema.TicketField{ID: "4", Title: "Product", Type: "custom_dropdown", Active: true,
				Options: json.RawMessage(`[{"name":"Web app","value":"Web app"},{"name":"API","value":"API"}]`)},
		},
		{
			name: "dependent field: top-level choices",
			in:   `{"id": 5, "label": "Region", "type": "nested_field", "choices": {"Europe": {"France": ["Paris"]}, "Asia": {}}}`,
			want: &schema.TicketField{ID: "5", Title: "Region", Type: "nested_field", Active: true,
				Options: json.RawMessage(`[{"name":"Asia","value":"Asia"},{"name":"Europe","value":"Europe"}]`)},
		},
		{
			name: "text field without choices",
			in:   `{"id": 6, "label": "Reference", "type": "custom_text"}`,
			want: &schema.TicketField{ID: "6", Title: "Reference", Type: "custom_text", Active: true},
		},
		{name: "status choice not a number", in: `{"id": 7, "type": "default_status", "choices": {"open": ["Open"]}}`, wantErr: "not a number"},
		{name: "choices a number", in: `{"id": 8, "type": "custom_dropdown", "choices": 3}`, wantErr: "neither a list nor an object"},
		{name: "no id", in: `{"label": "x"}`, wantErr: "no id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := mapTicketField(json.RawMessage(tt.in))
			checkMapped(t, got, err, tt.want, tt.wantErr)
		})
	}
}

func TestTicketMeta(t *testing.T) {
	fields := []json.RawMessage{
		json.RawMessage(`{"id": 1, "name": "status", "type": "default_status", "choices": {"2": ["Open", "x"], "7": ["Waiting on Third Party", "y"]}}`),
		json.RawMessage(`{"id": 2, "name": "cf_order", "type": "custom_number"}`),
	}
	m, err := newTicketMeta(fields)
	if err != nil {
		t.Fatal(err)
	}
	if m.statuses[7] != "Waiting on Third Party" || m.fieldIDs["cf_order"] != "2" || statusName(7, m.statuses) != "waiting on third party" {
		t.Errorf("meta %+v", m)
	}
	if _, err := newTicketMeta([]json.RawMessage{json.RawMessage(`{"id": 1, "type": "default_status", "choices": []}`)}); err == nil {
		t.Error("a status field whose choices are a list was accepted")
	}
}

func TestMapCompanyAndGroup(t *testing.T) {
	o, err := mapCompany(json.RawMessage(`{"id": 1, "name": "Super Nova", "description": "Space", "domains": ["supernova", "nova"],
		"created_at": "2014-01-08T09:08:53+05:30", "updated_at": "2014-01-08T09:08:53+05:30",
		"custom_fields": {"website": "https://supernova.example", "address": null}, "health_score": "Happy"}`))
	checkMapped(t, o, err, &schema.Organization{ID: "1", Name: "Super Nova", Domains: []string{"supernova", "nova"},
		CreatedAt: at("2014-01-08T03:38:53Z"), UpdatedAt: at("2014-01-08T03:38:53Z"),
		CustomFields: json.RawMessage(`{"website": "https://supernova.example", "address": null}`)}, "")
	o, err = mapCompany(json.RawMessage(`{"id": 2, "name": "Solo", "domains": [], "custom_fields": {}}`))
	checkMapped(t, o, err, &schema.Organization{ID: "2", Name: "Solo", Domains: []string{}}, "")
	if _, err := mapCompany(json.RawMessage(`{"name": "no id"}`)); !errors.Is(err, errNoID) {
		t.Errorf("company without id: %v", err)
	}
	g, err := mapGroup(json.RawMessage(`{"id": 1, "name": "Entertainers", "escalate_to": 1, "auto_ticket_assign": true,
		"created_at": "2014-01-08T07:53:41+05:30", "updated_at": "2014-01-08T07:53:41+05:30"}`))
	checkMapped(t, g, err, &schema.Group{ID: "1", Name: "Entertainers", CreatedAt: at("2014-01-08T02:23:41Z"), UpdatedAt: at("2014-01-08T02:23:41Z")}, "")
	if _, err := mapGroup(json.RawMessage(`[]`)); err == nil {
		t.Error("a list mapped as a group")
	}
}

func TestMapSolutions(t *testing.T) {
	cat, err := mapCategory(json.RawMessage(`{"id": 2, "name": "General", "description": "Tips & tricks", "created_at": "2020-10-06T09:56:58Z", "updated_at": "2020-10-06T09:56:58Z"}`), "en")
	checkMapped(t, cat, err, &schema.KBCategory{KBEntry: schema.KBEntry{ID: "category-2", Locale: "en", Title: "General",
		BodyHTML: "<p>Tips &amp; tricks</p>", CreatedAt: at("2020-10-06T09:56:58Z"), UpdatedAt: at("2020-10-06T09:56:58Z")}}, "")
	folder, err := mapFolder(json.RawMessage(`{"id": 3, "name": "Getting Started", "description": null}`), 2, "")
	checkMapped(t, folder, err, &schema.KBCategory{KBEntry: schema.KBEntry{ID: "folder-3", ParentID: "category-2", Title: "Getting Started"}}, "")
	sub, err := mapFolder(json.RawMessage(`{"id": 4, "name": "Sub", "parent_folder_id": 3}`), 2, "")
	checkMapped(t, sub, err, &schema.KBCategory{KBEntry: schema.KBEntry{ID: "folder-4", ParentID: "folder-3", Title: "Sub"}}, "")
	article, err := mapArticle(json.RawMessage(`{"id": 4, "type": 1, "status": 2, "agent_id": 432, "category_id": 2, "folder_id": 3,
		"title": "Changing account details", "description": "<b>Steps</b>", "description_text": "Steps",
		"created_at": "2020-10-06T11:05:53Z", "updated_at": "2020-10-06T11:05:53Z", "attachments": []}`), 99, "fr")
	checkMapped(t, article, err, &schema.KBArticle{KBEntry: schema.KBEntry{ID: "4", ParentID: "folder-3", Locale: "fr",
		Title: "Changing account details", BodyHTML: "<b>Steps</b>", AuthorID: "432",
		CreatedAt: at("2020-10-06T11:05:53Z"), UpdatedAt: at("2020-10-06T11:05:53Z")}}, "")
	listed, err := mapArticle(json.RawMessage(`{"id": 5, "title": "No folder given"}`), 99, "")
	checkMapped(t, listed, err, &schema.KBArticle{KBEntry: schema.KBEntry{ID: "5", ParentID: "folder-99", Title: "No folder given"}}, "")
	for _, in := range []string{`{"name": "x"}`, `[]`} {
		if _, err := mapCategory(json.RawMessage(in), ""); err == nil {
			t.Errorf("category %s mapped", in)
		}
	}
}

func TestFlexStringAndRecordID(t *testing.T) {
	for in, want := range map[string]string{`"+1 415"`: "+1 415", `4155550100`: "4155550100", `null`: "", `1.5e3`: "1.5e3"} {
		var f flexString
		if err := json.Unmarshal([]byte(in), &f); err != nil || string(f) != want {
			t.Errorf("flexString(%s) = %q, %v; want %q", in, f, err, want)
		}
	}
	var f flexString
	if err := json.Unmarshal([]byte(`{}`), &f); err == nil {
		t.Error("an object decoded as a phone")
	}
	for in, want := range map[string]string{`{"id": 123}`: "123", `{"id": "abc"}`: "abc", `{"id": null}`: "", `{"name": "x"}`: "", `not json`: ""} {
		if got := recordID(json.RawMessage(in)); got != want {
			t.Errorf("recordID(%s) = %q, want %q", in, got, want)
		}
	}
}
