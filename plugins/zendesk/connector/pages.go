package connector

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
)

// exportPage is one page of an incremental cursor export.
type exportPage struct {
	// Records are the page's objects, as Zendesk sent them.
	Records []json.RawMessage
	// AfterCursor resumes the export after this page; Zendesk sends it on
	// the last page too, to resume from in the next run.
	AfterCursor string
	// EndOfStream says the export has nothing after this page, as of now.
	EndOfStream bool
}

// decodeExportPage decodes an incremental cursor export's page whose
// records are under key ("tickets", "users"). It refuses a page it could
// not follow: without its records, or that is not the end but gives no
// cursor to go on from.
func decodeExportPage(body []byte, key string) (exportPage, error) {
	var env map[string]json.RawMessage
	if err := json.Unmarshal(body, &env); err != nil {
		return exportPage{}, fmt.Errorf("decode export page: %w", err)
	}
	records, err := decodeRecords(env, key)
	if err != nil {
		return exportPage{}, err
	}
	p := exportPage{Records: records}
	if err := decodeOptional(env, "after_cursor", &p.AfterCursor); err != nil {
		return exportPage{}, err
	}
	if err := decodeOptional(env, "end_of_stream", &p.EndOfStream); err != nil {
		return exportPage{}, err
	}
	if !p.EndOfStream && p.AfterCursor == "" {
		return exportPage{}, errors.New("decode export page: neither end_of_stream nor an after_cursor to go on from")
	}
	return p, nil
}

// listPage is one page of a cursor-paginated list.
type listPage struct {
	Records     []json.RawMessage
	HasMore     bool
	AfterCursor string
}

// decodeListPage decodes a cursor-paginated list's page whose records are
// under key. A page that has more but gives no cursor is refused.
func decodeListPage(body []byte, key string) (listPage, error) {
	var env map[string]json.RawMessage
	if err := json.Unmarshal(body, &env); err != nil {
		return listPage{}, fmt.Errorf("decode %s page: %w", key, err)
	}
	records, err := decodeRecords(env, key)
	if err != nil {
		return listPage{}, err
	}
	p := listPage{Records: records}
	var meta struct {
		HasMore     bool    `json:"has_more"`
		AfterCursor *string `json:"after_cursor"`
	}
	if err := decodeOptional(env, "meta", &meta); err != nil {
		return listPage{}, err
	}
	p.HasMore = meta.HasMore
	if meta.AfterCursor != nil {
		p.AfterCursor = *meta.AfterCursor
	}
	if p.HasMore && p.AfterCursor == "" {
		return listPage{}, fmt.Errorf("decode %s page: has_more without an after_cursor", key)
	}
	return p, nil
}

// decodeRecords returns env[key] as a list of JSON objects. A missing
// list means the answer is not the page asked for (an HTML error page
// with status 200, say); null means none.
func decodeRecords(env map[string]json.RawMessage, key string) ([]json.RawMessage, error) {
	raw, ok := env[key]
	if !ok {
		return nil, fmt.Errorf("decode page: no %q in the answer", key)
	}
	var records []json.RawMessage
	if err := json.Unmarshal(raw, &records); err != nil {
		return nil, fmt.Errorf("decode page: %q is not a list: %w", key, err)
	}
	for i, r := range records {
		if len(r) == 0 || r[0] != '{' {
			return nil, fmt.Errorf("decode page: %s[%d] is not an object", key, i)
		}
	}
	return records, nil
}

// decodeOptional decodes env[key] into v when it is there and not null.
func decodeOptional(env map[string]json.RawMessage, key string, v any) error {
	raw, ok := env[key]
	if !ok || bytes.Equal(raw, []byte("null")) {
		return nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("decode page: %s: %w", key, err)
	}
	return nil
}

