package controllers_test

import (
	"context"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"beerlocker/limits"
)

// register posts client metadata to the registration endpoint.
func (e *testEnv) register(metadata any) *response {
	e.t.Helper()
	return e.request("POST", "/api/oauth2/register", metadata)
}

// TestDynamicRegistrationWithRealClient: an app that nobody registered
// registers itself (RFC 7591), then golang.org/x/oauth2 runs the code
// flow with PKCE for it; alice sees a consent page that says the app
// registered itself and where it sends her, allows, and the tokens work.
func TestDynamicRegistrationWithRealClient(t *testing.T) {
	e := newOAuthEnv(t)
	r := e.register(map[string]any{
		"client_name": "Beer Agent", "redirect_uris": []string{"http://127.0.0.1:8765/callback"},
		"grant_types": []string{"authorization_code", "refresh_token"}, "response_types": []string{"code"},
		"token_endpoint_auth_method": "none", "scope": "beers:read beers:write",
		"application_type": "native", "software_id": "ignored", // unknown members are ignored (RFC 7591 §2)
	})
	wantStatus(t, r, http.StatusCreated)
	if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", cc)
	}
	m := r.json(t)
	id, _ := m["client_id"].(string)
	if !strings.HasPrefix(id, "blci_") || m["client_secret"] != nil || m["client_secret_expires_at"] != nil {
		t.Fatalf("public registration = %v", m)
	}
	for k, want := range map[string]any{
		"client_name": "Beer Agent", "redirect_uris": []any{"http://127.0.0.1:8765/callback"},
		"grant_types": []any{"authorization_code", "refresh_token"}, "response_types": []any{"code"},
		"token_endpoint_auth_method": "none", "scope": "beers:read beers:write",
	} {
		if !reflect.DeepEqual(m[k], want) {
			t.Errorf("%s = %v, want %v", k, m[k], want)
		}
	}
	if _, ok := m["client_id_issued_at"].(float64); !ok {
		t.Errorf("client_id_issued_at = %v", m["client_id_issued_at"])
	}

	conf := &oauth2.Config{ClientID: id, RedirectURL: "http://127.0.0.1:8765/callback", Scopes: []string{"beers:read"},
		Endpoint: oauth2.Endpoint{AuthURL: e.server.URL + "/api/oauth2/authorize", TokenURL: e.server.URL + "/api/oauth2/token",
			AuthStyle: oauth2.AuthStyleInParams}}
	verifier := oauth2.GenerateVerifier()
	authURL, err := url.Parse(conf.AuthCodeURL("st-1", oauth2.S256ChallengeOption(verifier)))
	if err != nil {
		t.Fatal(err)
	}
	b := e.aliceBrowser()
	page := b.get(authURL.RequestURI())
	wantStatus(t, page, http.StatusOK)
	for _, want := range []string{"registered itself", "not verified", "<strong>127.0.0.1:8765</strong>"} {
		if !strings.Contains(string(page.body), want) {
			t.Errorf("consent page lacks %q:\n%s", want, page.body)
		}
	}
	if strings.Contains(string(page.body), "an app registered by") {
		t.Errorf("consent page names an owner for an app without one")
	}
	form := consentForm(t, page)
	form.Set("decision", "allow")
	done := b.post("/api/oauth2/authorize/decision", form)
	wantStatus(t, done, http.StatusSeeOther)
	code := location(t, done).Query().Get("code")
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, e.server.Client())
	tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	wantStatus(t, e.request("GET", "/api/beers", nil, bearer(tok.AccessToken)), http.StatusOK)

	// The app is nobody's: it is on alice's account page as an app she
	// approved, and in no one's list of registered clients.
	acct := b.get("/account")
	if !strings.Contains(string(acct.body), "Beer Agent") {
		t.Errorf("/account does not list the approved app")
	}
	r = e.request("GET", "/api/clients", nil, e.alice)
	wantStatus(t, r, http.StatusOK)
	if strings.Contains(string(r.body), id) {
		t.Errorf("alice's clients list the self-registered app: %s", r.body)
	}
}

// TestDynamicRegistrationConfidential: a confidential registration gets a
// secret that never expires, shown once, and it authenticates the app
// the way it registered.
func TestDynamicRegistrationConfidential(t *testing.T) {
	e := newOAuthEnv(t)
	r := e.register(map[string]any{"redirect_uris": []string{"https://agent.example/cb"}, "token_endpoint_auth_method": "client_secret_post",
		"grant_types": []string{"authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"}})
	wantStatus(t, r, http.StatusCreated)
	m := r.json(t)
	secret, _ := m["client_secret"].(string)
	if !strings.HasPrefix(secret, "blcs_") || m["client_secret_expires_at"] != float64(0) || m["token_endpoint_auth_method"] != "client_secret_post" {
		t.Fatalf("confidential registration = %v", m)
	}
	if m["client_name"] != "agent.example" {
		t.Errorf("client_name without one sent = %v, want the redirect host", m["client_name"])
	}
	id := m["client_id"].(string)
	r = e.postForm("/api/oauth2/device_authorization", nil, url.Values{"client_id": {id}, "client_secret": {secret}})
	wantStatus(t, r, http.StatusOK)
	r = e.postForm("/api/oauth2/device_authorization", nil, url.Values{"client_id": {id}, "client_secret": {"blcs_wrong"}})
	wantOAuthError(t, r, http.StatusUnauthorized, "invalid_client")
}

