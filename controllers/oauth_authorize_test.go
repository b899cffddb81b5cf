package controllers_test

import (
	"beerlocker/models"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// wantNotFramed checks the anti-clickjacking headers every page carries.
func wantNotFramed(t testing.TB, r *response) {
	t.Helper()
	if got := r.Header.Get("X-Frame-Options"); got != "DENY" {
		t.Errorf("X-Frame-Options = %q, want DENY", got)
	}
	if got := r.Header.Get("Content-Security-Policy"); !strings.Contains(got, "frame-ancestors 'none'") {
		t.Errorf("Content-Security-Policy = %q, want frame-ancestors 'none'", got)
	}
}

// wantErrorPage checks API.md §6 step 1: an HTML page, never a redirect.
func wantErrorPage(t testing.TB, r *response, status int) {
	t.Helper()
	wantStatus(t, r, status)
	wantNoLocation(t, r)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("Content-Type = %q, want text/html", ct)
	}
	wantNotFramed(t, r)
}

// wantAuthError checks an error redirect to the app (RFC 6749 §4.1.2.1)
// and returns its query.
func wantAuthError(t testing.TB, r *response, status int, redirectURI, code, state string) url.Values {
	t.Helper()
	wantStatus(t, r, status)
	u := location(t, r)
	if got := u.Scheme + "://" + u.Host + u.Path; got != redirectURI {
		t.Errorf("redirected to %s, want %s", got, redirectURI)
	}
	q := u.Query()
	if got := q.Get("error"); got != code {
		t.Errorf("error = %q, want %q (description %q)", got, code, q.Get("error_description"))
	}
	if q.Get("error_description") == "" {
		t.Error("error_description is empty")
	}
	if got := q.Get("state"); got != state {
		t.Errorf("state = %q, want %q", got, state)
	}
	if q.Has("code") {
		t.Errorf("an error redirect carries a code: %s", u)
	}
	return q
}

func TestAuthorizeUntrustedRedirect(t *testing.T) {
	e := newOAuthEnv(t)
	two := e.mustCreateClient(e.dev, map[string]any{"name": "Two Homes",
		"redirect_uris": []string{"https://app.example/cb", "http://localhost:7000/cb"}})
	b := e.aliceBrowser()
	base := func(mod func(q url.Values)) string {
		q := authQuery(e.app, "", "st", "")
		mod(q)
		return "/api/oauth2/authorize?" + q.Encode()
	}
	tests := []struct {
		name string
		path string
	}{
		{"unknown client", base(func(q url.Values) { q.Set("client_id", "blci_nobody") })},
		{"missing client_id", base(func(q url.Values) { q.Del("client_id") })},
		{"redirect_uri not registered", base(func(q url.Values) { q.Set("redirect_uri", "https://evil.example/cb") })},
		{"redirect_uri with trailing slash", base(func(q url.Values) { q.Set("redirect_uri", e.app.RedirectURI+"/") })},
		{"redirect_uri in another case", base(func(q url.Values) { q.Set("redirect_uri", strings.ToUpper(e.app.RedirectURI)) })},
		{"redirect_uri with another path case", base(func(q url.Values) {
			q.Set("redirect_uri", strings.Replace(e.app.RedirectURI, "callback", "Callback", 1))
		})},
		{"redirect_uri with an extra query", base(func(q url.Values) { q.Set("redirect_uri", e.app.RedirectURI+"?x=1") })},
		{"redirect_uri missing when the client has two", "/api/oauth2/authorize?" +
			url.Values{"response_type": {"code"}, "client_id": {two.ID}, "state": {"st"}}.Encode()},
		{"duplicated client_id", base(func(q url.Values) { q.Add("client_id", e.app.ID) })},
		{"duplicated client_id, the second unknown", base(func(q url.Values) { q.Add("client_id", "blci_other") })},
		{"duplicated redirect_uri", base(func(q url.Values) { q.Add("redirect_uri", e.app.RedirectURI) })},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantErrorPage(t, b.get(tc.path), http.StatusBadRequest)
		})
	}
	t.Run("no session either", func(t *testing.T) {
		// Step 1 comes before the login redirect: nothing is trusted yet.
		wantErrorPage(t, e.newBrowser().get(tests[0].path), http.StatusBadRequest)
	})
}

