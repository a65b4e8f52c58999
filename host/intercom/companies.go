package intercom

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// CompanyRequest is the body of POST /companies, which creates the company
// or, when CompanyID is already known, updates it.
type CompanyRequest struct {
	// CompanyID is your own id for the company, the upsert key. It cannot
	// be changed later.
	CompanyID string `json:"company_id"`
	Name      string `json:"name,omitempty"`
	// RemoteCreatedAt is when the company was created in the source (unix seconds).
	RemoteCreatedAt int64  `json:"remote_created_at,omitempty"`
	Website         string `json:"website,omitempty"`
	Industry        string `json:"industry,omitempty"`
	Size            int    `json:"size,omitempty"`
	// Plan is the name of the company's plan.
	Plan         string `json:"plan,omitempty"`
	MonthlySpend int64  `json:"monthly_spend,omitempty"`
	// CustomAttributes may only name attributes that exist in the workspace.
	// The 2.16 schema declares string values; Intercom also stores numbers
	// and booleans for attributes of those types.
	CustomAttributes map[string]any `json:"custom_attributes,omitempty"`
}

// Company is an Intercom company. ID is Intercom's id (used to attach
// contacts); CompanyID is the caller's own.
type Company struct {
	Type             string         `json:"type,omitempty"`
	ID               string         `json:"id"`
	CompanyID        string         `json:"company_id"`
	AppID            string         `json:"app_id,omitempty"`
	Name             string         `json:"name"`
	Plan             *Plan          `json:"plan,omitempty"`
	RemoteCreatedAt  int64          `json:"remote_created_at,omitempty"`
	CreatedAt        int64          `json:"created_at"`
	UpdatedAt        int64          `json:"updated_at"`
	LastRequestAt    int64          `json:"last_request_at,omitempty"`
	Size             int            `json:"size,omitempty"`
	Website          string         `json:"website,omitempty"`
	Industry         string         `json:"industry,omitempty"`
	MonthlySpend     int64          `json:"monthly_spend"`
	SessionCount     int            `json:"session_count"`
	UserCount        int            `json:"user_count"`
	CustomAttributes map[string]any `json:"custom_attributes,omitempty"`
	Tags             struct {
		Type string `json:"type,omitempty"`
		Tags []Tag  `json:"tags"`
	} `json:"tags"`
}

// Plan is a company's plan as Intercom returns it.
type Plan struct {
	Type string `json:"type,omitempty"`
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
}

// CompanyPage is one page of the page-numbered company list.
type CompanyPage struct {
	Companies  []Company
	TotalCount int
	Page       int
	PerPage    int
	TotalPages int
}

// UpsertCompany creates the company or updates the one with the same CompanyID.
func (c *Client) UpsertCompany(ctx context.Context, in CompanyRequest) (*Company, error) {
	var out Company
	if err := c.do(ctx, request{method: http.MethodPost, template: "/companies", body: in}, &out); err != nil {
		return nil, fmt.Errorf("upsert company %s: %w", in.CompanyID, err)
	}
	return &out, nil
}

// ListCompanies returns one page (1-based) of companies. perPage 0 leaves
// the size to Intercom (15). Intercom serves at most 10,000 companies this way.
func (c *Client) ListCompanies(ctx context.Context, page, perPage int) (CompanyPage, error) {
	q := url.Values{}
	if page > 0 {
		q.Set("page", strconv.Itoa(page))
	}
	if perPage > 0 {
		q.Set("per_page", strconv.Itoa(perPage))
	}
	var out struct {
		Data       []Company `json:"data"`
		TotalCount int       `json:"total_count"`
		Pages      *struct {
			Page       int `json:"page"`
			PerPage    int `json:"per_page"`
			TotalPages int `json:"total_pages"`
		} `json:"pages"`
	}
	if err := c.do(ctx, request{method: http.MethodGet, template: "/companies", query: q}, &out); err != nil {
		return CompanyPage{}, fmt.Errorf("list companies page %d: %w", page, err)
	}
	p := CompanyPage{Companies: out.Data, TotalCount: out.TotalCount}
	if out.Pages != nil {
		p.Page, p.PerPage, p.TotalPages = out.Pages.Page, out.Pages.PerPage, out.Pages.TotalPages
	}
	return p, nil
}

// GetCompanyByCompanyID finds a company by the caller's company_id. A
// missing company is a 404 (see [IsNotFound]).
func (c *Client) GetCompanyByCompanyID(ctx context.Context, companyID string) (*Company, error) {
	if companyID == "" {
		return nil, fmt.Errorf("get company: %w: empty company_id", ErrInvalidRequest)
	}
	var raw json.RawMessage
	r := request{method: http.MethodGet, template: "/companies", query: url.Values{"company_id": {companyID}}}
	if err := c.do(ctx, r, &raw); err != nil {
		return nil, fmt.Errorf("get company %s: %w", companyID, err)
	}
	// The 2.16 description answers with a list; earlier versions with the
	// company itself. Accept both.
	var probe struct {
		Type string    `json:"type"`
		Data []Company `json:"data"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, fmt.Errorf("get company %s: decode response: %w", companyID, err)
	}
	if probe.Type == "list" {
		for i := range probe.Data {
			if probe.Data[i].CompanyID == companyID {
				return &probe.Data[i], nil
			}
		}
		return nil, fmt.Errorf("get company %s: %w", companyID,
			&Error{StatusCode: http.StatusNotFound, Errors: []ErrorItem{{Code: "company_not_found", Message: "Company Not Found"}},
				Method: http.MethodGet, Path: "/companies"})
	}
	var out Company
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("get company %s: decode response: %w", companyID, err)
	}
	return &out, nil
}
