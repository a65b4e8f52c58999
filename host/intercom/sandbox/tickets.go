package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Intercom tickets: types with their attributes, and tickets with one
// contact, parts (replies keep created_at), tags and a state.

// TicketType is a type of ticket. Every type has the default title and
// description attributes.
type TicketType struct {
	ID, Name, Category string
	Attributes         []TicketTypeAttribute
}

// TicketTypeAttribute is one attribute of a ticket type.
type TicketTypeAttribute struct {
	ID, Name, DataType string
}

// Ticket is an Intercom ticket.
type Ticket struct {
	ID, TicketID, TypeID string
	ContactIDs           []string
	Attributes           map[string]any
	Open                 bool
	// State is the state's category: submitted, in_progress,
	// waiting_on_customer or resolved.
	State                           string
	SnoozedUntil                    int64
	AdminAssigneeID, TeamAssigneeID string
	Parts                           []Part
	Tags                            []AppliedTag
	CreatedAt, UpdatedAt            int64
	SkipNotifications               bool
}

var ticketCategories = []string{"Customer", "Back-office", "Tracker"}

func renderTicketType(t *TicketType) map[string]any {
	attrs := []map[string]any{}
	for _, a := range t.Attributes {
		attrs = append(attrs, map[string]any{"type": "ticket_type_attribute", "id": a.ID, "name": a.Name, "data_type": a.DataType, "archived": false})
	}
	return map[string]any{"type": "ticket_type", "id": t.ID, "name": t.Name, "category": t.Category, "archived": false,
		"ticket_type_attributes": map[string]any{"type": "ticket_type_attributes.list", "ticket_type_attributes": attrs}}
}

func (s *Server) listTicketTypes(r *http.Request) (any, *apiError) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	data := []map[string]any{}
	for _, id := range s.st.ticketTypeOrder {
		data = append(data, renderTicketType(s.st.ticketTypes[id]))
	}
	return map[string]any{"type": "list", "data": data}, nil
}

