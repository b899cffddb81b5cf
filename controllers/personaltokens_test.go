package controllers_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"beerlocker/models"
	"beerlocker/security"
)

// TestPersonalAccessTokens (API.md §11): made with the password, shown
// once, a Bearer token on the API limited to its scopes, listed with its
// last use and never its value, deleted by its owner only, and ended by a
// password change.
func TestPersonalAccessTokens(t *testing.T) {
	e := newTestEnv(t)
	e.mustRegister("alice", "alices password")
	e.mustRegister("bob", "bobs password")
	alice, bob := basic("alice", "alices password"), basic("bob", "bobs password")

	r := e.request("POST", "/api/users/me/tokens", map[string]any{"name": "backup script", "scopes": []string{"beers:read", "profile"}}, alice)
	wantStatus(t, r, http.StatusCreated)
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", r.Header.Get("Cache-Control"))
	}
	made := r.json(t)
	value, _ := made["token"].(string)
	if !strings.HasPrefix(value, "blpat_") || len(value) < 40 {
		t.Fatalf("token = %q", value)
	}
	if got := made["scopes"].([]any); len(got) != 2 || got[0] != "profile" || got[1] != "beers:read" {
		t.Errorf("scopes = %v, want [profile beers:read]", got)
	}
	created, _ := time.Parse(time.RFC3339Nano, made["created_at"].(string))
	expires, _ := time.Parse(time.RFC3339Nano, made["expires_at"].(string))
	if expires.Sub(created) != 30*24*time.Hour {
		t.Errorf("expires_at - created_at = %v, want 30 days", expires.Sub(created))
	}
	if made["last_used_at"] != nil {
		t.Errorf("last_used_at = %v on a new token, want null", made["last_used_at"])
	}
	id := made["id"].(string)
	pat := "Authorization: Bearer " + value
	wantPersonalTokenInRedis(t, value)

	// Listed, without its value.
	r = e.request("GET", "/api/users/me/tokens", nil, alice)
	wantStatus(t, r, http.StatusOK)
	if strings.Contains(string(r.body), value) || strings.Contains(string(r.body), `"token"`) {
		t.Errorf("the list shows the token's value: %s", r.body)
	}

	// A Bearer token on the API, limited to its scopes.
	wantStatus(t, e.request("GET", "/api/beers", nil, pat), http.StatusOK)
	wantStatus(t, e.request("GET", "/api/users/me", nil, pat), http.StatusOK)
	r = e.request("POST", "/api/beers", map[string]any{"name": "Not mine to add", "quantity": 1}, pat)
	wantStatus(t, r, http.StatusForbidden)
	if !strings.Contains(r.Header.Get("WWW-Authenticate"), `error="insufficient_scope", scope="beers:write"`) {
		t.Errorf("WWW-Authenticate = %q", r.Header.Get("WWW-Authenticate"))
	}
	// Not for the token routes themselves, nor for /mcp.
	wantStatus(t, e.request("GET", "/api/users/me/tokens", nil, pat), http.StatusForbidden)
	wantStatus(t, e.request("POST", "/api/users/me/tokens", map[string]any{"name": "more", "scopes": []string{"profile"}}, pat), http.StatusForbidden)
	wantStatus(t, e.request("POST", "/mcp", `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, pat,
		"Accept: application/json, text/event-stream"), http.StatusUnauthorized)
	wantStatus(t, e.request("DELETE", "/api/users/me/tokens/"+id, nil, pat), http.StatusForbidden)
	// Nor does an app's token manage them, whatever its scopes.
	app := e.mustCreateClient(alice, map[string]any{"name": "Scripted", "grant_types": []string{"password"}})
	tok := e.mustToken(&app, url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"alices password"},
		"scope": {"profile beers:read beers:write clients"}})
	appToken := "Authorization: Bearer " + tok.AccessToken
	wantStatus(t, e.request("GET", "/api/users/me/tokens", nil, appToken), http.StatusForbidden)
	wantStatus(t, e.request("POST", "/api/users/me/tokens", map[string]any{"name": "more", "scopes": []string{"profile"}}, appToken), http.StatusForbidden)
	wantStatus(t, e.request("DELETE", "/api/users/me/tokens/"+id, nil, appToken), http.StatusForbidden)

	// The use is listed, to the hour.
	r = e.request("GET", "/api/users/me/tokens", nil, alice)
	list := r.json(t)["tokens"].([]any)
	if len(list) != 1 {
		t.Fatalf("tokens = %v", list)
	}
	used, _ := time.Parse(time.RFC3339, list[0].(map[string]any)["last_used_at"].(string))
	if want := e.clock.Now().UTC().Truncate(time.Hour); !used.Equal(want) {
		t.Errorf("last_used_at = %v, want %v", used, want)
	}

	// Bob cannot delete it, or see it.
	wantProblem(t, e.request("DELETE", "/api/users/me/tokens/"+id, nil, bob), http.StatusNotFound)
	if r := e.request("GET", "/api/users/me/tokens", nil, bob); len(r.json(t)["tokens"].([]any)) != 0 {
		t.Errorf("bob lists %s", r.body)
	}
	wantStatus(t, e.request("GET", "/api/beers", nil, pat), http.StatusOK)

	// Deleting it ends it at once.
	wantStatus(t, e.request("DELETE", "/api/users/me/tokens/"+id, nil, alice), http.StatusNoContent)
	wantStatus(t, e.request("GET", "/api/beers", nil, pat), http.StatusUnauthorized)
	wantProblem(t, e.request("DELETE", "/api/users/me/tokens/"+id, nil, alice), http.StatusNotFound)

	// Both are in the security log, with the ids and never the value.
	ev := e.securityEvents(t)
	wantEvent(t, ev, security.EventPersonalTokenCreated, map[string]string{"token_id": id})
	wantEvent(t, ev, security.EventPersonalTokenRevoked, map[string]string{"token_id": id})
	if strings.Contains(e.logs.String(), value) {
		t.Error("the log holds the token's value")
	}

	// A password change ends every one of them.
	r = e.request("POST", "/api/users/me/tokens", map[string]any{"name": "a", "scopes": []string{"beers:read"}, "expires_in_days": 1}, alice)
	wantStatus(t, r, http.StatusCreated)
	other := "Authorization: Bearer " + r.json(t)["token"].(string)
	wantStatus(t, e.request("GET", "/api/beers", nil, other), http.StatusOK)
	wantStatus(t, e.request("PATCH", "/api/users/me", map[string]string{"password": "alices new password"}, alice), http.StatusOK)
	wantStatus(t, e.request("GET", "/api/beers", nil, other), http.StatusUnauthorized)
	if r := e.request("GET", "/api/users/me/tokens", nil, basic("alice", "alices new password")); len(r.json(t)["tokens"].([]any)) != 0 {
		t.Errorf("tokens after the password change: %s", r.body)
	}

	// It expires: a 1-day token is refused after a day.
	r = e.request("POST", "/api/users/me/tokens", map[string]any{"name": "short", "scopes": []string{"beers:read"}, "expires_in_days": 1},
		basic("alice", "alices new password"))
	short := "Authorization: Bearer " + r.json(t)["token"].(string)
	e.clock.Advance(24*time.Hour + time.Second)
	wantStatus(t, e.request("GET", "/api/beers", nil, short), http.StatusUnauthorized)

	// Deleting the account ends them too.
	r = e.request("POST", "/api/users/me/tokens", map[string]any{"name": "last", "scopes": []string{"beers:read"}},
		basic("alice", "alices new password"))
	wantStatus(t, r, http.StatusCreated)
	last := "Authorization: Bearer " + r.json(t)["token"].(string)
	wantStatus(t, e.request("GET", "/api/beers", nil, last), http.StatusOK)
	wantStatus(t, e.request("DELETE", "/api/users/me", nil, basic("alice", "alices new password")), http.StatusNoContent)
	wantStatus(t, e.request("GET", "/api/beers", nil, last), http.StatusUnauthorized)
}

// TestPersonalAccessTokenRefusals: bad input is a 400 with errors[], and
// nothing is made.
func TestPersonalAccessTokenRefusals(t *testing.T) {
	e := newTestEnv(t)
	e.mustRegister("alice", "alices password")
	alice := basic("alice", "alices password")
	for _, tc := range []struct {
		body  any
		field string
	}{
		{map[string]any{"name": "x", "scopes": []string{"beers:read"}, "expires_in_days": 0}, "expires_in_days"},
		{map[string]any{"name": "x", "scopes": []string{"beers:read"}, "expires_in_days": 367}, "expires_in_days"},
		{map[string]any{"name": "x", "scopes": []string{"beers:read"}, "expires_in_days": 1.5}, "expires_in_days"},
		{map[string]any{"name": "x", "scopes": []string{"beers:read"}, "expires_in_days": "30"}, "expires_in_days"},
		{map[string]any{"name": "x", "scopes": []string{}}, "scopes"},
		{map[string]any{"name": "x", "scopes": []string{"openid"}}, "scopes"},
		{map[string]any{"name": "x", "scopes": []string{"beers:read", "admin"}}, "scopes"},
		{map[string]any{"name": "x"}, "scopes"},
		{map[string]any{"name": "", "scopes": []string{"profile"}}, "name"},
		{map[string]any{"name": strings.Repeat("n", 101), "scopes": []string{"profile"}}, "name"},
		{map[string]any{"scopes": []string{"profile"}}, "name"},
	} {
		p := wantProblem(t, e.request("POST", "/api/users/me/tokens", tc.body, alice), http.StatusBadRequest)
		if !slices.Contains(problemFields(p), tc.field) {
			t.Errorf("%v: errors = %v, want one for %s", tc.body, p["errors"], tc.field)
		}
	}
	wantProblem(t, e.request("POST", "/api/users/me/tokens", `{"name":"x","scopes":["profile"],"admin":true}`, alice), http.StatusBadRequest)
	wantProblem(t, e.request("POST", "/api/users/me/tokens", map[string]any{"name": "x", "scopes": []string{"profile"}}), http.StatusUnauthorized)
	if r := e.request("GET", "/api/users/me/tokens", nil, alice); len(r.json(t)["tokens"].([]any)) != 0 {
		t.Errorf("tokens after refused requests: %s", r.body)
	}
}

// TestPersonalAccessTokensOnAccountPage: made on /account with the
// password typed again, shown once with a copy button, listed, revoked.
func TestPersonalAccessTokensOnAccountPage(t *testing.T) {
	e := newTestEnv(t)
	e.mustRegister("alice", "alices password")
	b := e.newBrowser()
	b.mustLogIn("alice", "alices password")
	csrf := b.csrfToken("/account")
	make := func(password string) *response {
		return b.post("/account/tokens", url.Values{"csrf_token": {csrf}, "name": {"postman"}, "scope": {"beers:read", "beers:write"},
			"days": {"7"}, "password": {password}})
	}
	r := make("not the password")
	wantStatus(t, r, http.StatusUnauthorized)
	wantBodyContains(t, r, "The password is wrong.")
	r = make("alices password")
	wantStatus(t, r, http.StatusOK)
	m := regexp.MustCompile(`<code id="new-token">(blpat_[A-Za-z0-9_-]+)</code>`).FindSubmatch(r.body)
	if m == nil {
		t.Fatalf("the page does not show the new token:\n%s", r.body)
	}
	wantBodyContains(t, r, `id="copy-token"`)
	value := string(m[1])
	wantStatus(t, e.request("POST", "/api/beers", map[string]any{"name": "From the page", "quantity": 1}, "Authorization: Bearer "+value), http.StatusCreated)
	page := b.get("/account")
	if strings.Contains(string(page.body), value) {
		t.Error("/account shows the token again")
	}
	wantBodyContains(t, page, "postman")
	id := regexp.MustCompile(`action="/account/tokens/([^/"]+)/revoke"`).FindSubmatch(page.body)
	if id == nil {
		t.Fatalf("no revoke form:\n%s", page.body)
	}
	wantStatus(t, b.post("/account/tokens/"+string(id[1])+"/revoke", url.Values{"csrf_token": {csrf}}), http.StatusSeeOther)
	wantStatus(t, e.request("GET", "/api/beers", nil, "Authorization: Bearer "+value), http.StatusUnauthorized)
	// Without the CSRF token nothing is made.
	r = b.post("/account/tokens", url.Values{"name": {"x"}, "scope": {"profile"}, "days": {"7"}, "password": {"alices password"}})
	wantStatus(t, r, http.StatusForbidden)
}