func TestAuthorizeRedirectErrors(t *testing.T) {
	e := newOAuthEnv(t)
	noCode := e.mustCreateClient(e.dev, map[string]any{"name": "Machine", "grant_types": []string{"client_credentials"}})
	_, challenge := pkce()
	// The owner of the apps is signed in, so their redirect URIs are
	// trusted (RFC 9700 §4.11.2); TestAuthorizeErrorsRedirectOnlyWhenTrusted
	// covers everyone else.
	b := e.newBrowser()
	b.mustLogIn("dev", "devs password")
	tests := []struct {
		name  string
		c     client
		mod   func(q url.Values)
		error string
	}{
		{"response_type token", e.app, func(q url.Values) { q.Set("response_type", "token") }, "unsupported_response_type"},
		{"response_type missing", e.app, func(q url.Values) { q.Del("response_type") }, "unsupported_response_type"},
		{"unknown scope", e.app, func(q url.Values) { q.Set("scope", "beers:read admin") }, "invalid_scope"},
		{"public client without code_challenge", e.pub, func(q url.Values) {
			q.Del("code_challenge")
			q.Del("code_challenge_method")
		}, "invalid_request"},
		{"code_challenge_method plain", e.pub, func(q url.Values) { q.Set("code_challenge_method", "plain") }, "invalid_request"},
		{"code_challenge_method missing", e.pub, func(q url.Values) { q.Del("code_challenge_method") }, "invalid_request"},
		{"code_challenge_method plain, confidential client", e.app, func(q url.Values) {
			q.Set("code_challenge", challenge)
			q.Set("code_challenge_method", "plain")
		}, "invalid_request"},
		{"code_challenge too short", e.pub, func(q url.Values) { q.Set("code_challenge", challenge[:42]) }, "invalid_request"},
		{"code_challenge not base64url", e.pub, func(q url.Values) { q.Set("code_challenge", "+"+challenge[1:]) }, "invalid_request"},
		{"code_challenge_method without code_challenge", e.app, func(q url.Values) { q.Set("code_challenge_method", "S256") }, "invalid_request"},
		{"client without the authorization_code grant", noCode, nil, "unauthorized_client"},
		{"state longer than 512", e.app, func(q url.Values) { q.Set("state", strings.Repeat("s", 513)) }, "invalid_request"},
		{"duplicated scope", e.app, func(q url.Values) { q.Add("scope", "profile") }, "invalid_request"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := authQuery(tc.c, "profile", "st-"+tc.name, "")
			if tc.c.ID == e.pub.ID {
				q.Set("code_challenge", challenge)
				q.Set("code_challenge_method", "S256")
			}
			if tc.mod != nil {
				tc.mod(q)
			}
			r := b.authorize(q)
			wantAuthError(t, r, http.StatusFound, tc.c.RedirectURI, tc.error, q.Get("state"))
			if iss := location(t, r).Query().Get("iss"); iss != "http://localhost:3000" {
				t.Errorf("iss = %q, want http://localhost:3000 (RFC 9207)", iss)
			}
		})
	}
	t.Run("state of 512 is accepted", func(t *testing.T) {
		r := b.authorize(authQuery(e.app, "", strings.Repeat("s", 512), ""))
		wantStatus(t, r, http.StatusOK)
	})
}

