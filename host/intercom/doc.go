// Package intercom is a typed client for the parts of Intercom's REST API
// (version 2.16) that a help-desk migration needs: admins and teams, contacts,
// companies, conversations and their parts, and tags; and the deletes that
// take back what a migration created (`ferry undo`).
//
// A [Client] pins the Intercom-Version header on every call, retries what is
// worth retrying (429, 5xx, network errors) with exponential backoff and full
// jitter, and paces itself from the server's X-RateLimit-* headers so that many
// goroutines sharing one client do not provoke a storm of 429s. Non-2xx
// responses become an [*Error] carrying the decoded error.list body.
//
// Creates that Intercom makes anew each time they are applied (a
// conversation, a reply, a state change) are repeated only when Intercom
// surely refused them (a 429, a connection that never opened); when the
// answer is lost (a reset, a 5xx, a body cut off) the call returns
// [ErrOutcomeUnknown] and the caller reads Intercom back before sending
// again. Other writes are idempotent (upserts, tags) or refuse a duplicate
// (a contact's 409, whose id [ExistingContactID] reads), and are retried.
package intercom
