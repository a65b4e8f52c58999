package sandbox

import "net/http"

func (s *Server) getMe(r *http.Request) (any, *apiError) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if len(s.st.admins) == 0 {
		return nil, errNotFound("Resource Not Found")
	}
	a := s.st.admins[0]
	return struct {
		adminWire
		EmailVerified bool `json:"email_verified"`
		App           any  `json:"app"`
	}{
		adminWire:     renderAdmin(a),
		EmailVerified: true,
		App: map[string]any{
			"type": "app", "id_code": workspaceID, "name": "Ferry Sandbox", "created_at": s.created.Unix(),
			"secure": false, "identity_verification": false, "timezone": "UTC", "region": "US",
		},
	}, nil
}

func (s *Server) listAdmins(r *http.Request) (any, *apiError) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	admins := make([]adminWire, len(s.st.admins))
	for i, a := range s.st.admins {
		admins[i] = renderAdmin(a)
	}
	return map[string]any{"type": "admin.list", "admins": admins}, nil
}

func (s *Server) listTeams(r *http.Request) (any, *apiError) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	teams := make([]teamWire, len(s.st.teams))
	for i, t := range s.st.teams {
		teams[i] = teamWire{Type: "team", ID: t.ID, Name: t.Name, AdminIDs: numIDs(t.AdminIDs)}
	}
	return map[string]any{"type": "team.list", "teams": teams}, nil
}
