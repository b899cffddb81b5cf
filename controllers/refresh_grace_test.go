package controllers_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"beerlocker/app"
)

// newGraceEnv is an oauthEnv whose REFRESH_REUSE_GRACE is grace.
func newGraceEnv(t *testing.T, grace time.Duration) *oauthEnv {
	return newOAuthEnvOn(newTestEnvConfig(t, openTestStore(t), "http://localhost:3000", testLimits,
		func(o *app.Options) { o.RefreshReuseGrace = grace }))
}

// TestRefreshReuseGrace (API.md §11): within the grace after a rotation,
// the same client's reuse of the rotated token gets fresh tokens and the
// family lives on, the tokens already issued included; the window counts
// from the rotation, not from the last reuse; after it, a reuse revokes
// the family as §6 says; another client is never graced.
func TestRefreshReuseGrace(t *testing.T) {
	e := newGraceEnv(t, 10*time.Second)
	other := e.mustCreateClient(e.dev, map[string]any{"name": "Other App",
		"grant_types": []string{"authorization_code", "refresh_token", "password"}})
	first := e.passwordTokens("beers:read")
	rotated := e.mustToken(&e.app, refreshForm(first.RefreshToken, ""))

	// Another client presenting it: invalid_grant, and nothing revoked.
	wantOAuthError(t, e.postForm("/api/oauth2/token", &other, refreshForm(first.RefreshToken, "")), http.StatusBadRequest, "invalid_grant")

	// 8 s after the rotation: graced, twice.
	e.clock.Advance(8 * time.Second)
	again := e.mustToken(&e.app, refreshForm(first.RefreshToken, ""))
	if again.AccessToken == rotated.AccessToken || again.RefreshToken == rotated.RefreshToken || again.Scope != "beers:read" {
		t.Errorf("graced reuse: %+v", again)
	}
	twice := e.mustToken(&e.app, refreshForm(first.RefreshToken, ""))
	for _, tk := range []tokens{rotated, again, twice} {
		wantStatus(t, e.request("GET", "/api/beers", nil, bearer(tk.AccessToken)), http.StatusOK)
	}

	// 11 s after the rotation (3 s after the last reuse): revoked, all of it.
	e.clock.Advance(3 * time.Second)
	wantOAuthError(t, e.postForm("/api/oauth2/token", &e.app, refreshForm(first.RefreshToken, "")), http.StatusBadRequest, "invalid_grant")
	for name, tk := range map[string]tokens{"rotated": rotated, "graced": again, "graced twice": twice} {
		if r := e.request("GET", "/api/beers", nil, bearer(tk.AccessToken)); r.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s access token after the late reuse: %d, want 401", name, r.StatusCode)
		}
		wantOAuthError(t, e.postForm("/api/oauth2/token", &e.app, refreshForm(tk.RefreshToken, "")), http.StatusBadRequest, "invalid_grant")
	}
}

// TestRefreshReuseWithoutGrace: the default, 0s, graces nothing: the
// first reuse, a millisecond after the rotation, revokes the family.
func TestRefreshReuseWithoutGrace(t *testing.T) {
	e := newOAuthEnv(t)
	first := e.passwordTokens("")
	rotated := e.mustToken(&e.app, refreshForm(first.RefreshToken, ""))
	wantOAuthError(t, e.postForm("/api/oauth2/token", &e.app, refreshForm(first.RefreshToken, "")), http.StatusBadRequest, "invalid_grant")
	wantStatus(t, e.request("GET", "/api/beers", nil, bearer(rotated.AccessToken)), http.StatusUnauthorized)
}

// TestRefreshRaceWithinGrace: two tabs refreshing with one token at once,
// twenty rounds of ten: within the grace every one of them gets working
// tokens, whichever won the rotation, and nothing is revoked.
func TestRefreshRaceWithinGrace(t *testing.T) {
	e := newGraceEnv(t, 30*time.Second)
	for round := range 20 {
		tk := e.passwordTokens("")
		statuses, bodies := e.raceForm(10, "/api/oauth2/token", e.app, refreshForm(tk.RefreshToken, ""))
		if n := countStatus(statuses, 200); n != 10 {
			t.Fatalf("round %d: %d of 10 concurrent refreshes succeeded (statuses %v)", round, n, statuses)
		}
		for i, b := range bodies {
			var got tokens
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			if r := e.request("GET", "/api/users/me", nil, bearer(got.AccessToken)); r.StatusCode != http.StatusOK {
				t.Fatalf("round %d: refresh %d's access token: %d", round, i, r.StatusCode)
			}
		}
	}
}
