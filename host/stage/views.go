package stage

// views are the workspace's views for people: they hold no data and are made
// anew on every open (see migrate). docs/workspace.md documents each.
func views() []string {
	return []string{
		// Per entity: what the source has (staged, or refused at extract),
		// and how many records were migrated, failed and skipped.
		`CREATE OR REPLACE VIEW migration_summary AS
WITH staged AS (
  SELECT 'companies' AS entity, id AS source_id FROM organizations
  UNION ALL SELECT 'contacts', id FROM users WHERE ` + ContactUsers + `
  UNION ALL SELECT 'tickets', id FROM tickets
  UNION ALL SELECT 'comments', id FROM comments
  UNION ALL SELECT 'attachments', id FROM attachments
  UNION ALL SELECT 'collections', id FROM kb_categories
  UNION ALL SELECT 'articles', id FROM kb_articles
), available AS (
  SELECT entity, source_id FROM staged
  UNION SELECT entity, source_id FROM ledger
)
SELECT a.entity,
  count(*) AS available,
  count(*) FILTER (WHERE l.outcome = 'migrated') AS migrated,
  count(*) FILTER (WHERE l.outcome = 'failed') AS failed,
  count(*) FILTER (WHERE l.outcome = 'skipped') AS skipped
FROM available a LEFT JOIN ledger l USING (entity, source_id)
GROUP BY a.entity`,

		// A ticket with the names behind its ids and its conversation's
		// size and span: what filters are written over.
		`CREATE OR REPLACE VIEW ticket_overview AS
WITH c AS (
  SELECT ticket_id,
    count(*) AS comment_count,
    count(*) FILTER (WHERE public) AS public_comment_count,
    count(*) FILTER (WHERE NOT public) AS private_comment_count,
    min(created_at) AS first_comment_at,
    max(created_at) AS last_comment_at
  FROM comments GROUP BY ticket_id
), a AS (
  SELECT ticket_id, count(*) AS attachment_count
  FROM attachments WHERE ticket_id IS NOT NULL GROUP BY ticket_id
)
SELECT t.id, t.subject, t.status, t.priority, t.type, t.tags,
  t.created_at, t.updated_at,
  t.requester_id, r.email AS requester_email, r.name AS requester_name, r.role AS requester_role,
  r.active AS requester_active, r.suspended AS requester_suspended,
  coalesce(t.organization_id, r.organization_id) AS organization_id, o.name AS organization_name,
  t.assignee_id, ag.email AS assignee_email, ag.name AS assignee_name,
  t.group_id, g.name AS group_name,
  t.submitter_id, t.cc_ids,
  coalesce(c.comment_count, 0) AS comment_count,
  coalesce(c.public_comment_count, 0) AS public_comment_count,
  coalesce(c.private_comment_count, 0) AS private_comment_count,
  coalesce(a.attachment_count, 0) AS attachment_count,
  c.first_comment_at, c.last_comment_at,
  t.custom_fields, t.raw
FROM tickets t
LEFT JOIN users r ON r.id = t.requester_id
LEFT JOIN organizations o ON o.id = coalesce(t.organization_id, r.organization_id)
LEFT JOIN users ag ON ag.id = t.assignee_id
LEFT JOIN groups g ON g.id = t.group_id
LEFT JOIN c ON c.ticket_id = t.id
LEFT JOIN a ON a.ticket_id = t.id`,

		// A comment with its author and its ticket's subject.
		`CREATE OR REPLACE VIEW comment_overview AS
WITH a AS (
  SELECT comment_id, count(*) AS attachment_count
  FROM attachments WHERE comment_id IS NOT NULL GROUP BY comment_id
)
SELECT c.id, c.ticket_id, t.subject AS ticket_subject, c.created_at, c.public,
  c.author_id, u.email AS author_email, u.name AS author_name, u.role AS author_role,
  length(coalesce(c.body_html, c.body_text, '')) AS body_length,
  coalesce(a.attachment_count, 0) AS attachment_count,
  c.body_text, c.body_html
FROM comments c
LEFT JOIN tickets t ON t.id = c.ticket_id
LEFT JOIN users u ON u.id = c.author_id
LEFT JOIN a ON a.comment_id = c.id`,

		// A user with their organization and how much they took part.
		`CREATE OR REPLACE VIEW user_overview AS
WITH req AS (
  SELECT requester_id AS id, count(*) AS tickets_requested, max(created_at) AS last_ticket_at
  FROM tickets GROUP BY requester_id
), com AS (
  SELECT author_id AS id, count(*) AS comments_written FROM comments GROUP BY author_id
)
SELECT u.id, u.role, u.name, u.email, u.phone, u.active, u.suspended,
  u.organization_id, o.name AS organization_name,
  coalesce(req.tickets_requested, 0) AS tickets_requested, req.last_ticket_at,
  coalesce(com.comments_written, 0) AS comments_written,
  u.created_at, u.custom_fields
FROM users u
LEFT JOIN organizations o ON o.id = u.organization_id
LEFT JOIN req ON req.id = u.id
LEFT JOIN com ON com.id = u.id`,

		// An organization with its people and tickets. One with no users is
		// not visible in Intercom once migrated.
		`CREATE OR REPLACE VIEW organization_overview AS
WITH us AS (
  SELECT organization_id AS id, count(*) AS user_count FROM users GROUP BY organization_id
), tk AS (
  SELECT t.organization_id AS id, count(*) AS ticket_count FROM tickets t GROUP BY t.organization_id
)
SELECT o.id, o.name, o.domains, coalesce(us.user_count, 0) AS user_count,
  coalesce(tk.ticket_count, 0) AS ticket_count, o.created_at, o.custom_fields
FROM organizations o
LEFT JOIN us ON us.id = o.id
LEFT JOIN tk ON tk.id = o.id`,

		// Where each ticket stands in the migration: its outcome, why, and
		// the conversation it became.
		`CREATE OR REPLACE VIEW ticket_migration AS
SELECT t.id, t.subject, t.status, t.created_at,
  coalesce(l.outcome, 'pending') AS outcome, l.reason, l.stage,
  m.intercom_id AS conversation_id, l.recorded_at
FROM tickets t
LEFT JOIN ledger l ON l.entity = 'tickets' AND l.source_id = t.id
LEFT JOIN id_map m ON m.entity = 'tickets' AND m.source_id = t.id`,

		// Every record that failed, with why and where.
		`CREATE OR REPLACE VIEW failures AS
SELECT entity, source_id, reason, stage, intercom_id, run_id, recorded_at
FROM ledger WHERE outcome = 'failed'`,

		// The latest verify's mismatches: what Intercom holds that the
		// source does not say, record by record, with the reason.
		`CREATE OR REPLACE VIEW audit_mismatches AS
SELECT entity, source_id, intercom_id, fact, expected, actual, reason, run_id, checked_at
FROM audit_checks WHERE NOT ok`,

		// Per ticket the verify checked: the source's and Intercom's part
		// counts, and a flag per fact (NULL: not checked, e.g. every fact
		// but found of a conversation that is not there).
		`CREATE OR REPLACE VIEW ticket_comparison AS
SELECT source_id AS ticket_id, any_value(intercom_id) AS conversation_id,
  any_value(expected) FILTER (WHERE fact = 'parts') AS source_parts,
  any_value(actual) FILTER (WHERE fact = 'parts') AS intercom_parts,
  bool_and(ok) AS all_ok,
  bool_and(ok) FILTER (WHERE fact = 'found') AS found_ok,
  bool_and(ok) FILTER (WHERE fact = 'parts') AS parts_ok,
  bool_and(ok) FILTER (WHERE fact = 'authors') AS authors_ok,
  bool_and(ok) FILTER (WHERE fact = 'visibility') AS visibility_ok,
  bool_and(ok) FILTER (WHERE fact = 'order') AS order_ok,
  bool_and(ok) FILTER (WHERE fact = 'timestamps') AS timestamps_ok,
  bool_and(ok) FILTER (WHERE fact = 'bodies') AS bodies_ok,
  bool_and(ok) FILTER (WHERE fact = 'attachments') AS attachments_ok,
  bool_and(ok) FILTER (WHERE fact = 'tags') AS tags_ok,
  bool_and(ok) FILTER (WHERE fact = 'attributes') AS attributes_ok,
  bool_and(ok) FILTER (WHERE fact = 'assignee') AS assignee_ok,
  bool_and(ok) FILTER (WHERE fact = 'team') AS team_ok,
  bool_and(ok) FILTER (WHERE fact = 'state') AS state_ok,
  bool_and(ok) FILTER (WHERE fact = 'title') AS title_ok,
  count(*) FILTER (WHERE NOT ok) AS mismatches,
  max(run_id) AS run_id
FROM audit_checks WHERE entity = 'tickets'
GROUP BY source_id`,

		// Per entity: the four columns, and what the latest verify found of
		// the migrated records: verified (every fact matches), mismatched,
		// and not checked.
		`CREATE OR REPLACE VIEW audit_summary AS
WITH per_record AS (
  SELECT entity, source_id, bool_and(ok) AS ok FROM audit_checks GROUP BY ALL
)
SELECT s.entity, s.available, s.migrated, s.failed, s.skipped,
  count(p.source_id) FILTER (WHERE p.ok) AS verified,
  count(p.source_id) FILTER (WHERE NOT p.ok) AS mismatched,
  s.migrated - count(p.source_id) FILTER (WHERE l.outcome = 'migrated') AS unchecked
FROM migration_summary s
LEFT JOIN per_record p ON p.entity = s.entity
LEFT JOIN ledger l ON l.entity = p.entity AND l.source_id = p.source_id
GROUP BY s.entity, s.available, s.migrated, s.failed, s.skipped`,

		// What each run migrated: per entity, the objects it created and
		// the ones it brought up to date (a delta migration's changes).
		`CREATE OR REPLACE VIEW run_changes AS
SELECT l.run_id, r.command, r.started_at, l.entity,
  count(*) FILTER (WHERE m.run_id = l.run_id) AS created,
  count(*) FILTER (WHERE m.run_id IS DISTINCT FROM l.run_id) AS updated
FROM ledger l
JOIN runs r ON r.id = l.run_id
LEFT JOIN id_map m ON m.entity = l.entity AND m.source_id = l.source_id
WHERE l.outcome = 'migrated' AND l.stage = 'load'
GROUP BY ALL`,
	}
}
