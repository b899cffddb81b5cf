package controllers_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

// TestCORS: the endpoints of API.md §10 answer browsers from any origin,
// preflight included, never with credentials; the rest of the API and the
// pages send no CORS header at all, so a foreign page cannot read them.
func TestCORS(t *testing.T) {
	e := newOAuthEnv(t)
	const origin = "https://agent.example"
	open := []string{"/.well-known/oauth-authorization-server", "/.well-known/openid-configuration", "/.well-known/jwks.json",
		"/.well-known/oauth-protected-resource/api", "/.well-known/oauth-protected-resource/mcp",
		"/api/oauth2/token", "/api/oauth2/revoke", "/api/oauth2/register", "/mcp"}
	for _, path := range open {
		r := e.request("OPTIONS", path, nil, "Origin: "+origin, "Access-Control-Request-Method: POST",
			// as browsers send it: lower case, sorted
			"Access-Control-Request-Headers: authorization,content-type,last-event-id,mcp-protocol-version,mcp-session-id")
		wantStatus(t, r, http.StatusNoContent)
		if got := r.Header.Get("Access-Control-Allow-Origin"); got != "*" {
			t.Errorf("preflight %s: Allow-Origin = %q, want *", path, got)
		}
		if got := r.Header.Get("Access-Control-Allow-Credentials"); got != "" {
			t.Errorf("preflight %s: Allow-Credentials = %q, want none", path, got)
		}
		allowed := strings.ToLower(r.Header.Get("Access-Control-Allow-Headers"))
		for _, h := range []string{"authorization", "content-type", "mcp-protocol-version", "mcp-session-id", "last-event-id"} {
			if !strings.Contains(allowed, h) {
				t.Errorf("preflight %s: Allow-Headers = %q, lacks %s", path, allowed, h)
			}
		}
		if !strings.Contains(r.Header.Get("Access-Control-Allow-Methods"), "POST") {
			t.Errorf("preflight %s: Allow-Methods = %q", path, r.Header.Get("Access-Control-Allow-Methods"))
		}
	}
	for _, path := range open[:5] {
		r := e.request("GET", path, nil, "Origin: "+origin)
		wantStatus(t, r, http.StatusOK)
		if got := r.Header.Get("Access-Control-Allow-Origin"); got != "*" {
			t.Errorf("GET %s: Allow-Origin = %q, want *", path, got)
		}
	}
	// A refused token request is readable too, challenge and all.
	r := e.request("POST", "/api/oauth2/token", nil, "Origin: "+origin, "Authorization: Basic bm9wZTpub3Bl")
	if got := r.Header.Get("Access-Control-Allow-Origin"); got != "*" {
		t.Errorf("POST token: Allow-Origin = %q, want *", got)
	}
	exposed := strings.Split(strings.ReplaceAll(r.Header.Get("Access-Control-Expose-Headers"), " ", ""), ",")
	if !slices.ContainsFunc(exposed, func(h string) bool { return strings.EqualFold(h, "WWW-Authenticate") }) {
		t.Errorf("POST token: Expose-Headers = %q, lacks WWW-Authenticate", exposed)
	}

	// So is /mcp's 401, with the challenge an agent in a browser follows.
	r = e.request("POST", "/mcp", `{}`, "Origin: "+origin)
	wantStatus(t, r, http.StatusUnauthorized)
	if r.Header.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(r.Header.Get("Access-Control-Expose-Headers"), "Mcp-Session-Id") {
		t.Errorf("POST /mcp: Allow-Origin = %q, Expose-Headers = %q", r.Header.Get("Access-Control-Allow-Origin"), r.Header.Get("Access-Control-Expose-Headers"))
	}

	// Everything else stays same-origin.
	for _, tc := range []struct{ method, path string }{
		{"GET", "/api/beers"}, {"OPTIONS", "/api/beers"}, {"POST", "/api/oauth2/introspect"}, {"GET", "/account"}, {"OPTIONS", "/api/users"},
	} {
		r := e.request(tc.method, tc.path, nil, "Origin: "+origin, "Access-Control-Request-Method: POST", e.alice)
		if got := r.Header.Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("%s %s: Allow-Origin = %q, want none", tc.method, tc.path, got)
		}
	}
}