func TestAuthorizeWithoutSession(t *testing.T) {
	e := newOAuthEnv(t)
	_, challenge := pkce()
	q := authQuery(e.pub, "profile beers:read", "s1", challenge)
	b := e.newBrowser()
	r := b.authorize(q)
	wantStatus(t, r, http.StatusFound)
	u := location(t, r)
	if u.Path != "/login" {
		t.Fatalf("redirected to %s, want /login", u)
	}
	if got, want := u.Query().Get("return_to"), "/api/oauth2/authorize?"+q.Encode(); got != want {
		t.Errorf("return_to = %q, want %q", got, want)
	}

	t.Run("after login the request goes on", func(t *testing.T) {
		r := b.logIn("alice", "alices password", u.Query().Get("return_to"))
		wantRedirect(t, r, http.StatusSeeOther, "/api/oauth2/authorize?"+q.Encode())
		wantStatus(t, b.get(r.Header.Get("Location")), http.StatusOK)
	})
	t.Run("prompt=none", func(t *testing.T) {
		q := authQuery(e.pub, "", "s2", challenge)
		q.Set("prompt", "none")
		wantAuthError(t, e.newBrowser().authorize(q), http.StatusFound, e.pub.RedirectURI, "login_required", "s2")
	})
}

func TestAuthorizeConsent(t *testing.T) {
	e := newOAuthEnv(t)
	b := e.aliceBrowser()

	r := b.authorize(authQuery(e.app, "profile beers:write", "s1", ""))
	wantStatus(t, r, http.StatusOK)
	wantNotFramed(t, r)
	for _, want := range []string{"Beer Buddy", "<strong>dev</strong>",
		models.ScopeDescription("profile"), models.ScopeDescription("beers:write"),
		`action="/api/oauth2/authorize/decision"`, `value="allow"`, `value="deny"`} {
		wantBodyContains(t, r, want)
	}
	if strings.Contains(string(r.body), models.ScopeDescription("beers:read")) {
		t.Errorf("consent page names beers:read, which was not asked for")
	}
	form := consentForm(t, r)
	form.Set("decision", "allow")
	r = b.post("/api/oauth2/authorize/decision", form)
	wantStatus(t, r, http.StatusSeeOther)
	wantNotFramed(t, r)
	u := location(t, r)
	if got := u.Scheme + "://" + u.Host + u.Path; got != e.app.RedirectURI {
		t.Errorf("redirected to %s, want %s", got, e.app.RedirectURI)
	}
	if q := u.Query(); q.Get("code") == "" || q.Get("state") != "s1" || q.Has("error") {
		t.Errorf("callback query = %v, want code and state s1", q)
	}

	t.Run("remembered consent skips the page", func(t *testing.T) {
		r := b.authorize(authQuery(e.app, "profile", "s2", ""))
		wantStatus(t, r, http.StatusFound)
		if q := location(t, r).Query(); q.Get("code") == "" || q.Get("state") != "s2" {
			t.Errorf("callback query = %v, want code and state s2", q)
		}
	})
	t.Run("prompt=none with remembered consent", func(t *testing.T) {
		q := authQuery(e.app, "beers:write", "s3", "")
		q.Set("prompt", "none")
		r := b.authorize(q)
		wantStatus(t, r, http.StatusFound)
		if code := location(t, r).Query().Get("code"); code == "" {
			t.Errorf("no code in %s", r.Header.Get("Location"))
		}
	})
	t.Run("prompt=consent shows the page", func(t *testing.T) {
		q := authQuery(e.app, "profile", "s4", "")
		q.Set("prompt", "consent")
		r := b.authorize(q)
		wantStatus(t, r, http.StatusOK)
		wantNoLocation(t, r)
		consentForm(t, r)
	})
	t.Run("more scopes than remembered show the page", func(t *testing.T) {
		r := b.authorize(authQuery(e.app, "profile beers:read", "s5", ""))
		wantStatus(t, r, http.StatusOK)
		wantBodyContains(t, r, models.ScopeDescription("beers:read"))
		consentForm(t, r)
	})
	t.Run("prompt=none beyond the remembered scopes", func(t *testing.T) {
		q := authQuery(e.app, "clients", "s6", "")
		q.Set("prompt", "none")
		wantAuthError(t, b.authorize(q), http.StatusFound, e.app.RedirectURI, "consent_required", "s6")
	})
	t.Run("deny", func(t *testing.T) {
		r := b.authorize(authQuery(e.app, "clients", "s7", ""))
		wantStatus(t, r, http.StatusOK)
		form := consentForm(t, r)
		form.Set("decision", "deny")
		wantAuthError(t, b.post("/api/oauth2/authorize/decision", form), http.StatusSeeOther, e.app.RedirectURI, "access_denied", "s7")
		// Denying remembers nothing.
		q := authQuery(e.app, "clients", "s8", "")
		q.Set("prompt", "none")
		wantAuthError(t, b.authorize(q), http.StatusFound, e.app.RedirectURI, "consent_required", "s8")
	})
	t.Run("default scopes", func(t *testing.T) {
		other := e.newBrowser()
		other.mustLogIn("dev", "devs password")
		r := other.authorize(authQuery(e.app, "", "s9", ""))
		wantStatus(t, r, http.StatusOK)
		wantBodyContains(t, r, models.ScopeDescription("profile"))
		wantBodyContains(t, r, models.ScopeDescription("beers:read"))
		if strings.Contains(string(r.body), models.ScopeDescription("beers:write")) {
			t.Error("the default scopes include beers:write")
		}
	})
}