// TestDynamicRegistrationRefusals: bad metadata is a clear RFC 7591 error
// and registers nothing; an app that registers itself gets no grant that
// works without a user's approval.
func TestDynamicRegistrationRefusals(t *testing.T) {
	e := newTestEnv(t)
	cb := []string{"https://agent.example/cb"}
	for _, tc := range []struct {
		name string
		body any
		code string
	}{
		{"fragment", map[string]any{"redirect_uris": []string{"https://agent.example/cb#x"}}, "invalid_redirect_uri"},
		{"http, not loopback", map[string]any{"redirect_uris": []string{"http://agent.example/cb"}}, "invalid_redirect_uri"},
		{"no redirect URI", map[string]any{"client_name": "x"}, "invalid_redirect_uri"},
		{"eleven redirect URIs", map[string]any{"redirect_uris": strings.Split(strings.Repeat("https://a.example/cb,", 11), ",")[:11]}, "invalid_redirect_uri"},
		{"client_credentials", map[string]any{"redirect_uris": cb, "grant_types": []string{"client_credentials"}}, "invalid_client_metadata"},
		{"client_credentials, none", map[string]any{"redirect_uris": cb, "grant_types": []string{"client_credentials"}, "token_endpoint_auth_method": "none"}, "invalid_client_metadata"},
		{"password", map[string]any{"redirect_uris": cb, "grant_types": []string{"authorization_code", "password"}}, "invalid_client_metadata"},
		{"implicit", map[string]any{"redirect_uris": cb, "response_types": []string{"token"}}, "invalid_client_metadata"},
		{"code without the code grant", map[string]any{"redirect_uris": cb, "grant_types": []string{"urn:ietf:params:oauth:grant-type:device_code"}, "response_types": []string{"code"}}, "invalid_client_metadata"},
		{"auth method", map[string]any{"redirect_uris": cb, "token_endpoint_auth_method": "private_key_jwt"}, "invalid_client_metadata"},
		{"unknown scope", map[string]any{"redirect_uris": cb, "scope": "beers:read admin"}, "invalid_client_metadata"},
		{"http client_uri", map[string]any{"redirect_uris": cb, "client_uri": "http://agent.example/"}, "invalid_client_metadata"},
		{"blank name", map[string]any{"redirect_uris": cb, "client_name": " "}, "invalid_client_metadata"},
		{"hidden characters in the name", map[string]any{"redirect_uris": cb, "client_name": "Beer\u202eAgent"}, "invalid_client_metadata"},
		{"redirect_uris a string", map[string]any{"redirect_uris": "https://agent.example/cb"}, "invalid_client_metadata"},
		{"not an object", `["https://agent.example/cb"]`, "invalid_client_metadata"},
		{"not JSON", `{"redirect_uris":`, "invalid_client_metadata"},
	} {
		r := e.register(tc.body)
		wantOAuthError(t, r, http.StatusBadRequest, tc.code)
		if strings.Contains(string(r.body), "client_id") {
			t.Errorf("%s: a refused registration returned a client: %s", tc.name, r.body)
		}
	}
	r := e.request("POST", "/api/oauth2/register", nil, "Content-Type: application/x-www-form-urlencoded")
	wantOAuthError(t, r, http.StatusBadRequest, "invalid_client_metadata")
	big := map[string]any{"redirect_uris": cb, "client_name": strings.Repeat("x", 70<<10)}
	wantStatus(t, e.register(big), http.StatusRequestEntityTooLarge)

	r = e.request("GET", "/.well-known/oauth-authorization-server", nil)
	if got := r.json(t)["registration_endpoint"]; got != "http://localhost:3000/api/oauth2/register" {
		t.Errorf("registration_endpoint = %v", got)
	}
}

// TestDynamicRegistrationLimited: registration is limited per address,
// every attempt counting, a refused one too (API.md §8); another address
// is not held up.
func TestDynamicRegistrationLimited(t *testing.T) {
	lim := testLimits
	lim.Register = limits.Rate{Burst: 3, PerMinute: 1}
	e := newTestEnvConfig(t, openTestStore(t), "http://localhost:3000", lim)
	a := e.from("198.51.100.40")
	ok := map[string]any{"redirect_uris": []string{"https://agent.example/cb"}}
	wantStatus(t, a.register(ok), http.StatusCreated)
	wantOAuthError(t, a.register(map[string]any{"redirect_uris": []string{"http://agent.example/cb"}}), http.StatusBadRequest, "invalid_redirect_uri")
	wantStatus(t, a.register(ok), http.StatusCreated)
	for range 100 {
		r := a.register(ok)
		if r.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("registration past the burst: status %d: %s", r.StatusCode, r.body)
		}
		if r.Header.Get("Retry-After") == "" {
			t.Fatal("429 without Retry-After")
		}
	}
	wantStatus(t, e.from("198.51.100.41").register(ok), http.StatusCreated)
}

