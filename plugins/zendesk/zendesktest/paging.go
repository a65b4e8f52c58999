package zendesktest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// position is a record's place in the order an endpoint pages in: by a
// timestamp (Unix seconds; 0 where the order is by id alone), then by id.
// A cursor names the position of the last record a page returned.
type position struct {
	ts, id int64
}

func (p position) less(q position) bool {
	if p.ts != q.ts {
		return p.ts < q.ts
	}
	return p.id < q.id
}

// Incremental exports' cursors look like Zendesk's: base64 of
// "<timestamp>.0||<id>|". Clients must treat them as opaque, and the
// connector does; they look real so that nothing can tell them apart.
func encodeExportCursor(p position) string {
	return base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "%d.0||%d|", p.ts, p.id))
}

func decodeExportCursor(s string) (position, error) {
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return position{}, fmt.Errorf("cursor is not base64: %w", err)
	}
	tsPart, rest, ok := strings.Cut(string(raw), ".0||")
	idPart, ok2 := strings.CutSuffix(rest, "|")
	if !ok || !ok2 {
		return position{}, fmt.Errorf("cursor %q is not an export cursor", s)
	}
	ts, err1 := strconv.ParseInt(tsPart, 10, 64)
	id, err2 := strconv.ParseInt(idPart, 10, 64)
	if err1 != nil || err2 != nil {
		return position{}, fmt.Errorf("cursor %q is not an export cursor", s)
	}
	return position{ts, id}, nil
}

// List endpoints' cursors look like Zendesk's too: base64 of a small JSON
// document naming the order and the position.
type listCursor struct {
	Order string `json:"o"`
	Value string `json:"v"`
}

func encodeListCursor(p position) string {
	b, _ := json.Marshal(listCursor{Order: "created_at,id", Value: fmt.Sprintf("%d,%d", p.ts, p.id)})
	return base64.StdEncoding.EncodeToString(b)
}

func decodeListCursor(s string) (position, error) {
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return position{}, fmt.Errorf("cursor is not base64: %w", err)
	}
	var c listCursor
	if err := json.Unmarshal(raw, &c); err != nil {
		return position{}, fmt.Errorf("cursor %q is not a page cursor", s)
	}
	tsPart, idPart, ok := strings.Cut(c.Value, ",")
	ts, err1 := strconv.ParseInt(tsPart, 10, 64)
	id, err2 := strconv.ParseInt(idPart, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return position{}, fmt.Errorf("cursor %q is not a page cursor", s)
	}
	return position{ts, id}, nil
}

// item is one record of a list, at its position, ready to marshal.
type item struct {
	pos position
	v   any
}

// field is one key of a JSON object written in order.
type field struct {
	key   string
	value any
}

// writeObject writes a JSON object with its keys in the given order, the
// order Zendesk writes them in, which a map would lose.
func writeObject(w http.ResponseWriter, status int, fields ...field) {
	var b strings.Builder
	b.WriteByte('{')
	for i, f := range fields {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(f.key)
		b.Write(k)
		b.WriteByte(':')
		v, err := json.Marshal(f.value)
		if err != nil {
			// Every value here is built by this package from plain data:
			// failing to marshal one is a bug, not a request's fault.
			panic(fmt.Sprintf("zendesktest: marshal %s: %v", f.key, err))
		}
		b.Write(v)
	}
	b.WriteString("}\n")
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(invalidBytes([]byte(b.String())))
}

// invalidBytes writes the runes that InvalidByte stands for as the bytes
// they stand for (JSON encodes them as UTF-8, four bytes each: F4 8F BE or
// BF, then one more).
func invalidBytes(b []byte) []byte {
	const lead = "\xf4\x8f"
	if !bytes.Contains(b, []byte(lead)) {
		return b
	}
	out := make([]byte, 0, len(b))
	for {
		i := bytes.Index(b, []byte(lead))
		if i < 0 || i+4 > len(b) {
			return append(out, b...)
		}
		out = append(out, b[:i]...)
		r, size := utf8.DecodeRune(b[i:])
		if r >= invalidBase && r <= utf8.MaxRune {
			out = append(out, byte(0x80+r-invalidBase))
		} else {
			out = append(out, b[i:i+size]...)
		}
		b = b[i+size:]
	}
}

func writeError(w http.ResponseWriter, status int, code, description string) {
	writeObject(w, status, field{"error", code}, field{"description", description})
}

