// Package sandbox is an in-memory server that speaks the parts of
// Intercom's REST API (version 2.16) that ferry's client calls, with
// Intercom's shapes, limits and errors: bearer-token auth, the
// Intercom-Version header, X-RateLimit-* headers and 429s, 409 on duplicate
// contacts, company upserts, conversations that keep the created_at of a
// migration, and the 500-part cap on a fetched conversation.
//
// It backs `ferry sandbox`, the demo and end-to-end tests. A [Server] is an
// http.Handler; serve it on loopback with net/http or httptest. Besides HTTP,
// [Server.Snapshot] lets Go tests see exactly what was created, and
// [Server.Stats] counts the calls received per endpoint and status.
// [Options].Faults makes it answer a share of the calls with the faults a
// loader meets (see [FaultKinds]), lost answers included: the create
// happened, the client never heard.
//
// Deleting a conversation, ticket, contact, company, collection or article
// takes with it what Intercom's delete does (see delete.go);
// [Options].DeleteRestricted makes the deletes of some kinds answer 403
// api_plan_restricted, as for a plan that does not include them.
//
// Custom attributes must be declared (/data_attributes for contacts and
// companies, /conversations/attributes for conversations) before a value is
// written, and a value must fit its attribute's type, as in Intercom.
//
// What it does not emulate: endpoints outside the client's set (tickets,
// articles, notes, …) answer 404 not_found; search sees new
// contacts and conversations at once (Intercom indexes them with a delay); attachment URLs are
// not downloaded.
package sandbox
