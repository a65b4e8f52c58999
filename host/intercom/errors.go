package intercom

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"
)

// Error is a non-2xx answer from Intercom. Its fields come from the
// {"type":"error.list", ...} body Intercom sends with every error; a body that
// is not an error list (a proxy's HTML page, an empty 502) leaves Errors empty
// and keeps the start of the body in Body.
//
// Typed methods wrap it with what they were doing, so use errors.As to reach it.
type Error struct {
	// StatusCode is the HTTP status of the response.
	StatusCode int
	// RequestID is Intercom's request_id (or the X-Request-Id header); quote
	// it when asking Intercom support about a failure.
	RequestID string
	// Errors are the entries of the error list, in the order Intercom sent them.
	Errors []ErrorItem
	// Body holds up to 512 bytes of a body that was not an error list.
	Body string
	// Method and Path say which call failed (the path with its ids filled in).
	Method, Path string
}

// ErrorItem is one entry of an Intercom error list.
type ErrorItem struct {
	Code    string `json:"code"`
	Message string `json:"message,omitempty"`
	Field   string `json:"field,omitempty"`
}

// Error renders the status, the codes and messages, and the request id.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("intercom: ")
	if e.Method != "" {
		fmt.Fprintf(&b, "%s %s: ", e.Method, e.Path)
	}
	fmt.Fprintf(&b, "%d %s", e.StatusCode, http.StatusText(e.StatusCode))
	for i, it := range e.Errors {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(it.Code)
		if it.Message != "" {
			b.WriteString(" ")
			b.WriteString(it.Message)
		}
		if it.Field != "" {
			fmt.Fprintf(&b, " (field %s)", it.Field)
		}
	}
	if len(e.Errors) == 0 && e.Body != "" {
		fmt.Fprintf(&b, ": %q", e.Body)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " [request_id %s]", e.RequestID)
	}
	return b.String()
}

// Code returns the code of the first error in the list, or "" when there is none.
func (e *Error) Code() string {
	if len(e.Errors) == 0 {
		return ""
	}
	return e.Errors[0].Code
}

// Message returns the message of the first error in the list, or "".
func (e *Error) Message() string {
	if len(e.Errors) == 0 {
		return ""
	}
	return e.Errors[0].Message
}

// HasCode reports whether any entry of the list carries code.
func (e *Error) HasCode(code string) bool {
	for _, it := range e.Errors {
		if it.Code == code {
			return true
		}
	}
	return false
}

// StatusCode returns the HTTP status of the *Error inside err, or 0 when err
// holds none (a network error, a cancelled context).
func StatusCode(err error) int {
	var ie *Error
	if errors.As(err, &ie) {
		return ie.StatusCode
	}
	return 0
}

// IsNotFound reports whether err holds a 404 from Intercom.
func IsNotFound(err error) bool { return StatusCode(err) == http.StatusNotFound }

// ExistingContactID returns the id of the contact that made a contact create
// fail with 409, parsed from Intercom's message "A contact matching those
// details already exists with id=<id>". It reports false for any other error,
// including the 409 that names no id ("Multiple existing users match this
// email address ..."). The same id is returned for an archived match, which
// must be unarchived before it can be updated: see [IsArchivedContactConflict].
func ExistingContactID(err error) (string, bool) {
	var ie *Error
	if !errors.As(err, &ie) || ie.StatusCode != http.StatusConflict {
		return "", false
	}
	for _, it := range ie.Errors {
		if id, ok := idFromMessage(it.Message); ok {
			return id, true
		}
	}
	return "", false
}

// IsArchivedContactConflict reports whether err is the 409 Intercom returns
// when the matching contact is archived ("An archived contact matching those
// details already exists with id=...").
func IsArchivedContactConflict(err error) bool {
	var ie *Error
	if !errors.As(err, &ie) || ie.StatusCode != http.StatusConflict {
		return false
	}
	for _, it := range ie.Errors {
		if strings.Contains(strings.ToLower(it.Message), "archived contact") {
			return true
		}
	}
	return false
}

// idFromMessage finds "id=<token>" in msg. Intercom ids are alphanumeric, so
// the token ends at the first other character (a quote, a full stop, a space).
func idFromMessage(msg string) (string, bool) {
	for rest := msg; ; {
		i := strings.Index(rest, "id=")
		if i < 0 {
			return "", false
		}
		// "id=" must start a word: "external_id=x" is not the contact id.
		if i > 0 && (isIDChar(rest[i-1]) || rest[i-1] == '_') {
			rest = rest[i+3:]
			continue
		}
		tail := rest[i+3:]
		n := 0
		for n < len(tail) && isIDChar(tail[n]) {
			n++
		}
		if n > 0 {
			return tail[:n], true
		}
		rest = tail
	}
}

func isIDChar(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// maxErrorBody bounds how much of an error body is read: error lists are
// small, and a misbehaving proxy must not make us buffer megabytes.
const maxErrorBody = 64 << 10

// parseError turns a non-2xx response into an *Error. It never fails: a body
// that is not an error list is kept, shortened, in Body.
func parseError(status int, header http.Header, body []byte) *Error {
	e := &Error{StatusCode: status}
	var list struct {
		Type      string          `json:"type"`
		RequestID *string         `json:"request_id"`
		Errors    json.RawMessage `json:"errors"`
	}
	if err := json.Unmarshal(body, &list); err == nil && (list.Type == "error.list" || len(list.Errors) > 0) {
		if list.RequestID != nil {
			e.RequestID = *list.RequestID
		}
		e.Errors = decodeErrorItems(list.Errors)
	}
	if len(e.Errors) == 0 {
		e.Body = truncateUTF8(strings.TrimSpace(string(body)), 512)
	}
	if e.RequestID == "" && header != nil {
		e.RequestID = header.Get("X-Request-Id")
	}
	return e
}

// decodeErrorItems decodes the errors array item by item, so that one odd
// entry (a number where a string belongs) does not hide the others.
func decodeErrorItems(raw json.RawMessage) []ErrorItem {
	var items []json.RawMessage
	if json.Unmarshal(raw, &items) != nil {
		return nil
	}
	out := make([]ErrorItem, 0, len(items))
	for _, r := range items {
		var m map[string]any
		if json.Unmarshal(r, &m) != nil {
			continue
		}
		it := ErrorItem{Code: stringish(m["code"]), Message: stringish(m["message"]), Field: stringish(m["field"])}
		if it.Code == "" && it.Message == "" {
			continue
		}
		out = append(out, it)
	}
	return out
}

func stringish(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case nil:
		return ""
	default:
		b, _ := json.Marshal(v)
		return string(b)
	}
}

func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
