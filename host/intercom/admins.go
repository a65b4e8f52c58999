package intercom

import (
	"context"
	"fmt"
	"net/http"
)

// Admin is a teammate of the workspace (GET /admins). Intercom has no API to
// create admins: a migration maps its agents onto the admins that exist.
type Admin struct {
	Type             string `json:"type,omitempty"`
	ID               string `json:"id"`
	Name             string `json:"name"`
	Email            string `json:"email"`
	JobTitle         string `json:"job_title,omitempty"`
	AwayModeEnabled  bool   `json:"away_mode_enabled"`
	AwayModeReassign bool   `json:"away_mode_reassign"`
	HasInboxSeat     bool   `json:"has_inbox_seat"`
	// TeamIDs are the teams the admin belongs to (integers on the wire).
	TeamIDs IDs `json:"team_ids"`
}

// App is the workspace a token belongs to, as GET /me describes it.
type App struct {
	Type                 string `json:"type,omitempty"`
	IDCode               string `json:"id_code"`
	Name                 string `json:"name"`
	Region               string `json:"region"`
	Timezone             string `json:"timezone"`
	CreatedAt            int64  `json:"created_at"`
	IdentityVerification bool   `json:"identity_verification"`
}

// Me is the admin that owns the token, with its workspace (GET /me).
type Me struct {
	Type          string `json:"type,omitempty"`
	ID            string `json:"id"`
	Name          string `json:"name"`
	Email         string `json:"email"`
	EmailVerified *bool  `json:"email_verified,omitempty"`
	HasInboxSeat  bool   `json:"has_inbox_seat"`
	TeamIDs       IDs    `json:"team_ids"`
	App           *App   `json:"app"`
}

// Team is a group of admins (GET /teams). Teams cannot be created through the API.
type Team struct {
	Type     string `json:"type,omitempty"`
	ID       string `json:"id"`
	Name     string `json:"name"`
	AdminIDs IDs    `json:"admin_ids"`
}

// Me identifies the token's admin and workspace; a cheap start-up check that
// the token works and which region the workspace lives in.
func (c *Client) Me(ctx context.Context) (*Me, error) {
	var out Me
	if err := c.do(ctx, request{method: http.MethodGet, template: "/me"}, &out); err != nil {
		return nil, fmt.Errorf("identify admin: %w", err)
	}
	return &out, nil
}

// ListAdmins returns every admin of the workspace (the endpoint is not paginated).
func (c *Client) ListAdmins(ctx context.Context) ([]Admin, error) {
	var out struct {
		Admins []Admin `json:"admins"`
	}
	if err := c.do(ctx, request{method: http.MethodGet, template: "/admins"}, &out); err != nil {
		return nil, fmt.Errorf("list admins: %w", err)
	}
	return out.Admins, nil
}

// ListTeams returns every team of the workspace (the endpoint is not paginated).
func (c *Client) ListTeams(ctx context.Context) ([]Team, error) {
	var out struct {
		Teams []Team `json:"teams"`
	}
	if err := c.do(ctx, request{method: http.MethodGet, template: "/teams"}, &out); err != nil {
		return nil, fmt.Errorf("list teams: %w", err)
	}
	return out.Teams, nil
}
