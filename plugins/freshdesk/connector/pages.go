package connector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
)

// decodeList decodes a Freshdesk list page: a JSON array of objects. An
// answer of another shape (an error object with status 200, an HTML page
// from a proxy) is refused rather than read as an empty page.
func decodeList(body []byte) ([]json.RawMessage, error) {
	var records []json.RawMessage
	if err := json.Unmarshal(body, &records); err != nil {
		return nil, fmt.Errorf("decode page: not a JSON array: %w", err)
	}
	if records == nil {
		return nil, errors.New("decode page: null instead of a list")
	}
	for i, r := range records {
		if len(r) == 0 || r[0] != '{' {
			return nil, fmt.Errorf("decode page: item %d is not an object", i)
		}
	}
	return records, nil
}

// decodeObject decodes an answer that is one JSON object.
func decodeObject(body []byte) (json.RawMessage, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil || obj == nil {
		return nil, errors.New("decode answer: not a JSON object")
	}
	return json.RawMessage(body), nil
}

// nextLinkRE finds the rel="next" target of a Link header.
var nextLinkRE = regexp.MustCompile(`<([^>]*)>\s*;\s*(?:[^,]*;\s*)*rel="?next"?`)

// nextPage reads the page number of a Link header's rel="next" target: ok
// is false when there is no next page. Only the number is taken: the link
// may name another host (an account under a custom domain), and requests
// go to the configured base URL alone.
func nextPage(link string) (page int, ok bool, err error) {
	m := nextLinkRE.FindStringSubmatch(link)
	if m == nil {
		return 0, false, nil
	}
	u, err := url.Parse(m[1])
	if err != nil {
		return 0, false, fmt.Errorf("Link header: next page %q is not a URL", m[1])
	}
	n, err := strconv.Atoi(u.Query().Get("page"))
	if err != nil || n < 2 {
		return 0, false, fmt.Errorf("Link header: next page %q has no page number after the first", m[1])
	}
	return n, true, nil
}

// list reads a paged list at path, calling page for each page in order
// until the Link header names no next one. perPage 0 sends no paging
// parameters, for the endpoints that take none.
func (c *client) list(ctx context.Context, path string, query url.Values, perPage int, page func([]json.RawMessage) error) error {
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	if perPage > 0 {
		q.Set("per_page", strconv.Itoa(perPage))
	}
	for n := 1; ; {
		if n > 1 {
			q.Set("page", strconv.Itoa(n))
		}
		body, header, err := c.get(ctx, path, q)
		if err != nil {
			return err
		}
		records, err := decodeList(body)
		if err != nil {
			return fmt.Errorf("GET %s: %w", path, err)
		}
		if err := page(records); err != nil {
			return err
		}
		next, ok, err := nextPage(header.Get("Link"))
		switch {
		case err != nil:
			return fmt.Errorf("GET %s: %w", path, err)
		case !ok:
			return nil
		case next <= n:
			// Asking again would get the same pages forever.
			return fmt.Errorf("GET %s: the next page (%d) does not come after page %d", path, next, n)
		}
		n = next
	}
}

// getObject fetches one JSON object.
func (c *client) getObject(ctx context.Context, path string, query url.Values) (json.RawMessage, error) {
	body, _, err := c.get(ctx, path, query)
	if err != nil {
		return nil, err
	}
	obj, err := decodeObject(body)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	return obj, nil
}
