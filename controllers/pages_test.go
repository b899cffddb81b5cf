package controllers_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"beerlocker/models"
	"beerlocker/oauth"
)

func TestPagesRender(t *testing.T) {
	e := newTestEnv(t)
	e.mustRegister("alice", "correct horse")
	signedIn := e.newBrowser()
	signedIn.mustLogIn("alice", "correct horse")
	tests := []struct {
		name string
		b    *browser
		path string
		want string
	}{
		{"home", e.newBrowser(), "/", `href="/register"`},
		{"home signed in", signedIn, "/", "alice"},
		{"login", e.newBrowser(), "/login", `autocomplete="current-password"`},
		{"register", e.newBrowser(), "/register", `autocomplete="new-password"`},
		{"account", signedIn, "/account", "No apps can use your Beer Locker"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.b.get(tc.path)
			wantStatus(t, r, http.StatusOK)
			wantBodyContains(t, r, tc.want)
			if got := r.Header.Get("Content-Type"); got != "text/html; charset=utf-8" {
				t.Errorf("Content-Type = %q, want text/html; charset=utf-8", got)
			}
			if got := r.Header.Get("X-Frame-Options"); got != "DENY" {
				t.Errorf("X-Frame-Options = %q, want DENY", got)
			}
			if got := r.Header.Get("Content-Security-Policy"); !strings.Contains(got, "frame-ancestors 'none'") {
				t.Errorf("Content-Security-Policy = %q, want frame-ancestors 'none'", got)
			}
		})
	}
}

func TestErrorPagesAreNotFramed(t *testing.T) {
	e := newTestEnv(t)
	r := e.newBrowser().post("/login", url.Values{"username": {"x"}})
	wantStatus(t, r, http.StatusForbidden)
	if got := r.Header.Get("X-Frame-Options"); got != "DENY" {
		t.Errorf("X-Frame-Options = %q, want DENY", got)
	}
}

func TestRegisterForm(t *testing.T) {
	e := newTestEnv(t)
	b := e.newBrowser()
	token := b.csrfToken("/register?return_to=/account%3Ftab%3Dapps")
	r := b.post("/register", url.Values{"username": {"Bob"}, "password": {"correct horse"},
		"csrf_token": {token}, "return_to": {"/account?tab=apps"}})
	wantRedirect(t, r, http.StatusSeeOther, "/account?tab=apps")
	if _, err := e.deps.Store.Users.GetByUsername(context.Background(), "bob"); err != nil {
		t.Fatalf("user not created: %v", err)
	}
	// The new user is signed in, with a fresh CSRF token.
	r = b.get("/account")
	wantStatus(t, r, http.StatusOK)
	wantBodyContains(t, r, "Bob")
	if csrfFrom(t, r) == token {
		t.Error("the CSRF token did not change when the session started")
	}
	// The API accepts the password set through the form.
	wantStatus(t, e.request("GET", "/api/users/me", nil, basic("bob", "correct horse")), http.StatusOK)
}

func TestRegisterFormErrors(t *testing.T) {
	e := newTestEnv(t)
	e.mustRegister("taken", "correct horse")
	tests := []struct {
		name     string
		username string
		password string
		status   int
		want     []string
	}{
		{"short username", "ab", "correct horse", http.StatusBadRequest, []string{`id="username-error"`, `aria-invalid="true"`}},
		{"short password", "carol", "short", http.StatusBadRequest, []string{`id="password-error"`}},
		{"both", "", "", http.StatusBadRequest, []string{`id="username-error"`, `id="password-error"`}},
		{"taken, other case", "TAKEN", "correct horse", http.StatusConflict, []string{"That username is taken."}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := e.newBrowser()
			r := b.post("/register", url.Values{"username": {tc.username}, "password": {tc.password},
				"csrf_token": {b.csrfToken("/register")}})
			wantStatus(t, r, tc.status)
			wantBodyContains(t, r, `role="alert"`)
			for _, w := range tc.want {
				wantBodyContains(t, r, w)
			}
			if tc.password != "" && strings.Contains(string(r.body), tc.password) {
				t.Error("the page repeats the password")
			}
		})
	}
}