func (s *Server) createTicketType(r *http.Request) (any, *apiError) {
	var in struct {
		Name     string `json:"name"`
		Category string `json:"category"`
	}
	if aerr := decodeBody(r, &in); aerr != nil {
		return nil, aerr
	}
	if strings.TrimSpace(in.Name) == "" {
		return nil, errMissing("name is required")
	}
	if in.Category == "" {
		in.Category = "Customer"
	}
	if !slices.Contains(ticketCategories, in.Category) {
		return nil, errInvalid("category must be Customer, Back-office or Tracker")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := &TicketType{ID: s.st.numericID(), Name: in.Name, Category: in.Category, Attributes: []TicketTypeAttribute{
		{ID: s.st.numericID(), Name: "_default_title_", DataType: "string"},
		{ID: s.st.numericID(), Name: "_default_description_", DataType: "string"},
	}}
	s.st.ticketTypes[t.ID] = t
	s.st.ticketTypeOrder = append(s.st.ticketTypeOrder, t.ID)
	return renderTicketType(t), nil
}

func (s *Server) createTicketTypeAttribute(r *http.Request) (any, *apiError) {
	var in struct {
		Name        string `json:"name"`
		Description string `json:"description"`
		DataType    string `json:"data_type"`
	}
	if aerr := decodeBody(r, &in); aerr != nil {
		return nil, aerr
	}
	switch {
	case strings.TrimSpace(in.Name) == "" || in.Description == "":
		return nil, errMissing("name and description are required")
	case !slices.Contains([]string{"string", "list", "integer", "decimal", "boolean", "datetime", "files"}, in.DataType):
		return nil, errInvalid("data_type must be string, list, integer, decimal, boolean, datetime or files")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.st.ticketTypes[r.PathValue("ticket_type_id")]
	if !ok {
		return nil, errNotFound("Ticket type not found")
	}
	for _, a := range t.Attributes {
		if strings.EqualFold(a.Name, in.Name) {
			return nil, errInvalid(fmt.Sprintf("an attribute named %q exists", in.Name))
		}
	}
	a := TicketTypeAttribute{ID: s.st.numericID(), Name: in.Name, DataType: in.DataType}
	t.Attributes = append(t.Attributes, a)
	return map[string]any{"type": "ticket_type_attribute", "id": a.ID, "name": a.Name, "data_type": a.DataType, "description": in.Description, "archived": false}, nil
}

func renderTicket(t *Ticket, st *store, withParts bool) map[string]any {
	contacts := []map[string]any{}
	for _, id := range t.ContactIDs {
		contacts = append(contacts, map[string]any{"type": "contact", "id": id})
	}
	tags := []map[string]any{}
	for _, tg := range t.Tags {
		tags = append(tags, map[string]any{"type": "tag", "id": tg.TagID, "name": st.tags[tg.TagID].Name})
	}
	w := map[string]any{
		"type": "ticket", "id": t.ID, "ticket_id": t.TicketID, "category": st.ticketTypes[t.TypeID].Category,
		"ticket_attributes": t.Attributes, "ticket_type": renderTicketType(st.ticketTypes[t.TypeID]),
		"ticket_state":      map[string]any{"type": "ticket_state", "category": t.State},
		"contacts":          map[string]any{"type": "contact.list", "contacts": contacts},
		"admin_assignee_id": t.AdminAssigneeID, "team_assignee_id": t.TeamAssigneeID,
		"created_at": t.CreatedAt, "updated_at": t.UpdatedAt, "open": t.Open, "is_shared": true,
		"tags": map[string]any{"type": "tag.list", "tags": tags},
	}
	if t.SnoozedUntil > 0 {
		w["snoozed_until"] = t.SnoozedUntil
	}
	if withParts {
		shown := t.Parts[max(0, len(t.Parts)-maxPartsReturned):]
		parts := make([]partWire, len(shown))
		for i, p := range shown {
			parts[i] = renderPart(p)
			parts[i].Type = "ticket_part"
		}
		w["ticket_parts"] = map[string]any{"type": "ticket_part.list", "ticket_parts": parts, "total_count": len(t.Parts)}
	}
	return w
}

// checkTicketAttributes checks a ticket's attributes against its type.
func checkTicketAttributes(t *TicketType, attrs map[string]any) *apiError {
	for k, v := range attrs {
		i := slices.IndexFunc(t.Attributes, func(a TicketTypeAttribute) bool { return a.Name == k })
		if i < 0 {
			return &apiError{status: http.StatusBadRequest, code: "parameter_invalid", field: "ticket_attributes." + k,
				message: fmt.Sprintf("%q is not an attribute of ticket type %q", k, t.Name)}
		}
		if v == nil {
			continue
		}
		ok := true
		switch t.Attributes[i].DataType {
		case "string", "list":
			_, ok = v.(string)
		case "integer", "datetime":
			n, isNum := v.(json.Number)
			_, err := n.Int64()
			ok = isNum && err == nil
		case "decimal":
			_, ok = v.(json.Number)
		case "boolean":
			_, ok = v.(bool)
		}
		if !ok {
			return &apiError{status: http.StatusBadRequest, code: "parameter_invalid", field: "ticket_attributes." + k,
				message: fmt.Sprintf("ticket attribute %q is of type %s: %v does not fit", k, t.Attributes[i].DataType, v)}
		}
	}
	return nil
}

func (s *Server) createTicket(r *http.Request) (any, *apiError) {
	var in struct {
		TicketTypeID *flexString `json:"ticket_type_id"`
		Contacts     []struct {
			ID *flexString `json:"id"`
		} `json:"contacts"`
		TicketAttributes json.RawMessage `json:"ticket_attributes"`
		CreatedAt        int64           `json:"created_at"`
		Assignment       *struct {
			AdminAssigneeID *flexString `json:"admin_assignee_id"`
			TeamAssigneeID  *flexString `json:"team_assignee_id"`
		} `json:"assignment"`
		SkipNotifications bool `json:"skip_notifications"`
	}
	if aerr := decodeBody(r, &in); aerr != nil {
		return nil, aerr
	}
	if in.TicketTypeID.value() == "" {
		return nil, errMissing("ticket_type_id is required")
	}
	if len(in.Contacts) != 1 || in.Contacts[0].ID.value() == "" {
		return nil, errInvalid("contacts must hold exactly one contact, by id")
	}
	attrs := map[string]any{}
	if len(in.TicketAttributes) > 0 && string(in.TicketAttributes) != "null" {
		dec := json.NewDecoder(strings.NewReader(string(in.TicketAttributes)))
		dec.UseNumber()
		if err := dec.Decode(&attrs); err != nil {
			return nil, errInvalid("ticket_attributes must be an object")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tt, ok := s.st.ticketTypes[in.TicketTypeID.value()]
	if !ok {
		return nil, errNotFound("Ticket type not found")
	}
	if aerr := checkTicketAttributes(tt, attrs); aerr != nil {
		return nil, aerr
	}
	contact, ok := s.st.contacts[in.Contacts[0].ID.value()]
	if !ok {
		return nil, userNotFound()
	}
	now := s.now().Unix()
	t := &Ticket{ID: s.st.numericID(), TypeID: tt.ID, ContactIDs: []string{contact.ID}, Attributes: attrs, Open: true, State: "submitted",
		CreatedAt: now, UpdatedAt: now, SkipNotifications: in.SkipNotifications}
	t.TicketID = strconv.Itoa(len(s.st.ticketOrder) + 1)
	if in.CreatedAt > 0 {
		t.CreatedAt = in.CreatedAt
	}
	if a := in.Assignment; a != nil {
		if id := a.AdminAssigneeID.value(); id != "" {
			if _, ok := s.st.admin(id); !ok {
				return nil, &apiError{status: http.StatusNotFound, code: "assignee_not_found", message: "Assignee not found"}
			}
			t.AdminAssigneeID = id
		}
		if id := a.TeamAssigneeID.value(); id != "" {
			if _, ok := s.st.team(id); !ok {
				return nil, &apiError{status: http.StatusNotFound, code: "assignee_not_found", message: "Assignee not found"}
			}
			t.TeamAssigneeID = id
		}
	}
	s.st.tickets[t.ID] = t
	s.st.ticketOrder = append(s.st.ticketOrder, t.ID)
	return renderTicket(t, s.st, true), nil
}

func (s *Server) ticket(r *http.Request) (*Ticket, *apiError) {
	t, ok := s.st.tickets[r.PathValue("ticket_id")]
	if !ok {
		return nil, &apiError{status: http.StatusNotFound, code: "ticket_not_found", message: "Ticket not found"}
	}
	return t, nil
}

func (s *Server) getTicket(r *http.Request) (any, *apiError) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, aerr := s.ticket(r)
	if aerr != nil {
		return nil, aerr
	}
	return renderTicket(t, s.st, true), nil
}

func (s *Server) replyTicket(r *http.Request) (any, *apiError) {
	var in replyIn
	if aerr := decodeBody(r, &in); aerr != nil {
		return nil, aerr
	}
	if aerr := in.check(); aerr != nil {
		return nil, aerr
	}
	attachments, aerr := attachmentsFromURLs(in.AttachmentURLs)
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, aerr := s.ticket(r)
	if aerr != nil {
		return nil, aerr
	}
	var contact *Contact
	if in.Type == "user" {
		if s.st.ticketTypes[t.TypeID].Category == "Back-office" {
			return nil, &apiError{status: http.StatusBadRequest, code: "parameter_mismatch", message: "User replies are not allowed on Backoffice tickets"}
		}
		if contact = s.st.findReplyContact(&in); contact == nil {
			return nil, userNotFound()
		}
	}
	p, aerr := s.st.replyPart(&in, contact, attachments, s.now().Unix())
	if aerr != nil {
		return nil, aerr
	}
	t.Parts = append(t.Parts, p)
	t.UpdatedAt = max(t.UpdatedAt, s.now().Unix())
	w := renderPart(p)
	w.Type = "ticket_part"
	return w, nil
}

func (s *Server) updateTicket(r *http.Request) (any, *apiError) {
	var in struct {
		Open         *bool       `json:"open"`
		SnoozedUntil *int64      `json:"snoozed_until"`
		AdminID      *flexString `json:"admin_id"`
		AssigneeID   *flexString `json:"assignee_id"`
	}
	if aerr := decodeBody(r, &in); aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, aerr := s.ticket(r)
	if aerr != nil {
		return nil, aerr
	}
	if id := in.AdminID.value(); id != "" {
		if _, ok := s.st.admin(id); !ok {
			return nil, errNotFound("Admin not found")
		}
	}
	now := s.now().Unix()
	if in.SnoozedUntil != nil {
		if *in.SnoozedUntil <= now {
			return nil, &apiError{status: http.StatusBadRequest, code: "parameter_invalid", field: "snoozed_until", message: "snoozed_until must be in the future"}
		}
		t.SnoozedUntil, t.State = *in.SnoozedUntil, "waiting_on_customer"
	}
	if in.Open != nil {
		t.Open = *in.Open
		if !t.Open {
			t.State, t.SnoozedUntil = "resolved", 0
		}
	}
	t.UpdatedAt = now
	return renderTicket(t, s.st, false), nil
}

func (s *Server) tagTicket(r *http.Request) (any, *apiError) {
	var in struct {
		ID      *flexString `json:"id"`
		AdminID *flexString `json:"admin_id"`
	}
	if aerr := decodeBody(r, &in); aerr != nil {
		return nil, aerr
	}
	if in.ID.value() == "" || in.AdminID.value() == "" {
		return nil, errMissing("id and admin_id are required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, aerr := s.ticket(r)
	if aerr != nil {
		return nil, aerr
	}
	tag, ok := s.st.tags[in.ID.value()]
	if !ok {
		return nil, &apiError{status: http.StatusNotFound, code: "tag_not_found", message: "Tag not found"}
	}
	if !slices.ContainsFunc(t.Tags, func(a AppliedTag) bool { return a.TagID == tag.ID }) {
		t.Tags = append(t.Tags, AppliedTag{TagID: tag.ID, AdminID: in.AdminID.value(), AppliedAt: s.now().Unix()})
	}
	return map[string]any{"type": "tag", "id": tag.ID, "name": tag.Name}, nil
}

// ticketSearchable says which ticket fields a search may name.
func ticketSearchable(field string) bool {
	switch field {
	case "id", "created_at", "updated_at", "contact_ids", "ticket_type_id", "open", "state", "admin_assignee_id", "team_assignee_id":
		return true
	}
	return false
}

func ticketValue(t *Ticket, field string) any {
	switch field {
	case "id":
		return t.ID
	case "created_at":
		return t.CreatedAt
	case "updated_at":
		return t.UpdatedAt
	case "contact_ids":
		return t.ContactIDs
	case "ticket_type_id":
		return t.TypeID
	case "open":
		return t.Open
	case "state":
		return t.State
	case "admin_assignee_id":
		return t.AdminAssigneeID
	case "team_assignee_id":
		return t.TeamAssigneeID
	}
	return nil
}

func (s *Server) searchTickets(r *http.Request) (any, *apiError) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return searchList(r, ticketSearchable, s.st.ticketOrder,
		func(id, f string) any { return ticketValue(s.st.tickets[id], f) },
		func(id string) any { return renderTicket(s.st.tickets[id], s.st, false) },
		"ticket.list", "tickets")
}

// AddTicketType adds a ticket type with its attributes (besides the
// default title and description), as an admin would in Intercom's
// settings: for seeding a sandbox with a workspace's types.
func (s *Server) AddTicketType(name, category string, attrs []TicketTypeAttribute) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := &TicketType{ID: s.st.numericID(), Name: name, Category: category}
	have := map[string]bool{}
	for _, a := range attrs {
		a.ID = s.st.numericID()
		t.Attributes = append(t.Attributes, a)
		have[a.Name] = true
	}
	for _, d := range []string{"_default_title_", "_default_description_"} {
		if !have[d] {
			t.Attributes = append(t.Attributes, TicketTypeAttribute{ID: s.st.numericID(), Name: d, DataType: "string"})
		}
	}
	s.st.ticketTypes[t.ID] = t
	s.st.ticketTypeOrder = append(s.st.ticketTypeOrder, t.ID)
}