func TestAuthorizeDecisionIsVerified(t *testing.T) {
	e := newOAuthEnv(t)
	a := e.aliceBrowser()
	consent := func(b *browser) url.Values {
		t.Helper()
		r := b.authorize(authQuery(e.app, "beers:read", "st", ""))
		wantStatus(t, r, http.StatusOK)
		return consentForm(t, r)
	}
	bob := e.newBrowser() // another user
	e.mustRegister("bob", "bobs password")
	bob.mustLogIn("bob", "bobs password")
	alice2 := e.aliceBrowser() // the same user, another session
	formA := consent(a)
	formBob := consent(bob)
	formAlice2 := consent(alice2)

	tests := []struct {
		name   string
		b      *browser
		form   url.Values
		status int
	}{
		{"missing CSRF token", a, url.Values{"tx": formA["tx"], "decision": {"allow"}}, http.StatusForbidden},
		{"empty CSRF token", a, url.Values{"tx": formA["tx"], "csrf_token": {""}, "decision": {"allow"}}, http.StatusForbidden},
		{"CSRF token of another session", a, url.Values{"tx": formA["tx"], "csrf_token": formAlice2["csrf_token"], "decision": {"allow"}}, http.StatusForbidden},
		{"CSRF token of another user's session", a, url.Values{"tx": formA["tx"], "csrf_token": formBob["csrf_token"], "decision": {"allow"}}, http.StatusForbidden},
		{"tx of another user's session", bob, url.Values{"tx": formA["tx"], "csrf_token": formBob["csrf_token"], "decision": {"allow"}}, http.StatusForbidden},
		{"tx of the same user's other session", alice2, url.Values{"tx": formA["tx"], "csrf_token": formAlice2["csrf_token"], "decision": {"allow"}}, http.StatusForbidden},
		{"unknown tx", a, url.Values{"tx": {"made-up"}, "csrf_token": formA["csrf_token"], "decision": {"allow"}}, http.StatusForbidden},
		{"missing tx", a, url.Values{"csrf_token": formA["csrf_token"], "decision": {"allow"}}, http.StatusForbidden},
		{"no session at all", e.newBrowser(), url.Values{"tx": formA["tx"], "csrf_token": formA["csrf_token"], "decision": {"allow"}}, http.StatusForbidden},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.b.post("/api/oauth2/authorize/decision", tc.form)
			wantStatus(t, r, tc.status)
			wantNoLocation(t, r)
			wantNotFramed(t, r)
		})
	}
	if _, err := e.deps.Store.Consents.Get(t.Context(), e.aliceID, e.app.ID); err == nil {
		t.Error("a consent exists after refused decisions")
	}

	t.Run("unknown decision", func(t *testing.T) {
		form := consent(a)
		form.Set("decision", "maybe")
		r := a.post("/api/oauth2/authorize/decision", form)
		wantStatus(t, r, http.StatusBadRequest)
		wantNoLocation(t, r)
	})
	t.Run("tx reused after a decision", func(t *testing.T) {
		// The refusals above did not use up alice's transaction.
		formA.Set("decision", "allow")
		r := a.post("/api/oauth2/authorize/decision", formA)
		wantStatus(t, r, http.StatusSeeOther)
		for _, decision := range []string{"allow", "deny"} {
			formA.Set("decision", decision)
			r = a.post("/api/oauth2/authorize/decision", formA)
			wantStatus(t, r, http.StatusForbidden)
			wantNoLocation(t, r)
		}
	})
	t.Run("tx reused after deny", func(t *testing.T) {
		formBob.Set("decision", "deny")
		wantStatus(t, bob.post("/api/oauth2/authorize/decision", formBob), http.StatusSeeOther)
		formBob.Set("decision", "allow")
		r := bob.post("/api/oauth2/authorize/decision", formBob)
		wantStatus(t, r, http.StatusForbidden)
		wantNoLocation(t, r)
	})
}

