package connector

import (
	"encoding/json"
	"strings"
	"testing"
)

// Page bodies in Zendesk's shapes, written for these tests.
const (
	exportMiddle = `{"tickets": [{"id": 1, "status": "open"}, {"id": 2, "status": "new"}],
		"after_url": "https://acme.example/api/v2/incremental/tickets/cursor.json?cursor=MTcwMC4wfHwyfA%3D%3D",
		"before_url": null, "after_cursor": "MTcwMC4wfHwyfA==", "before_cursor": null, "end_of_stream": false}`
	exportLast  = `{"users": [], "after_url": "https://acme.example/x?cursor=abc", "after_cursor": "abc", "before_cursor": null, "end_of_stream": true}`
	listMiddle  = `{"comments": [{"id": 10}], "meta": {"has_more": true, "after_cursor": "eyJvIjoiaWQifQ==", "before_cursor": "eyJ2IjoxfQ=="}, "links": {"next": "https://acme.example/n", "prev": null}}`
	listLast    = `{"organizations": [{"id": 3}], "meta": {"has_more": false, "after_cursor": null, "before_cursor": null}, "links": {"next": null, "prev": null}}`
	listNoMeta  = `{"groups": [{"id": 4}], "next_page": null, "previous_page": null, "count": 1}`
	htmlAnswer  = `<html><body>Maintenance</body></html>`
	errorAnswer = `{"error": "RecordNotFound", "description": "Not found"}`
)

func TestDecodeExportPage(t *testing.T) {
	tests := []struct {
		name, body, key string
		records         int
		after           string
		eos             bool
		wantErr         string
	}{
		{"a middle page", exportMiddle, "tickets", 2, "MTcwMC4wfHwyfA==", false, ""},
		{"the last page", exportLast, "users", 0, "abc", true, ""},
		{"the last page without a cursor", `{"tickets": [], "after_cursor": null, "end_of_stream": true}`, "tickets", 0, "", true, ""},
		{"records under another key", exportMiddle, "users", 0, "", false, `no "users"`},
		{"no cursor and not the end", `{"tickets": [{"id": 1}], "end_of_stream": false}`, "tickets", 0, "", false, "neither end_of_stream"},
		{"records not objects", `{"tickets": [1, 2], "end_of_stream": true}`, "tickets", 0, "", false, "not an object"},
		{"an HTML answer", htmlAnswer, "tickets", 0, "", false, "decode export page"},
		{"an error answer", errorAnswer, "tickets", 0, "", false, `no "tickets"`},
		{"end_of_stream not a bool", `{"tickets": [], "end_of_stream": "yes"}`, "tickets", 0, "", false, "end_of_stream"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := decodeExportPage([]byte(tt.body), tt.key)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Records) != tt.records || p.AfterCursor != tt.after || p.EndOfStream != tt.eos {
				t.Errorf("page = %d records, after %q, end %v", len(p.Records), p.AfterCursor, p.EndOfStream)
			}
		})
	}
}

func TestDecodeListPage(t *testing.T) {
	tests := []struct {
		name, body, key string
		records         int
		more            bool
		after           string
		wantErr         string
	}{
		{"a middle page", listMiddle, "comments", 1, true, "eyJvIjoiaWQifQ==", ""},
		{"the last page", listLast, "organizations", 1, false, "", ""},
		{"a page-number answer, whole", listNoMeta, "groups", 1, false, "", ""},
		{"more without a cursor", `{"groups": [], "meta": {"has_more": true, "after_cursor": null}}`, "groups", 0, false, "", "has_more without"},
		{"null records", `{"groups": null, "meta": {"has_more": false}}`, "groups", 0, false, "", ""},
		{"an error answer", errorAnswer, "groups", 0, false, "", `no "groups"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := decodeListPage([]byte(tt.body), tt.key)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Records) != tt.records || p.HasMore != tt.more || p.AfterCursor != tt.after {
				t.Errorf("page = %d records, more %v, after %q", len(p.Records), p.HasMore, p.AfterCursor)
			}
		})
	}
}

// FuzzDecodeExportPage holds the export decoder to what the reading loop
// relies on, whatever a server sends: no panic, and a page it accepts can
// be followed (it is the end, or it says where to go on from) and holds
// only JSON objects.
func FuzzDecodeExportPage(f *testing.F) {
	for _, seed := range []string{exportMiddle, exportLast, htmlAnswer, errorAnswer, `{}`, `null`, `[]`,
		`{"tickets": null, "end_of_stream": true}`, `{"tickets": [{}], "after_cursor": "", "end_of_stream": false}`,
		`{"tickets": [{"id": 1}], "after_cursor": 5}`, `{"tickets": [ {"id":1} , {"id":2}], "after_cursor": "c"}`} {
		f.Add([]byte(seed), "tickets")
	}
	f.Add([]byte(exportLast), "users")
	f.Fuzz(func(t *testing.T, body []byte, key string) {
		p, err := decodeExportPage(body, key)
		if err != nil {
			return
		}
		if !p.EndOfStream && p.AfterCursor == "" {
			t.Fatalf("accepted a page that cannot be followed: %q", body)
		}
		for i, r := range p.Records {
			var obj map[string]json.RawMessage
			if err := json.Unmarshal(r, &obj); err != nil {
				t.Fatalf("record %d is not an object: %q", i, r)
			}
		}
	})
}

// FuzzDecodeListPage does the same for list pages.
func FuzzDecodeListPage(f *testing.F) {
	for _, seed := range []string{listMiddle, listLast, listNoMeta, htmlAnswer, errorAnswer, `{}`,
		`{"comments": [], "meta": null}`, `{"comments": [{"id": 1}], "meta": {"has_more": true, "after_cursor": ""}}`,
		`{"comments": [{"id": 1}], "meta": {"has_more": "yes"}}`} {
		f.Add([]byte(seed), "comments")
	}
	f.Fuzz(func(t *testing.T, body []byte, key string) {
		p, err := decodeListPage(body, key)
		if err != nil {
			return
		}
		if p.HasMore && p.AfterCursor == "" {
			t.Fatalf("accepted a page that cannot be followed: %q", body)
		}
		for i, r := range p.Records {
			var obj map[string]json.RawMessage
			if err := json.Unmarshal(r, &obj); err != nil {
				t.Fatalf("record %d is not an object: %q", i, r)
			}
		}
	})
}

func TestDecodeTimePage(t *testing.T) {
	tests := []struct {
		name, body string
		records    int
		eos        bool
		wantErr    string
	}{
		{"a page", `{"ticket_events": [{"id": 1}, {"id": 2}], "next_page": "https://acme.example/x?start_time=5", "count": 2, "end_of_stream": false, "end_time": 5}`, 2, false, ""},
		{"the last page", `{"ticket_events": [], "next_page": null, "count": 0, "end_of_stream": true, "end_time": 5}`, 0, true, ""},
		{"an error answer", errorAnswer, 0, false, `no "ticket_events"`},
		{"an HTML answer", htmlAnswer, 0, false, "decode export page"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := decodeTimePage([]byte(tt.body), "ticket_events")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || len(p.Records) != tt.records || p.EndOfStream != tt.eos {
				t.Errorf("page = %d records, end %v, %v", len(p.Records), p.EndOfStream, err)
			}
		})
	}
}
