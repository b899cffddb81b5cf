package controllers_test

import (
	"encoding/json"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// postRaw posts body with the given Content-Type ("" for none), and
// Basic client authentication when c is not nil.
func (e *testEnv) postRaw(path string, c *client, contentType, body string) *response {
	e.t.Helper()
	req, err := http.NewRequest("POST", e.server.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c != nil {
		req.SetBasicAuth(url.QueryEscape(c.ID), url.QueryEscape(c.Secret))
	}
	return e.do(req)
}

// with returns form plus the extra key-value pairs.
func with(form url.Values, kv ...string) url.Values {
	out := url.Values{}
	for k, v := range form {
		out[k] = slices.Clone(v)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out.Set(kv[i], kv[i+1])
	}
	return out
}

func TestTokenClientAuthentication(t *testing.T) {
	e := newOAuthEnv(t)
	pw := passwordForm("alice", "alices password", "")
	wrong := client{ID: e.app.ID, Secret: e.app.Secret + "x"}
	unknown := client{ID: "blci_nobody", Secret: e.app.Secret}
	tests := []struct {
		name      string
		c         *client // Basic when set
		form      url.Values
		status    int
		error     string
		challenge bool // WWW-Authenticate: Basic expected
	}{
		{"wrong secret by Basic", &wrong, pw, 401, "invalid_client", true},
		{"wrong secret by client_secret_post", nil, with(pw, "client_id", e.app.ID, "client_secret", wrong.Secret), 401, "invalid_client", false},
		{"empty secret by client_secret_post", nil, with(pw, "client_id", e.app.ID, "client_secret", ""), 401, "invalid_client", false},
		{"unknown client by Basic", &unknown, pw, 401, "invalid_client", true},
		{"unknown client by client_secret_post", nil, with(pw, "client_id", unknown.ID, "client_secret", unknown.Secret), 401, "invalid_client", false},
		{"confidential client without its secret", nil, with(pw, "client_id", e.app.ID), 401, "invalid_client", false},
		{"no client authentication", nil, pw, 401, "invalid_client", false},
		{"public client sending a secret", nil, with(codeForm(e.pub, "blac_x", ""), "client_secret", "anything"), 401, "invalid_client", false},
		{"public client sending an empty secret", nil, with(codeForm(e.pub, "blac_x", ""), "client_secret", ""), 401, "invalid_client", false},
		{"public client by Basic", &client{ID: e.pub.ID, Secret: "x"}, codeForm(e.pub, "blac_x", ""), 401, "invalid_client", true},
		{"Basic and client_secret at once", &e.app, with(pw, "client_secret", e.app.Secret), 400, "invalid_request", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.postForm("/api/oauth2/token", tc.c, tc.form)
			wantOAuthError(t, r, tc.status, tc.error)
			got := r.Header.Get("WWW-Authenticate")
			if tc.challenge && !strings.HasPrefix(got, "Basic") {
				t.Errorf("WWW-Authenticate = %q, want a Basic challenge", got)
			}
			if !tc.challenge && got != "" {
				t.Errorf("WWW-Authenticate = %q, want none", got)
			}
		})
	}
	t.Run("client_secret_post", func(t *testing.T) {
		tk := e.mustToken(nil, with(pw, "client_id", e.app.ID, "client_secret", e.app.Secret))
		wantStatus(t, e.request("GET", "/api/users/me", nil, bearer(tk.AccessToken)), 200)
	})
	t.Run("client_secret_basic", func(t *testing.T) {
		tk := e.mustToken(&e.app, pw)
		wantStatus(t, e.request("GET", "/api/users/me", nil, bearer(tk.AccessToken)), 200)
	})
}

func TestTokenRequestErrors(t *testing.T) {
	e := newOAuthEnv(t)
	pw := passwordForm("alice", "alices password", "")
	form := func(f url.Values) string { return f.Encode() }
	const formType = "application/x-www-form-urlencoded"
	tests := []struct {
		name        string
		contentType string
		body        string
		status      int
		error       string
	}{
		{"missing grant_type", formType, form(with(pw, "grant_type", "")), 400, "invalid_request"},
		{"implicit", formType, form(with(pw, "grant_type", "implicit")), 400, "unsupported_grant_type"},
		{"made-up grant", formType, form(with(pw, "grant_type", "urn:example:magic")), 400, "unsupported_grant_type"},
		{"grant the client did not register", formType, "grant_type=client_credentials", 400, "unauthorized_client"},
		{"unknown scope", formType, form(with(pw, "scope", "profile admin")), 400, "invalid_scope"},
		{"duplicated grant_type", formType, form(pw) + "&grant_type=password", 400, "invalid_request"},
		{"duplicated scope", formType, form(with(pw, "scope", "profile")) + "&scope=clients", 400, "invalid_request"},
		{"JSON body", "application/json", `{"grant_type":"password","username":"alice","password":"alices password"}`, 400, "invalid_request"},
		{"no content type", "", form(pw), 400, "invalid_request"},
		{"multipart", "multipart/form-data; boundary=x", form(pw), 400, "invalid_request"},
		{"form content type with charset", formType + "; charset=utf-8", form(with(pw, "grant_type", "implicit")), 400, "unsupported_grant_type"},
		{"password grant without password", formType, form(with(pw, "password", "")), 400, "invalid_request"},
		{"wrong password", formType, form(with(pw, "password", "not alices")), 400, "invalid_grant"},
		{"code grant without code", formType, "grant_type=authorization_code", 400, "invalid_request"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.postRaw("/api/oauth2/token", &e.app, tc.contentType, tc.body)
			wantOAuthError(t, r, tc.status, tc.error)
			if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type = %q, want application/json", ct)
			}
			if d, _ := r.json(t)["error_description"].(string); d == "" {
				t.Error("error_description is empty")
			}
		})
	}
	t.Run("parameters in the query string are ignored", func(t *testing.T) {
		r := e.postRaw("/api/oauth2/token?"+pw.Encode(), &e.app, formType, "")
		wantOAuthError(t, r, 400, "invalid_request")
	})
}

