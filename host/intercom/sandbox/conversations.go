package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// maxAttachments is Intercom's cap on attachment_urls (and attachment_files)
// per message or part.
const maxAttachments = 10

func conversationNotFound() *apiError { return errNotFound("Resource Not Found") }

// conversation looks up the {conversation_id} of the request. The spec types
// that path parameter as an integer; anything else cannot exist.
func (s *Server) conversation(r *http.Request) (*Conversation, *apiError) {
	id := r.PathValue("conversation_id")
	if _, err := strconv.ParseUint(id, 10, 64); err != nil {
		return nil, conversationNotFound()
	}
	c, ok := s.st.conversations[id]
	if !ok {
		return nil, conversationNotFound()
	}
	return c, nil
}

func checkAttachmentCount(field string, n int) *apiError {
	if n > maxAttachments {
		return &apiError{status: http.StatusBadRequest, code: "parameter_invalid", field: field,
			message: fmt.Sprintf("%s: at most %d attachments are allowed, got %d", field, maxAttachments, n)}
	}
	return nil
}

func contactAuthor(c *Contact) Author {
	return Author{Type: c.Role, ID: c.ID, Name: c.Name, Email: c.Email}
}

func adminAuthor(a Admin) Author {
	return Author{Type: "admin", ID: a.ID, Name: a.Name, Email: a.Email}
}

