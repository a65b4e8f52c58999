package connector

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestDecodeList(t *testing.T) {
	tests := []struct {
		name, body string
		records    int
		wantErr    string
	}{
		{"a page", `[{"id": 1}, {"id": 2}]`, 2, ""},
		{"an empty page", `[]`, 0, ""},
		{"null", `null`, 0, "null instead of a list"},
		{"an error object", `{"code": "invalid_credentials", "message": "no"}`, 0, "not a JSON array"},
		{"an HTML page", `<html>Maintenance</html>`, 0, "not a JSON array"},
		{"items not objects", `[1, 2]`, 0, "item 0 is not an object"},
		{"a null item", `[{"id": 1}, null]`, 0, "item 1 is not an object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			records, err := decodeList([]byte(tt.body))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || len(records) != tt.records {
				t.Fatalf("%d records, %v", len(records), err)
			}
		})
	}
}

func TestNextPage(t *testing.T) {
	tests := []struct {
		name, link string
		page       int
		ok         bool
		wantErr    string
	}{
		{"none", "", 0, false, ""},
		{"next", `<https://acme.freshdesk.com/api/v2/tickets?page=2&per_page=100>; rel="next"`, 2, true, ""},
		{"prev and next", `<https://acme.freshdesk.com/api/v2/tickets?page=1>; rel="prev", <https://acme.freshdesk.com/api/v2/tickets?page=3&updated_since=2015-01-19T02%3A00%3A00Z>; rel="next"`, 3, true, ""},
		{"prev only", `<https://acme.freshdesk.com/api/v2/tickets?page=1>; rel="prev"`, 0, false, ""},
		{"another host", `<https://support.acme.example/api/v2/contacts?page=4>; rel="next"`, 4, true, ""},
		{"unquoted rel", `<https://acme.freshdesk.com/api/v2/groups?page=2>; rel=next`, 2, true, ""},
		{"no page number", `<https://acme.freshdesk.com/api/v2/groups?per_page=2>; rel="next"`, 0, false, "no page number"},
		{"page one again", `<https://acme.freshdesk.com/api/v2/groups?page=1>; rel="next"`, 0, false, "no page number after the first"},
		{"not a URL", `<%zz>; rel="next"`, 0, false, "is not a URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page, ok, err := nextPage(tt.link)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || page != tt.page || ok != tt.ok {
				t.Errorf("nextPage = %d, %v, %v; want %d, %v", page, ok, err, tt.page, tt.ok)
			}
		})
	}
}

// FuzzDecodeList holds the list decoder to what the reading loops rely on,
// whatever a server sends: no panic, and a page it accepts holds only JSON
// objects.
func FuzzDecodeList(f *testing.F) {
	for _, seed := range []string{`[{"id": 1}, {"id": 2}]`, `[]`, `null`, `{}`, `[1]`, `[{}, null]`, `<html>`, ``,
		`[{"id": 1, "updated_at": "2015-01-01T00:00:00Z"}]`, `[ {"a":1} ,{"b":[{}]} ]`, `["{"]`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		records, err := decodeList(body)
		if err != nil {
			return
		}
		if records == nil {
			t.Fatalf("accepted %q as no list at all", body)
		}
		for i, r := range records {
			var obj map[string]json.RawMessage
			if err := json.Unmarshal(r, &obj); err != nil || obj == nil {
				t.Fatalf("record %d is not an object: %q", i, r)
			}
		}
	})
}

// FuzzDecodeListed holds the listed-ticket decoder to what paging by
// update time needs: an accepted ticket has an id and an update time.
func FuzzDecodeListed(f *testing.F) {
	for _, seed := range []string{`{"id": 1, "updated_at": "2015-01-01T00:00:00Z"}`, `{"id": 1}`, `{"updated_at": "2015-01-01T00:00:00Z"}`,
		`{"id": 0, "updated_at": "2015-01-01T00:00:00Z"}`, `{"id": 2, "updated_at": "2015-01-01T00:00:00+05:30", "spam": true}`,
		`{"id": "3", "updated_at": "x"}`, `[]`, `null`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		l, err := decodeListed(body)
		if err != nil {
			return
		}
		if l.ID == "" || l.UpdatedAt.IsZero() || l.UpdatedAt.Location().String() != "UTC" {
			t.Fatalf("accepted %q as %+v", body, l)
		}
	})
}

// FuzzNextPage holds the Link parser to its promise: no panic, and a next
// page it finds comes after the first.
func FuzzNextPage(f *testing.F) {
	for _, seed := range []string{``, `<https://a.example/x?page=2>; rel="next"`, `<https://a.example/x?page=1>; rel="prev", <https://a.example/x?page=3>; rel="next"`,
		`<https://a.example/x?page=-1>; rel="next"`, `<%zz>; rel="next"`, `<>; rel="next"`, `<https://a.example/x?page=99999999999999999999>; rel="next"`} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, link string) {
		page, ok, err := nextPage(link)
		if err != nil && ok {
			t.Fatalf("%q: both an error and a next page", link)
		}
		if ok && page < 2 {
			t.Fatalf("%q: next page %d", link, page)
		}
	})
}