func TestTokenResponse(t *testing.T) {
	e := newOAuthEnv(t)
	machine := e.mustCreateClient(e.dev, map[string]any{"name": "Machine", "grant_types": []string{"client_credentials"}})
	tests := []struct {
		name   string
		c      client
		form   url.Values
		fields []string
		scope  string
	}{
		{"password", e.app, passwordForm("alice", "alices password", "beers:write profile"),
			[]string{"access_token", "expires_in", "refresh_token", "scope", "token_type"}, "profile beers:write"},
		{"password, default scope", e.app, passwordForm("alice", "alices password", ""),
			[]string{"access_token", "expires_in", "refresh_token", "scope", "token_type"}, "profile beers:read"},
		{"client_credentials", machine, url.Values{"grant_type": {"client_credentials"}, "scope": {"beers:read"}},
			[]string{"access_token", "expires_in", "scope", "token_type"}, "beers:read"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.postForm("/api/oauth2/token", &tc.c, tc.form)
			wantStatus(t, r, 200)
			if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", cc)
			}
			body := r.json(t)
			var keys []string
			for k := range body {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			if !slices.Equal(keys, tc.fields) {
				t.Errorf("fields = %v, want %v", keys, tc.fields)
			}
			if body["token_type"] != "Bearer" || body["expires_in"] != float64(3600) || body["scope"] != tc.scope {
				t.Errorf("token_type, expires_in, scope = %v, %v, %v; want Bearer, 3600, %q",
					body["token_type"], body["expires_in"], body["scope"], tc.scope)
			}
			if at, _ := body["access_token"].(string); !strings.HasPrefix(at, "blat_") || len(at) < 5+43 {
				t.Errorf("access_token = %q, want blat_ and 32 random bytes", at)
			}
			if rt, ok := body["refresh_token"].(string); ok && (!strings.HasPrefix(rt, "blrt_") || len(rt) < 5+43) {
				t.Errorf("refresh_token = %q, want blrt_ and 32 random bytes", rt)
			}
		})
	}
}

// codeEnv is an oauthEnv where alice has approved both apps.
type codeEnv struct {
	*oauthEnv
	b *browser
}

func newCodeEnv(t *testing.T) *codeEnv {
	e := newOAuthEnv(t)
	return &codeEnv{oauthEnv: e, b: e.aliceBrowser()}
}

// code returns a fresh code for c, with a PKCE challenge when challenge is set.
func (e *codeEnv) code(c client, challenge string) string {
	e.t.Helper()
	return e.b.mustCode(authQuery(c, "profile beers:read", "st", challenge))
}