// pageURL is the URL of the same endpoint with query q.
func pageURL(base string, r *http.Request, q url.Values) string {
	return base + r.URL.Path + "?" + q.Encode()
}

// otherPageURL is the URL of another page of the same list: the request's
// query (its sort order, its sideloads) with the paging parameters of
// paging.
func otherPageURL(base string, r *http.Request, paging url.Values) string {
	q := url.Values{}
	for k, v := range r.URL.Query() {
		switch k {
		case "page[size]", "page[after]", "page[before]", "page", "per_page":
		default:
			q[k] = v
		}
	}
	for k, v := range paging {
		q[k] = v
	}
	return pageURL(base, r, q)
}

// servePage answers a list endpoint with one page of items, which are in
// position order. Like Zendesk, it pages with cursors when the request
// uses page[size], page[after] or page[before], and by page number
// otherwise.
func servePage(w http.ResponseWriter, r *http.Request, base, key string, items []item) {
	q := r.URL.Query()
	if !q.Has("page[size]") && !q.Has("page[after]") && !q.Has("page[before]") {
		serveOffsetPage(w, r, base, key, items)
		return
	}
	size := 100
	if v := q.Get("page[size]"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeError(w, http.StatusBadRequest, "InvalidPaginationParameter", "page[size] must be a positive integer")
			return
		}
		size = min(n, 100)
	}
	from, to := 0, len(items)
	hasMore := false
	switch {
	case q.Get("page[after]") != "":
		after, err := decodeListCursor(q.Get("page[after]"))
		if err != nil {
			writeError(w, http.StatusBadRequest, "InvalidPaginationParameter", "Invalid page[after] cursor")
			return
		}
		from = sort.Search(len(items), func(i int) bool { return after.less(items[i].pos) })
		to = min(from+size, len(items))
		hasMore = to < len(items)
	case q.Get("page[before]") != "":
		before, err := decodeListCursor(q.Get("page[before]"))
		if err != nil {
			writeError(w, http.StatusBadRequest, "InvalidPaginationParameter", "Invalid page[before] cursor")
			return
		}
		to = sort.Search(len(items), func(i int) bool { return !items[i].pos.less(before) })
		from = max(0, to-size)
		hasMore = from > 0
	default:
		to = min(size, len(items))
		hasMore = to < len(items)
	}
	page := make([]any, 0, to-from)
	for _, it := range items[from:to] {
		page = append(page, it.v)
	}
	var afterCursor, beforeCursor, next, prev *string
	if to > from {
		a, b := encodeListCursor(items[to-1].pos), encodeListCursor(items[from].pos)
		afterCursor, beforeCursor = &a, &b
		sz := strconv.Itoa(size)
		n := otherPageURL(base, r, url.Values{"page[after]": {a}, "page[size]": {sz}})
		p := otherPageURL(base, r, url.Values{"page[before]": {b}, "page[size]": {sz}})
		next, prev = &n, &p
	}
	writeObject(w, http.StatusOK,
		field{key, page},
		field{"meta", map[string]any{"has_more": hasMore, "after_cursor": afterCursor, "before_cursor": beforeCursor}},
		field{"links", map[string]any{"prev": prev, "next": next}},
	)
}

// serveOffsetPage answers with Zendesk's older paging: page numbers, with
// next_page, previous_page and count.
func serveOffsetPage(w http.ResponseWriter, r *http.Request, base, key string, items []item) {
	q := r.URL.Query()
	number, perPage := 1, 100
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeError(w, http.StatusBadRequest, "InvalidPaginationParameter", "page must be a positive integer")
			return
		}
		number = n
	}
	if v := q.Get("per_page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeError(w, http.StatusBadRequest, "InvalidPaginationParameter", "per_page must be a positive integer")
			return
		}
		perPage = min(n, 100)
	}
	from := min((number-1)*perPage, len(items))
	to := min(from+perPage, len(items))
	page := make([]any, 0, to-from)
	for _, it := range items[from:to] {
		page = append(page, it.v)
	}
	var next, prev *string
	if to < len(items) {
		n := otherPageURL(base, r, url.Values{"page": {strconv.Itoa(number + 1)}, "per_page": {strconv.Itoa(perPage)}})
		next = &n
	}
	if number > 1 {
		p := otherPageURL(base, r, url.Values{"page": {strconv.Itoa(number - 1)}, "per_page": {strconv.Itoa(perPage)}})
		prev = &p
	}
	writeObject(w, http.StatusOK, field{key, page}, field{"next_page", next}, field{"previous_page", prev}, field{"count", len(items)})
}
