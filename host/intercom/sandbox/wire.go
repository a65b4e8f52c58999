package sandbox

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"mime"
	"net/url"
	"path"
	"reflect"
	"regexp"
	"strconv"
	"strings"
)

// This file renders the stored objects in the shapes of Intercom's 2.16
// schemas, and holds the small decoding helpers the handlers share.

// workspaceID is the app id_code the sandbox reports.
const workspaceID = "ferrysandbox"

// numID renders an id as a JSON number when it is numeric (the schemas type
// team_ids, admin_ids and assignee ids as integers) and as a string otherwise.
type numID string

// MarshalJSON writes a numeric id as a number, anything else as a string.
func (n numID) MarshalJSON() ([]byte, error) {
	if _, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		return []byte(n), nil
	}
	return json.Marshal(string(n))
}

func numIDs(ids []string) []numID {
	out := make([]numID, len(ids))
	for i, id := range ids {
		out[i] = numID(id)
	}
	return out
}

// flexString decodes a JSON string or number into a string: the API's
// examples send ids such as admin_id as numbers although the schema says
// string, and Intercom accepts both.
type flexString string

// UnmarshalJSON accepts a string, a number or null (which leaves f as is).
func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return &json.UnmarshalTypeError{Value: "non-id " + string(b), Type: reflect.TypeFor[string]()}
	}
	*f = flexString(n.String())
	return nil
}

func (f *flexString) value() string {
	if f == nil {
		return ""
	}
	return strings.TrimSpace(string(*f))
}

// nullable renders "" as JSON null.
func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// nullableTime renders 0 as JSON null.
func nullableTime(t int64) *int64 {
	if t == 0 {
		return nil
	}
	return &t
}

// scriptOrStyle matches an HTML script or style element, content and all.
var scriptOrStyle = regexp.MustCompile(`(?is)<script\b[^>]*>.*?</script\s*>|<style\b[^>]*>.*?</style\s*>`)

// htmlBody renders a body the way Intercom stores it: HTML is kept but for
// its scripts and styles, which Intercom cleans out; plain text becomes
// paragraphs with its line breaks kept.
func htmlBody(s string) string {
	t := strings.TrimSpace(s)
	if t == "" {
		return ""
	}
	if strings.HasPrefix(t, "<") {
		return scriptOrStyle.ReplaceAllString(t, "")
	}
	var b strings.Builder
	for _, para := range strings.Split(strings.ReplaceAll(t, "\r\n", "\n"), "\n\n") {
		para = strings.TrimSpace(para)
		if para == "" {
			continue
		}
		b.WriteString("<p>")
		b.WriteString(strings.ReplaceAll(html.EscapeString(para), "\n", "<br>"))
		b.WriteString("</p>")
	}
	return b.String()
}

// attachmentsFromURLs describes attachment_urls as Intercom lists them. The
// sandbox does not fetch the files, so their sizes are unknown (0).
func attachmentsFromURLs(urls []string) ([]Attachment, *apiError) {
	out := make([]Attachment, 0, len(urls))
	for _, raw := range urls {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, &apiError{status: 400, code: "parameter_invalid", message: fmt.Sprintf("attachment_urls: %q is not a valid URL", raw), field: "attachment_urls"}
		}
		name := path.Base(u.Path)
		if name == "." || name == "/" || name == "" {
			name = "attachment"
		}
		out = append(out, Attachment{Name: name, URL: raw, ContentType: contentType(name)})
	}
	return out, nil
}

// attachmentFile is one of attachment_files: a base64 upload.
type attachmentFile struct {
	ContentType string `json:"content_type"`
	Data        string `json:"data"`
	Name        string `json:"name"`
}

func attachmentsFromFiles(files []attachmentFile, partID string) ([]Attachment, *apiError) {
	out := make([]Attachment, 0, len(files))
	for i, f := range files {
		data, err := base64.StdEncoding.DecodeString(f.Data)
		if err != nil {
			return nil, &apiError{status: 400, code: "parameter_invalid", message: fmt.Sprintf("attachment_files[%d]: data is not base64", i), field: "attachment_files"}
		}
		name := f.Name
		if name == "" {
			name = fmt.Sprintf("file-%d", i+1)
		}
		ct := f.ContentType
		if ct == "" {
			ct = contentType(name)
		}
		out = append(out, Attachment{
			Name: name, ContentType: ct, Filesize: int64(len(data)),
			URL: "https://downloads.ferry-sandbox.example/" + partID + "/" + url.PathEscape(name),
		})
	}
	return out, nil
}