func TestPublicClientCodeFlow(t *testing.T) {
	e := newCodeEnv(t)
	verifier, challenge := pkce()
	code := e.code(e.pub, challenge)
	// token_endpoint_auth_method "none": client_id in the body, no secret.
	tk := e.mustToken(nil, codeForm(e.pub, code, verifier))
	if tk.RefreshToken == "" || tk.Scope != "profile beers:read" {
		t.Errorf("tokens = %+v, want a refresh token and scope profile beers:read", tk)
	}
	wantStatus(t, e.request("GET", "/api/users/me", nil, bearer(tk.AccessToken)), 200)
	refreshed := e.mustToken(nil, with(refreshForm(tk.RefreshToken, ""), "client_id", e.pub.ID))
	wantStatus(t, e.request("GET", "/api/beers", nil, bearer(refreshed.AccessToken)), 200)
}

func TestAuthorizationCodeErrors(t *testing.T) {
	e := newCodeEnv(t)
	other := e.mustCreateClient(e.dev, map[string]any{"name": "Other App"})
	verifier, challenge := pkce()
	otherVerifier, _ := pkce()
	tests := []struct {
		name   string
		c      client // redeems the code
		code   func() string
		form   func(code string) url.Values
		status int
		error  string
	}{
		{"missing code_verifier for a PKCE code", e.pub, func() string { return e.code(e.pub, challenge) },
			func(code string) url.Values { return codeForm(e.pub, code, "") }, 400, "invalid_grant"},
		{"missing code_verifier, confidential client", e.app, func() string { return e.code(e.app, challenge) },
			func(code string) url.Values { return codeForm(e.app, code, "") }, 400, "invalid_grant"},
		{"wrong code_verifier", e.pub, func() string { return e.code(e.pub, challenge) },
			func(code string) url.Values { return codeForm(e.pub, code, otherVerifier) }, 400, "invalid_grant"},
		{"malformed code_verifier", e.pub, func() string { return e.code(e.pub, challenge) },
			func(code string) url.Values { return codeForm(e.pub, code, "short") }, 400, "invalid_request"},
		{"code_verifier for a code issued without a challenge", e.app, func() string { return e.code(e.app, "") },
			func(code string) url.Values { return codeForm(e.app, code, verifier) }, 400, "invalid_grant"},
		{"wrong redirect_uri", e.app, func() string { return e.code(e.app, "") },
			func(code string) url.Values {
				return with(codeForm(e.app, code, ""), "redirect_uri", "http://127.0.0.1:9999/other")
			}, 400, "invalid_grant"},
		{"redirect_uri with a trailing slash", e.app, func() string { return e.code(e.app, "") },
			func(code string) url.Values {
				return with(codeForm(e.app, code, ""), "redirect_uri", e.app.RedirectURI+"/")
			},
			400, "invalid_grant"},
		{"redirect_uri left out though the request named it", e.app, func() string { return e.code(e.app, "") },
			func(code string) url.Values { return with(codeForm(e.app, code, ""), "redirect_uri", "") }, 400, "invalid_grant"},
		{"code issued to another client", other, func() string { return e.code(e.app, "") },
			func(code string) url.Values { return codeForm(other, code, "") }, 400, "invalid_grant"},
		{"public code redeemed by another client", other, func() string { return e.code(e.pub, challenge) },
			func(code string) url.Values { return codeForm(other, code, verifier) }, 400, "invalid_grant"},
		{"unknown code", e.app, func() string { return "blac_made-up" },
			func(code string) url.Values { return codeForm(e.app, code, "") }, 400, "invalid_grant"},
		{"expired code", e.app, func() string {
			code := e.code(e.app, "")
			e.clock.Advance(61 * time.Second)
			return code
		}, func(code string) url.Values { return codeForm(e.app, code, "") }, 400, "invalid_grant"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code := tc.code()
			c := &tc.c
			if c.Secret == "" {
				c = nil
			}
			wantOAuthError(t, e.postForm("/api/oauth2/token", c, tc.form(code)), tc.status, tc.error)
		})
	}
	t.Run("a code of 59 seconds still works", func(t *testing.T) {
		code := e.code(e.app, "")
		e.clock.Advance(59 * time.Second)
		e.mustToken(&e.app, codeForm(e.app, code, ""))
	})
	t.Run("redirect_uri may be left out when the request left it out", func(t *testing.T) {
		q := authQuery(e.app, "profile", "st", "")
		q.Del("redirect_uri")
		code := e.b.mustCode(q)
		e.mustToken(&e.app, with(codeForm(e.app, code, ""), "redirect_uri", ""))
	})
	t.Run("confidential client with PKCE", func(t *testing.T) {
		code := e.code(e.app, challenge)
		e.mustToken(&e.app, codeForm(e.app, code, verifier))
	})
}

