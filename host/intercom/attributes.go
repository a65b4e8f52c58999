package intercom

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
)

// Models of data attributes.
const (
	ModelContact = "contact"
	ModelCompany = "company"
)

// DataAttribute is a contact or company attribute (GET /data_attributes).
type DataAttribute struct {
	ID          flexString `json:"id"`
	Model       string     `json:"model"`
	Name        string     `json:"name"`
	FullName    string     `json:"full_name,omitempty"`
	Label       string     `json:"label,omitempty"`
	Description string     `json:"description,omitempty"`
	// DataType is string, integer, float, boolean, datetime, date or options.
	DataType    string `json:"data_type"`
	Custom      bool   `json:"custom"`
	Archived    bool   `json:"archived"`
	APIWritable bool   `json:"api_writable"`
}

// DataAttributeRequest is the body of POST /data_attributes. Name takes
// letters, digits, currency symbols and hyphens only.
type DataAttributeRequest struct {
	Name        string `json:"name"`
	Model       string `json:"model"`
	DataType    string `json:"data_type"`
	Description string `json:"description,omitempty"`
}

// ListDataAttributes returns model's attributes (ModelContact or
// ModelCompany), Intercom's own included.
func (c *Client) ListDataAttributes(ctx context.Context, model string) ([]DataAttribute, error) {
	var out struct {
		Data []DataAttribute `json:"data"`
	}
	r := request{method: http.MethodGet, template: "/data_attributes", query: url.Values{"model": {model}}}
	if err := c.do(ctx, r, &out); err != nil {
		return nil, fmt.Errorf("list %s attributes: %w", model, err)
	}
	return out.Data, nil
}

// CreateDataAttribute creates a contact or company attribute. A name in use
// gets a 400 parameter_invalid: list first.
func (c *Client) CreateDataAttribute(ctx context.Context, in DataAttributeRequest) (*DataAttribute, error) {
	var out DataAttribute
	if err := c.do(ctx, request{method: http.MethodPost, template: "/data_attributes", body: in}, &out); err != nil {
		return nil, fmt.Errorf("create %s attribute %q (%s): %w", in.Model, in.Name, in.DataType, err)
	}
	return &out, nil
}

// ConversationAttribute is a conversation attribute (2.16's
// /conversations/attributes).
type ConversationAttribute struct {
	ID          flexString `json:"id"`
	Name        string     `json:"name"`
	Description string     `json:"description,omitempty"`
	// DataType is string, integer, list, decimal, boolean, datetime,
	// relationship or files.
	DataType string `json:"data_type"`
	Archived bool   `json:"archived"`
}

// ListConversationAttributes returns the workspace's conversation attributes.
func (c *Client) ListConversationAttributes(ctx context.Context) ([]ConversationAttribute, error) {
	var out struct {
		Data []ConversationAttribute `json:"data"`
	}
	if err := c.do(ctx, request{method: http.MethodGet, template: "/conversations/attributes"}, &out); err != nil {
		return nil, fmt.Errorf("list conversation attributes: %w", err)
	}
	return out.Data, nil
}

// CreateConversationAttribute creates a conversation attribute of a type
// that takes a plain value (string, integer, decimal, boolean, datetime).
func (c *Client) CreateConversationAttribute(ctx context.Context, name, dataType, description string) (*ConversationAttribute, error) {
	body := map[string]any{"name": name, "data_type": dataType}
	if description != "" {
		body["description"] = description
	}
	var out ConversationAttribute
	if err := c.do(ctx, request{method: http.MethodPost, template: "/conversations/attributes", body: body}, &out); err != nil {
		return nil, fmt.Errorf("create conversation attribute %q (%s): %w", name, dataType, err)
	}
	return &out, nil
}
