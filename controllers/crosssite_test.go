package controllers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestCrossSiteBasicRefused: a browser on a foreign page can send the Basic
// credentials it cached for this site with a form POST. A state-changing
// request under /api/ with Basic credentials that the browser marks as
// cross-site is refused with a 403 problem (API.md §8), before anything
// changes: here, rotating a client's secret. Bearer requests, same-origin
// requests, reads and clients that are not browsers are unaffected.
func TestCrossSiteBasicRefused(t *testing.T) {
	e := newOAuthEnv(t) // served as http://localhost:3000
	rotate := "/api/clients/" + url.PathEscape(e.app.ID) + "/secret"
	appWorks := func(what string) {
		t.Helper()
		r := e.postForm("/api/oauth2/token", &e.app, url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"alices password"}})
		if r.StatusCode != http.StatusOK {
			t.Fatalf("%s: the app's secret no longer works: status = %d", what, r.StatusCode)
		}
	}

	for _, tc := range []struct{ name, header string }{
		{"Sec-Fetch-Site: cross-site", "Sec-Fetch-Site: cross-site"},
		{"Origin: null", "Origin: null"},
		{"a foreign Origin", "Origin: https://evil.example"},
		{"another port of the same host", "Origin: http://localhost:3001"},
		{"https instead of http", "Origin: https://localhost:3000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := wantProblem(t, e.request("POST", rotate, nil, e.dev, tc.header), http.StatusForbidden)
			if p["detail"] == "" {
				t.Errorf("problem = %v, want a detail", p)
			}
			appWorks("after the refused rotation")
			wantProblem(t, e.request("POST", "/api/beers", map[string]any{"name": "Planted", "quantity": 1}, e.alice, tc.header),
				http.StatusForbidden)
			wantProblem(t, e.request("DELETE", "/api/users/me", nil, e.alice, tc.header), http.StatusForbidden)
			// Reads are not state-changing.
			wantStatus(t, e.request("GET", "/api/users/me", nil, e.alice, tc.header), http.StatusOK)
		})
	}
	wantStatus(t, e.request("GET", "/api/beers", nil, e.alice), http.StatusOK)
	if r := e.request("GET", "/api/beers", nil, e.alice); len(r.json(t)["beers"].([]any)) != 0 {
		t.Errorf("a refused cross-site POST created a beer: %s", r.body)
	}

	// Same origin (PUBLIC_URL's), same-origin fetch metadata, and clients
	// that send neither header (curl, Postman, SDKs) go through.
	for _, headers := range [][]string{
		{"Origin: http://localhost:3000"},
		{"Origin: http://LOCALHOST:3000", "Sec-Fetch-Site: same-origin"},
		{"Sec-Fetch-Site: none"},
		{},
	} {
		r := e.request("POST", "/api/beers", map[string]any{"name": "Own", "quantity": 1}, append([]string{e.alice}, headers...)...)
		wantStatus(t, r, http.StatusCreated)
	}
	// A Bearer token is not sent by a browser on its own: it is unaffected.
	tk := e.mustToken(&e.app, passwordForm("alice", "alices password", "beers:write"))
	wantStatus(t, e.request("POST", "/api/beers", map[string]any{"name": "Via app", "quantity": 1}, bearer(tk.AccessToken),
		"Sec-Fetch-Site: cross-site", "Origin: https://evil.example"), http.StatusCreated)
	// Every state-changing route under /api/ is covered, registration too,
	// and a Basic header is refused there before it is even looked at.
	wantProblem(t, e.request("POST", "/api/users", map[string]string{"username": "mallory", "password": "mallorys password"},
		basic("x", "y"), "Origin: https://evil.example"), http.StatusForbidden)
	// The OAuth endpoints authenticate clients, whose secrets a browser
	// does not cache from the API's Basic prompts: they are not covered.
	req, _ := http.NewRequest("POST", e.server.URL+"/api/oauth2/token", strings.NewReader(passwordForm("alice", "alices password", "").Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	req.SetBasicAuth(url.QueryEscape(e.app.ID), url.QueryEscape(e.app.Secret))
	wantStatus(t, e.do(req), http.StatusOK)
	// Rotation itself still works from a non-browser client.
	wantStatus(t, e.request("POST", rotate, nil, e.dev), http.StatusOK)
}