// TestAuthorizeLoopbackAnyPort: RFC 8252 §7.3 and API.md §6, an http
// redirect URI on the loopback IP literals 127.0.0.1 and [::1] matches
// with any port, since a native app listens on whatever port is free;
// scheme, host, path and query still match exactly, and localhost gets no
// such exception. The token request repeats the URI used, port included.
func TestAuthorizeLoopbackAnyPort(t *testing.T) {
	e := newOAuthEnv(t)
	v6 := e.mustCreateClient(e.dev, map[string]any{"name": "IPv6 CLI", "public": true,
		"redirect_uris": []string{"http://[::1]/cb?app=1"}})
	named := e.mustCreateClient(e.dev, map[string]any{"name": "Named CLI", "public": true,
		"redirect_uris": []string{"http://localhost:7000/cb"}})
	b := e.aliceBrowser()
	verifier, challenge := pkce()

	for _, tc := range []struct {
		name            string
		c               client
		redirect, other string // the URI used, and one with another port
	}{
		{"127.0.0.1, another port", e.pub, "http://127.0.0.1:51234/cb", "http://127.0.0.1:51235/cb"},
		{"127.0.0.1, no port", e.pub, "http://127.0.0.1/cb", "http://127.0.0.1:8400/cb"},
		{"127.0.0.1, the registered port", e.pub, "http://127.0.0.1:8400/cb", "http://127.0.0.1/cb"},
		{"[::1], registered without a port", v6, "http://[::1]:6000/cb?app=1", "http://[::1]/cb?app=1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.c
			c.RedirectURI = tc.redirect
			r := b.authorize(authQuery(c, "profile", "st", challenge))
			if r.StatusCode == http.StatusOK {
				form := consentForm(t, r)
				form.Set("decision", "allow")
				r = b.post("/api/oauth2/authorize/decision", form)
			}
			u := location(t, r)
			code := u.Query().Get("code")
			u.RawQuery = url.Values{"app": u.Query()["app"]}.Encode()
			if got := strings.TrimSuffix(u.String(), "?"); got != tc.redirect {
				t.Fatalf("redirected to %s, want %s", r.Header.Get("Location"), tc.redirect)
			}
			if code == "" {
				t.Fatalf("no code in %s", r.Header.Get("Location"))
			}
			// The token request repeats the URI used, port included.
			other := c
			other.RedirectURI = tc.other
			wantOAuthError(t, e.postForm("/api/oauth2/token", nil, codeForm(other, code, verifier)), http.StatusBadRequest, "invalid_grant")
			code = b.mustCode(authQuery(c, "profile", "st", challenge))
			e.mustToken(nil, codeForm(c, code, verifier))
		})
	}
	for _, tc := range []struct {
		name     string
		c        client
		redirect string
	}{
		{"localhost, another port", named, "http://localhost:7001/cb"},
		{"localhost, no port", named, "http://localhost/cb"},
		{"another path", e.pub, "http://127.0.0.1:5000/cb2"},
		{"a trailing slash", e.pub, "http://127.0.0.1:5000/cb/"},
		{"a query", e.pub, "http://127.0.0.1:5000/cb?x=1"},
		{"another query", v6, "http://[::1]:6000/cb?app=2"},
		{"https", e.pub, "https://127.0.0.1:5000/cb"},
		{"upper-case scheme", e.pub, "HTTP://127.0.0.1:5000/cb"},
		{"another loopback address", e.pub, "http://127.0.0.2:5000/cb"},
		{"[::1] for 127.0.0.1", e.pub, "http://[::1]:5000/cb"},
		{"an empty port", e.pub, "http://127.0.0.1:/cb"},
		{"port 0", e.pub, "http://127.0.0.1:0/cb"},
		{"a port out of range", e.pub, "http://127.0.0.1:65536/cb"},
		{"a port with a leading zero", e.pub, "http://127.0.0.1:08400/cb"},
		{"user information after the port", e.pub, "http://127.0.0.1:5000@evil.example/cb"},
		{"a host after the port", e.pub, "http://127.0.0.1:5000.evil.example/cb"},
		{"a fragment", e.pub, "http://127.0.0.1:5000/cb#x"},
	} {
		t.Run("refused: "+tc.name, func(t *testing.T) {
			c := tc.c
			c.RedirectURI = tc.redirect
			wantErrorPage(t, b.authorize(authQuery(c, "profile", "st", challenge)), http.StatusBadRequest)
		})
	}
}