func TestLogin(t *testing.T) {
	e := newTestEnv(t)
	e.mustRegister("alice", "correct horse")
	t.Run("success goes to return_to", func(t *testing.T) {
		b := e.newBrowser()
		before := b.csrfToken("/login")
		r := b.logIn("alice", "correct horse", "/api/oauth2/authorize?client_id=x&state=y")
		wantRedirect(t, r, http.StatusSeeOther, "/api/oauth2/authorize?client_id=x&state=y")
		r = b.get("/account")
		wantStatus(t, r, http.StatusOK)
		if csrfFrom(t, r) == before {
			t.Error("the CSRF token did not change at login")
		}
	})
	t.Run("success without return_to goes to account", func(t *testing.T) {
		wantRedirect(t, e.newBrowser().logIn("ALICE", "correct horse", ""), http.StatusSeeOther, "/account")
	})
	for _, tc := range []struct{ name, username, password string }{
		{"wrong password", "alice", "wrong horse"},
		{"unknown user", "mallory", "correct horse"},
		{"empty", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := e.newBrowser()
			r := b.logIn(tc.username, tc.password, "/account")
			wantStatus(t, r, http.StatusUnauthorized)
			wantBodyContains(t, r, `role="alert"`)
			wantBodyContains(t, r, "The username or password is wrong.")
			wantRedirect(t, b.get("/account"), http.StatusFound, "/login?return_to=%2Faccount")
		})
	}
}

func TestLoginCSRF(t *testing.T) {
	e := newTestEnv(t)
	e.mustRegister("alice", "correct horse")
	other := e.newBrowser().csrfToken("/login")
	tests := []struct {
		name  string
		token func(b *browser) (string, bool) // the token and whether to send it
	}{
		{"missing", func(b *browser) (string, bool) { b.csrfToken("/login"); return "", false }},
		{"empty", func(b *browser) (string, bool) { b.csrfToken("/login"); return "", true }},
		{"wrong", func(b *browser) (string, bool) { return b.csrfToken("/login") + "x", true }},
		{"another browser's", func(b *browser) (string, bool) { b.csrfToken("/login"); return other, true }},
		{"no session at all", func(b *browser) (string, bool) { return other, true }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := e.newBrowser()
			form := url.Values{"username": {"alice"}, "password": {"correct horse"}, "return_to": {"/account"}}
			if token, send := tc.token(b); send {
				form.Set("csrf_token", token)
			}
			r := b.post("/login", form)
			wantStatus(t, r, http.StatusForbidden)
			wantRedirect(t, b.get("/account"), http.StatusFound, "/login?return_to=%2Faccount")
		})
	}
}

func TestLoginOpenRedirect(t *testing.T) {
	e := newTestEnv(t)
	e.mustRegister("alice", "correct horse")
	for _, returnTo := range []string{
		"//evil.example", "https://evil.example", `/\evil.example`, "/%5Cevil.example", "/%2F/evil.example",
		"javascript:alert(1)", "\x00", "/\x00", "/\t/evil.example", "evil.example", "///evil.example",
		"/" + strings.Repeat("a", 2048),
	} {
		t.Run(returnTo, func(t *testing.T) {
			wantRedirect(t, e.newBrowser().logIn("alice", "correct horse", returnTo), http.StatusSeeOther, "/account")
		})
	}
}

func TestSessionCookie(t *testing.T) {
	for _, tc := range []struct {
		publicURL string
		secure    bool
		name      string
	}{
		{"http://localhost:3000", false, "beerlocker_session"},
		// RFC 6265bis §4.1.3.2: a __Host- cookie is Secure, Path=/ and has
		// no Domain, so no sibling or parent domain can plant or shadow it.
		{"https://beers.example.com", true, "__Host-beerlocker_session"},
	} {
		t.Run(tc.publicURL, func(t *testing.T) {
			e := newTestEnvPublicURL(t, tc.publicURL)
			r := e.newBrowser().get("/login")
			c := sessionCookie(t, r)
			if c.Name != tc.name {
				t.Errorf("cookie name = %q, want %q", c.Name, tc.name)
			}
			if c.Path != "/" || c.Domain != "" {
				t.Errorf("Path = %q, Domain = %q; want / and none", c.Path, c.Domain)
			}
			if raw := r.Header.Get("Set-Cookie"); strings.Contains(strings.ToLower(raw), "domain=") {
				t.Errorf("Set-Cookie %q has a Domain", raw)
			}
			if !c.HttpOnly {
				t.Error("session cookie is not HttpOnly")
			}
			if c.SameSite != http.SameSiteLaxMode {
				t.Errorf("SameSite = %v, want Lax", c.SameSite)
			}
			if c.Secure != tc.secure {
				t.Errorf("Secure = %v, want %v", c.Secure, tc.secure)
			}
		})
	}
}

