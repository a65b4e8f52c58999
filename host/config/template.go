package config

import (
	"fmt"
	"strings"
)

// Sources are the sources ferry init writes a config for.
func Sources() []string { return []string{"zendesk", "freshdesk", "csv"} }

const sourceZendesk = `source:
  plugin: zendesk                  # runs ferry-source-zendesk
  # sha256: "<hex>"                # optional: pin the plugin binary
  # stall_timeout: 15m             # stop a plugin that brings nothing new for this long
  config:
    base_url: "https://acme.zendesk.com"
    email: "ops@acme.example"      # the admin the API token belongs to
    token: "${ZENDESK_TOKEN}"      # Admin Center > Apps and integrations > Zendesk API
    # oauth_token: "${ZENDESK_OAUTH_TOKEN}"  # instead of email and token
    # incremental_per_minute: 10   # the incremental exports' limit: 30 with High Volume API
    # ticket_events: true          # also stage status, assignee, tag and field changes
    # help_center: true            # also stage Help Center categories, sections and articles
`

const sourceFreshdesk = `source:
  plugin: freshdesk                # runs ferry-source-freshdesk
  # sha256: "<hex>"                # optional: pin the plugin binary
  config:
    base_url: "https://acme.freshdesk.com"
    api_key: "${FRESHDESK_API_KEY}"  # Profile settings > Your API Key
`

const sourceCSV = `source:
  plugin: csv                      # runs ferry-source-csv
  # sha256: "<hex>"                # optional: pin the plugin binary
  config:
    base_dir: "export"             # relative paths below start here
    files:                         # one file per stream; CSV, TSV or JSON Lines
      tickets:
        path: "tickets.csv"
        columns: { id: "Ticket ID", subject: "Subject", status: "Status", requester_id: "Requester" }
        time_format: "2006-01-02 15:04:05"   # Go layout, tried after RFC 3339
        custom_fields: ["Product"]           # unmapped columns to keep as custom fields
      comments: "comments.csv"     # a bare path maps columns of the same names
      users: "users.csv"
      organizations: "organizations.csv"
`

const rest = `
# Optional: which staged tickets migrate, as one SQL condition over the
# ticket_overview view. Tickets it leaves out are reported as skipped.
# filter: "created_at >= DATE '2023-01-01' AND NOT list_contains(tags, 'spam')"

# Optional: WASM transforms, applied in order to each batch of records.
# transforms:
#   - wasm: transforms/legacy-id-subject/legacy-id-subject.wasm
#     config: { prefix: "ZD" }

target:
  intercom:
    token: "${INTERCOM_TOKEN}"     # Developer Hub > your app > Authentication
    region: us                     # us, eu or au; or base_url: http://127.0.0.1:PORT
    # ceiling: 500                 # optional: at most this many calls per 10 s
    # concurrency: 32              # conversations loaded at once
    # ticket_type: "Support request"  # load tickets as Intercom tickets of this type, not conversations

options:
  tag_migrated: "migrated"         # tag every migrated conversation; "" for none
  # Agents without an Intercom admin of the same email act as this admin:
  default_admin_email: "support-lead@acme.example"
  # Contacts' phones go to Intercom as E.164; numbers written without a
  # country calling code get this one (or are left out, with a warning):
  # phone_country: "1"
  # Custom fields become custom attributes (created when missing):
  custom_attributes: true
  # Pending and on-hold tickets are snoozed in Intercom for this many days:
  snooze_days: 7

# Optional: cap the memory DuckDB keeps for the workspace while ferry writes
# it (DuckDB's own limit is 80% of the machine's; beyond a cap it works from
# disk). 512 or more when records are megabytes each.
# workspace:
#   memory_mb: 512
`

// Template returns a commented ferry.yaml for source.
func Template(source string) (string, error) {
	var src string
	switch source {
	case "zendesk":
		src = sourceZendesk
	case "freshdesk":
		src = sourceFreshdesk
	case "csv":
		src = sourceCSV
	default:
		return "", fmt.Errorf("unknown source %q: want one of %s", source, strings.Join(Sources(), ", "))
	}
	header := "# ferry migration config. Secrets come from the environment as ${VAR};\n# never write a token into this file.\n\n"
	return header + src + rest, nil
}
