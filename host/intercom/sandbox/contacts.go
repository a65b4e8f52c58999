package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/mail"
	"strings"
)

// contactIn is the body of POST /contacts and PUT /contacts/{id}. Pointers
// tell a field that was sent from one that was not.
type contactIn struct {
	Role                   *string         `json:"role"`
	ExternalID             *flexString     `json:"external_id"`
	Email                  *string         `json:"email"`
	EmailVerified          *bool           `json:"email_verified"`
	Phone                  *string         `json:"phone"`
	Name                   *string         `json:"name"`
	Avatar                 *string         `json:"avatar"`
	SignedUpAt             *int64          `json:"signed_up_at"`
	LastSeenAt             *int64          `json:"last_seen_at"`
	OwnerID                *flexString     `json:"owner_id"`
	UnsubscribedFromEmails *bool           `json:"unsubscribed_from_emails"`
	CustomAttributes       json.RawMessage `json:"custom_attributes"`
}

func conflict(id string) *apiError {
	return &apiError{status: http.StatusConflict, code: "conflict",
		message: "A contact matching those details already exists with id=" + id}
}

func userNotFound() *apiError { return errNotFound("User Not Found") }

// findConflict returns the contact other than self that a contact with these
// identifiers would duplicate: the same external_id, or the same email
// (case-insensitive) unless both are leads, which may share an email.
func (st *store) findConflict(self, role, email, externalID string) *Contact {
	for _, id := range st.contactOrder {
		c := st.contacts[id]
		if c.ID == self {
			continue
		}
		if externalID != "" && c.ExternalID == externalID {
			return c
		}
		if email != "" && strings.EqualFold(c.Email, email) && !(role == "lead" && c.Role == "lead") {
			return c
		}
	}
	return nil
}

func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && strings.Contains(s, "@")
}

// applyContact copies the fields present in in onto c, after checking them.
func (s *Server) applyContact(c *Contact, in *contactIn) *apiError {
	if in.Role != nil {
		switch *in.Role {
		case "user", "lead":
			c.Role = *in.Role
		default:
			return &apiError{status: http.StatusBadRequest, code: "parameter_invalid", field: "role",
				message: fmt.Sprintf("role must be user or lead, not %q", *in.Role)}
		}
	}
	if in.Email != nil {
		email := strings.TrimSpace(*in.Email)
		if email != "" && !validEmail(email) {
			return &apiError{status: http.StatusBadRequest, code: "parameter_invalid", field: "email",
				message: fmt.Sprintf("%q is not a valid email", email)}
		}
		c.Email = email
	}
	if in.EmailVerified != nil && in.Email == nil {
		return &apiError{status: http.StatusBadRequest, code: "parameter_invalid", field: "email_verified",
			message: "email_verified can only be set together with email"}
	}
	if in.ExternalID != nil {
		c.ExternalID = in.ExternalID.value()
	}
	if in.Phone != nil {
		c.Phone = *in.Phone
	}
	if in.Name != nil {
		c.Name = *in.Name
	}
	if in.Avatar != nil {
		c.Avatar = *in.Avatar
	}
	if in.SignedUpAt != nil {
		c.SignedUpAt = *in.SignedUpAt
	}
	if in.LastSeenAt != nil {
		c.LastSeenAt = *in.LastSeenAt
	}
	if in.OwnerID != nil {
		owner := in.OwnerID.value()
		if _, ok := s.st.admin(owner); owner != "" && !ok {
			return &apiError{status: http.StatusBadRequest, code: "parameter_invalid", field: "owner_id",
				message: "owner_id must be the id of an admin of the workspace"}
		}
		c.OwnerID = owner
	}
	if in.UnsubscribedFromEmails != nil {
		c.UnsubscribedFromEmails = *in.UnsubscribedFromEmails
	}
	if len(in.CustomAttributes) > 0 {
		attrs, aerr := s.st.mergeAttributes("contact", c.CustomAttributes, in.CustomAttributes)
		if aerr != nil {
			return aerr
		}
		c.CustomAttributes = attrs
	}
	return nil
}