func TestAccountRequiresLogin(t *testing.T) {
	e := newTestEnv(t)
	wantRedirect(t, e.newBrowser().get("/account"), http.StatusFound, "/login?return_to=%2Faccount")
}

func TestLogout(t *testing.T) {
	e := newTestEnv(t)
	e.mustRegister("alice", "correct horse")
	b := e.newBrowser()
	b.mustLogIn("alice", "correct horse")
	token := b.csrfToken("/account")

	wantStatus(t, b.post("/logout", url.Values{}), http.StatusForbidden)
	wantStatus(t, b.post("/logout", url.Values{"csrf_token": {token + "x"}}), http.StatusForbidden)
	wantStatus(t, b.get("/account"), http.StatusOK)

	wantRedirect(t, b.post("/logout", url.Values{"csrf_token": {token}}), http.StatusSeeOther, "/")
	wantRedirect(t, b.get("/account"), http.StatusFound, "/login?return_to=%2Faccount")
}

// connectApp creates a client owned by ownerID that userID has allowed,
// with an access token, and returns the client id and the token's hash.
func connectApp(t *testing.T, e *testEnv, ownerID, userID, name string, scopes []string) (clientID, tokenHash string) {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	c := &models.Client{ID: oauth.NewClientID(), OwnerID: ownerID, Name: name, SecretHash: oauth.HashSecret("secret " + name),
		RedirectURIs: []string{"https://app.example/cb"}, GrantTypes: models.DefaultGrantTypes(), CreatedAt: now, UpdatedAt: now}
	if err := e.deps.Store.Clients.Create(ctx, c); err != nil {
		t.Fatalf("create client: %v", err)
	}
	if _, err := e.deps.Store.Consents.Grant(ctx, userID, c.ID, scopes, time.Time{}, now); err != nil {
		t.Fatalf("grant consent: %v", err)
	}
	hash := oauth.HashSecret("access token for " + name)
	tok := &models.Token{Hash: hash, Kind: models.AccessToken, ClientID: c.ID, UserID: userID, Scopes: scopes,
		FamilyID: "family " + name, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := e.deps.Store.Tokens.Create(ctx, tok); err != nil {
		t.Fatalf("create token: %v", err)
	}
	return c.ID, hash
}

func TestAccountRevoke(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	owner := e.mustRegister("dev", "correct horse")
	alice := e.mustRegister("alice", "correct horse")
	revoked, revokedToken := connectApp(t, e, owner, alice, "Beer Tracker <Pro>", []string{models.ScopeProfile, models.ScopeBeersRead})
	kept, keptToken := connectApp(t, e, owner, alice, "Cellar Sync", []string{models.ScopeBeersWrite})

	b := e.newBrowser()
	b.mustLogIn("alice", "correct horse")
	r := b.get("/account")
	wantStatus(t, r, http.StatusOK)
	for _, want := range []string{
		"Beer Tracker &lt;Pro&gt;", "Cellar Sync", models.ScopeDescription(models.ScopeBeersRead),
		"Connected since " + time.Now().UTC().Format("2 January 2006"),
		`action="/account/apps/` + revoked + `/revoke"`, `action="/account/apps/` + kept + `/revoke"`,
	} {
		wantBodyContains(t, r, want)
	}
	token := csrfFrom(t, r)

	// Without the CSRF token nothing is deleted.
	wantStatus(t, b.post("/account/apps/"+revoked+"/revoke", url.Values{}), http.StatusForbidden)
	if _, err := e.deps.Store.Consents.Get(ctx, alice, revoked); err != nil {
		t.Fatalf("consent after a revoke without CSRF token: %v, want it kept", err)
	}
	// Another browser cannot use alice's token, and its own token acts for nobody.
	eve := e.newBrowser()
	wantStatus(t, eve.post("/account/apps/"+revoked+"/revoke", url.Values{"csrf_token": {token}}), http.StatusForbidden)
	wantRedirect(t, eve.post("/account/apps/"+revoked+"/revoke", url.Values{"csrf_token": {eve.csrfToken("/login")}}),
		http.StatusSeeOther, "/login?return_to=%2Faccount")
	if _, err := e.deps.Store.Consents.Get(ctx, alice, revoked); err != nil {
		t.Fatalf("consent after another browser's revoke: %v, want it kept", err)
	}

	wantRedirect(t, b.post("/account/apps/"+revoked+"/revoke", url.Values{"csrf_token": {token}}), http.StatusSeeOther, "/account")
	if _, err := e.deps.Store.Consents.Get(ctx, alice, revoked); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("consent after revoke: err = %v, want ErrNotFound", err)
	}
	if _, err := e.deps.Store.Tokens.Get(ctx, revokedToken, time.Now()); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("token after revoke: err = %v, want ErrNotFound", err)
	}
	if _, err := e.deps.Store.Tokens.Get(ctx, keptToken, time.Now()); err != nil {
		t.Errorf("the other app's token: %v, want it kept", err)
	}
	r = b.get("/account")
	wantStatus(t, r, http.StatusOK)
	if strings.Contains(string(r.body), revoked) || !strings.Contains(string(r.body), kept) {
		t.Errorf("account page after revoke lists the wrong apps:\n%s", r.body)
	}
	// Revoking again, or an app never connected, is harmless.
	wantRedirect(t, b.post("/account/apps/"+revoked+"/revoke", url.Values{"csrf_token": {token}}), http.StatusSeeOther, "/account")
	wantRedirect(t, b.post("/account/apps/nope/revoke", url.Values{"csrf_token": {token}}), http.StatusSeeOther, "/account")
}