func (s *Server) createConversation(r *http.Request) (any, *apiError) {
	var in struct {
		From *struct {
			Type string      `json:"type"`
			ID   *flexString `json:"id"`
		} `json:"from"`
		Body           *string  `json:"body"`
		Subject        string   `json:"subject"`
		AttachmentURLs []string `json:"attachment_urls"`
		CreatedAt      *int64   `json:"created_at"`
		BrandID        string   `json:"brand_id"`
	}
	if aerr := decodeBody(r, &in); aerr != nil {
		return nil, aerr
	}
	if in.From == nil || in.From.ID.value() == "" {
		return nil, errMissing("from is required, with the type and id of a contact")
	}
	switch in.From.Type {
	case "user", "lead", "contact":
	default:
		return nil, &apiError{status: http.StatusBadRequest, code: "parameter_invalid", field: "from.type",
			message: fmt.Sprintf("from.type must be user, lead or contact, not %q", in.From.Type)}
	}
	if in.Body == nil || strings.TrimSpace(*in.Body) == "" {
		return nil, errMissing("body is required")
	}
	if aerr := checkAttachmentCount("attachment_urls", len(in.AttachmentURLs)); aerr != nil {
		return nil, aerr
	}
	attachments, aerr := attachmentsFromURLs(in.AttachmentURLs)
	if aerr != nil {
		return nil, aerr
	}
	if in.CreatedAt != nil && *in.CreatedAt < 0 {
		return nil, &apiError{status: http.StatusBadRequest, code: "parameter_invalid", field: "created_at", message: "created_at must be a unix timestamp"}
	}
	now := s.now().Unix()
	createdAt := now
	if in.CreatedAt != nil && *in.CreatedAt > 0 {
		// Intercom keeps created_at here: it is meant for migrating history.
		createdAt = *in.CreatedAt
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	contact, ok := s.st.contacts[in.From.ID.value()]
	if !ok {
		return nil, userNotFound()
	}
	c := &Conversation{
		ID:           s.st.numericID(),
		CreatedAt:    createdAt,
		UpdatedAt:    max(createdAt, now),
		WaitingSince: createdAt,
		State:        "open",
		ContactIDs:   []string{contact.ID},
		Source: Source{
			ID: s.st.numericID(), DeliveredAs: "customer_initiated", Subject: in.Subject,
			Body: htmlBody(*in.Body), RawBody: *in.Body, Author: contactAuthor(contact), Attachments: attachments,
		},
	}
	s.st.conversations[c.ID] = c
	s.st.convOrder = append(s.st.convOrder, c.ID)
	msg := map[string]any{
		"type": "user_message", "id": c.Source.ID, "created_at": createdAt, "body": *in.Body,
		"message_type": "inapp", "conversation_id": c.ID,
	}
	if in.Subject != "" {
		msg["subject"] = in.Subject
	}
	return msg, nil
}

type replyIn struct {
	Type              string           `json:"type"`
	MessageType       string           `json:"message_type"`
	AdminID           *flexString      `json:"admin_id"`
	IntercomUserID    *flexString      `json:"intercom_user_id"`
	UserID            *flexString      `json:"user_id"`
	Email             *string          `json:"email"`
	Body              *string          `json:"body"`
	CreatedAt         *int64           `json:"created_at"`
	AttachmentURLs    []string         `json:"attachment_urls"`
	AttachmentFiles   []attachmentFile `json:"attachment_files"`
	ReplyOptions      []any            `json:"reply_options"`
	SkipNotifications bool             `json:"skip_notifications"`
}

// check validates what can be judged without looking anything up.
func (in *replyIn) check() *apiError {
	switch in.Type {
	case "admin":
		switch in.MessageType {
		case "comment", "note", "quick_reply":
		default:
			return &apiError{status: http.StatusBadRequest, code: "parameter_invalid", field: "message_type",
				message: fmt.Sprintf("message_type must be comment, note or quick_reply, not %q", in.MessageType)}
		}
		if in.AdminID.value() == "" {
			return errMissing("admin_id not specified")
		}
	case "user":
		switch in.MessageType {
		case "comment", "quick_reply":
		default:
			return &apiError{status: http.StatusBadRequest, code: "parameter_invalid", field: "message_type",
				message: fmt.Sprintf("message_type must be comment for a contact reply, not %q", in.MessageType)}
		}
		n := 0
		for _, set := range []bool{in.IntercomUserID.value() != "", in.UserID.value() != "", in.Email != nil && *in.Email != ""} {
			if set {
				n++
			}
		}
		switch n {
		case 0:
			return errMissing("intercom_user_id, user_id or email not specified")
		case 1:
		default:
			return errInvalid("Specify only one of intercom_user_id, user_id and email")
		}
	default:
		return &apiError{status: http.StatusBadRequest, code: "parameter_invalid", field: "type",
			message: fmt.Sprintf("type must be admin or user, not %q", in.Type)}
	}
	if in.MessageType == "quick_reply" {
		if len(in.ReplyOptions) == 0 {
			return errMissing("reply_options not specified")
		}
	} else if in.Body == nil || strings.TrimSpace(*in.Body) == "" {
		return errMissing("body not specified")
	}
	if aerr := checkAttachmentCount("attachment_urls", len(in.AttachmentURLs)); aerr != nil {
		return aerr
	}
	if aerr := checkAttachmentCount("attachment_files", len(in.AttachmentFiles)); aerr != nil {
		return aerr
	}
	if in.CreatedAt != nil && *in.CreatedAt < 0 {
		return &apiError{status: http.StatusBadRequest, code: "parameter_invalid", field: "created_at", message: "created_at must be a unix timestamp"}
	}
	return nil
}

// findReplyContact finds the contact a user reply names.
func (st *store) findReplyContact(in *replyIn) *Contact {
	switch {
	case in.IntercomUserID.value() != "":
		return st.contacts[in.IntercomUserID.value()]
	case in.UserID.value() != "":
		for _, id := range st.contactOrder {
			if c := st.contacts[id]; c.ExternalID == in.UserID.value() {
				return c
			}
		}
	default:
		// Users win over leads that share the email.
		var lead *Contact
		for _, id := range st.contactOrder {
			c := st.contacts[id]
			if !strings.EqualFold(c.Email, strings.TrimSpace(*in.Email)) {
				continue
			}
			if c.Role == "user" {
				return c
			}
			if lead == nil {
				lead = c
			}
		}
		return lead
	}
	return nil
}

// replyPart is the part a reply makes (s.mu held): by its admin or
// contact, at its created_at when given, with its attachments.
func (st *store) replyPart(in *replyIn, contact *Contact, attachments []Attachment, now int64) (Part, *apiError) {
	var author Author
	if in.Type == "admin" {
		a, ok := st.admin(in.AdminID.value())
		if !ok {
			return Part{}, errNotFound("Resource Not Found")
		}
		author = adminAuthor(a)
	} else {
		author = contactAuthor(contact)
	}
	p := Part{ID: st.numericID(), PartType: in.MessageType, CreatedAt: now, Author: author, SkipNotifications: in.SkipNotifications}
	if in.CreatedAt != nil && *in.CreatedAt > 0 {
		// Replies keep the given created_at, like the conversation itself.
		p.CreatedAt = *in.CreatedAt
	}
	p.UpdatedAt = p.CreatedAt
	if in.Body != nil {
		p.RawBody, p.Body = *in.Body, htmlBody(*in.Body)
	}
	files, aerr := attachmentsFromFiles(in.AttachmentFiles, p.ID)
	if aerr != nil {
		return Part{}, aerr
	}
	p.Attachments = append(attachments, files...)
	return p, nil
}

func (s *Server) replyConversation(r *http.Request) (any, *apiError) {
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
	now := s.now().Unix()

	s.mu.Lock()
	defer s.mu.Unlock()
	var (
		c       *Conversation
		contact *Contact
	)
	if in.Type == "user" {
		if contact = s.st.findReplyContact(&in); contact == nil {
			return nil, userNotFound()
		}
	}
	if id := r.PathValue("conversation_id"); id == "last" && contact != nil {
		// "last" is the contact's most recent conversation.
		for i := len(s.st.convOrder) - 1; i >= 0 && c == nil; i-- {
			if cv := s.st.conversations[s.st.convOrder[i]]; indexOf(cv.ContactIDs, contact.ID) >= 0 {
				c = cv
			}
		}
		if c == nil {
			return nil, conversationNotFound()
		}
	} else if c, aerr = s.conversation(r); aerr != nil {
		return nil, aerr
	}

	p, aerr := s.st.replyPart(&in, contact, attachments, now)
	if aerr != nil {
		return nil, aerr
	}

	if in.Type == "admin" {
		if p.PartType != "note" {
			c.WaitingSince = 0
		}
	} else {
		if indexOf(c.ContactIDs, contact.ID) < 0 {
			c.ContactIDs = append(c.ContactIDs, contact.ID)
		}
		if c.State != "open" {
			// A customer writing into a closed or snoozed conversation
			// reopens it, and Intercom records the part as an "open".
			c.State, c.SnoozedUntil, p.PartType = "open", 0, "open"
		}
		if c.WaitingSince == 0 {
			c.WaitingSince = p.CreatedAt
		}
	}
	c.Parts = append(c.Parts, p)
	c.UpdatedAt = max(c.UpdatedAt, now)
	return renderConversation(c, s.st, true), nil
}

func (s *Server) manageConversation(r *http.Request) (any, *apiError) {
	var in struct {
		MessageType  string      `json:"message_type"`
		Type         string      `json:"type"`
		AdminID      *flexString `json:"admin_id"`
		AssigneeID   *flexString `json:"assignee_id"`
		SnoozedUntil *int64      `json:"snoozed_until"`
		Body         string      `json:"body"`
	}
	if aerr := decodeBody(r, &in); aerr != nil {
		return nil, aerr
	}
	switch in.MessageType {
	case "close":
		if in.Type != "admin" {
			return nil, &apiError{status: http.StatusBadRequest, code: "parameter_invalid", field: "type", message: "type must be admin"}
		}
	case "open":
	case "snoozed":
		if in.SnoozedUntil == nil {
			return nil, errMissing("snoozed_until not specified")
		}
	case "assignment":
		if in.Type != "admin" && in.Type != "team" {
			return nil, &apiError{status: http.StatusBadRequest, code: "parameter_invalid", field: "type", message: "type must be admin or team"}
		}
		if in.AssigneeID.value() == "" {
			return nil, errMissing("assignee_id not specified")
		}
	default:
		return nil, &apiError{status: http.StatusBadRequest, code: "parameter_invalid", field: "message_type",
			message: fmt.Sprintf("message_type must be close, open, snoozed or assignment, not %q", in.MessageType)}
	}
	if in.AdminID.value() == "" {
		return nil, errMissing("admin_id not specified")
	}
	now := s.now().Unix()
	if in.MessageType == "snoozed" && *in.SnoozedUntil <= now {
		return nil, &apiError{status: http.StatusBadRequest, code: "parameter_invalid", field: "snoozed_until", message: "snoozed_until must be in the future"}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	c, aerr := s.conversation(r)
	if aerr != nil {
		return nil, aerr
	}
	a, ok := s.st.admin(in.AdminID.value())
	if !ok {
		return nil, errNotFound("Resource Not Found")
	}
	// These actions carry the time of the call: the API takes no created_at for them.
	p := Part{ID: s.st.numericID(), PartType: in.MessageType, CreatedAt: now, UpdatedAt: now,
		Author: adminAuthor(a), RawBody: in.Body, Body: htmlBody(in.Body)}
	switch in.MessageType {
	case "close":
		c.State, c.SnoozedUntil = "closed", 0
	case "open":
		c.State, c.SnoozedUntil = "open", 0
	case "snoozed":
		c.State, c.SnoozedUntil = "snoozed", *in.SnoozedUntil
	case "assignment":
		assignee := in.AssigneeID.value()
		if assignee == "0" {
			// "0" unassigns.
			assignee = ""
		} else if in.Type == "admin" {
			if _, ok := s.st.admin(assignee); !ok {
				return nil, &apiError{status: http.StatusNotFound, code: "assignee_not_found", message: "Assignee not found"}
			}
		} else if _, ok := s.st.team(assignee); !ok {
			return nil, &apiError{status: http.StatusNotFound, code: "assignee_not_found", message: "Assignee not found"}
		}
		if in.Type == "admin" {
			c.AdminAssigneeID = assignee
		} else {
			c.TeamAssigneeID = assignee
		}
		if assignee != "" {
			p.AssignedToType, p.AssignedToID = in.Type, assignee
		}
	}
	c.Parts = append(c.Parts, p)
	c.UpdatedAt = max(c.UpdatedAt, now)
	return renderConversation(c, s.st, true), nil
}

func (s *Server) updateConversation(r *http.Request) (any, *apiError) {
	var in struct {
		Read             *bool           `json:"read"`
		Title            *string         `json:"title"`
		CustomAttributes json.RawMessage `json:"custom_attributes"`
		CompanyID        json.RawMessage `json:"company_id"`
	}
	if aerr := decodeBody(r, &in); aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, aerr := s.conversation(r)
	if aerr != nil {
		return nil, aerr
	}
	work := c.clone()
	if in.Read != nil {
		work.Read = *in.Read
	}
	if in.Title != nil {
		work.Title = *in.Title
	}
	if len(in.CustomAttributes) > 0 {
		attrs, aerr := s.st.mergeAttributes("conversation", work.CustomAttributes, in.CustomAttributes)
		if aerr != nil {
			return nil, aerr
		}
		work.CustomAttributes = attrs
	}
	if len(in.CompanyID) > 0 {
		var id flexString
		if err := json.Unmarshal(in.CompanyID, &id); err != nil {
			return nil, &apiError{status: http.StatusBadRequest, code: "parameter_invalid", field: "company_id", message: "company_id must be a string"}
		}
		if id.value() != "" {
			if _, ok := s.st.companies[id.value()]; !ok {
				return nil, companyNotFound()
			}
		}
		// null (or "") removes the company.
		work.CompanyID = id.value()
	}
	work.UpdatedAt = max(work.UpdatedAt, s.now().Unix())
	*c = work
	return renderConversation(c, s.st, true), nil
}

func (s *Server) getConversation(r *http.Request) (any, *apiError) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, aerr := s.conversation(r)
	if aerr != nil {
		return nil, aerr
	}
	return renderConversation(c, s.st, true), nil
}

func (s *Server) listConversations(r *http.Request) (any, *apiError) {
	perPage, aerr := perPageParam(r.URL.Query(), 20, 150)
	if aerr != nil {
		return nil, aerr
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	ids, pages, aerr := cursorPage(s.st.convOrder, r.URL.Query().Get("starting_after"), perPage)
	if aerr != nil {
		return nil, aerr
	}
	list := make([]conversationWire, len(ids))
	for i, id := range ids {
		list[i] = renderConversation(s.st.conversations[id], s.st, false)
	}
	return map[string]any{
		"type": "conversation.list", "conversations": list, "total_count": len(s.st.convOrder), "pages": pages,
	}, nil
}

func (s *Server) tagConversation(r *http.Request) (any, *apiError) {
	var in struct {
		ID      *flexString `json:"id"`
		AdminID *flexString `json:"admin_id"`
	}
	if aerr := decodeBody(r, &in); aerr != nil {
		return nil, aerr
	}
	if in.ID.value() == "" {
		return nil, errMissing("tag id not specified")
	}
	if in.AdminID.value() == "" {
		return nil, errMissing("admin_id not specified")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, aerr := s.conversation(r)
	if aerr != nil {
		return nil, errNotFound("Conversation not found")
	}
	if _, ok := s.st.admin(in.AdminID.value()); !ok {
		return nil, errNotFound("Admin not found")
	}
	t, ok := s.st.tags[in.ID.value()]
	if !ok {
		return nil, tagNotFound()
	}
	applied := AppliedTag{TagID: t.ID, AdminID: in.AdminID.value(), AppliedAt: s.now().Unix()}
	found := false
	for _, at := range c.Tags {
		if at.TagID == t.ID {
			applied, found = at, true
			break
		}
	}
	if !found {
		c.Tags = append(c.Tags, applied)
	}
	return tagWire{Type: "tag", ID: t.ID, Name: t.Name, AppliedAt: &applied.AppliedAt,
		AppliedBy: &refWire{Type: "admin", ID: applied.AdminID}}, nil
}

// searchConversations is POST /conversations/search: the query language of
// contact search over the conversation fields the sandbox keeps, newest
// first as Intercom lists them, 20 a page by default and 150 at most.
func (s *Server) searchConversations(r *http.Request) (any, *apiError) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return searchList(r, conversationSearchable, s.st.convOrder,
		func(id, f string) any { return conversationValue(s.st.conversations[id], f) },
		func(id string) any { return renderConversation(s.st.conversations[id], s.st, false) },
		"conversation.list", "conversations")
}

// addParticipant is POST /conversations/{id}/customers: another contact
// takes part in the conversation, named by intercom_user_id, user_id (the
// external id) or email; an email no contact has makes a lead, as in
// Intercom. A contact already taking part is left as it is.
func (s *Server) addParticipant(r *http.Request) (any, *apiError) {
	var in struct {
		AdminID  *flexString `json:"admin_id"`
		Customer *replyIn    `json:"customer"`
	}
	if aerr := decodeBody(r, &in); aerr != nil {
		return nil, aerr
	}
	if in.AdminID.value() == "" {
		return nil, errMissing("admin_id not specified")
	}
	if in.Customer == nil {
		return nil, errMissing("customer not specified")
	}
	named := 0
	for _, v := range []string{in.Customer.IntercomUserID.value(), in.Customer.UserID.value()} {
		if v != "" {
			named++
		}
	}
	if in.Customer.Email != nil && strings.TrimSpace(*in.Customer.Email) != "" {
		named++
	}
	if named != 1 {
		return nil, &apiError{status: http.StatusBadRequest, code: "parameter_invalid", field: "customer",
			message: "customer must have exactly one of intercom_user_id, user_id or email"}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, aerr := s.conversation(r)
	if aerr != nil {
		return nil, aerr
	}
	if _, ok := s.st.admin(in.AdminID.value()); !ok {
		return nil, errNotFound("Resource Not Found")
	}
	who := s.st.findReplyContact(in.Customer)
	if who == nil {
		if in.Customer.Email == nil {
			return nil, userNotFound()
		}
		now := s.now().Unix()
		who = &Contact{ID: objectID(s.now()), Role: "lead", Email: strings.TrimSpace(*in.Customer.Email), CreatedAt: now, UpdatedAt: now}
		s.st.contacts[who.ID] = who
		s.st.contactOrder = append(s.st.contactOrder, who.ID)
	}
	if indexOf(c.ContactIDs, who.ID) < 0 {
		c.ContactIDs = append(c.ContactIDs, who.ID)
		c.UpdatedAt = max(c.UpdatedAt, s.now().Unix())
	}
	return renderConversation(c, s.st, true), nil
}
