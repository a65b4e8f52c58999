package intercom

import (
	"context"
	"fmt"
	"net/http"
)

// Tag is an Intercom tag. AppliedAt and AppliedBy are set only in the answer
// to tagging an object.
type Tag struct {
	Type      string     `json:"type,omitempty"`
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	AppliedAt int64      `json:"applied_at,omitempty"`
	AppliedBy *Reference `json:"applied_by,omitempty"`
}

// CreateTag creates the tag, or returns the existing tag of that name
// (Intercom compares names case-insensitively), so it is safe to repeat.
func (c *Client) CreateTag(ctx context.Context, name string) (*Tag, error) {
	var out Tag
	body := struct {
		Name string `json:"name"`
	}{name}
	if err := c.do(ctx, request{method: http.MethodPost, template: "/tags", body: body}, &out); err != nil {
		return nil, fmt.Errorf("create tag %q: %w", name, err)
	}
	return &out, nil
}

// ListTags returns every tag of the workspace (the endpoint is not paginated).
func (c *Client) ListTags(ctx context.Context) ([]Tag, error) {
	var out struct {
		Data []Tag `json:"data"`
	}
	if err := c.do(ctx, request{method: http.MethodGet, template: "/tags"}, &out); err != nil {
		return nil, fmt.Errorf("list tags: %w", err)
	}
	return out.Data, nil
}

// TagConversation applies a tag (by id) to a conversation on behalf of an admin.
func (c *Client) TagConversation(ctx context.Context, conversationID, tagID, adminID string) (*Tag, error) {
	if tagID == "" || adminID == "" {
		return nil, fmt.Errorf("tag conversation %s: %w: tag id and admin id are both required", conversationID, ErrInvalidRequest)
	}
	var out Tag
	r := request{
		method: http.MethodPost, template: "/conversations/{conversation_id}/tags", params: []string{conversationID},
		body: struct {
			ID      string `json:"id"`
			AdminID string `json:"admin_id"`
		}{tagID, adminID},
	}
	if err := c.do(ctx, r, &out); err != nil {
		return nil, fmt.Errorf("tag conversation %s with %s: %w", conversationID, tagID, err)
	}
	return &out, nil
}

// TagContact applies a tag (by id) to a contact.
func (c *Client) TagContact(ctx context.Context, contactID, tagID string) (*Tag, error) {
	if tagID == "" {
		return nil, fmt.Errorf("tag contact %s: %w: empty tag id", contactID, ErrInvalidRequest)
	}
	var out Tag
	r := request{
		method: http.MethodPost, template: "/contacts/{contact_id}/tags", params: []string{contactID},
		body: struct {
			ID string `json:"id"`
		}{tagID},
	}
	if err := c.do(ctx, r, &out); err != nil {
		return nil, fmt.Errorf("tag contact %s with %s: %w", contactID, tagID, err)
	}
	return &out, nil
}