// racingTokens runs hook, once, just before the first Create it passes
// on: a password change landing between a request's password check and
// its insert.
type racingTokens struct {
	models.PersonalTokenRepository
	hook func()
}

func (r *racingTokens) Create(ctx context.Context, t *models.PersonalToken) error {
	if h := r.hook; h != nil {
		r.hook = nil
		h()
	}
	return r.PersonalTokenRepository.Create(ctx, t)
}

// TestPersonalAccessTokenPasswordChangeRace: a token asked for with the
// old password while the password changes is not made, through the API
// or on /account: a password change ends every token (API.md §11),
// including one that was being made at that moment.
func TestPersonalAccessTokenPasswordChangeRace(t *testing.T) {
	store := openTestStore(t)
	racing := &racingTokens{PersonalTokenRepository: store.PersonalTokens}
	store.PersonalTokens = racing
	e := newTestEnvWith(t, store)
	e.mustRegister("alice", "alices password")
	password := "alices password"
	change := func(to string) func() {
		return func() {
			wantStatus(t, e.request("PATCH", "/api/users/me", map[string]string{"password": to}, basic("alice", password)), http.StatusOK)
			password = to
		}
	}
	wantNoTokens := func(what string) {
		t.Helper()
		r := e.request("GET", "/api/users/me/tokens", nil, basic("alice", password))
		wantStatus(t, r, http.StatusOK)
		if n := len(r.json(t)["tokens"].([]any)); n != 0 {
			t.Errorf("%s: %d tokens outlive the password change: %s", what, n, r.body)
		}
	}

	racing.hook = change("alices second password")
	r := e.request("POST", "/api/users/me/tokens", map[string]any{"name": "raced", "scopes": []string{"beers:read"}},
		basic("alice", "alices password"))
	wantProblem(t, r, http.StatusUnauthorized)
	if ch := strings.Join(r.Header.Values("WWW-Authenticate"), ", "); !strings.Contains(ch, "Basic") {
		t.Errorf("WWW-Authenticate = %q, want a Basic challenge", ch)
	}
	if strings.Contains(string(r.body), "blpat_") {
		t.Errorf("the refusal shows a token: %s", r.body)
	}
	wantNoTokens("API")

	b := e.newBrowser()
	b.mustLogIn("alice", password)
	csrf := b.csrfToken("/account")
	racing.hook = change("alices third password")
	r = b.post("/account/tokens", url.Values{"csrf_token": {csrf}, "name": {"raced"}, "scope": {"beers:read"},
		"days": {"7"}, "password": {"alices second password"}})
	wantStatus(t, r, http.StatusUnauthorized)
	if strings.Contains(string(r.body), "blpat_") {
		t.Errorf("the page shows a token made with the old password:\n%s", r.body)
	}
	wantNoTokens("/account")

	// Without a change in between, the same request makes one.
	r = e.request("POST", "/api/users/me/tokens", map[string]any{"name": "calm", "scopes": []string{"beers:read"}}, basic("alice", password))
	wantStatus(t, r, http.StatusCreated)
}