func contentType(name string) string {
	if ct := mime.TypeByExtension(path.Ext(name)); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err == nil {
			return mt
		}
	}
	return "application/octet-stream"
}

type attachmentWire struct {
	Type        string `json:"type"`
	Name        string `json:"name"`
	URL         string `json:"url"`
	ContentType string `json:"content_type"`
	Filesize    int64  `json:"filesize"`
}

func renderAttachments(as []Attachment) []attachmentWire {
	out := make([]attachmentWire, len(as))
	for i, a := range as {
		out[i] = attachmentWire{Type: "upload", Name: a.Name, URL: a.URL, ContentType: a.ContentType, Filesize: a.Filesize}
	}
	return out
}

// --- admins and teams ---

type adminWire struct {
	Type             string  `json:"type"`
	ID               string  `json:"id"`
	Name             string  `json:"name"`
	Email            string  `json:"email"`
	AwayModeEnabled  bool    `json:"away_mode_enabled"`
	AwayModeReassign bool    `json:"away_mode_reassign"`
	HasInboxSeat     bool    `json:"has_inbox_seat"`
	TeamIDs          []numID `json:"team_ids"`
}

func renderAdmin(a Admin) adminWire {
	return adminWire{Type: "admin", ID: a.ID, Name: a.Name, Email: a.Email, HasInboxSeat: true, TeamIDs: numIDs(a.TeamIDs)}
}

type teamWire struct {
	Type     string  `json:"type"`
	ID       string  `json:"id"`
	Name     string  `json:"name"`
	AdminIDs []numID `json:"admin_ids"`
}

// --- contacts ---

type refWire struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	URL  string `json:"url,omitempty"`
}

type listRefWire struct {
	Type       string    `json:"type"`
	Data       []refWire `json:"data"`
	URL        string    `json:"url"`
	TotalCount int       `json:"total_count"`
	HasMore    bool      `json:"has_more"`
}

type avatarWire struct {
	Type     string `json:"type"`
	ImageURL string `json:"image_url"`
}

type locationWire struct {
	Type    string  `json:"type"`
	Country *string `json:"country"`
	Region  *string `json:"region"`
	City    *string `json:"city"`
}

type contactWire struct {
	Type                   string         `json:"type"`
	ID                     string         `json:"id"`
	WorkspaceID            string         `json:"workspace_id"`
	ExternalID             *string        `json:"external_id"`
	Role                   string         `json:"role"`
	Email                  string         `json:"email"`
	EmailDomain            string         `json:"email_domain"`
	Phone                  *string        `json:"phone"`
	Name                   *string        `json:"name"`
	Avatar                 *avatarWire    `json:"avatar"`
	OwnerID                *string        `json:"owner_id"`
	SocialProfiles         listRefWire    `json:"social_profiles"`
	HasHardBounced         bool           `json:"has_hard_bounced"`
	MarkedEmailAsSpam      bool           `json:"marked_email_as_spam"`
	UnsubscribedFromEmails bool           `json:"unsubscribed_from_emails"`
	CreatedAt              int64          `json:"created_at"`
	UpdatedAt              int64          `json:"updated_at"`
	SignedUpAt             *int64         `json:"signed_up_at"`
	LastSeenAt             *int64         `json:"last_seen_at"`
	LastRepliedAt          *int64         `json:"last_replied_at"`
	LastContactedAt        *int64         `json:"last_contacted_at"`
	LastEmailOpenedAt      *int64         `json:"last_email_opened_at"`
	LastEmailClickedAt     *int64         `json:"last_email_clicked_at"`
	Location               locationWire   `json:"location"`
	CustomAttributes       map[string]any `json:"custom_attributes"`
	Tags                   listRefWire    `json:"tags"`
	Notes                  listRefWire    `json:"notes"`
	Companies              listRefWire    `json:"companies"`
}

func refList(url string, typ string, ids []string, urlOf func(string) string) listRefWire {
	l := listRefWire{Type: "list", Data: make([]refWire, 0, len(ids)), URL: url, TotalCount: len(ids)}
	for _, id := range ids {
		l.Data = append(l.Data, refWire{Type: typ, ID: id, URL: urlOf(id)})
	}
	return l
}

