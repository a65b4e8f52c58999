package schema

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
)

// Stream names: the canonical streams, which are also the workspace's table names.
const (
	Users         = "users"
	Organizations = "organizations"
	Groups        = "groups"
	TicketFields  = "ticket_fields"
	Tickets       = "tickets"
	Comments      = "comments"
	Attachments   = "attachments"
	TicketEvents  = "ticket_events"
	KBCategories  = "kb_categories"
	KBArticles    = "kb_articles"
)

// User roles.
const (
	RoleAgent   = "agent"
	RoleEndUser = "end_user"
)

// StreamNames lists every canonical stream in the order the host stages and
// loads them: referenced records before the records that reference them.
func StreamNames() []string {
	return []string{Users, Organizations, Groups, TicketFields, Tickets, Comments, Attachments, TicketEvents, KBCategories, KBArticles}
}

// PrimaryKey is the key column of every canonical stream.
const PrimaryKey = "id"

// Timestamp is the Arrow type of every time column: microseconds, UTC, no zone.
var Timestamp arrow.DataType = &arrow.TimestampType{Unit: arrow.Microsecond}

// jsonMeta marks a utf8 column that holds JSON text, so that stores can give
// it a JSON type.
var jsonMeta = arrow.NewMetadata([]string{"ferry:type"}, []string{"json"})

// IsJSON reports whether a column of a canonical schema holds JSON text.
func IsJSON(f arrow.Field) bool {
	v, ok := f.Metadata.GetValue("ferry:type")
	return ok && v == "json"
}

func jsonCol(name string) arrow.Field {
	return arrow.Field{Name: name, Type: arrow.BinaryTypes.String, Nullable: true, Metadata: jsonMeta}
}

func str(name string, nullable bool) arrow.Field {
	return arrow.Field{Name: name, Type: arrow.BinaryTypes.String, Nullable: nullable}
}

func strList(name string) arrow.Field {
	return arrow.Field{Name: name, Type: arrow.ListOf(arrow.BinaryTypes.String), Nullable: true}
}

func ts(name string) arrow.Field {
	return arrow.Field{Name: name, Type: Timestamp, Nullable: true}
}

func boolean(name string) arrow.Field {
	return arrow.Field{Name: name, Type: arrow.FixedWidthTypes.Boolean, Nullable: true}
}

func int64f(name string) arrow.Field {
	return arrow.Field{Name: name, Type: arrow.PrimitiveTypes.Int64, Nullable: true}
}

// Schema returns the Arrow schema of a canonical stream.
func Schema(stream string) (*arrow.Schema, error) {
	var fields []arrow.Field
	switch stream {
	case Users:
		fields = []arrow.Field{str("id", false), str("role", false), str("name", true), str("email", true), str("phone", true),
			str("organization_id", true), boolean("active"), boolean("suspended"), ts("created_at"), ts("updated_at"), jsonCol("custom_fields")}
	case Organizations:
		fields = []arrow.Field{str("id", false), str("name", true), strList("domains"), ts("created_at"), ts("updated_at"), jsonCol("custom_fields")}
	case Groups:
		fields = []arrow.Field{str("id", false), str("name", true), ts("created_at"), ts("updated_at")}
	case TicketFields:
		fields = []arrow.Field{str("id", false), str("title", true), str("type", true), boolean("active"), jsonCol("options")}
	case Tickets:
		fields = []arrow.Field{str("id", false), str("subject", true), str("status", true), str("priority", true), str("type", true),
			str("requester_id", true), str("submitter_id", true), str("assignee_id", true), str("group_id", true), str("organization_id", true),
			strList("tags"), strList("cc_ids"), jsonCol("custom_fields"), ts("created_at"), ts("updated_at")}
	case Comments:
		fields = []arrow.Field{str("id", false), str("ticket_id", false), str("author_id", true), boolean("public"),
			str("body_html", true), str("body_text", true), ts("created_at")}
	case Attachments:
		fields = []arrow.Field{str("id", false), str("ticket_id", true), str("comment_id", true), str("article_id", true),
			str("file_name", true), str("content_type", true), int64f("size"), str("url", true), boolean("inline"), int64f("position")}
	case TicketEvents:
		fields = []arrow.Field{str("id", false), str("ticket_id", false), str("author_id", true), str("kind", true), jsonCol("detail"), ts("created_at")}
	case KBCategories, KBArticles:
		fields = []arrow.Field{str("id", false), str("parent_id", true), str("locale", true), str("title", true), str("body_html", true),
			str("author_id", true), jsonCol("translations"), ts("created_at"), ts("updated_at")}
	default:
		return nil, fmt.Errorf("unknown stream %q", stream)
	}
	fields = append(fields, jsonCol("raw"))
	return arrow.NewSchema(fields, nil), nil
}
