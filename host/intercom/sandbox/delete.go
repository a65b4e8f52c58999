package sandbox

import (
	"net/http"
	"slices"
)

// Deletes, with Intercom's answers ({id, object, deleted: true}; a
// contact's is a contact reference) and what each takes with it:
//
//   - a conversation or a ticket goes with all its parts;
//   - a contact goes with the conversations it started and the tickets it
//     is the contact of ("deleting leads or users will remove all of their
//     conversations", Intercom's help article 1815435), leaves the other
//     conversations it took part in, and leaves its companies (one contact
//     fewer each);
//   - a company is detached from its contacts, which stay (the 2.16
//     description: Intercom archives the company and detaches its contacts;
//     the archive is not visible through the API, so the sandbox drops it);
//   - a collection goes with the collections nested in it. Neither the
//     description nor the notes say what becomes of the articles in it; the
//     sandbox keeps them, outside any collection, the way Intercom keeps an
//     article that was never put in one.
//
// An id Intercom does not have is a 404 in the shape each endpoint
// documents. Options.DeleteRestricted makes the delete of some kinds answer
// 403 api_plan_restricted, as Intercom answers a workspace whose plan does
// not include it.

// The kinds of object the sandbox deletes, as the answers' object field
// names them: the values Options.DeleteRestricted takes.
const (
	KindConversation = "conversation"
	KindTicket       = "ticket"
	KindContact      = "contact"
	KindCompany      = "company"
	KindCollection   = "collection"
	KindArticle      = "article"
)

func deleted(kind, id string) map[string]any {
	return map[string]any{"id": id, "object": kind, "deleted": true}
}

// restricted answers 403 api_plan_restricted when deletes of kind are.
func (s *Server) restricted(kind string) *apiError {
	if slices.Contains(s.deleteRestricted, kind) {
		return &apiError{status: http.StatusForbidden, code: "api_plan_restricted", message: "Active subscription needed."}
	}
	return nil
}

// without returns ids without id, in the same order.
func without(ids []string, id string) []string {
	return slices.DeleteFunc(ids, func(x string) bool { return x == id })
}

func (s *Server) deleteConversation(r *http.Request) (any, *apiError) {
	if aerr := s.restricted(KindConversation); aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, aerr := s.conversation(r)
	if aerr != nil {
		return nil, aerr
	}
	s.st.dropConversation(c.ID)
	return deleted(KindConversation, c.ID), nil
}

func (st *store) dropConversation(id string) {
	delete(st.conversations, id)
	st.convOrder = without(st.convOrder, id)
}

func (s *Server) deleteTicket(r *http.Request) (any, *apiError) {
	if aerr := s.restricted(KindTicket); aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, aerr := s.ticket(r)
	if aerr != nil {
		return nil, aerr
	}
	s.st.dropTicket(t.ID)
	return deleted(KindTicket, t.ID), nil
}

func (st *store) dropTicket(id string) {
	delete(st.tickets, id)
	st.ticketOrder = without(st.ticketOrder, id)
}

func (s *Server) deleteContact(r *http.Request) (any, *apiError) {
	if aerr := s.restricted(KindContact); aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.st.contacts[r.PathValue("contact_id")]
	if !ok {
		return nil, userNotFound()
	}
	for _, id := range c.CompanyIDs {
		if co, ok := s.st.companies[id]; ok && co.UserCount > 0 {
			co.UserCount--
		}
	}
	for _, id := range slices.Clone(s.st.convOrder) {
		cv := s.st.conversations[id]
		switch {
		case cv.Source.Author.ID == c.ID:
			s.st.dropConversation(id)
		case slices.Contains(cv.ContactIDs, c.ID):
			cv.ContactIDs = without(cv.ContactIDs, c.ID)
		}
	}
	for _, id := range slices.Clone(s.st.ticketOrder) {
		if slices.Contains(s.st.tickets[id].ContactIDs, c.ID) {
			s.st.dropTicket(id)
		}
	}
	delete(s.st.contacts, c.ID)
	s.st.contactOrder = without(s.st.contactOrder, c.ID)
	return map[string]any{"type": "contact", "id": c.ID, "external_id": nullable(c.ExternalID), "deleted": true}, nil
}

func (s *Server) deleteCompany(r *http.Request) (any, *apiError) {
	if aerr := s.restricted(KindCompany); aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	co, ok := s.st.companies[r.PathValue("company_id")]
	if !ok {
		return nil, companyNotFound()
	}
	for _, c := range s.st.contacts {
		c.CompanyIDs = without(c.CompanyIDs, co.ID)
	}
	for _, cv := range s.st.conversations {
		if cv.CompanyID == co.ID {
			cv.CompanyID = ""
		}
	}
	delete(s.st.companies, co.ID)
	s.st.companyOrder = without(s.st.companyOrder, co.ID)
	return deleted(KindCompany, co.ID), nil
}

func (s *Server) deleteCollection(r *http.Request) (any, *apiError) {
	if aerr := s.restricted(KindCollection); aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := r.PathValue("collection_id")
	if _, ok := s.st.collections[id]; !ok {
		return nil, errNotFound("Resource Not Found")
	}
	// The collection and every collection nested in it, at any depth.
	gone := map[string]bool{id: true}
	for grew := true; grew; {
		grew = false
		for cid, c := range s.st.collections {
			if !gone[cid] && gone[c.ParentID] {
				gone[cid], grew = true, true
			}
		}
	}
	for cid := range gone {
		delete(s.st.collections, cid)
	}
	s.st.collectionOrder = slices.DeleteFunc(s.st.collectionOrder, func(x string) bool { return gone[x] })
	for _, a := range s.st.articles {
		if gone[a.ParentID] {
			a.ParentID, a.ParentType = "", ""
		}
	}
	return deleted(KindCollection, id), nil
}

func (s *Server) deleteArticle(r *http.Request) (any, *apiError) {
	if aerr := s.restricted(KindArticle); aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := r.PathValue("article_id")
	if _, ok := s.st.articles[id]; !ok {
		return nil, errNotFound("Resource Not Found")
	}
	delete(s.st.articles, id)
	s.st.articleOrder = without(s.st.articleOrder, id)
	return deleted(KindArticle, id), nil
}
