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

// The objects below are written for these tests in Zendesk's shapes; the
// values are made up.

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// rawless returns a copy of r with Raw cleared, for comparison: each test
// checks Raw is the input separately.
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

func TestMapUser(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    *schema.User
		wantErr string
	}{
		{
			name: "admin with everything",
			in: `{"id": 900000000001, "name": "Ada Okafor", "email": "ada@acme.example", "phone": "+14155550100",
				"organization_id": 77, "role": "admin", "active": true, "suspended": false,
				"created_at": "2024-01-02T03:04:05Z", "updated_at": "2024-02-03T04:05:06Z", "user_fields": {"plan": "team"}}`,
			want: &schema.User{ID: "900000000001", Role: schema.RoleAgent, Name: "Ada Okafor", Email: "ada@acme.example",
				Phone: "+14155550100", OrganizationID: "77", Active: true, CreatedAt: at("2024-01-02T03:04:05Z"),
				UpdatedAt: at("2024-02-03T04:05:06Z"), CustomFields: json.RawMessage(`{"plan": "team"}`)},
		},
		{
			name: "agent",
			in:   `{"id": 2, "name": "Bo", "role": "agent", "active": true}`,
			want: &schema.User{ID: "2", Role: schema.RoleAgent, Name: "Bo", Active: true},
		},
		{
			name: "suspended end user with nulls and empty user fields",
			in: `{"id": 3, "name": "Cy", "email": null, "phone": null, "organization_id": null, "role": "end-user",
				"active": true, "suspended": true, "user_fields": {}}`,
			want: &schema.User{ID: "3", Role: schema.RoleEndUser, Name: "Cy", Active: true, Suspended: true},
		},
		{
			name: "deleted end user",
			in:   `{"id": 4, "name": "Di", "role": "end-user", "active": false, "permanently_deleted": false, "user_fields": null}`,
			want: &schema.User{ID: "4", Role: schema.RoleEndUser, Name: "Di"},
		},
		{name: "unknown role", in: `{"id": 5, "role": "owner"}`, wantErr: `role "owner"`},
		{name: "no id", in: `{"name": "Nobody", "role": "end-user"}`, wantErr: "no id"},
		{name: "id is a string", in: `{"id": "5", "role": "agent"}`, wantErr: "decode user"},
		{name: "bad time", in: `{"id": 6, "role": "agent", "created_at": "yesterday"}`, wantErr: "decode user"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := mapUser(json.RawMessage(tt.in))
			checkMapped(t, got, err, tt.want, tt.wantErr)
			if err == nil && string(got.Raw) != tt.in {
				t.Errorf("Raw is not the input")
			}
		})
	}
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

func TestMapTicket(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    *schema.Ticket
		wantErr string
	}{
		{
			name: "everything",
			in: `{"id": 35436, "subject": "Printer on fire", "status": "open", "priority": "high", "type": "incident",
				"requester_id": 20978392, "submitter_id": 76872, "assignee_id": 235323, "group_id": 98738, "organization_id": 509974,
				"tags": ["enterprise", "other_tag"], "email_cc_ids": [35334, 234], "collaborator_ids": [35334, 99],
				"custom_fields": [{"id": 27642, "value": "745"}, {"id": 27648, "value": true}, {"id": 27650, "value": null}],
				"created_at": "2024-07-20T22:55:29Z", "updated_at": "2024-08-05T10:38:52Z"}`,
			want: &schema.Ticket{ID: "35436", Subject: "Printer on fire", Status: "open", Priority: "high", Type: "incident",
				RequesterID: "20978392", SubmitterID: "76872", AssigneeID: "235323", GroupID: "98738", OrganizationID: "509974",
				Tags: []string{"enterprise", "other_tag"}, CCIDs: []string{"35334", "234", "99"},
				CustomFields: json.RawMessage(`{"27642":"745","27648":true,"27650":null}`),
				CreatedAt:    at("2024-07-20T22:55:29Z"), UpdatedAt: at("2024-08-05T10:38:52Z")},
		},
		{
			name: "new ticket with nulls",
			in: `{"id": 7, "subject": "Help", "status": "new", "priority": null, "type": null, "requester_id": 1, "submitter_id": 1,
				"assignee_id": null, "group_id": null, "organization_id": null, "tags": [], "email_cc_ids": [], "collaborator_ids": [],
				"custom_fields": []}`,
			want: &schema.Ticket{ID: "7", Subject: "Help", Status: "new", RequesterID: "1", SubmitterID: "1", Tags: []string{}, CCIDs: []string{}},
		},
		{
			name: "custom field value missing",
			in:   `{"id": 8, "custom_fields": [{"id": 1}]}`,
			want: &schema.Ticket{ID: "8", CCIDs: []string{}, CustomFields: json.RawMessage(`{"1":null}`)},
		},
		{name: "custom field without id", in: `{"id": 9, "custom_fields": [{"value": "x"}]}`, wantErr: "without a field id"},
		{name: "no id", in: `{"subject": "?"}`, wantErr: "no id"},
		{name: "tags not a list", in: `{"id": 10, "tags": "a,b"}`, wantErr: "decode ticket"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := mapTicket(json.RawMessage(tt.in))
			checkMapped(t, got, err, tt.want, tt.wantErr)
		})
	}
}