func TestAuthorizationCodeReplay(t *testing.T) {
	e := newCodeEnv(t)
	code := e.code(e.app, "")
	first := e.mustToken(&e.app, codeForm(e.app, code, ""))
	refreshed := e.mustToken(&e.app, refreshForm(first.RefreshToken, ""))
	wantStatus(t, e.request("GET", "/api/beers", nil, bearer(refreshed.AccessToken)), 200)

	wantOAuthError(t, e.postForm("/api/oauth2/token", &e.app, codeForm(e.app, code, "")), 400, "invalid_grant")
	// RFC 6749 §4.1.2: every token issued from the code is revoked,
	// including those that came from refreshing it.
	for name, tok := range map[string]string{"first access token": first.AccessToken, "refreshed access token": refreshed.AccessToken} {
		if r := e.request("GET", "/api/beers", nil, bearer(tok)); r.StatusCode != 401 {
			t.Errorf("%s after code replay: status = %d, want 401", name, r.StatusCode)
		}
	}
	wantOAuthError(t, e.postForm("/api/oauth2/token", &e.app, refreshForm(refreshed.RefreshToken, "")), 400, "invalid_grant")

	// Tokens from other grants of the same user and client survive.
	other := e.mustToken(&e.app, codeForm(e.app, e.code(e.app, ""), ""))
	wantOAuthError(t, e.postForm("/api/oauth2/token", &e.app, codeForm(e.app, code, "")), 400, "invalid_grant")
	wantStatus(t, e.request("GET", "/api/beers", nil, bearer(other.AccessToken)), 200)
}

func TestAuthorizationCodeRace(t *testing.T) {
	e := newCodeEnv(t)
	for _, tc := range []struct {
		name string
		c    client
	}{{"confidential", e.app}, {"public", e.pub}} {
		t.Run(tc.name, func(t *testing.T) {
			verifier, challenge := pkce()
			code := e.code(tc.c, challenge)
			statuses, _ := e.raceForm(10, "/api/oauth2/token", tc.c, codeForm(tc.c, code, verifier))
			if n := countStatus(statuses, 200); n != 1 {
				t.Errorf("successful redemptions = %d, want 1 (statuses %v)", n, statuses)
			}
			if n := countStatus(statuses, 400); n != 9 {
				t.Errorf("refused redemptions = %d, want 9 (statuses %v)", n, statuses)
			}
		})
	}
}

// TestAuthorizationCodeRaceRevokesTheWinner: two redemptions of one code
// are a replay however they interleave, so the tokens the winner got are
// revoked too (RFC 6749 §4.1.2), never left valid.
func TestAuthorizationCodeRaceRevokesTheWinner(t *testing.T) {
	e := newCodeEnv(t)
	for trial := range 20 {
		code := e.code(e.app, "")
		statuses, bodies := e.raceForm(2, "/api/oauth2/token", e.app, codeForm(e.app, code, ""))
		for i, st := range statuses {
			if st != 200 {
				continue
			}
			var tk tokens
			if err := json.Unmarshal(bodies[i], &tk); err != nil {
				t.Fatal(err)
			}
			if r := e.request("GET", "/api/users/me", nil, bearer(tk.AccessToken)); r.StatusCode != 401 {
				t.Fatalf("trial %d: the winner's access token still works (status %d) after the code was replayed", trial, r.StatusCode)
			}
		}
	}
}

func TestPasswordChangeEndsPendingCodes(t *testing.T) {
	e := newCodeEnv(t)
	code := e.code(e.app, "")
	wantStatus(t, e.request("PATCH", "/api/users/me", map[string]string{"password": "a new password"}, e.alice), 200)
	wantOAuthError(t, e.postForm("/api/oauth2/token", &e.app, codeForm(e.app, code, "")), 400, "invalid_grant")
}

func countStatus(statuses []int, status int) int {
	n := 0
	for _, s := range statuses {
		if s == status {
			n++
		}
	}
	return n
}

