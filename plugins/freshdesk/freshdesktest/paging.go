package freshdesktest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// writeJSON answers with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Every value here is built by this package from plain data:
		// failing to marshal one is a bug, not a request's fault.
		panic(fmt.Sprintf("freshdesktest: marshal answer: %v", err))
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// validationError is one entry of Freshdesk's 400 answer.
type validationError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
	Code    string `json:"code"`
}

// validationFailed answers 400 the way Freshdesk does.
func validationFailed(w http.ResponseWriter, field, message, code string) {
	writeJSON(w, http.StatusBadRequest, struct {
		Description string            `json:"description"`
		Errors      []validationError `json:"errors"`
	}{"Validation failed", []validationError{{field, message, code}}})
}

// pageParams reads page and per_page, answering 400 when they are wrong.
func pageParams(w http.ResponseWriter, r *http.Request) (page, perPage int, ok bool) {
	q := r.URL.Query()
	page, perPage = 1, DefaultPerPage
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			validationFailed(w, "page", "It should be a/an Positive Integer", "datatype_mismatch")
			return 0, 0, false
		}
		page = n
	}
	if v := q.Get("per_page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			validationFailed(w, "per_page", "It should be a/an Positive Integer", "datatype_mismatch")
			return 0, 0, false
		}
		if n > MaxPerPage {
			validationFailed(w, "per_page", fmt.Sprintf("Has to be less than or equal to %d", MaxPerPage), "invalid_value")
			return 0, 0, false
		}
		perPage = n
	}
	return page, perPage, true
}

// setNextLink sets the Link header to the same request's page next, as
// Freshdesk does when there is more.
func setNextLink(w http.ResponseWriter, r *http.Request, base string, next int) {
	q := r.URL.Query()
	q.Set("page", strconv.Itoa(next))
	u := base + r.URL.Path + "?" + q.Encode()
	w.Header().Set("Link", fmt.Sprintf("<%s>; rel=\"next\"", u))
}

// servePage answers a paged list with one page of items (a JSON array)
// and, when there is more, the Link header to the next page.
func servePage(w http.ResponseWriter, r *http.Request, base string, items []any) {
	page, perPage, ok := pageParams(w, r)
	if !ok {
		return
	}
	from := min((page-1)*perPage, len(items))
	to := min(from+perPage, len(items))
	if to < len(items) {
		setNextLink(w, r, base, page+1)
	}
	out := items[from:to]
	if out == nil {
		out = []any{}
	}
	writeJSON(w, http.StatusOK, out)
}

// parseTime reads a time as Freshdesk's filters take it: ISO 8601 with a
// zone, or a date (midnight UTC).
func parseTime(v string) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.UTC(), true
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, true
	}
	return time.Time{}, false
}
