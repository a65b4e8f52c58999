// Package intercom is a typed client for the parts of Intercom's REST API
// (version 2.16) that a help-desk migration needs: admins and teams, contacts,
// companies, conversations and their parts, and tags.
//
// A [Client] pins the Intercom-Version header on every call, retries what is
// worth retrying (429, 5xx, network errors) with exponential backoff and full
// jitter, and paces itself from the server's X-RateLimit-* headers so that many
// goroutines sharing one client do not provoke a storm of 429s. Non-2xx
// responses become an [*Error] carrying the decoded error.list body.
//
// Retried POSTs are not idempotent on Intercom's side: a create that timed out
// may have succeeded. Callers that must not duplicate objects keep their own
// source-id to Intercom-id map and resolve doubts (for contacts,
// [ExistingContactID] reads the id out of the 409 a duplicate create returns).
package intercom