// TestRedirectURIRemovedMeanwhile: API.md §6, the redirect URI is checked
// against the client's registration again when the user decides and when
// the code is redeemed, so a URI the owner removed in between gets
// nothing: no redirect, no code, no tokens.
func TestRedirectURIRemovedMeanwhile(t *testing.T) {
	e := newOAuthEnv(t)
	const kept, removed = "https://app.example/cb", "https://old.example/cb"
	two := e.mustCreateClient(e.dev, map[string]any{"name": "Two Homes", "redirect_uris": []string{kept, removed}})
	old := two
	old.RedirectURI = removed
	register := func(t *testing.T, c client, uris ...string) {
		t.Helper()
		wantStatus(t, e.request("PATCH", "/api/clients/"+c.ID, map[string]any{"redirect_uris": uris}, e.dev), http.StatusOK)
	}
	b := e.aliceBrowser()

	for _, decision := range []string{"allow", "deny"} {
		t.Run("at the decision: "+decision, func(t *testing.T) {
			register(t, two, kept, removed)
			q := authQuery(old, "profile", "st", "")
			q.Set("prompt", "consent")
			r := b.authorize(q)
			wantStatus(t, r, http.StatusOK)
			form := consentForm(t, r)
			form.Set("decision", decision)
			register(t, two, kept)
			wantErrorPage(t, b.post("/api/oauth2/authorize/decision", form), http.StatusBadRequest)
			if _, err := e.deps.Store.Consents.Get(t.Context(), e.aliceID, two.ID); err == nil {
				t.Error("the consent was remembered though nothing was sent")
			}
		})
	}
	t.Run("at redemption", func(t *testing.T) {
		register(t, two, kept, removed)
		code := b.mustCode(authQuery(old, "profile", "st", ""))
		register(t, two, kept)
		wantOAuthError(t, e.postForm("/api/oauth2/token", &two, codeForm(old, code, "")), http.StatusBadRequest, "invalid_grant")
	})
	t.Run("at redemption, redirect_uri left out", func(t *testing.T) {
		register(t, two, removed)
		q := authQuery(old, "profile", "st", "")
		q.Del("redirect_uri")
		code := b.mustCode(q)
		register(t, two, kept)
		wantOAuthError(t, e.postForm("/api/oauth2/token", &two, with(codeForm(old, code, ""), "redirect_uri", "")),
			http.StatusBadRequest, "invalid_grant")
	})
	t.Run("at redemption, a loopback URI on another port", func(t *testing.T) {
		verifier, challenge := pkce()
		cli := e.pub
		cli.RedirectURI = "http://127.0.0.1:5555/cb"
		code := b.mustCode(authQuery(cli, "profile", "st", challenge))
		register(t, e.pub, "http://127.0.0.1:8400/other")
		wantOAuthError(t, e.postForm("/api/oauth2/token", nil, codeForm(cli, code, verifier)), http.StatusBadRequest, "invalid_grant")
	})
}