// mergeAttributes applies a custom_attributes object key by key onto old: a
// key sent replaces the value, null removes it, keys not sent are kept.
func (st *store) mergeAttributes(model string, old map[string]any, raw json.RawMessage) (map[string]any, *apiError) {
	if string(raw) == "null" {
		return old, nil
	}
	var in map[string]any
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	if err := dec.Decode(&in); err != nil {
		return nil, &apiError{status: http.StatusBadRequest, code: "parameter_invalid", field: "custom_attributes",
			message: "custom_attributes must be an object"}
	}
	out := cloneMap(old)
	if out == nil {
		out = map[string]any{}
	}
	for k, v := range in {
		switch v := v.(type) {
		case nil:
			delete(out, k)
		case map[string]any, []any:
			return nil, &apiError{status: http.StatusBadRequest, code: "parameter_invalid", field: "custom_attributes." + k,
				message: fmt.Sprintf("custom attribute %q must be a string, number, boolean or date", k)}
		case json.Number:
			if i, err := v.Int64(); err == nil {
				out[k] = i
			} else if f, err := v.Float64(); err == nil {
				out[k] = f
			}
		default:
			out[k] = v
		}
		if v != nil {
			if aerr := st.checkAttribute(model, k, out[k]); aerr != nil {
				return nil, aerr
			}
		}
	}
	return out, nil
}

func (s *Server) createContact(r *http.Request) (any, *apiError) {
	var in contactIn
	if aerr := decodeBody(r, &in); aerr != nil {
		return nil, aerr
	}
	if in.Email == nil && in.ExternalID == nil && in.Role == nil {
		return nil, errInvalid("Contact must have an email, an external_id or a role")
	}
	now := s.now().Unix()
	c := &Contact{Role: "user", CreatedAt: now, UpdatedAt: now}

	s.mu.Lock()
	defer s.mu.Unlock()
	if aerr := s.applyContact(c, &in); aerr != nil {
		return nil, aerr
	}
	if c.Role == "user" && c.Email == "" && c.ExternalID == "" {
		return nil, errInvalid("A user must have an email or an external_id")
	}
	if dup := s.st.findConflict("", c.Role, c.Email, c.ExternalID); dup != nil {
		return nil, conflict(dup.ID)
	}
	c.ID = objectID(s.now())
	s.st.contacts[c.ID] = c
	s.st.contactOrder = append(s.st.contactOrder, c.ID)
	return renderContact(c, s.st), nil
}

func (s *Server) updateContact(r *http.Request) (any, *apiError) {
	var in contactIn
	if aerr := decodeBody(r, &in); aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.st.contacts[r.PathValue("contact_id")]
	if !ok {
		return nil, userNotFound()
	}
	// Work on a copy so that a rejected update changes nothing.
	c := old.clone()
	if aerr := s.applyContact(&c, &in); aerr != nil {
		return nil, aerr
	}
	if c.Role == "user" && c.Email == "" && c.ExternalID == "" {
		return nil, errInvalid("A user must have an email or an external_id")
	}
	if dup := s.st.findConflict(c.ID, c.Role, c.Email, c.ExternalID); dup != nil {
		return nil, conflict(dup.ID)
	}
	c.UpdatedAt = s.now().Unix()
	*old = c
	return renderContact(old, s.st), nil
}

func (s *Server) getContact(r *http.Request) (any, *apiError) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, ok := s.st.contacts[r.PathValue("contact_id")]
	if !ok {
		return nil, userNotFound()
	}
	return renderContact(c, s.st), nil
}

// contactListWire is Intercom's contact_list.
type contactListWire struct {
	Type       string          `json:"type"`
	Data       []contactWire   `json:"data"`
	TotalCount int             `json:"total_count"`
	Pages      cursorPagesWire `json:"pages"`
}

