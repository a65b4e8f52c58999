package sandbox

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// Custom attributes must exist before a value is written to them, as in
// Intercom: contacts' and companies' through /data_attributes, and
// conversations' through /conversations/attributes (new in 2.16). A value
// is checked against its attribute's type.

// Attribute is a custom attribute of contacts, companies or conversations.
type Attribute struct {
	ID    string
	Model string // "contact", "company" or "conversation"
	Name  string
	// DataType is string, integer, float, boolean, datetime, date or
	// options (contacts, companies); string, integer, decimal, boolean,
	// datetime or list (conversations).
	DataType    string
	Description string
	Options     []string
	Archived    bool
	CreatedAt   int64
}

var (
	dataTypes         = []string{"string", "integer", "float", "boolean", "datetime", "date", "options"}
	conversationTypes = []string{"string", "integer", "list", "decimal", "boolean", "datetime", "relationship", "files"}
	// A data attribute's name: letters, digits, currency symbols and
	// hyphens (Intercom's words).
	attributeName = regexp.MustCompile(`^[\p{L}\p{N}\p{Sc}-]+$`)
)

// attribute finds a model's attribute by name.
func (st *store) attribute(model, name string) (*Attribute, bool) {
	for _, a := range st.attributes {
		if a.Model == model && strings.EqualFold(a.Name, name) {
			return a, true
		}
	}
	return nil, false
}

type dataAttributeWire struct {
	Type        string   `json:"type"`
	ID          int64    `json:"id"`
	Model       string   `json:"model"`
	Name        string   `json:"name"`
	FullName    string   `json:"full_name"`
	Label       string   `json:"label"`
	Description string   `json:"description"`
	DataType    string   `json:"data_type"`
	Options     []string `json:"options,omitempty"`
	APIWritable bool     `json:"api_writable"`
	Custom      bool     `json:"custom"`
	Archived    bool     `json:"archived"`
	CreatedAt   int64    `json:"created_at"`
}

func renderDataAttribute(a *Attribute) dataAttributeWire {
	id, _ := strconv.ParseInt(a.ID, 10, 64)
	return dataAttributeWire{Type: "data_attribute", ID: id, Model: a.Model, Name: a.Name, FullName: "custom_attributes." + a.Name,
		Label: a.Name, Description: a.Description, DataType: a.DataType, Options: a.Options, APIWritable: true, Custom: true,
		Archived: a.Archived, CreatedAt: a.CreatedAt}
}