func renderContact(c *Contact, st *store) contactWire {
	w := contactWire{
		Type: "contact", ID: c.ID, WorkspaceID: workspaceID, ExternalID: nullable(c.ExternalID),
		Role: c.Role, Email: c.Email, EmailDomain: emailDomain(c.Email), Phone: nullable(c.Phone), Name: nullable(c.Name),
		OwnerID: nullable(c.OwnerID), UnsubscribedFromEmails: c.UnsubscribedFromEmails,
		SocialProfiles: listRefWire{Type: "list", Data: []refWire{}},
		CreatedAt:      c.CreatedAt, UpdatedAt: c.UpdatedAt,
		SignedUpAt: nullableTime(c.SignedUpAt), LastSeenAt: nullableTime(c.LastSeenAt),
		Location:         locationWire{Type: "location"},
		CustomAttributes: cloneMap(c.CustomAttributes),
		Tags:             refList("/contacts/"+c.ID+"/tags", "tag", c.TagIDs, func(id string) string { return "/tags/" + id }),
		Notes:            refList("/contacts/"+c.ID+"/notes", "note", nil, nil),
		Companies:        refList("/contacts/"+c.ID+"/companies", "company", c.CompanyIDs, func(id string) string { return "/companies/" + id }),
	}
	if c.Avatar != "" {
		w.Avatar = &avatarWire{Type: "avatar", ImageURL: c.Avatar}
	}
	if w.CustomAttributes == nil {
		w.CustomAttributes = map[string]any{}
	}
	return w
}

func emailDomain(email string) string {
	if i := strings.LastIndexByte(email, '@'); i >= 0 {
		return strings.ToLower(email[i+1:])
	}
	return ""
}

// --- companies ---

type tagWire struct {
	Type      string   `json:"type"`
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	AppliedAt *int64   `json:"applied_at,omitempty"`
	AppliedBy *refWire `json:"applied_by,omitempty"`
}

type tagListWire struct {
	Type string    `json:"type"`
	Tags []tagWire `json:"tags"`
}

type planWire struct {
	Type string `json:"type,omitempty"`
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
}

type companyWire struct {
	Type             string         `json:"type"`
	CompanyID        string         `json:"company_id"`
	ID               string         `json:"id"`
	AppID            string         `json:"app_id"`
	Name             string         `json:"name"`
	RemoteCreatedAt  int64          `json:"remote_created_at,omitempty"`
	CreatedAt        int64          `json:"created_at"`
	UpdatedAt        int64          `json:"updated_at"`
	MonthlySpend     int64          `json:"monthly_spend"`
	SessionCount     int            `json:"session_count"`
	UserCount        int            `json:"user_count"`
	Size             int            `json:"size,omitempty"`
	Website          string         `json:"website,omitempty"`
	Industry         string         `json:"industry,omitempty"`
	Tags             tagListWire    `json:"tags"`
	Segments         segmentList    `json:"segments"`
	Plan             planWire       `json:"plan"`
	CustomAttributes map[string]any `json:"custom_attributes"`
}

type segmentList struct {
	Type     string `json:"type"`
	Segments []any  `json:"segments"`
}

func renderCompany(c *Company, st *store) companyWire {
	w := companyWire{
		Type: "company", CompanyID: c.CompanyID, ID: c.ID, AppID: workspaceID, Name: c.Name,
		RemoteCreatedAt: c.RemoteCreatedAt, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
		MonthlySpend: c.MonthlySpend, UserCount: c.UserCount, Size: c.Size, Website: c.Website, Industry: c.Industry,
		Tags:             tagListWire{Type: "tag.list", Tags: []tagWire{}},
		Segments:         segmentList{Type: "segment.list", Segments: []any{}},
		CustomAttributes: cloneMap(c.CustomAttributes),
	}
	if c.Plan != "" {
		w.Plan = planWire{Type: "plan", ID: c.PlanID, Name: c.Plan}
	}
	for _, id := range c.TagIDs {
		if t, ok := st.tags[id]; ok {
			w.Tags.Tags = append(w.Tags.Tags, tagWire{Type: "tag", ID: t.ID, Name: t.Name})
		}
	}
	if w.CustomAttributes == nil {
		w.CustomAttributes = map[string]any{}
	}
	return w
}

// --- conversations ---

type authorWire struct {
	Type  string  `json:"type"`
	ID    string  `json:"id"`
	Name  *string `json:"name"`
	Email string  `json:"email,omitempty"`
}

func renderAuthor(a Author) authorWire {
	return authorWire{Type: a.Type, ID: a.ID, Name: nullable(a.Name), Email: a.Email}
}

