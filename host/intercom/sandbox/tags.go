package sandbox

import (
	"encoding/json"
	"net/http"
	"strings"
)

func tagNotFound() *apiError {
	return &apiError{status: http.StatusNotFound, code: "tag_not_found", message: "Tag not found"}
}

func invalidTagParams() *apiError { return errInvalid("invalid tag parameters") }

// tagByName finds a tag by name, ignoring case as Intercom does.
func (st *store) tagByName(name string) *Tag {
	for _, id := range st.tagOrder {
		if strings.EqualFold(st.tags[id].Name, name) {
			return st.tags[id]
		}
	}
	return nil
}

// createTag serves POST /tags: create-or-return by name, rename by id, and
// the bulk forms that tag or untag companies and tag users.
func (s *Server) createTag(r *http.Request) (any, *apiError) {
	fields, aerr := rawFields(r)
	if aerr != nil {
		return nil, aerr
	}
	for k := range fields {
		switch k {
		case "name", "id", "companies", "users":
		default:
			return nil, invalidTagParams()
		}
	}
	var in struct {
		Name      string      `json:"name"`
		ID        *flexString `json:"id"`
		Companies []struct {
			ID        *flexString `json:"id"`
			CompanyID *flexString `json:"company_id"`
			Untag     bool        `json:"untag"`
		} `json:"companies"`
		Users []struct {
			ID *flexString `json:"id"`
		} `json:"users"`
	}
	raw, _ := json.Marshal(fields)
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, invalidTagParams()
	}
	name := strings.TrimSpace(in.Name)
	if name == "" {
		return nil, invalidTagParams()
	}
	s.mu.Lock()
	defer s.mu.Unlock()

	var t *Tag
	switch {
	case in.ID.value() != "":
		// {id, name} renames.
		var ok bool
		if t, ok = s.st.tags[in.ID.value()]; !ok {
			return nil, tagNotFound()
		}
		if other := s.st.tagByName(name); other != nil && other.ID != t.ID {
			return nil, &apiError{status: http.StatusBadRequest, code: "parameter_invalid", message: "A tag named " + other.Name + " already exists"}
		}
		t.Name = name
	default:
		if t = s.st.tagByName(name); t == nil {
			t = &Tag{ID: s.st.numericID(), Name: name, CreatedAt: s.now().Unix()}
			s.st.tags[t.ID] = t
			s.st.tagOrder = append(s.st.tagOrder, t.ID)
		}
	}
	out := map[string]any{"type": "tag", "id": t.ID, "name": t.Name}

	type tagged struct {
		ID     string `json:"id"`
		Tagged bool   `json:"tagged"`
	}
	if _, ok := fields["companies"]; ok {
		// Since 2.16 missing companies are skipped, not a 404.
		results := []tagged{}
		for _, ref := range in.Companies {
			var co *Company
			if id := ref.ID.value(); id != "" {
				co = s.st.companies[id]
			} else if cid := ref.CompanyID.value(); cid != "" {
				for _, id := range s.st.companyOrder {
					if s.st.companies[id].CompanyID == cid {
						co = s.st.companies[id]
						break
					}
				}
			}
			if co == nil {
				results = append(results, tagged{ID: ref.ID.value() + ref.CompanyID.value(), Tagged: false})
				continue
			}
			if ref.Untag {
				if i := indexOf(co.TagIDs, t.ID); i >= 0 {
					co.TagIDs = append(co.TagIDs[:i:i], co.TagIDs[i+1:]...)
				}
				results = append(results, tagged{ID: co.ID, Tagged: false})
				continue
			}
			if indexOf(co.TagIDs, t.ID) < 0 {
				co.TagIDs = append(co.TagIDs, t.ID)
			}
			results = append(results, tagged{ID: co.ID, Tagged: true})
		}
		out["companies"] = results
	}
	if _, ok := fields["users"]; ok {
		results := []tagged{}
		for _, ref := range in.Users {
			c, ok := s.st.contacts[ref.ID.value()]
			if !ok {
				results = append(results, tagged{ID: ref.ID.value(), Tagged: false})
				continue
			}
			if indexOf(c.TagIDs, t.ID) < 0 {
				c.TagIDs = append(c.TagIDs, t.ID)
			}
			results = append(results, tagged{ID: c.ID, Tagged: true})
		}
		out["users"] = results
	}
	return out, nil
}

func (s *Server) listTags(r *http.Request) (any, *apiError) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	data := make([]tagWire, 0, len(s.st.tagOrder))
	for _, id := range s.st.tagOrder {
		t := s.st.tags[id]
		data = append(data, tagWire{Type: "tag", ID: t.ID, Name: t.Name})
	}
	return map[string]any{"type": "list", "data": data}, nil
}
