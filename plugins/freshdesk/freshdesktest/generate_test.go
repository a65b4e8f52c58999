package freshdesktest

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

func TestGenerateIsDeterministic(t *testing.T) {
	a, _ := json.Marshal(Generate(GenerateOptions{Seed: 1, Tickets: 40}))
	b, _ := json.Marshal(Generate(GenerateOptions{Seed: 1, Tickets: 40}))
	c, _ := json.Marshal(Generate(GenerateOptions{Seed: 2, Tickets: 40}))
	if !bytes.Equal(a, b) {
		t.Error("the same options gave two help desks")
	}
	if bytes.Equal(a, c) {
		t.Error("two seeds gave the same help desk")
	}
}

func TestGenerateDefaults(t *testing.T) {
	hd := Generate(GenerateOptions{})
	counts := map[string][2]int{
		"tickets": {len(hd.Tickets), 200}, "contacts": {len(hd.Contacts), 60}, "agents": {len(hd.Agents), 8},
		"groups": {len(hd.Groups), 3}, "companies": {len(hd.Companies), 15}, "categories": {len(hd.SolutionCategories), 3},
	}
	for what, c := range counts {
		if c[0] != c[1] {
			t.Errorf("%d %s, want %d", c[0], what, c[1])
		}
	}
}

// TestGenerateVariety checks that the default help desk has what readers
// and loaders must cope with, and holds together.
func TestGenerateVariety(t *testing.T) {
	o := GenerateOptions{}.withDefaults()
	hd := Generate(GenerateOptions{})
	users := map[int64]bool{}
	for _, a := range hd.Agents {
		users[a.ID] = true
	}
	var deletedContacts, blockedContacts, withCompany, withoutCompany, numericPhones int
	for _, c := range hd.Contacts {
		if users[c.ID] {
			t.Errorf("user id %d twice", c.ID)
		}
		users[c.ID] = true
		switch {
		case c.Deleted:
			deletedContacts++
		case c.Blocked:
			blockedContacts++
		}
		if c.CompanyID != nil {
			withCompany++
		} else {
			withoutCompany++
		}
		if c.Phone.Numeric || c.Mobile.Numeric {
			numericPhones++
		}
	}
	for _, a := range hd.Agents {
		if a.Contact.Phone.Numeric {
			numericPhones++
		}
	}
	want := map[string]int{"deleted contacts": deletedContacts, "blocked contacts": blockedContacts, "contacts of a company": withCompany,
		"contacts without a company": withoutCompany, "numeric phones": numericPhones}

	var spam, deleted, custom, noConversations, maxConversations, descFiles, convFiles, manyFiles, agentNotes, contactNotes, agentReplies, contactReplies int
	updated := map[time.Time]int{}
	fieldNames := map[string]bool{}
	for _, f := range hd.TicketFields {
		if !f.Default {
			fieldNames[f.Name] = true
		}
	}
	convIDs := map[int64]bool{}
	for i, tk := range hd.Tickets {
		if tk.ID != int64(i+1) {
			t.Fatalf("ticket %d has id %d: ids count up from 1", i, tk.ID)
		}
		if !users[tk.RequesterID] {
			t.Errorf("ticket %d: requester %d is nobody", tk.ID, tk.RequesterID)
		}
		if tk.Spam {
			spam++
		}
		if tk.Deleted {
			deleted++
		}
		if tk.Status < StatusOpen || tk.Status > 7 || tk.Priority < PriorityLow || tk.Priority > PriorityUrgent {
			t.Errorf("ticket %d: status %d, priority %d", tk.ID, tk.Status, tk.Priority)
		}
		for name := range fieldNames {
			if _, ok := tk.CustomFields[name]; !ok {
				t.Errorf("ticket %d has no %s: every custom field is listed, null when unset", tk.ID, name)
			}
		}
		for name := range tk.CustomFields {
			if !fieldNames[name] {
				t.Errorf("ticket %d has a value for %s, which no field defines", tk.ID, name)
			}
		}
		if tk.CustomFields[cfProduct] != nil {
			custom++
		}
		if tk.UpdatedAt.After(o.End) || tk.UpdatedAt.Before(tk.CreatedAt) {
			t.Errorf("ticket %d: created %v, updated %v", tk.ID, tk.CreatedAt, tk.UpdatedAt)
		}
		updated[tk.UpdatedAt]++
		if len(tk.Attachments) > 0 {
			descFiles++
		}
		switch len(tk.Conversations) {
		case 0:
			noConversations++
		case o.MaxConversations:
			maxConversations++
		}
		for _, c := range tk.Conversations {
			if convIDs[c.ID] || c.TicketID != tk.ID || c.CreatedAt.Before(tk.CreatedAt) || c.CreatedAt.After(tk.UpdatedAt) {
				t.Errorf("ticket %d: conversation %d is out of place", tk.ID, c.ID)
			}
			convIDs[c.ID] = true
			if !users[c.UserID] {
				t.Errorf("conversation %d: author %d is nobody", c.ID, c.UserID)
			}
			agent := hd.Agent(c.UserID) != nil
			switch {
			case c.Private && agent:
				agentNotes++
			case c.Private:
				contactNotes++
			case agent:
				agentReplies++
			default:
				contactReplies++
			}
			if len(c.Attachments) > 0 {
				convFiles++
			}
			if len(c.Attachments) > 5 {
				manyFiles++
			}
		}
	}
	ties := 0
	for _, n := range updated {
		ties = max(ties, n)
	}
	for what, n := range map[string]int{
		"spam tickets": spam, "deleted tickets": deleted, "tickets with a product": custom, "tickets without conversations": noConversations,
		"tickets with the most conversations": maxConversations, "descriptions with attachments": descFiles,
		"conversations with attachments": convFiles, "conversations with more than five attachments": manyFiles,
		"agents' private notes": agentNotes, "contacts' private notes": contactNotes, "agents' replies": agentReplies,
		"contacts' replies": contactReplies,
	} {
		want[what] = n
	}
	for what, n := range want {
		if n == 0 {
			t.Errorf("no %s", what)
		}
	}
	if ties < 3 {
		t.Errorf("at most %d tickets share an update time; want a bulk update's worth", ties)
	}
	articles := 0
	for _, c := range hd.SolutionCategories {
		for _, f := range c.Folders {
			for _, a := range f.Articles {
				articles++
				if a.FolderID != f.ID || a.CategoryID != c.ID || hd.Agent(a.AgentID) == nil {
					t.Errorf("article %d is out of place", a.ID)
				}
			}
		}
	}
	if articles == 0 {
		t.Error("no articles")
	}
}