func TestMapComment(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		want     *schema.Comment
		wantAtts []*schema.Attachment
		wantErr  string
	}{
		{
			name: "public with attachments",
			in: `{"id": 501, "type": "Comment", "author_id": 42, "public": true, "body": "Hi **there**", "plain_body": "Hi there",
				"html_body": "<p>Hi <b>there</b></p>", "created_at": "2024-03-01T10:00:00Z",
				"attachments": [
					{"id": 601, "file_name": "a.png", "content_url": "https://acme.example/attachments/token/x/?name=a.png",
					 "content_type": "image/png", "size": 2048, "inline": true},
					{"id": 602, "file_name": "b.pdf", "content_url": "https://cdn.example/b.pdf", "content_type": "application/pdf", "size": 10}]}`,
			want: &schema.Comment{ID: "501", TicketID: "7", AuthorID: "42", Public: true, BodyHTML: "<p>Hi <b>there</b></p>",
				BodyText: "Hi there", CreatedAt: at("2024-03-01T10:00:00Z")},
			wantAtts: []*schema.Attachment{
				{ID: "601", TicketID: "7", CommentID: "501", FileName: "a.png", ContentType: "image/png", Size: 2048,
					URL: "https://acme.example/attachments/token/x/?name=a.png", Inline: true, Position: 0},
				{ID: "602", TicketID: "7", CommentID: "501", FileName: "b.pdf", ContentType: "application/pdf", Size: 10,
					URL: "https://cdn.example/b.pdf", Position: 1},
			},
		},
		{
			name:     "private note whose plain body is empty",
			in:       `{"id": 502, "author_id": 43, "public": false, "body": "Escalated", "html_body": "", "plain_body": "", "attachments": []}`,
			want:     &schema.Comment{ID: "502", TicketID: "7", AuthorID: "43", BodyText: "Escalated"},
			wantAtts: []*schema.Attachment{},
		},
		{name: "attachment without id", in: `{"id": 503, "attachments": [{"file_name": "x"}]}`, wantErr: "attachment 0 has no id"},
		{name: "attachment not an object", in: `{"id": 504, "attachments": ["x"]}`, wantErr: "decode attachment 0"},
		{name: "no id", in: `{"body": "?"}`, wantErr: "no id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, atts, err := mapComment("7", json.RawMessage(tt.in))
			checkMapped(t, got, err, tt.want, tt.wantErr)
			if err != nil {
				return
			}
			var stripped []*schema.Attachment
			for _, a := range atts {
				if len(a.Raw) == 0 || a.Raw[0] != '{' {
					t.Errorf("attachment %s has no raw object", a.ID)
				}
				stripped = append(stripped, rawless(a))
			}
			if len(stripped) == 0 && len(tt.wantAtts) == 0 {
				return
			}
			if !reflect.DeepEqual(stripped, tt.wantAtts) {
				t.Errorf("attachments %+v, want %+v", stripped, tt.wantAtts)
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
			name: "drop-down",
			in: `{"id": 11, "type": "tagger", "title": "Product", "active": true,
				"custom_field_options": [{"id": 1, "name": "Web app", "raw_name": "Web app", "value": "product_web", "default": false}]}`,
			want: &schema.TicketField{ID: "11", Title: "Product", Type: "tagger", Active: true,
				Options: json.RawMessage(`[{"name":"Web app","value":"product_web"}]`)},
		},
		{
			name: "system field with options",
			in:   `{"id": 12, "type": "priority", "title": "Priority", "active": true, "sub_type_id": 0, "system_field_options": [{"name": "Low", "value": "low"}]}`,
			want: &schema.TicketField{ID: "12", Title: "Priority", Type: "priority", Active: true, Options: json.RawMessage(`[{"name":"Low","value":"low"}]`)},
		},
		{
			name: "inactive checkbox",
			in:   `{"id": 13, "type": "checkbox", "title": "VIP", "active": false, "tag": "vip"}`,
			want: &schema.TicketField{ID: "13", Title: "VIP", Type: "checkbox"},
		},
		{name: "no id", in: `{"type": "text"}`, wantErr: "no id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := mapTicketField(json.RawMessage(tt.in))
			checkMapped(t, got, err, tt.want, tt.wantErr)
		})
	}
}