func (s *Server) contactList(ids []string, startingAfter string, perPage int) (any, *apiError) {
	page, pages, aerr := cursorPage(ids, startingAfter, perPage)
	if aerr != nil {
		return nil, aerr
	}
	out := contactListWire{Type: "list", Data: make([]contactWire, len(page)), TotalCount: len(ids), Pages: pages}
	for i, id := range page {
		out.Data[i] = renderContact(s.st.contacts[id], s.st)
	}
	return out, nil
}

func (s *Server) listContacts(r *http.Request) (any, *apiError) {
	perPage, aerr := perPageParam(r.URL.Query(), 50, 150)
	if aerr != nil {
		return nil, aerr
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.contactList(s.st.contactOrder, r.URL.Query().Get("starting_after"), perPage)
}

func (s *Server) searchContacts(r *http.Request) (any, *apiError) {
	q, perPage, startingAfter, aerr := parseSearch(r, contactSearchable, 50)
	if aerr != nil {
		return nil, aerr
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var ids []string
	for _, id := range s.st.contactOrder {
		c := s.st.contacts[id]
		if q.match(func(f string) any { return fieldValue(c, f) }) {
			ids = append(ids, id)
		}
	}
	return s.contactList(ids, startingAfter, perPage)
}

func (s *Server) attachContactToCompany(r *http.Request) (any, *apiError) {
	var in struct {
		ID *flexString `json:"id"`
	}
	if aerr := decodeBody(r, &in); aerr != nil {
		return nil, aerr
	}
	if in.ID.value() == "" {
		return nil, errMissing("company not specified")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.st.contacts[r.PathValue("contact_id")]
	if !ok {
		return nil, userNotFound()
	}
	co, ok := s.st.companies[in.ID.value()]
	if !ok {
		return nil, &apiError{status: http.StatusNotFound, code: "company_not_found", message: "Company Not Found"}
	}
	if indexOf(c.CompanyIDs, co.ID) < 0 {
		if len(c.CompanyIDs) >= maxCompaniesPerContact {
			return nil, &apiError{status: http.StatusBadRequest, code: "contact_company_limit_exceeded",
				message: fmt.Sprintf("Contact has reached the maximum of %d company associations", maxCompaniesPerContact)}
		}
		c.CompanyIDs = append(c.CompanyIDs, co.ID)
		co.UserCount++
		c.UpdatedAt = s.now().Unix()
	}
	return renderCompany(co, s.st), nil
}

// maxCompaniesPerContact is Intercom's cap on a contact's companies.
const maxCompaniesPerContact = 1000

func (s *Server) listContactCompanies(r *http.Request) (any, *apiError) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, ok := s.st.contacts[r.PathValue("contact_id")]
	if !ok {
		return nil, userNotFound()
	}
	companies := make([]companyWire, 0, len(c.CompanyIDs))
	for _, id := range c.CompanyIDs {
		companies = append(companies, renderCompany(s.st.companies[id], s.st))
	}
	return map[string]any{
		"type": "list", "companies": companies, "total_count": len(companies),
		"pages": map[string]any{"type": "pages", "next": nil, "page": 1, "per_page": max(50, len(companies)), "total_pages": 1},
	}, nil
}

func (s *Server) tagContact(r *http.Request) (any, *apiError) {
	var in struct {
		ID *flexString `json:"id"`
	}
	if aerr := decodeBody(r, &in); aerr != nil {
		return nil, aerr
	}
	if in.ID.value() == "" {
		return nil, errMissing("tag id not specified")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.st.contacts[r.PathValue("contact_id")]
	if !ok {
		return nil, userNotFound()
	}
	t, ok := s.st.tags[in.ID.value()]
	if !ok {
		return nil, tagNotFound()
	}
	if indexOf(c.TagIDs, t.ID) < 0 {
		c.TagIDs = append(c.TagIDs, t.ID)
	}
	return tagWire{Type: "tag", ID: t.ID, Name: t.Name}, nil
}