func TestPageFormTooLarge(t *testing.T) {
	e := newTestEnv(t)
	b := e.newBrowser()
	r := b.post("/login", url.Values{"csrf_token": {b.csrfToken("/login")}, "username": {strings.Repeat("a", 70<<10)}})
	wantStatus(t, r, http.StatusRequestEntityTooLarge)
}

// TestAccountListsPasswordGrantApps: API.md §7, every app holding tokens
// for the user is listed on /account, one that got them through the
// password grant too, and its Revoke ends them.
func TestAccountListsPasswordGrantApps(t *testing.T) {
	e := newOAuthEnv(t)
	tk := e.passwordTokens("profile beers:read")
	b := e.aliceBrowser()
	r := b.get("/account")
	wantStatus(t, r, http.StatusOK)
	for _, want := range []string{"Beer Buddy", models.ScopeDescription(models.ScopeBeersRead),
		`action="/account/apps/` + e.app.ID + `/revoke"`} {
		wantBodyContains(t, r, want)
	}
	wantRedirect(t, b.post("/account/apps/"+e.app.ID+"/revoke", url.Values{"csrf_token": {csrfFrom(t, r)}}),
		http.StatusSeeOther, "/account")
	wantStatus(t, e.request("GET", "/api/users/me", nil, bearer(tk.AccessToken)), http.StatusUnauthorized)
	wantOAuthError(t, e.postForm("/api/oauth2/token", &e.app, refreshForm(tk.RefreshToken, "")), http.StatusBadRequest, "invalid_grant")
	if r := b.get("/account"); strings.Contains(string(r.body), "Beer Buddy") {
		t.Errorf("the revoked app is still listed:\n%s", r.body)
	}
}

// TestDemoCallbackShowsOnlyFixedTexts: the demo app's callback is a page
// of this service's origin that anyone can link to with any query, so it
// must not show a stranger's words as the service's (content spoofing).
// It shows a fixed text for each known error code instead of
// error_description, names only known codes, and shows the code and state
// only when they look like values, not sentences.
func TestDemoCallbackShowsOnlyFixedTexts(t *testing.T) {
	e := newTestEnv(t)
	b := e.newBrowser()
	const spoof = "Your account is locked. Call +1 555 0100 to unlock it"
	for _, tc := range []struct {
		name  string
		query url.Values
		want  []string
	}{
		{"known error", url.Values{"error": {"access_denied"}, "error_description": {spoof}},
			[]string{"access_denied", "You denied the app access"}},
		{"unknown error", url.Values{"error": {spoof}, "error_description": {"details"}},
			[]string{"an error this demo does not know"}},
		{"code as a sentence", url.Values{"code": {spoof}, "state": {"demo"}}, []string{"No code or error arrived"}},
		{"state as a sentence", url.Values{"code": {"blac_abc-DEF_123"}, "state": {spoof}}, []string{"blac_abc-DEF_123"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := b.get("/demo/callback?" + tc.query.Encode())
			wantStatus(t, r, http.StatusOK)
			for _, want := range tc.want {
				wantBodyContains(t, r, want)
			}
			for _, banned := range []string{"Your account is locked", "details"} {
				if strings.Contains(string(r.body), banned) {
					t.Errorf("the page shows the query's text %q:\n%s", banned, r.body)
				}
			}
		})
	}
}
