package zendesktest

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"
	"time"
)

func TestAddAuditAndReply(t *testing.T) {
	hd := Generate(GenerateOptions{Tickets: 3, End: testEnd()})
	at := testEnd().Add(time.Hour)
	group := hd.Groups[0].ID
	vip := hd.TicketFields[len(hd.TicketFields)-1].ID
	tests := []struct {
		name    string
		events  []AuditEvent
		check   func(t *testing.T, tk *Ticket)
		wantErr bool
	}{
		{
			name:   "status and priority",
			events: []AuditEvent{ChangeEvent(1, "status", "open", StatusPending), ChangeEvent(2, "priority", nil, "high")},
			check: func(t *testing.T, tk *Ticket) {
				if tk.Status != StatusPending || tk.Priority == nil || *tk.Priority != "high" {
					t.Errorf("status %s, priority %v", tk.Status, tk.Priority)
				}
			},
		},
		{
			name:   "assignee, group and tags",
			events: []AuditEvent{ChangeEvent(1, "assignee_id", nil, nil), ChangeEvent(2, "group_id", nil, IDValue(&group)), ChangeEvent(3, "tags", nil, []string{"b", "a"})},
			check: func(t *testing.T, tk *Ticket) {
				if tk.AssigneeID != nil || tk.GroupID == nil || *tk.GroupID != group || !slices.Equal(tk.Tags, []string{"a", "b"}) {
					t.Errorf("assignee %v, group %v, tags %v", tk.AssigneeID, tk.GroupID, tk.Tags)
				}
			},
		},
		{
			name:   "a custom checkbox, written as a string",
			events: []AuditEvent{ChangeEvent(1, IDValue(&vip).(string), "false", "true")},
			check: func(t *testing.T, tk *Ticket) {
				if v := tk.customField(vip); v != true {
					t.Errorf("VIP = %#v, want true", v)
				}
			},
		},
		{name: "a status that is not a string", events: []AuditEvent{{ID: 1, Type: EventChange, FieldName: "status", Value: json.RawMessage(`5`)}}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tk := hd.Tickets[0]
			tk.Audits = slices.Clone(tk.Audits)
			before := tk
			err := tk.AddAudit(Audit{ID: 99, CreatedAt: at, AuthorID: tk.RequesterID, Events: tt.events})
			if tt.wantErr {
				if err == nil || tk.Status != before.Status || len(tk.Audits) != len(before.Audits) {
					t.Errorf("error %v; the ticket changed", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tk.UpdatedAt.Equal(at) || tk.GeneratedTimestamp != at.Unix() || len(tk.Audits) != len(before.Audits)+1 || tk.Audits[len(tk.Audits)-1].TicketID != tk.ID {
				t.Errorf("updated %v, generated %d, %d audits", tk.UpdatedAt, tk.GeneratedTimestamp, len(tk.Audits))
			}
			tt.check(t, &tk)
		})
	}

	tk := hd.Tickets[1]
	n := len(tk.Comments)
	if err := tk.Reply(Audit{ID: 7, CreatedAt: at, AuthorID: tk.RequesterID}, Comment{ID: 8, Body: "Thanks", Public: true}); err != nil {
		t.Fatal(err)
	}
	c, a := tk.Comments[n], tk.Audits[len(tk.Audits)-1]
	if len(tk.Comments) != n+1 || c.AuditID != 7 || !c.CreatedAt.Equal(at) || !reflect.DeepEqual(a.Events[0], CommentEvent(8)) {
		t.Errorf("comment %+v in audit %+v", c, a)
	}
}