func TestMapOrganizationAndGroup(t *testing.T) {
	org, err := mapOrganization(json.RawMessage(`{"id": 361898904439, "name": "Northwind", "domain_names": ["northwind.example"],
		"created_at": "2023-09-17T21:22:18Z", "updated_at": "2023-09-18T21:22:18Z", "organization_fields": {"tier": "gold"}}`))
	checkMapped(t, org, err, &schema.Organization{ID: "361898904439", Name: "Northwind", Domains: []string{"northwind.example"},
		CreatedAt: at("2023-09-17T21:22:18Z"), UpdatedAt: at("2023-09-18T21:22:18Z"), CustomFields: json.RawMessage(`{"tier": "gold"}`)}, "")
	org, err = mapOrganization(json.RawMessage(`{"id": 5, "name": "Solo", "domain_names": [], "organization_fields": {}}`))
	checkMapped(t, org, err, &schema.Organization{ID: "5", Name: "Solo", Domains: []string{}}, "")
	_, err = mapOrganization(json.RawMessage(`{"name": "no id"}`))
	if !errors.Is(err, errNoID) {
		t.Errorf("organization without id: %v", err)
	}

	g, err := mapGroup(json.RawMessage(`{"id": 360002440594, "name": "Support", "deleted": false, "created_at": "2018-11-23T16:05:12Z", "updated_at": "2018-11-23T16:05:15Z"}`))
	checkMapped(t, g, err, &schema.Group{ID: "360002440594", Name: "Support", CreatedAt: at("2018-11-23T16:05:12Z"), UpdatedAt: at("2018-11-23T16:05:15Z")}, "")
	if _, err := mapGroup(json.RawMessage(`[]`)); err == nil {
		t.Error("a list mapped as a group")
	}
}