type sourceWire struct {
	Type        string           `json:"type"`
	ID          string           `json:"id"`
	DeliveredAs string           `json:"delivered_as"`
	Subject     string           `json:"subject"`
	Body        string           `json:"body"`
	Author      authorWire       `json:"author"`
	Attachments []attachmentWire `json:"attachments"`
	URL         *string          `json:"url"`
	Redacted    bool             `json:"redacted"`
}

type contactRefWire struct {
	Type       string  `json:"type"`
	ID         string  `json:"id"`
	ExternalID *string `json:"external_id"`
}

type contactsWire struct {
	Type     string           `json:"type"`
	Contacts []contactRefWire `json:"contacts"`
}

type partWire struct {
	Type        string           `json:"type"`
	ID          string           `json:"id"`
	PartType    string           `json:"part_type"`
	Body        *string          `json:"body"`
	CreatedAt   int64            `json:"created_at"`
	UpdatedAt   int64            `json:"updated_at"`
	NotifiedAt  int64            `json:"notified_at"`
	AssignedTo  *refWire         `json:"assigned_to"`
	Author      authorWire       `json:"author"`
	Attachments []attachmentWire `json:"attachments"`
	ExternalID  *string          `json:"external_id"`
	Redacted    bool             `json:"redacted"`
}

type partsWire struct {
	Type              string     `json:"type"`
	ConversationParts []partWire `json:"conversation_parts"`
	TotalCount        int        `json:"total_count"`
}

type conversationWire struct {
	Type                string         `json:"type"`
	ID                  string         `json:"id"`
	Title               *string        `json:"title"`
	CreatedAt           int64          `json:"created_at"`
	UpdatedAt           int64          `json:"updated_at"`
	WaitingSince        *int64         `json:"waiting_since"`
	SnoozedUntil        *int64         `json:"snoozed_until"`
	Source              sourceWire     `json:"source"`
	Contacts            contactsWire   `json:"contacts"`
	FirstContactReply   any            `json:"first_contact_reply"`
	AdminAssigneeID     *numID         `json:"admin_assignee_id"`
	TeamAssigneeID      *numID         `json:"team_assignee_id"`
	Open                bool           `json:"open"`
	State               string         `json:"state"`
	Read                bool           `json:"read"`
	Tags                tagListWire    `json:"tags"`
	Priority            string         `json:"priority"`
	SLAApplied          any            `json:"sla_applied"`
	Statistics          any            `json:"statistics"`
	ConversationRating  any            `json:"conversation_rating"`
	Teammates           any            `json:"teammates"`
	CustomAttributes    map[string]any `json:"custom_attributes"`
	AIAgentParticipated bool           `json:"ai_agent_participated"`
	ConversationParts   *partsWire     `json:"conversation_parts,omitempty"`
}

// maxPartsReturned is how many parts Intercom returns with a conversation:
// the most recent 500.
const maxPartsReturned = 500

func nullableNumID(id string) *numID {
	if id == "" {
		return nil
	}
	n := numID(id)
	return &n
}

// renderConversation renders c; withParts adds conversation_parts (GET and
// the answers to replies and actions), which lists leave out.
func renderConversation(c *Conversation, st *store, withParts bool) conversationWire {
	w := conversationWire{
		Type: "conversation", ID: c.ID, Title: nullable(c.Title), CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
		WaitingSince: nullableTime(c.WaitingSince), SnoozedUntil: nullableTime(c.SnoozedUntil),
		Source: sourceWire{
			Type: "conversation", ID: c.Source.ID, DeliveredAs: c.Source.DeliveredAs, Subject: c.Source.Subject,
			Body: c.Source.Body, Author: renderAuthor(c.Source.Author), Attachments: renderAttachments(c.Source.Attachments),
		},
		Contacts:         contactsWire{Type: "contact.list", Contacts: make([]contactRefWire, 0, len(c.ContactIDs))},
		AdminAssigneeID:  nullableNumID(c.AdminAssigneeID),
		TeamAssigneeID:   nullableNumID(c.TeamAssigneeID),
		Open:             c.Open(),
		State:            c.State,
		Read:             c.Read,
		Tags:             tagListWire{Type: "tag.list", Tags: make([]tagWire, 0, len(c.Tags))},
		Priority:         "none",
		CustomAttributes: cloneMap(c.CustomAttributes),
	}
	if w.CustomAttributes == nil {
		w.CustomAttributes = map[string]any{}
	}
	for _, id := range c.ContactIDs {
		ref := contactRefWire{Type: "contact", ID: id}
		if ct, ok := st.contacts[id]; ok {
			ref.ExternalID = nullable(ct.ExternalID)
		}
		w.Contacts.Contacts = append(w.Contacts.Contacts, ref)
	}
	for _, at := range c.Tags {
		t, ok := st.tags[at.TagID]
		if !ok {
			continue
		}
		appliedAt := at.AppliedAt
		w.Tags.Tags = append(w.Tags.Tags, tagWire{Type: "tag", ID: t.ID, Name: t.Name, AppliedAt: &appliedAt,
			AppliedBy: &refWire{Type: "admin", ID: at.AdminID}})
	}
	if withParts {
		parts := c.Parts
		if len(parts) > maxPartsReturned {
			parts = parts[len(parts)-maxPartsReturned:]
		}
		pw := &partsWire{Type: "conversation_part.list", ConversationParts: make([]partWire, len(parts)), TotalCount: len(c.Parts)}
		for i, p := range parts {
			pw.ConversationParts[i] = renderPart(p)
		}
		w.ConversationParts = pw
	}
	return w
}