func TestRefreshRotation(t *testing.T) {
	e := newOAuthEnv(t)
	first := e.passwordTokens("profile beers:read")
	second := e.mustToken(&e.app, refreshForm(first.RefreshToken, ""))
	if second.RefreshToken == "" || second.RefreshToken == first.RefreshToken || second.AccessToken == first.AccessToken {
		t.Fatalf("refresh did not rotate: first %+v, second %+v", first, second)
	}
	if second.Scope != "profile beers:read" {
		t.Errorf("scope = %q, want profile beers:read", second.Scope)
	}
	wantStatus(t, e.request("GET", "/api/users/me", nil, bearer(second.AccessToken)), 200)
	unrelated := e.passwordTokens("")

	// RFC 6819 §5.2.2.3: reuse of the rotated token revokes the whole family.
	wantOAuthError(t, e.postForm("/api/oauth2/token", &e.app, refreshForm(first.RefreshToken, "")), 400, "invalid_grant")
	for name, tok := range map[string]string{"first access token": first.AccessToken, "new access token": second.AccessToken} {
		if r := e.request("GET", "/api/users/me", nil, bearer(tok)); r.StatusCode != 401 {
			t.Errorf("%s after refresh reuse: status = %d, want 401", name, r.StatusCode)
		}
	}
	wantOAuthError(t, e.postForm("/api/oauth2/token", &e.app, refreshForm(second.RefreshToken, "")), 400, "invalid_grant")

	// Another grant of the same user and client is another family.
	wantStatus(t, e.request("GET", "/api/users/me", nil, bearer(unrelated.AccessToken)), 200)
	e.mustToken(&e.app, refreshForm(unrelated.RefreshToken, ""))
}

func TestRefreshScope(t *testing.T) {
	e := newOAuthEnv(t)
	full := e.passwordTokens("profile beers:read beers:write")

	narrow := e.mustToken(&e.app, refreshForm(full.RefreshToken, "beers:read"))
	if narrow.Scope != "beers:read" {
		t.Errorf("narrowed scope = %q, want beers:read", narrow.Scope)
	}
	wantStatus(t, e.request("GET", "/api/beers", nil, bearer(narrow.AccessToken)), 200)
	wantProblem(t, e.request("POST", "/api/beers", map[string]any{"name": "x", "quantity": 1}, bearer(narrow.AccessToken)), 403)
	wantProblem(t, e.request("GET", "/api/users/me", nil, bearer(narrow.AccessToken)), 403)

	// RFC 6749 §6: the refresh token keeps the original scope.
	again := e.mustToken(&e.app, refreshForm(narrow.RefreshToken, ""))
	if again.Scope != "profile beers:read beers:write" {
		t.Errorf("scope of a later refresh without scope = %q, want profile beers:read beers:write", again.Scope)
	}
	wantStatus(t, e.request("POST", "/api/beers", map[string]any{"name": "x", "quantity": 1}, bearer(again.AccessToken)), 201)

	for _, tc := range []struct{ name, scope string }{
		{"wider", "profile clients"},
		{"unknown", "beers:read admin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantOAuthError(t, e.postForm("/api/oauth2/token", &e.app, refreshForm(again.RefreshToken, tc.scope)), 400, "invalid_scope")
		})
	}
	// A refused request does not use the refresh token up.
	e.mustToken(&e.app, refreshForm(again.RefreshToken, ""))
}

func TestRefreshErrors(t *testing.T) {
	e := newOAuthEnv(t)
	other := e.mustCreateClient(e.dev, map[string]any{"name": "Other App",
		"grant_types": []string{"password", "refresh_token"}})
	mine := e.passwordTokens("")
	theirs := e.mustToken(&other, passwordForm("alice", "alices password", ""))
	tests := []struct {
		name   string
		form   url.Values
		status int
		error  string
	}{
		{"refresh token of another client", refreshForm(theirs.RefreshToken, ""), 400, "invalid_grant"},
		{"access token as refresh_token", refreshForm(mine.AccessToken, ""), 400, "invalid_grant"},
		{"unknown refresh token", refreshForm("blrt_made-up", ""), 400, "invalid_grant"},
		{"missing refresh_token", url.Values{"grant_type": {"refresh_token"}}, 400, "invalid_request"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantOAuthError(t, e.postForm("/api/oauth2/token", &e.app, tc.form), tc.status, tc.error)
		})
	}
	t.Run("tokens used wrongly still work for their own client", func(t *testing.T) {
		wantStatus(t, e.request("GET", "/api/users/me", nil, bearer(mine.AccessToken)), 200)
		wantStatus(t, e.request("GET", "/api/users/me", nil, bearer(theirs.AccessToken)), 200)
		e.mustToken(&other, refreshForm(theirs.RefreshToken, ""))
	})
	t.Run("expired refresh token", func(t *testing.T) {
		tk := e.passwordTokens("")
		e.clock.Advance(30*24*time.Hour + time.Second)
		wantOAuthError(t, e.postForm("/api/oauth2/token", &e.app, refreshForm(tk.RefreshToken, "")), 400, "invalid_grant")
	})
}