// TestRepeatedRegistrationsAreOneApp: an agent that registers anew for
// every authorization is one app on /account (same name, same host), not
// a growing list, and its Revoke ends every registration's tokens; an app
// with another name stays apart.
func TestRepeatedRegistrationsAreOneApp(t *testing.T) {
	e := newOAuthEnv(t)
	b := e.aliceBrowser()
	connect := func(name string) string {
		r := e.register(map[string]any{"client_name": name, "redirect_uris": []string{"http://127.0.0.1:8765/cb"},
			"grant_types": []string{"authorization_code", "refresh_token"}, "token_endpoint_auth_method": "none"})
		wantStatus(t, r, http.StatusCreated)
		c := client{ID: r.json(t)["client_id"].(string), RedirectURI: "http://127.0.0.1:8765/cb"}
		verifier, challenge := pkce()
		code := b.mustCode(authQuery(c, "beers:read", "st", challenge))
		return e.mustToken(&c, codeForm(c, code, verifier)).AccessToken
	}
	var tokens []string
	for range 3 {
		tokens = append(tokens, connect("Beer Agent"))
	}
	other := connect("Other Agent")

	page := string(b.get("/account").body)
	if n := strings.Count(page, "<h3>Beer Agent</h3>"); n != 1 {
		t.Errorf("/account shows Beer Agent %d times, want once:\n%s", n, page)
	}
	if !strings.Contains(page, "3 connections") || !strings.Contains(page, "registered itself, not verified, sends you to 127.0.0.1:8765") {
		t.Errorf("/account does not say what the grouped app is:\n%s", page)
	}
	if !strings.Contains(page, "<h3>Other Agent</h3>") {
		t.Errorf("/account lacks the other app")
	}

	// Revoke on the one entry (its form names one of the registrations).
	m := regexp.MustCompile(`action="/account/apps/([^/]+)/revoke"[^<]*\s*<input[^>]*>\s*<button[^>]*aria-label="Revoke access for Beer Agent"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no revoke form for Beer Agent:\n%s", page)
	}
	r := b.post("/account/apps/"+m[1]+"/revoke", url.Values{"csrf_token": {b.csrfToken("/account")}})
	wantStatus(t, r, http.StatusSeeOther)
	for i, tk := range tokens {
		if got := e.request("GET", "/api/beers", nil, bearer(tk)).StatusCode; got != http.StatusUnauthorized {
			t.Errorf("token of registration %d after Revoke: status %d, want 401", i+1, got)
		}
	}
	wantStatus(t, e.request("GET", "/api/beers", nil, bearer(other)), http.StatusOK)
	page = string(b.get("/account").body)
	if strings.Contains(page, "Beer Agent") || !strings.Contains(page, "Other Agent") {
		t.Errorf("/account after Revoke:\n%s", page)
	}
}

// TestRegistrationAsVSCodeDoes: VS Code registers its web redirects and
// two loopback ones, one without a port, then authorizes from whichever
// port it could listen on (RFC 8252 §7.3 lets a native app do so); Claude
// and the MCP Inspector register an https callback and a localhost one.
// Each gets a code for /mcp at the redirect it uses.
func TestRegistrationAsVSCodeDoes(t *testing.T) {
	e := newOAuthEnvOn(newLiveEnv(t))
	for _, tc := range []struct {
		name      string
		redirects []string
		use       string
	}{
		{"Visual Studio Code", []string{"https://insiders.vscode.dev/redirect", "https://vscode.dev/redirect", "http://127.0.0.1/", "http://127.0.0.1:33418/"}, "http://127.0.0.1:59656/"},
		{"Claude", []string{"https://claude.ai/api/mcp/auth_callback"}, "https://claude.ai/api/mcp/auth_callback"},
		{"MCP Inspector", []string{"http://localhost:6274/oauth/callback", "http://localhost:6274/oauth/callback/debug"}, "http://localhost:6274/oauth/callback"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.request("POST", "/api/oauth2/register", map[string]any{
				"client_name": tc.name, "redirect_uris": tc.redirects, "grant_types": []string{"authorization_code", "refresh_token"},
				"response_types": []string{"code"}, "token_endpoint_auth_method": "none", "application_type": "native",
			})
			wantStatus(t, r, http.StatusCreated)
			app := client{ID: r.json(t)["client_id"].(string), RedirectURI: tc.use}
			verifier, challenge := pkce()
			q := authQuery(app, "beers:read beers:write", "st", challenge)
			q.Set("resource", e.server.URL+"/mcp")
			code := e.aliceBrowser().mustCode(q)
			form := codeForm(app, code, verifier)
			form.Set("resource", e.server.URL+"/mcp")
			tok := e.mustToken(&app, form)
			if tok.AccessToken == "" || tok.RefreshToken == "" {
				t.Errorf("tokens: %+v", tok)
			}
		})
	}
}