func TestSaveLoad(t *testing.T) {
	hd := Generate(GenerateOptions{Seed: 3, Tickets: 30})
	path := filepath.Join(t.TempDir(), "helpdesk.json")
	if err := hd.Save(path); err != nil {
		t.Fatal(err)
	}
	back, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(hd)
	b, _ := json.Marshal(back)
	if !bytes.Equal(a, b) {
		t.Error("a saved and loaded help desk differs")
	}
	if !reflect.DeepEqual(hd.Agents[0].Contact.Phone, back.Agents[0].Contact.Phone) {
		t.Error("phones do not survive saving")
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Error("loading a missing file succeeded")
	}
	if err := hd.Save(filepath.Join(t.TempDir(), "no", "such", "dir.json")); err == nil {
		t.Error("saving into a missing folder succeeded")
	}
}

func TestPhoneJSON(t *testing.T) {
	tests := []struct {
		p    Phone
		json string
	}{
		{Phone{}, `null`},
		{Phone{Value: "+1 415 555 0100"}, `"+1 415 555 0100"`},
		{Phone{Value: "5678", Numeric: true}, `5678`},
	}
	for _, tt := range tests {
		b, err := json.Marshal(tt.p)
		if err != nil || string(b) != tt.json {
			t.Errorf("Marshal(%+v) = %s, %v; want %s", tt.p, b, err, tt.json)
		}
		var back Phone
		if err := json.Unmarshal(b, &back); err != nil || back != tt.p {
			t.Errorf("Unmarshal(%s) = %+v, %v", b, back, err)
		}
	}
	var p Phone
	if err := json.Unmarshal([]byte(`{}`), &p); err == nil {
		t.Error("an object decoded as a phone")
	}
}
