package load

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/ferryhq/ferry/host/intercom"
)

// With Options.TicketType, tickets load as Intercom tickets of that type
// rather than as conversations: the subject and the first comment become
// the ticket's title and description, custom fields attributes of the
// type, and the assignment is made on create; comments are parts, as in a
// conversation. An Intercom ticket has one contact: CCs are left out (and
// counted).

// ticketTarget is the ticket type tickets load as.
type ticketTarget struct {
	typeID string
	// attrs says which attributes of the type exist, by lower-case name
	// → data type.
	attrs map[string]string
}

// ensureTicketType finds the configured ticket type (by name, case aside),
// creating it (category Customer) when Intercom has none, and adds the
// attributes set needs that it lacks. It reports what it created in res.
func (l *Loader) ensureTicketType(ctx context.Context, name string, set attributeSet, res *Attributes) (*ticketTarget, error) {
	tt, err := l.findTicketType(ctx, name)
	if err != nil {
		return nil, err
	}
	if tt == nil {
		if tt, err = l.ic.CreateTicketType(ctx, name, "Customer", "tickets migrated by ferry"); err != nil {
			return nil, err
		}
		res.Created = append(res.Created, fmt.Sprintf("ticket type %q", name))
	}
	target := &ticketTarget{typeID: string(tt.ID), attrs: map[string]string{}}
	for _, a := range tt.Attributes.List {
		if !a.Archived {
			target.attrs[strings.ToLower(a.Name)] = a.DataType
		}
	}
	err = reconcile("ticket", set, target.attrs, res, func(a attribute) error {
		_, err := l.ic.CreateTicketTypeAttribute(ctx, target.typeID, a.name, a.dataType, "migrated by ferry")
		return err
	})
	if err != nil {
		return nil, err
	}
	return target, nil
}

// findTicketType returns the ticket type of that name (case aside) that
// is not archived, nil when Intercom has none.
func (l *Loader) findTicketType(ctx context.Context, name string) (*intercom.TicketType, error) {
	types, err := l.ic.ListTicketTypes(ctx)
	if err != nil {
		return nil, err
	}
	for i := range types {
		if !types[i].Archived && strings.EqualFold(strings.TrimSpace(types[i].Name), strings.TrimSpace(name)) {
			return &types[i], nil
		}
	}
	return nil, nil
}

// adminNumber is an admin id as the integer some ticket calls take.
func adminNumber(id string) int64 {
	n, _ := strconv.ParseInt(id, 10, 64)
	return n
}