func TestRefreshRace(t *testing.T) {
	e := newOAuthEnv(t)
	tk := e.passwordTokens("")
	statuses, _ := e.raceForm(10, "/api/oauth2/token", e.app, refreshForm(tk.RefreshToken, ""))
	if n := countStatus(statuses, 200); n != 1 {
		t.Errorf("successful refreshes = %d, want 1 (statuses %v)", n, statuses)
	}
	if n := countStatus(statuses, 400); n != 9 {
		t.Errorf("refused refreshes = %d, want 9 (statuses %v)", n, statuses)
	}
}

// TestRefreshRaceRevokesTheWinner races two uses of one refresh token, as
// when an attacker replays a stolen token while its owner refreshes. The
// loser presented a rotated token, so the family is revoked: the tokens
// the winner received included, whatever order the requests ran in.
func TestRefreshRaceRevokesTheWinner(t *testing.T) {
	e := newOAuthEnv(t)
	for i := range 20 {
		tk := e.passwordTokens("")
		statuses, bodies := e.raceForm(2, "/api/oauth2/token", e.app, refreshForm(tk.RefreshToken, ""))
		if n := countStatus(statuses, 200); n != 1 {
			t.Fatalf("round %d: successful refreshes = %d, want 1 (statuses %v)", i, n, statuses)
		}
		won := bodies[slices.Index(statuses, 200)]
		var winner tokens
		if err := json.Unmarshal(won, &winner); err != nil {
			t.Fatal(err)
		}
		if r := e.request("GET", "/api/users/me", nil, bearer(winner.AccessToken)); r.StatusCode != 401 {
			t.Fatalf("round %d: the winner's access token after a concurrent reuse: status = %d, want 401", i, r.StatusCode)
		}
		r := e.postForm("/api/oauth2/token", &e.app, refreshForm(winner.RefreshToken, ""))
		wantOAuthError(t, r, 400, "invalid_grant")
	}
}

// TestRefreshFamilyCap: each rotation gives the refresh token a fresh 30
// days, but no token of a grant outlives 90 days from the original grant:
// the last tokens get a shorter life, expires_in says so, and after the
// cap the refresh token is refused.
func TestRefreshFamilyCap(t *testing.T) {
	e := newOAuthEnv(t)
	granted := time.Now()
	tk := e.passwordTokens("")
	for range 3 { // days 29, 58 and 87
		e.clock.Advance(29 * 24 * time.Hour)
		tk = e.mustToken(&e.app, refreshForm(tk.RefreshToken, ""))
	}
	if tk.ExpiresIn != 3600 {
		t.Errorf("day 87: expires_in = %d, want 3600", tk.ExpiresIn)
	}
	capAt := granted.Add(90 * 24 * time.Hour) // the clock was not moved before the grant
	intro := e.postForm("/api/oauth2/introspect", &e.app, url.Values{"token": {tk.RefreshToken}}).json(t)
	if exp, _ := intro["exp"].(float64); math.Abs(exp-float64(capAt.Unix())) > 2 {
		t.Errorf("day 87: refresh token exp = %v, want the cap %d (90 days after the grant), not 30 days on", intro["exp"], capAt.Unix())
	}

	e.clock.Advance(3*24*time.Hour - 30*time.Minute)
	tk = e.mustToken(&e.app, refreshForm(tk.RefreshToken, ""))
	if tk.ExpiresIn < 1790 || tk.ExpiresIn > 1800 {
		t.Errorf("30 minutes before the cap: expires_in = %d, want 1800", tk.ExpiresIn)
	}
	wantStatus(t, e.request("GET", "/api/users/me", nil, bearer(tk.AccessToken)), http.StatusOK)

	e.clock.Advance(30*time.Minute + 2*time.Second)
	wantOAuthError(t, e.postForm("/api/oauth2/token", &e.app, refreshForm(tk.RefreshToken, "")), http.StatusBadRequest, "invalid_grant")
	wantStatus(t, e.request("GET", "/api/users/me", nil, bearer(tk.AccessToken)), http.StatusUnauthorized)
}