func TestRecordID(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"id": 123}`, "123"},
		{`{"id": 6130869168922}`, "6130869168922"},
		{`{"id": "abc"}`, "abc"},
		{`{"id": null}`, ""},
		{`{"name": "x"}`, ""},
		{`not json`, ""},
	}
	for _, tt := range tests {
		if got := recordID(json.RawMessage(tt.in)); got != tt.want {
			t.Errorf("recordID(%s) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMapTicketEvent(t *testing.T) {
	at := at("2024-03-01T10:00:00Z")
	tests := []struct {
		name, in string
		kind     string
		detail   string
		wantErr  string
	}{
		{
			name:   "a status change, as the export writes it",
			in:     `{"id": 11, "via": "Web form", "via_reference_id": null, "status": "pending", "previous_value": "open", "event_type": "Change"}`,
			kind:   "status_changed",
			detail: `{"field": "status", "from": "open", "to": "pending"}`,
		},
		{
			name:   "an assignee set at creation",
			in:     `{"id": 12, "via": "Mail", "assignee_id": "42", "event_type": "Create"}`,
			kind:   "assignee_set",
			detail: `{"field": "assignee_id", "to": "42"}`,
		},
		{
			name:   "unassigned",
			in:     `{"id": 13, "group_id": null, "previous_value": "7", "event_type": "Change"}`,
			kind:   "group_changed",
			detail: `{"field": "group_id", "from": "7", "to": null}`,
		},
		{
			name:   "tags",
			in:     `{"id": 14, "tags": ["a", "c"], "added_tags": ["c"], "removed_tags": ["b"], "previous_value": ["a", "b"], "event_type": "Change"}`,
			kind:   "tags_changed",
			detail: `{"field": "tags", "from": ["a", "b"], "to": ["a", "c"], "added": ["c"], "removed": ["b"]}`,
		},
		{
			name:   "a custom field",
			in:     `{"id": 15, "360012345": "2024-03-09", "previous_value": null, "event_type": "Change"}`,
			kind:   "custom_field_changed",
			detail: `{"field": "360012345", "from": null, "to": "2024-03-09"}`,
		},
		{
			name:   "the ticket's type, beside event_type",
			in:     `{"id": 16, "via": "Web form", "type": "incident", "event_type": "Create"}`,
			kind:   "field_set",
			detail: `{"field": "type", "to": "incident"}`,
		},
		{
			name:   "a change as audits write it",
			in:     `{"id": 17, "type": "Change", "field_name": "priority", "value": "high", "previous_value": "normal"}`,
			kind:   "priority_changed",
			detail: `{"field": "priority", "from": "normal", "to": "high"}`,
		},
		{name: "no field", in: `{"id": 18, "via": "Web form", "event_type": "Change"}`, wantErr: "names no field"},
		{name: "two fields", in: `{"id": 19, "status": "open", "priority": "low", "event_type": "Change"}`, wantErr: "changes both"},
		{name: "not a change", in: `{"id": 20, "status": "open", "event_type": "Notification"}`, wantErr: `"Notification"`},
		{name: "no id", in: `{"status": "open", "event_type": "Change"}`, wantErr: "no id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var obj map[string]json.RawMessage
			if err := json.Unmarshal([]byte(tt.in), &obj); err != nil {
				t.Fatal(err)
			}
			got, err := mapTicketEvent("7", "42", at, obj, json.RawMessage(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.TicketID != "7" || got.AuthorID != "42" || !got.CreatedAt.Equal(at) || got.Kind != tt.kind || string(got.Raw) != tt.in {
				t.Errorf("got %+v, want kind %s", got, tt.kind)
			}
			var g, w any
			json.Unmarshal(got.Detail, &g)
			json.Unmarshal([]byte(tt.detail), &w)
			if !reflect.DeepEqual(g, w) {
				t.Errorf("detail %s, want %s", got.Detail, tt.detail)
			}
		})
	}
}

func TestMapHelpCenter(t *testing.T) {
	entry := func(e schema.KBEntry) schema.KBEntry { return e }
	t.Run("categories and sections", func(t *testing.T) {
		tests := []struct {
			name, in string
			mapper   func(json.RawMessage) (*schema.KBCategory, error)
			want     *schema.KBCategory
			wantErr  string
		}{
			{"a category", `{"id": 1, "name": "Billing", "description": "Money", "locale": "en-us", "created_at": "2024-01-01T00:00:00Z"}`, mapCategory,
				&schema.KBCategory{KBEntry: entry(schema.KBEntry{ID: "1", Title: "Billing", BodyHTML: "Money", Locale: "en-us", CreatedAt: at("2024-01-01T00:00:00Z")})}, ""},
			{"a section, in its category", `{"id": 2, "category_id": 1, "parent_section_id": null, "name": "Invoices", "locale": "de"}`, mapSection,
				&schema.KBCategory{KBEntry: entry(schema.KBEntry{ID: "2", ParentID: "1", Title: "Invoices", Locale: "de"})}, ""},
			{"a subsection, in its section", `{"id": 3, "category_id": 1, "parent_section_id": 2, "name": "Refunds"}`, mapSection,
				&schema.KBCategory{KBEntry: entry(schema.KBEntry{ID: "3", ParentID: "2", Title: "Refunds"})}, ""},
			{"a section without a category", `{"id": 4, "name": "Lost"}`, mapSection, nil, "has no category"},
			{"no id", `{"name": "Nameless"}`, mapCategory, nil, "no id"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := tt.mapper(json.RawMessage(tt.in))
				checkMapped(t, got, err, tt.want, tt.wantErr)
			})
		}
	})

	t.Run("an article and its translations", func(t *testing.T) {
		raw := `{"id": 10, "author_id": 5, "section_id": 2, "title": "Refunds", "body": "<p>How</p>", "locale": "en-us",
			"created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-02-01T00:00:00Z"}`
		trs := []json.RawMessage{
			json.RawMessage(`{"id": 100, "locale": "en-us", "title": "Refunds", "body": "<p>How</p>"}`),
			json.RawMessage(`{"id": 101, "locale": "de", "title": "Erstattungen", "body": "<p>Wie</p>"}`),
		}
		got, err := mapArticle(json.RawMessage(raw), trs)
		checkMapped(t, got, err, &schema.KBArticle{KBEntry: schema.KBEntry{
			ID: "10", ParentID: "2", Locale: "en-us", Title: "Refunds", BodyHTML: "<p>How</p>", AuthorID: "5",
			Translations: json.RawMessage(`{"de":{"title":"Erstattungen","body":"<p>Wie</p>"},"en-us":{"title":"Refunds","body":"<p>How</p>"}}`),
			CreatedAt:    at("2024-01-01T00:00:00Z"), UpdatedAt: at("2024-02-01T00:00:00Z"),
		}}, "")
		if _, err := mapArticle(json.RawMessage(raw), []json.RawMessage{json.RawMessage(`{"title": "?"}`)}); err == nil || !strings.Contains(err.Error(), "no locale") {
			t.Errorf("a translation without a locale: %v", err)
		}
	})

	t.Run("an article's attachment", func(t *testing.T) {
		raw := `{"id": 7, "article_id": 10, "file_name": "shot.png", "content_url": "https://acme.example/hc/article_attachments/7/shot.png",
			"content_type": "image/png", "size": 2048, "inline": true}`
		got, err := mapArticleAttachment("10", 1, json.RawMessage(raw))
		checkMapped(t, got, err, &schema.Attachment{ID: "7", ArticleID: "10", FileName: "shot.png",
			URL: "https://acme.example/hc/article_attachments/7/shot.png", ContentType: "image/png", Size: 2048, Inline: true, Position: 1}, "")
		if _, err := mapArticleAttachment("10", 0, json.RawMessage(`{"file_name": "x"}`)); err == nil {
			t.Error("an attachment without an id mapped")
		}
	})
}