// TestAuthorizeErrorsRedirectOnlyWhenTrusted: RFC 9700 §4.11.2 and API.md
// §6 step 2. An error in the request goes to the redirect URI only when it
// is trusted: the signed-in user owns the client or approved it before.
// Otherwise anyone could register an app and use the endpoint as an open
// redirector, so the user sees the error page, naming the error and
// showing the redirect URI as text. prompt=none outcomes still redirect.
func TestAuthorizeErrorsRedirectOnlyWhenTrusted(t *testing.T) {
	e := newOAuthEnv(t)
	stranger := e.mustCreateClient(e.alice, map[string]any{"name": "Stranger's App",
		"redirect_uris": []string{"https://evil.example/landing"}})
	bad := func(c client, mod func(q url.Values)) url.Values {
		q := authQuery(c, "profile", "st", "")
		mod(q)
		return q
	}
	badType := func(q url.Values) { q.Set("response_type", "x") }
	badScope := func(q url.Values) { q.Set("scope", "profile admin") }
	e.mustRegister("bob", "bobs password")
	bob := e.newBrowser()
	bob.mustLogIn("bob", "bobs password")
	nobody := e.newBrowser()

	for _, tc := range []struct {
		name  string
		b     *browser
		q     url.Values
		error string
	}{
		{"nobody signed in, response_type=x", nobody, bad(stranger, badType), "unsupported_response_type"},
		{"nobody signed in, unknown scope", nobody, bad(stranger, badScope), "invalid_scope"},
		{"a user who never approved the app", bob, bad(stranger, badType), "unsupported_response_type"},
		{"a user who never approved the app, unknown scope", bob, bad(stranger, badScope), "invalid_scope"},
	} {
		t.Run("error page: "+tc.name, func(t *testing.T) {
			r := tc.b.authorize(tc.q)
			wantErrorPage(t, r, http.StatusBadRequest)
			wantBodyContains(t, r, tc.error)
			wantBodyContains(t, r, "https://evil.example/landing")
			if strings.Contains(string(r.body), `href="https://evil.example`) {
				t.Error("the error page links to the untrusted redirect URI")
			}
		})
	}

	// alice owns the stranger's app; bob approves dev's app.
	alice := e.aliceBrowser()
	bob.mustCode(authQuery(e.app, "profile", "st", ""))
	for _, tc := range []struct {
		name  string
		b     *browser
		c     client
		mod   func(url.Values)
		error string
	}{
		{"the owner", alice, stranger, badType, "unsupported_response_type"},
		{"the owner, unknown scope", alice, stranger, badScope, "invalid_scope"},
		{"a user who approved the app", bob, e.app, badType, "unsupported_response_type"},
		{"a user who approved the app, a scope never approved", bob, e.app, badScope, "invalid_scope"},
	} {
		t.Run("redirect: "+tc.name, func(t *testing.T) {
			q := bad(tc.c, tc.mod)
			wantAuthError(t, tc.b.authorize(q), http.StatusFound, tc.c.RedirectURI, tc.error, "st")
		})
	}
	t.Run("redirect: prompt=none, nobody signed in", func(t *testing.T) {
		q := authQuery(stranger, "profile", "st", "")
		q.Set("prompt", "none")
		wantAuthError(t, nobody.authorize(q), http.StatusFound, stranger.RedirectURI, "login_required", "st")
	})
	t.Run("redirect: prompt=none, consent needed", func(t *testing.T) {
		q := authQuery(stranger, "profile", "st", "")
		q.Set("prompt", "none")
		wantAuthError(t, bob.authorize(q), http.StatusFound, stranger.RedirectURI, "consent_required", "st")
	})
}