// export reads the incremental cursor export of resource ("tickets",
// "users") from after (empty: the beginning), calling page for each page
// in order until the end of the stream.
func (c *client) export(ctx context.Context, resource, after string, perPage int, page func(exportPage) error) error {
	path := "/api/v2/incremental/" + resource + "/cursor.json"
	for {
		q := url.Values{"per_page": {strconv.Itoa(perPage)}}
		if after == "" {
			// The first run exports from the account's beginning.
			q.Set("start_time", "0")
		} else {
			q.Set("cursor", after)
		}
		body, err := c.get(ctx, path, q)
		if err != nil {
			return fmt.Errorf("export %s: %w", resource, err)
		}
		p, err := decodeExportPage(body, resource)
		if err != nil {
			return fmt.Errorf("export %s: %w", resource, err)
		}
		if !p.EndOfStream && len(p.Records) == 0 && p.AfterCursor == after {
			// Asking again would get the same page forever.
			return fmt.Errorf("export %s: the export does not advance past cursor %q", resource, after)
		}
		if err := page(p); err != nil {
			return err
		}
		if p.EndOfStream {
			return nil
		}
		after = p.AfterCursor
	}
}

// list reads a cursor-paginated list at path whose records are under key,
// calling page for each page in order.
func (c *client) list(ctx context.Context, path, key string, size int, page func([]json.RawMessage) error) error {
	return c.listQuery(ctx, path, key, size, nil, page)
}

// listQuery is list with more query parameters (a sort order, say).
func (c *client) listQuery(ctx context.Context, path, key string, size int, query url.Values, page func([]json.RawMessage) error) error {
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	q.Set("page[size]", strconv.Itoa(min(size, maxListPage)))
	for {
		body, err := c.get(ctx, path, q)
		if err != nil {
			return err
		}
		p, err := decodeListPage(body, key)
		if err != nil {
			return fmt.Errorf("GET %s: %w", path, err)
		}
		if err := page(p.Records); err != nil {
			return err
		}
		if !p.HasMore {
			return nil
		}
		if q.Get("page[after]") == p.AfterCursor {
			return fmt.Errorf("GET %s: the list does not advance past cursor %q", path, p.AfterCursor)
		}
		q.Set("page[after]", p.AfterCursor)
	}
}

// timePage is one page of a time-based incremental export.
type timePage struct {
	Records     []json.RawMessage
	EndOfStream bool
}

// decodeTimePage decodes a time-based export's page whose records are
// under key.
func decodeTimePage(body []byte, key string) (timePage, error) {
	var env map[string]json.RawMessage
	if err := json.Unmarshal(body, &env); err != nil {
		return timePage{}, fmt.Errorf("decode export page: %w", err)
	}
	records, err := decodeRecords(env, key)
	if err != nil {
		return timePage{}, err
	}
	p := timePage{Records: records}
	if err := decodeOptional(env, "end_of_stream", &p.EndOfStream); err != nil {
		return timePage{}, err
	}
	return p, nil
}

// ticketEventsPage reads the page of the incremental ticket events export,
// comments included, that starts at since (inclusive, whole seconds).
func (c *client) ticketEventsPage(ctx context.Context, since int64, perPage int) (timePage, error) {
	q := url.Values{
		"start_time": {strconv.FormatInt(since, 10)},
		"include":    {"comment_events"},
		"per_page":   {strconv.Itoa(perPage)},
	}
	body, err := c.get(ctx, "/api/v2/incremental/ticket_events.json", q)
	if err != nil {
		return timePage{}, fmt.Errorf("export ticket events: %w", err)
	}
	p, err := decodeTimePage(body, "ticket_events")
	if err != nil {
		return timePage{}, fmt.Errorf("export ticket events: %w", err)
	}
	return p, nil
}

// count asks how many records a resource has ("tickets", "users"), for
// progress reports. Zendesk's counts are estimates, refreshed now and then.
func (c *client) count(ctx context.Context, resource string) (int64, error) {
	body, err := c.get(ctx, "/api/v2/"+resource+"/count.json", nil)
	if err != nil {
		return 0, fmt.Errorf("count %s: %w", resource, err)
	}
	var v struct {
		Count struct {
			Value int64 `json:"value"`
		} `json:"count"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return 0, fmt.Errorf("count %s: decode: %w", resource, err)
	}
	return v.Count.Value, nil
}
