package intercom

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
)

func TestParseError(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		header    http.Header
		body      string
		wantCode  string
		wantItems []ErrorItem
		wantReqID string
		wantBody  string
	}{
		{
			name:     "error list",
			status:   401,
			body:     `{"type":"error.list","request_id":"5ef5682e-f66e-40a4-b828-8592175f83b8","errors":[{"code":"unauthorized","message":"Access Token Invalid"}]}`,
			wantCode: "unauthorized", wantReqID: "5ef5682e-f66e-40a4-b828-8592175f83b8",
			wantItems: []ErrorItem{{Code: "unauthorized", Message: "Access Token Invalid"}},
		},
		{
			name:      "several errors with field",
			status:    400,
			body:      `{"type":"error.list","request_id":null,"errors":[{"code":"parameter_invalid","message":"bad","field":"email"},{"code":"parameter_not_found"}]}`,
			wantCode:  "parameter_invalid",
			wantItems: []ErrorItem{{Code: "parameter_invalid", Message: "bad", Field: "email"}, {Code: "parameter_not_found"}},
		},
		{
			name:   "request id from header when body has none",
			status: 404, header: http.Header{"X-Request-Id": {"hdr-1"}},
			body:     `{"type":"error.list","errors":[{"code":"not_found","message":"User Not Found"}]}`,
			wantCode: "not_found", wantReqID: "hdr-1",
			wantItems: []ErrorItem{{Code: "not_found", Message: "User Not Found"}},
		},
		{
			name:      "odd entry does not hide the others",
			status:    422,
			body:      `{"type":"error.list","errors":[42,{"code":"data_invalid","message":null,"field":7}]}`,
			wantCode:  "data_invalid",
			wantItems: []ErrorItem{{Code: "data_invalid", Field: "7"}},
		},
		{
			name:   "html from a proxy",
			status: 502, body: "<html><body>Bad Gateway</body></html>",
			wantBody: "<html><body>Bad Gateway</body></html>",
		},
		{name: "empty body", status: 503},
		{
			name:   "json that is not an error list",
			status: 500, body: `{"message":"oops"}`,
			wantBody: `{"message":"oops"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := parseError(tt.status, tt.header, []byte(tt.body))
			if e.StatusCode != tt.status {
				t.Errorf("StatusCode = %d, want %d", e.StatusCode, tt.status)
			}
			if e.Code() != tt.wantCode {
				t.Errorf("Code() = %q, want %q", e.Code(), tt.wantCode)
			}
			if !slices.Equal(e.Errors, tt.wantItems) {
				t.Errorf("Errors = %+v, want %+v", e.Errors, tt.wantItems)
			}
			if e.RequestID != tt.wantReqID {
				t.Errorf("RequestID = %q, want %q", e.RequestID, tt.wantReqID)
			}
			if e.Body != tt.wantBody {
				t.Errorf("Body = %q, want %q", e.Body, tt.wantBody)
			}
			if !strings.Contains(e.Error(), fmt.Sprint(tt.status)) {
				t.Errorf("Error() = %q does not name the status", e.Error())
			}
		})
	}
}

func TestErrorIsReachableThroughWrapping(t *testing.T) {
	inner := &Error{StatusCode: 404, Errors: []ErrorItem{{Code: "not_found", Message: "User Not Found"}}, Method: "GET", Path: "/contacts/x"}
	err := fmt.Errorf("get contact x: %w", inner)
	var ie *Error
	if !errors.As(err, &ie) || ie != inner {
		t.Fatalf("errors.As did not find the *Error")
	}
	if !IsNotFound(err) || StatusCode(err) != 404 {
		t.Errorf("IsNotFound/StatusCode do not see the 404")
	}
	if StatusCode(errors.New("dial tcp: refused")) != 0 {
		t.Errorf("StatusCode of a network error should be 0")
	}
	want := "get contact x: intercom: GET /contacts/x: 404 Not Found: not_found User Not Found"
	if err.Error() != want {
		t.Errorf("message\n got %q\nwant %q", err.Error(), want)
	}
}

func TestExistingContactID(t *testing.T) {
	conflict := func(msg string) error {
		return fmt.Errorf("create contact: %w", &Error{StatusCode: 409, Errors: []ErrorItem{{Code: "conflict", Message: msg}}})
	}
	tests := []struct {
		name     string
		err      error
		wantID   string
		wantOK   bool
		archived bool
	}{
		{"intercom message", conflict("A contact matching those details already exists with id=6762f0dd1bb69f9f2193bb83"), "6762f0dd1bb69f9f2193bb83", true, false},
		{"trailing punctuation", conflict("A contact matching those details already exists with id=5f1a2b3c4d5e6f7a8b9c0d1e."), "5f1a2b3c4d5e6f7a8b9c0d1e", true, false},
		{"archived", conflict("An archived contact matching those details already exists with id=abc123def456abc123def456"), "abc123def456abc123def456", true, true},
		{"external_id= is not the id", conflict("conflict on external_id=zd-9, see id=aaa111"), "aaa111", true, false},
		{"no id", conflict("Multiple existing users match this email address - must be more specific using user_id"), "", false, false},
		{"empty id", conflict("already exists with id="), "", false, false},
		{"not a 409", fmt.Errorf("x: %w", &Error{StatusCode: 400, Errors: []ErrorItem{{Code: "conflict", Message: "exists with id=abc"}}}), "", false, false},
		{"not an intercom error", errors.New("id=abc"), "", false, false},
		{"nil", nil, "", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, ok := ExistingContactID(tt.err)
			if id != tt.wantID || ok != tt.wantOK {
				t.Errorf("ExistingContactID = (%q, %v), want (%q, %v)", id, ok, tt.wantID, tt.wantOK)
			}
			if got := IsArchivedContactConflict(tt.err); got != tt.archived {
				t.Errorf("IsArchivedContactConflict = %v, want %v", got, tt.archived)
			}
		})
	}
}

func FuzzParseError(f *testing.F) {
	seeds := []string{
		`{"type":"error.list","request_id":"r1","errors":[{"code":"conflict","message":"A contact matching those details already exists with id=6762f0dd1bb69f9f2193bb83"}]}`,
		`{"type":"error.list","request_id":null,"errors":[]}`,
		`{"type":"error.list","errors":[{"code":1,"message":{"a":[1,2]},"field":null}]}`,
		`{"errors":"not a list"}`,
		`<html>502</html>`,
		``,
		"\xff\xfe",
		`{"type":"error.list","errors":[{"code":"x","message":"id=` + strings.Repeat("a", 600) + `"}]}`,
	}
	for _, s := range seeds {
		f.Add(409, []byte(s))
	}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		e := parseError(status, nil, body)
		if e == nil {
			t.Fatal("nil *Error")
		}
		_ = e.Error()
		_ = e.Code()
		if len(e.Body) > 512 {
			t.Fatalf("Body kept %d bytes, want at most 512", len(e.Body))
		}
		for _, it := range e.Errors {
			if it.Code == "" && it.Message == "" {
				t.Fatalf("empty item kept: %+v", e.Errors)
			}
		}
		id, ok := ExistingContactID(e)
		if ok != (id != "") {
			t.Fatalf("ExistingContactID = (%q, %v)", id, ok)
		}
		if ok && strings.ContainsAny(id, " .\"'=") {
			t.Fatalf("id %q has separators in it", id)
		}
		// A well-formed error list round-trips its codes.
		var list struct {
			Type   string `json:"type"`
			Errors []struct {
				Code string `json:"code"`
			} `json:"errors"`
		}
		if json.Unmarshal(body, &list) == nil && list.Type == "error.list" && len(list.Errors) > 0 && list.Errors[0].Code != "" && e.Code() != list.Errors[0].Code {
			t.Fatalf("Code() = %q, body's first code %q", e.Code(), list.Errors[0].Code)
		}
	})
}