// TestAuthorizeNativeAppAlwaysAsks: RFC 8252 §8.6 and API.md §6 step 4.
// Any app on a device can claim a private-use URI scheme, so a public
// client that redirects to one cannot be told from an impersonator with
// the same client_id: every request needs the user's interaction, the
// consent page, however often the user approved it. Public clients whose
// redirect URI is https or loopback, and confidential ones, still skip it.
func TestAuthorizeNativeAppAlwaysAsks(t *testing.T) {
	e := newOAuthEnv(t)
	native := e.mustCreateClient(e.dev, map[string]any{"name": "Beer Phone", "public": true,
		"redirect_uris": []string{"com.example.beer:/cb", "https://beer.example/cb"}})
	native.RedirectURI = "com.example.beer:/cb"
	web := native
	web.RedirectURI = "https://beer.example/cb"
	b := e.aliceBrowser()
	_, challenge := pkce()

	b.mustCode(authQuery(native, "profile", "st", challenge))
	for i := range 2 {
		r := b.authorize(authQuery(native, "profile", "st", challenge))
		wantStatus(t, r, http.StatusOK)
		wantNoLocation(t, r)
		form := consentForm(t, r)
		if i == 1 {
			form.Set("decision", "allow")
			r = b.post("/api/oauth2/authorize/decision", form)
			wantStatus(t, r, http.StatusSeeOther)
			if u := location(t, r); u.Scheme != "com.example.beer" || u.Query().Get("code") == "" {
				t.Errorf("redirected to %s, want com.example.beer:/cb with a code", u)
			}
		}
	}
	t.Run("prompt=none", func(t *testing.T) {
		q := authQuery(native, "profile", "st", challenge)
		q.Set("prompt", "none")
		r := b.authorize(q)
		wantStatus(t, r, http.StatusFound)
		loc := r.Header.Get("Location")
		if u := location(t, r); !strings.HasPrefix(loc, "com.example.beer:/cb?") || u.Query().Get("error") != "consent_required" || u.Query().Has("code") {
			t.Errorf("Location = %s, want com.example.beer:/cb with error=consent_required", loc)
		}
	})
	for _, c := range []client{web, e.pub} {
		t.Run("remembered for "+c.RedirectURI, func(t *testing.T) {
			b.mustCode(authQuery(c, "profile", "st", challenge))
			r := b.authorize(authQuery(c, "profile", "st", challenge))
			wantStatus(t, r, http.StatusFound)
			if location(t, r).Query().Get("code") == "" {
				t.Errorf("no code in %s", r.Header.Get("Location"))
			}
		})
	}
}

// TestAuthorizePromptList: prompt is a space-separated list (OpenID
// Connect Core §3.1.2.1, API.md §9), so consent asks for the page in any
// company, and none with any other value is invalid_request. (login, which
// asks for the password, is TestPromptLogin's.)
func TestAuthorizePromptList(t *testing.T) {
	e := newOAuthEnv(t)
	b := e.aliceBrowser()
	b.mustCode(authQuery(e.app, "profile", "st", ""))
	ask := func(prompt string) *response {
		t.Helper()
		q := authQuery(e.app, "profile", "st", "")
		q.Set("prompt", prompt)
		return b.authorize(q)
	}
	for _, prompt := range []string{"consent", "consent  select_account", "select_account consent"} {
		t.Run(prompt, func(t *testing.T) {
			r := ask(prompt)
			wantStatus(t, r, http.StatusOK)
			consentForm(t, r)
		})
	}
	for _, prompt := range []string{"none login", "consent none", "none consent login"} {
		t.Run(prompt, func(t *testing.T) {
			wantAuthError(t, ask(prompt), http.StatusFound, e.app.RedirectURI, "invalid_request", "st")
		})
	}
	for _, prompt := range []string{"none", "none none", "select_account"} {
		t.Run(prompt, func(t *testing.T) {
			r := ask(prompt)
			wantStatus(t, r, http.StatusFound)
			if location(t, r).Query().Get("code") == "" {
				t.Errorf("no code in %s", r.Header.Get("Location"))
			}
		})
	}
	t.Run("nobody signed in, none with login", func(t *testing.T) {
		q := authQuery(e.app, "profile", "st", "")
		q.Set("prompt", "none login")
		r := e.newBrowser().authorize(q)
		wantErrorPage(t, r, http.StatusBadRequest)
		wantBodyContains(t, r, "invalid_request")
	})
}