func renderPart(p Part) partWire {
	w := partWire{
		Type: "conversation_part", ID: p.ID, PartType: p.PartType, Body: nullable(p.Body),
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt, NotifiedAt: p.CreatedAt,
		Author: renderAuthor(p.Author), Attachments: renderAttachments(p.Attachments),
	}
	if p.AssignedToType != "" {
		w.AssignedTo = &refWire{Type: p.AssignedToType, ID: p.AssignedToID}
	}
	return w
}

// --- cursors ---

// encodeCursor makes an opaque starting_after value. Intercom's cursors are
// base64 JSON too; callers must not look inside.
func encodeCursor(lastID string, page int) string {
	b, _ := json.Marshal([]any{lastID, page})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (lastID string, page int, ok bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return "", 0, false
	}
	var v []json.RawMessage
	if json.Unmarshal(b, &v) != nil || len(v) != 2 {
		return "", 0, false
	}
	if json.Unmarshal(v[0], &lastID) != nil || json.Unmarshal(v[1], &page) != nil || lastID == "" || page < 1 {
		return "", 0, false
	}
	return lastID, page, true
}

type nextWire struct {
	PerPage       int    `json:"per_page"`
	StartingAfter string `json:"starting_after"`
}

type cursorPagesWire struct {
	Type       string    `json:"type"`
	Page       int       `json:"page"`
	PerPage    int       `json:"per_page"`
	TotalPages int       `json:"total_pages"`
	Next       *nextWire `json:"next,omitempty"`
}

// cursorPage cuts one page out of ids (in list order) after the cursor.
func cursorPage(ids []string, startingAfter string, perPage int) (page []string, pages cursorPagesWire, aerr *apiError) {
	start, pageNo := 0, 1
	if startingAfter != "" {
		last, p, ok := decodeCursor(startingAfter)
		if !ok {
			return nil, pages, errInvalid("starting_after is not a valid cursor")
		}
		i := indexOf(ids, last)
		if i < 0 {
			return nil, pages, errInvalid("starting_after is not a valid cursor")
		}
		start, pageNo = i+1, p+1
	}
	end := min(len(ids), start+perPage)
	page = ids[start:end]
	pages = cursorPagesWire{Type: "pages", Page: pageNo, PerPage: perPage, TotalPages: max(1, (len(ids)+perPage-1)/perPage)}
	if end < len(ids) && len(page) > 0 {
		pages.Next = &nextWire{PerPage: perPage, StartingAfter: encodeCursor(page[len(page)-1], pageNo)}
	}
	return page, pages, nil
}

func indexOf(ids []string, id string) int {
	for i, x := range ids {
		if x == id {
			return i
		}
	}
	return -1
}

// perPageParam reads ?per_page=, defaulting to def and capping at most.
func perPageParam(q url.Values, def, most int) (int, *apiError) {
	v := q.Get("per_page")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, &apiError{status: 400, code: "parameter_invalid", message: "per_page must be a positive integer", field: "per_page"}
	}
	return min(n, most), nil
}

// pageParam reads a page-numbered list's page (from 1; 1 when absent).
func pageParam(q url.Values) (int, *apiError) {
	v := q.Get("page")
	if v == "" {
		return 1, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, &apiError{status: 400, code: "parameter_invalid", field: "page", message: "page must be a positive integer"}
	}
	return n, nil
}
