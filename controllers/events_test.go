package controllers_test

import (
	"beerlocker/security"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// securityEvents returns the env's security log lines, by event.
func (e *testEnv) securityEvents(t *testing.T) map[string][]map[string]any {
	t.Helper()
	out := map[string][]map[string]any{}
	for _, line := range strings.Split(strings.TrimSpace(e.logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %v: %s", err, line)
		}
		if m["msg"] == "security" {
			out[m["event"].(string)] = append(out[m["event"].(string)], m)
		}
	}
	return out
}

// wantEvent checks that some event of that name has all of attrs.
func wantEvent(t *testing.T, events map[string][]map[string]any, name string, attrs map[string]string) {
	t.Helper()
next:
	for _, ev := range events[name] {
		for k, v := range attrs {
			if ev[k] != v {
				continue next
			}
		}
		if id, _ := ev["request_id"].(string); id == "" {
			t.Errorf("%s event without a request id: %v", name, ev)
		}
		return
	}
	t.Errorf("no %s event with %v; got %v", name, attrs, events[name])
}

// TestSecurityEvents: each security event (issue 7, item 7) is one
// greppable line with the ids that matter and no secret.
func TestSecurityEvents(t *testing.T) {
	e := newLimitEnv(t)
	aliceID := e.from("192.0.2.50").request("GET", "/api/users/me", nil, basic("alice", "alices password")).json(t)["id"].(string)
	devID := e.request("GET", "/api/users/me", nil, basic("dev", "devs password")).json(t)["id"].(string)
	const attacker = "198.51.100.7"

	// Login failures on each surface, then the lockout they cause.
	e.from(attacker).request("GET", "/api/users/me", nil, basic("alice", "guess one"))
	e.from(attacker).newBrowser().logIn("alice", "guess two", "")
	e.from(attacker).postForm("/api/oauth2/token", &e.app, passwordForm("alice", "guess three", ""))
	e.from(attacker).request("GET", "/api/users/me", nil, basic("Mallory", "guess four"))
	e.from(attacker).postForm("/api/oauth2/token", &client{ID: e.svc.ID, Secret: "guess five"}, url.Values{"grant_type": {"client_credentials"}})

	// A code replayed, then a rotated refresh token reused.
	b := e.from("192.0.2.50").newBrowser()
	b.mustLogIn("alice", "alices password")
	code := b.mustCode(authQuery(e.app, "profile", "st", ""))
	first := e.mustToken(&e.app, codeForm(e.app, code, ""))
	wantOAuthError(t, e.postForm("/api/oauth2/token", &e.app, codeForm(e.app, code, "")), http.StatusBadRequest, "invalid_grant")
	tk := e.mustToken(&e.app, passwordForm("alice", "alices password", ""))
	e.mustToken(&e.app, refreshForm(tk.RefreshToken, ""))
	wantOAuthError(t, e.postForm("/api/oauth2/token", &e.app, refreshForm(tk.RefreshToken, "")), http.StatusBadRequest, "invalid_grant")

	// The developer rotates a secret; alice revokes the app.
	r := e.request("POST", "/api/clients/"+e.svc.ID+"/secret", nil, basic("dev", "devs password"))
	wantStatus(t, r, http.StatusOK)
	newSecret := r.json(t)["client_secret"].(string)
	page := b.get("/account")
	wantRedirect(t, b.post("/account/apps/"+e.app.ID+"/revoke", url.Values{"csrf_token": {csrfFrom(t, page)}}), http.StatusSeeOther, "/account")

	ev := e.securityEvents(t)
	for _, via := range []string{"basic", "login", "password_grant"} {
		wantEvent(t, ev, security.EventLoginFailed, map[string]string{"via": via, "user_id": aliceID, "address": attacker})
	}
	wantEvent(t, ev, security.EventLoginFailed, map[string]string{"via": "basic", "username_hash": pseudonymOf(e, "Mallory")})
	wantEvent(t, ev, security.EventLockout, map[string]string{"locked": "account", "user_id": aliceID})
	wantEvent(t, ev, security.EventClientAuthFailed, map[string]string{"client_id": e.svc.ID, "address": attacker, "reason": "wrong_secret"})
	wantEvent(t, ev, security.EventCodeReplayed, map[string]string{"client_id": e.app.ID})
	wantEvent(t, ev, security.EventFamilyRevoked, map[string]string{"client_id": e.app.ID, "reason": "code_replayed"})
	wantEvent(t, ev, security.EventRefreshReused, map[string]string{"client_id": e.app.ID, "user_id": aliceID})
	wantEvent(t, ev, security.EventFamilyRevoked, map[string]string{"client_id": e.app.ID, "user_id": aliceID, "reason": "refresh_token_reused"})
	wantEvent(t, ev, security.EventSecretRotated, map[string]string{"client_id": e.svc.ID, "owner_id": devID})
	wantEvent(t, ev, security.EventAppRevoked, map[string]string{"client_id": e.app.ID, "user_id": aliceID})

	log := e.logs.String()
	for _, secret := range []string{"alices password", "guess one", "guess two", "guess three", "guess four", "guess five",
		"Mallory", "mallory", e.svc.Secret, e.app.Secret, newSecret, code, first.AccessToken, first.RefreshToken, tk.RefreshToken} {
		if strings.Contains(log, secret) {
			t.Errorf("the log holds %q", secret)
		}
	}
}

// pseudonymOf is the username_hash the env logs for username.
func pseudonymOf(e *limitEnv, username string) string {
	return e.deps.Verifier.Pseudonym(username)
}
