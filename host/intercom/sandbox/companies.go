package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
)

// isCompanyField reports whether POST /companies accepts key; Intercom
// answers any other with 400 bad_request "bad '<key>' parameter".
func isCompanyField(key string) bool {
	switch key {
	case "name", "company_id", "plan", "size", "website", "industry",
		"custom_attributes", "remote_created_at", "update_last_request_at", "monthly_spend":
		return true
	}
	return false
}

type companyIn struct {
	Name             *string         `json:"name"`
	CompanyID        *flexString     `json:"company_id"`
	Plan             *string         `json:"plan"`
	Size             *int            `json:"size"`
	Website          *string         `json:"website"`
	Industry         *string         `json:"industry"`
	CustomAttributes json.RawMessage `json:"custom_attributes"`
	RemoteCreatedAt  *int64          `json:"remote_created_at"`
	MonthlySpend     *json.Number    `json:"monthly_spend"`
}

func (s *Server) upsertCompany(r *http.Request) (any, *apiError) {
	fields, aerr := rawFields(r)
	if aerr != nil {
		return nil, aerr
	}
	for k := range fields {
		if !isCompanyField(k) {
			return nil, &apiError{status: http.StatusBadRequest, code: "bad_request", message: fmt.Sprintf("bad '%s' parameter", k)}
		}
	}
	raw, _ := json.Marshal(fields)
	var in companyIn
	if err := json.Unmarshal(raw, &in); err != nil {
		var te *json.UnmarshalTypeError
		field := "body"
		if errors.As(err, &te) && te.Field != "" {
			field = te.Field
		}
		return nil, &apiError{status: http.StatusBadRequest, code: "parameter_invalid", field: field,
			message: fmt.Sprintf("%s has the wrong type", field)}
	}
	companyID := in.CompanyID.value()
	if companyID == "" {
		return nil, errMissing("company_id not specified")
	}
	now := s.now().Unix()

	s.mu.Lock()
	defer s.mu.Unlock()
	var c *Company
	for _, id := range s.st.companyOrder {
		if s.st.companies[id].CompanyID == companyID {
			c = s.st.companies[id]
			break
		}
	}
	created := c == nil
	work := Company{CompanyID: companyID, CreatedAt: now}
	if !created {
		work = c.clone()
	}
	if in.Name != nil {
		work.Name = *in.Name
	}
	if in.Plan != nil && *in.Plan != work.Plan {
		work.Plan, work.PlanID = *in.Plan, ""
		if work.Plan != "" {
			work.PlanID = s.st.planID(work.Plan)
		}
	}
	if in.Size != nil {
		work.Size = *in.Size
	}
	if in.Website != nil {
		work.Website = *in.Website
	}
	if in.Industry != nil {
		work.Industry = *in.Industry
	}
	if in.RemoteCreatedAt != nil {
		work.RemoteCreatedAt = *in.RemoteCreatedAt
	}
	if in.MonthlySpend != nil {
		// Intercom truncates floats and refuses what does not fit an int32.
		f, err := in.MonthlySpend.Float64()
		if err != nil || f < 0 || f > math.MaxInt32 {
			return nil, &apiError{status: http.StatusBadRequest, code: "parameter_invalid", field: "monthly_spend",
				message: "monthly_spend must be an integer between 0 and " + strconv.Itoa(math.MaxInt32)}
		}
		work.MonthlySpend = int64(f)
	}
	if len(in.CustomAttributes) > 0 {
		attrs, aerr := s.st.mergeAttributes("company", work.CustomAttributes, in.CustomAttributes)
		if aerr != nil {
			return nil, aerr
		}
		work.CustomAttributes = attrs
	}
	work.UpdatedAt = now
	if created {
		work.ID = objectID(s.now())
		c = &work
		s.st.companies[c.ID] = c
		s.st.companyOrder = append(s.st.companyOrder, c.ID)
	} else {
		*c = work
	}
	return renderCompany(c, s.st), nil
}

// maxCompanyList is how far Intercom's page-numbered company list reaches.
const maxCompanyList = 10_000

func companyNotFound() *apiError {
	return &apiError{status: http.StatusNotFound, code: "company_not_found", message: "Company Not Found"}
}

func (s *Server) listCompanies(r *http.Request) (any, *apiError) {
	q := r.URL.Query()
	perPage, aerr := perPageParam(q, 15, 60)
	if aerr != nil {
		return nil, aerr
	}
	page, aerr := pageParam(q)
	if aerr != nil {
		return nil, aerr
	}
	s.mu.RLock()
	defer s.mu.RUnlock()

	var ids []string
	switch {
	case q.Has("company_id") || q.Has("name"):
		// A lookup finds the company whether or not it has contacts.
		for _, id := range s.st.companyOrder {
			c := s.st.companies[id]
			if q.Has("company_id") && c.CompanyID == q.Get("company_id") || q.Has("name") && c.Name == q.Get("name") {
				ids = append(ids, id)
			}
		}
		if len(ids) == 0 {
			return nil, companyNotFound()
		}
	case q.Has("segment_id"):
		// The sandbox has no segments: every segment is empty.
	default:
		tag := q.Get("tag_id")
		for _, id := range s.st.companyOrder {
			c := s.st.companies[id]
			// A company with no contacts is not visible in Intercom.
			if c.UserCount == 0 {
				continue
			}
			if tag != "" && !slices.Contains(c.TagIDs, tag) {
				continue
			}
			ids = append(ids, id)
		}
	}
	total := len(ids)
	ids = ids[:min(len(ids), maxCompanyList)]
	start := min(len(ids), (page-1)*perPage)
	end := min(len(ids), start+perPage)
	data := make([]companyWire, 0, end-start)
	for _, id := range ids[start:end] {
		data = append(data, renderCompany(s.st.companies[id], s.st))
	}
	return map[string]any{
		"type": "list",
		"data": data,
		"pages": map[string]any{
			"type": "pages", "next": nil, "page": page, "per_page": perPage,
			"total_pages": max(1, (len(ids)+perPage-1)/perPage),
		},
		"total_count": total,
	}, nil
}