func (s *Server) listDataAttributes(r *http.Request) (any, *apiError) {
	model := r.URL.Query().Get("model")
	switch model {
	case "", "contact", "company":
	case "conversation":
		return nil, &apiError{status: http.StatusUnprocessableEntity, code: "parameter_invalid", field: "model",
			message: "conversation attributes are listed at /conversations/attributes"}
	default:
		return nil, errInvalid("model must be contact or company")
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	data := []dataAttributeWire{}
	for _, a := range s.st.attributes {
		if a.Model != "conversation" && (model == "" || a.Model == model) {
			data = append(data, renderDataAttribute(a))
		}
	}
	return map[string]any{"type": "list", "data": data}, nil
}

func (s *Server) createDataAttribute(r *http.Request) (any, *apiError) {
	var in struct {
		Name        string `json:"name"`
		Model       string `json:"model"`
		DataType    string `json:"data_type"`
		Description string `json:"description"`
		Options     []struct {
			Value string `json:"value"`
		} `json:"options"`
	}
	if aerr := decodeBody(r, &in); aerr != nil {
		return nil, aerr
	}
	switch {
	case in.Name == "":
		return nil, errMissing("name is required")
	case !attributeName.MatchString(in.Name):
		return nil, &apiError{status: http.StatusBadRequest, code: "parameter_invalid", field: "name",
			message: "Your name for this attribute must only contain alphanumeric characters, currency symbols, and hyphens"}
	case in.Model != "contact" && in.Model != "company":
		return nil, &apiError{status: http.StatusBadRequest, code: "parameter_invalid", field: "model", message: "model must be contact or company"}
	case !slices.Contains(dataTypes, in.DataType):
		return nil, &apiError{status: http.StatusBadRequest, code: "parameter_invalid", field: "data_type",
			message: "data_type must be one of " + strings.Join(dataTypes, ", ")}
	case in.DataType == "options" && len(in.Options) < 2:
		return nil, &apiError{status: http.StatusBadRequest, code: "parameter_invalid", field: "options", message: "options need at least two entries"}
	}
	var opts []string
	for _, o := range in.Options {
		opts = append(opts, o.Value)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.st.attribute(in.Model, in.Name); dup {
		return nil, &apiError{status: http.StatusBadRequest, code: "parameter_invalid", field: "name",
			message: fmt.Sprintf("You already have '%s' in your workspace. You need to choose a unique name.", in.Name)}
	}
	a := &Attribute{ID: s.st.numericID(), Model: in.Model, Name: in.Name, DataType: in.DataType, Description: in.Description, Options: opts, CreatedAt: s.now().Unix()}
	s.st.attributes = append(s.st.attributes, a)
	return renderDataAttribute(a), nil
}

type conversationAttributeWire struct {
	Type        string `json:"type"`
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	DataType    string `json:"data_type"`
	Required    bool   `json:"required"`
	Archived    bool   `json:"archived"`
	CreatedAt   int64  `json:"created_at"`
	Options     []any  `json:"options,omitempty"`
}

func renderConversationAttribute(a *Attribute) conversationAttributeWire {
	id, _ := strconv.ParseInt(a.ID, 10, 64)
	w := conversationAttributeWire{Type: "conversation_attribute", ID: id, Name: a.Name, Description: a.Description,
		DataType: a.DataType, Archived: a.Archived, CreatedAt: a.CreatedAt}
	for i, o := range a.Options {
		w.Options = append(w.Options, map[string]any{"id": fmt.Sprintf("%s-%d", a.ID, i), "label": o, "archived": false})
	}
	return w
}

func (s *Server) listConversationAttributes(r *http.Request) (any, *apiError) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	data := []conversationAttributeWire{}
	for _, a := range s.st.attributes {
		if a.Model == "conversation" {
			data = append(data, renderConversationAttribute(a))
		}
	}
	return map[string]any{"type": "list", "data": data}, nil
}

func (s *Server) createConversationAttribute(r *http.Request) (any, *apiError) {
	var in struct {
		Name        string `json:"name"`
		DataType    string `json:"data_type"`
		Description string `json:"description"`
		Options     []struct {
			Label string `json:"label"`
		} `json:"options"`
	}
	if aerr := decodeBody(r, &in); aerr != nil {
		return nil, aerr
	}
	switch {
	case strings.TrimSpace(in.Name) == "":
		return nil, errMissing("name is required")
	case !slices.Contains(conversationTypes, in.DataType):
		return nil, &apiError{status: http.StatusUnprocessableEntity, code: "parameter_invalid", field: "data_type",
			message: "data_type must be one of " + strings.Join(conversationTypes, ", ")}
	}
	var opts []string
	for _, o := range in.Options {
		opts = append(opts, o.Label)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.st.attribute("conversation", in.Name); dup {
		return nil, &apiError{status: http.StatusBadRequest, code: "parameter_invalid", field: "name",
			message: fmt.Sprintf("A conversation attribute named '%s' already exists", in.Name)}
	}
	a := &Attribute{ID: s.st.numericID(), Model: "conversation", Name: in.Name, DataType: in.DataType, Description: in.Description, Options: opts, CreatedAt: s.now().Unix()}
	s.st.attributes = append(s.st.attributes, a)
	return renderConversationAttribute(a), nil
}

// checkAttribute checks a value written to model's attribute name: the
// attribute must exist and the value be of its type.
func (st *store) checkAttribute(model, name string, v any) *apiError {
	a, ok := st.attribute(model, name)
	if !ok || a.Archived {
		return &apiError{status: http.StatusBadRequest, code: "parameter_not_found", field: "custom_attributes." + name,
			message: fmt.Sprintf("Custom attribute '%s' does not exist", name)}
	}
	bad := func() *apiError {
		return &apiError{status: http.StatusBadRequest, code: "parameter_invalid", field: "custom_attributes." + name,
			message: fmt.Sprintf("Custom attribute '%s' is of type %s: %v does not fit", name, a.DataType, v)}
	}
	switch a.DataType {
	case "string":
		if _, ok := v.(string); !ok {
			return bad()
		}
	case "integer", "datetime":
		if _, ok := v.(int64); !ok {
			return bad()
		}
	case "float", "decimal":
		switch v.(type) {
		case int64, float64:
		default:
			return bad()
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return bad()
		}
	case "date":
		switch v := v.(type) {
		case int64:
		case string:
			if len(v) != 10 || !unicode.IsDigit(rune(v[0])) {
				return bad()
			}
		default:
			return bad()
		}
	case "options", "list":
		s, ok := v.(string)
		if !ok || !slices.Contains(a.Options, s) {
			return bad()
		}
	}
	return nil
}

// attributesCopy is a copy of every attribute, for snapshots.
func (st *store) attributesCopy() []Attribute {
	out := make([]Attribute, len(st.attributes))
	for i, a := range st.attributes {
		out[i] = *a
		out[i].Options = slices.Clone(a.Options)
	}
	return out
}

// AddAttribute declares a custom attribute, as an admin would in
// Intercom's settings: for seeding a sandbox with a workspace's attributes.
func (s *Server) AddAttribute(a Attribute) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a.ID = s.st.numericID()
	a.Options = slices.Clone(a.Options)
	s.st.attributes = append(s.st.attributes, &a)
}
