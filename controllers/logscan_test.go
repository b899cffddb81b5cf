package controllers_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"beerlocker/middleware"
)

// secrets collects every secret a test used or received.
type secrets map[string]string // value → what it is

func (s secrets) add(what string, values ...string) {
	for _, v := range values {
		if v != "" {
			s[v] = what
		}
	}
}

// issuedSecret matches the values the server issues (oauth/secret.go), so
// that one the test did not record is caught too.
var issuedSecret = regexp.MustCompile(`bl(at|rt|ac|cs)_[A-Za-z0-9_-]{20,}`)

// TestLogsHoldNoSecrets runs a full OAuth flow and the failures around it
// (wrong passwords, a replayed code, refresh reuse, secret rotation,
// revocation, a password change) with the log captured as JSON, then
// scans the log for every password, client secret, code, token, code
// verifier, CSRF token and session cookie the test used or received, in
// the forms a careless log line would hold them: raw, JSON-escaped,
// URL-encoded and, for passwords, inside a Basic header.
func TestLogsHoldNoSecrets(t *testing.T) {
	e := newTestEnv(t) // its log is JSON in e.logs
	s := secrets{}
	s.add("password", "devs password 1", "alices password 1", "alices new password 2")
	s.add("wrong password", "alices wrong guess 3", "guessed for nobody 4", "wrong for the grant 5", "a wrong form password 6")

	e.mustRegister("dev", "devs password 1")
	e.mustRegister("alice", "alices password 1")
	dev := basic("dev", "devs password 1")

	// Wrong passwords on every surface that checks one.
	wantProblem(t, e.request("GET", "/api/users/me", nil, basic("alice", "alices wrong guess 3")), http.StatusUnauthorized)
	wantProblem(t, e.request("GET", "/api/users/me", nil, basic("nobody", "guessed for nobody 4")), http.StatusUnauthorized)
	wantProblem(t, e.request("GET", "/api/users/me", nil, bearer("blat_not-a-token-the-server-issued-at-all")), http.StatusUnauthorized)
	s.add("forged token", "blat_not-a-token-the-server-issued-at-all")

	app := e.mustCreateClient(dev, map[string]any{"name": "Beer Buddy",
		"grant_types": []string{"authorization_code", "refresh_token", "client_credentials", "password"}})
	pub := e.mustCreateClient(dev, map[string]any{"name": "Beer CLI", "public": true,
		"redirect_uris": []string{"http://127.0.0.1:8400/cb"}})
	s.add("client secret", app.Secret)
	wantOAuthError(t, e.postForm("/api/oauth2/token", &app, passwordForm("alice", "wrong for the grant 5", "")), http.StatusBadRequest, "invalid_grant")
	wrongSecret := client{ID: app.ID, Secret: "blcs_wrong-secret-the-client-never-had-0123"}
	s.add("wrong client secret", wrongSecret.Secret)
	wantOAuthError(t, e.postForm("/api/oauth2/token", &wrongSecret, url.Values{"grant_type": {"client_credentials"}}), http.StatusUnauthorized, "invalid_client")

	// A browser signs in (after one wrong password) and allows the public app.
	b := e.newBrowser()
	r := b.logIn("alice", "a wrong form password 6", "")
	if r.StatusCode != http.StatusUnauthorized && r.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("login with a wrong password: status %d", r.StatusCode)
	}
	s.add("CSRF token", csrfFrom(t, r))
	b.mustLogIn("alice", "alices password 1")
	verifier, challenge := pkce()
	s.add("code verifier", verifier)
	r = b.authorize(authQuery(pub, "profile beers:read", "state-1", challenge))
	wantStatus(t, r, http.StatusOK)
	form := consentForm(t, r)
	s.add("CSRF token", form.Get("csrf_token"))
	s.add("transaction id", form.Get("tx"))
	form.Set("decision", "allow")
	r = b.post("/api/oauth2/authorize/decision", form)
	wantStatus(t, r, http.StatusSeeOther)
	code := location(t, r).Query().Get("code")
	s.add("code", code)
	tk := e.mustToken(&pub, codeForm(pub, code, verifier))
	s.add("token", tk.AccessToken, tk.RefreshToken)
	wantStatus(t, e.request("GET", "/api/users/me", nil, bearer(tk.AccessToken)), http.StatusOK)

	// The code replayed, and a wrong verifier on a fresh code.
	wantOAuthError(t, e.postForm("/api/oauth2/token", &pub, codeForm(pub, code, verifier)), http.StatusBadRequest, "invalid_grant")
	code2 := b.mustCode(authQuery(pub, "profile", "state-2", challenge))
	s.add("code", code2)
	otherVerifier, _ := pkce()
	s.add("code verifier", otherVerifier)
	wantOAuthError(t, e.postForm("/api/oauth2/token", &pub, codeForm(pub, code2, otherVerifier)), http.StatusBadRequest, "invalid_grant")

	// Refresh, then reuse of the rotated refresh token.
	code3 := b.mustCode(authQuery(pub, "profile beers:read", "state-3", challenge))
	s.add("code", code3)
	tk = e.mustToken(&pub, codeForm(pub, code3, verifier))
	s.add("token", tk.AccessToken, tk.RefreshToken)
	refreshForm := func(rt string) url.Values {
		return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {pub.ID}}
	}
	tk2 := e.mustToken(&pub, refreshForm(tk.RefreshToken))
	s.add("token", tk2.AccessToken, tk2.RefreshToken)
	wantOAuthError(t, e.postForm("/api/oauth2/token", &pub, refreshForm(tk.RefreshToken)), http.StatusBadRequest, "invalid_grant")
	wantProblem(t, e.request("GET", "/api/users/me", nil, bearer(tk2.AccessToken)), http.StatusUnauthorized)

	// The confidential app: password grant, client credentials, secret
	// rotation, then revocation and introspection.
	pw := e.mustToken(&app, passwordForm("alice", "alices password 1", "profile"))
	cc := e.mustToken(&app, url.Values{"grant_type": {"client_credentials"}, "scope": {"profile"}})
	s.add("token", pw.AccessToken, pw.RefreshToken, cc.AccessToken)
	r = e.request("POST", "/api/clients/"+app.ID+"/secret", nil, dev)
	wantStatus(t, r, http.StatusOK)
	rotated := client{ID: app.ID, Secret: r.json(t)["client_secret"].(string)}
	s.add("client secret", rotated.Secret)
	wantOAuthError(t, e.postForm("/api/oauth2/token", &app, url.Values{"grant_type": {"client_credentials"}}), http.StatusUnauthorized, "invalid_client")
	cc2 := e.mustToken(&rotated, url.Values{"grant_type": {"client_credentials"}})
	s.add("token", cc2.AccessToken)
	wantStatus(t, e.postForm("/api/oauth2/introspect", &rotated, url.Values{"token": {pw.AccessToken}}), http.StatusOK)
	wantStatus(t, e.postForm("/api/oauth2/revoke", &rotated, revokeForm(pw.RefreshToken, "refresh_token")), http.StatusOK)
	wantStatus(t, e.postForm("/api/oauth2/revoke", &app, revokeForm(cc2.AccessToken, "")), http.StatusUnauthorized)
	wantProblem(t, e.request("GET", "/api/users/me", nil, bearer(pw.AccessToken)), http.StatusUnauthorized)

	// A password change, and the old password refused.
	wantStatus(t, e.request("PATCH", "/api/users/me", map[string]string{"password": "alices new password 2"}, basic("alice", "alices password 1")), http.StatusOK)
	wantProblem(t, e.request("GET", "/api/users/me", nil, basic("alice", "alices password 1")), http.StatusUnauthorized)
	wantStatus(t, e.request("GET", "/api/users/me", nil, basic("alice", "alices new password 2")), http.StatusOK)
	// The change ended the browser's session (API.md §7): a new login, whose
	// session id is scanned for below too.
	b.mustLogIn("alice", "alices new password 2")

	sawSession := false
	for _, c := range b.client.Jar.Cookies(mustParseURL(t, e.server.URL)) {
		s.add("cookie "+c.Name, c.Value)
		sawSession = sawSession || c.Name == middleware.SessionCookie
	}
	if !sawSession {
		t.Fatal("the browser holds no session cookie to scan for")
	}
	s.add("CSRF token", b.csrfToken("/account"))

	got := e.logs.String()
	if !strings.Contains(got, `"msg":"request"`) || !strings.Contains(got, `"route":"/api/oauth2/token"`) {
		t.Fatalf("the log captured too little to be worth scanning:\n%s", got)
	}
	// The lines most tempted to carry a secret are the security events
	// about it; each failure above must have logged one, so the scan reads it.
	for _, event := range []string{"login_failed", "client_auth_failed", "code_replayed", "refresh_token_reused",
		"token_family_revoked", "client_secret_rotated"} {
		if !strings.Contains(got, `"event":"`+event+`"`) {
			t.Errorf("the log has no %s security event", event)
		}
	}
	for v, what := range s {
		for _, form := range leakForms(what, v) {
			if i := strings.Index(got, form); i >= 0 {
				t.Errorf("the log holds a %s (%q):\n%s", what, form, lineAt(got, i))
			}
		}
	}
	for _, m := range issuedSecret.FindAllString(got, -1) {
		t.Errorf("the log holds an issued secret %q", m)
	}
	if t.Failed() {
		return
	}
	t.Logf("scanned %d log bytes for %d secrets", len(got), len(s))
}

// leakForms are the spellings of a secret a log could hold.
func leakForms(what, v string) []string {
	j, _ := json.Marshal(v)
	forms := []string{v, strings.Trim(string(j), `"`), url.QueryEscape(v)}
	if strings.Contains(what, "password") {
		for _, user := range []string{"alice", "dev", "nobody"} {
			forms = append(forms, base64.StdEncoding.EncodeToString([]byte(user+":"+v)))
		}
	}
	slices.Sort(forms)
	return slices.Compact(forms)
}

func lineAt(s string, i int) string {
	start := strings.LastIndexByte(s[:i], '\n') + 1
	end := strings.IndexByte(s[i:], '\n')
	if end < 0 {
		return s[start:]
	}
	return s[start : i+end]
}

func mustParseURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
