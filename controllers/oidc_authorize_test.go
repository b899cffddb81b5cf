package controllers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// The authorization request of OpenID Connect (API.md §9): a POST is an
// authorization request too, prompt=login and max_age ask for the password
// again, login_hint and id_token_hint name the user, request objects are
// refused.

// idTokenFor runs the code flow for c (a confidential client) in b with
// the openid scope and returns the token response.
func (e *oauthEnv) idTokenFor(b *browser, c client, q url.Values) idTokens {
	e.t.Helper()
	if q == nil {
		q = authQuery(c, "openid profile", "st", "")
	}
	code := b.mustCode(q)
	r := e.postForm("/api/oauth2/token", &c, codeForm(c, code, ""))
	wantStatus(e.t, r, http.StatusOK)
	var tk idTokens
	decode(e.t, r, &tk)
	if tk.IDToken == "" {
		e.t.Fatalf("no id_token in %s", r.body)
	}
	return tk
}

// redeemForIDToken redeems the code e.app's redirect r carries and returns
// the token response, with its ID token.
func (e *oauthEnv) redeemForIDToken(r *response) idTokens {
	e.t.Helper()
	wantStatus(e.t, r, http.StatusFound)
	code := location(e.t, r).Query().Get("code")
	if code == "" {
		e.t.Fatalf("%s, want a code", r.Header.Get("Location"))
	}
	rt := e.postForm("/api/oauth2/token", &e.app, codeForm(e.app, code, ""))
	wantStatus(e.t, rt, http.StatusOK)
	var tk idTokens
	if decode(e.t, rt, &tk); tk.IDToken == "" {
		e.t.Fatalf("no id_token in %s", rt.body)
	}
	return tk
}

// authTimeOf verifies an ID token with go-oidc and returns its auth_time.
func (e *oauthEnv) authTimeOf(idToken string) time.Time {
	e.t.Helper()
	return time.Unix(e.verifiedClaims(idToken).AuthTime, 0)
}

// verifiedClaims verifies an ID token for e.app with go-oidc and returns
// its claims.
func (e *oauthEnv) verifiedClaims(idToken string) idTokenClaims {
	e.t.Helper()
	ctx := context.Background()
	v := oidc.NewVerifier("http://localhost:3000", oidc.NewRemoteKeySet(ctx, e.server.URL+"/.well-known/jwks.json"),
		&oidc.Config{ClientID: e.app.ID})
	idt, err := v.Verify(ctx, idToken)
	if err != nil {
		e.t.Fatalf("go-oidc Verify: %v", err)
	}
	var c idTokenClaims
	if err := idt.Claims(&c); err != nil {
		e.t.Fatal(err)
	}
	return c
}

// wantLoginPage checks that r sends the browser to the login page and
// returns the link's query (return_to, username, reason).
func wantLoginPage(t testing.TB, r *response, status int) url.Values {
	t.Helper()
	wantStatus(t, r, status)
	u := location(t, r)
	if u.Path != "/login" || u.Host != "" {
		t.Fatalf("Location = %s, want the login page", u)
	}
	if rt := u.Query().Get("return_to"); !strings.HasPrefix(rt, "/api/oauth2/authorize?") {
		t.Errorf("return_to = %q, want the authorization request", rt)
	}
	return u.Query()
}

// signInAgain follows a redirect to the login page as a user would: it
// opens the page, checks it says why and pre-fills want, logs in, and
// follows the login back to the authorization request, whose response it
// returns.
func signInAgain(t testing.TB, b *browser, r *response, wantNotice, wantUsername, password string) *response {
	t.Helper()
	link := location(t, r)
	page := b.get(link.RequestURI())
	wantStatus(t, page, http.StatusOK)
	if wantNotice != "" {
		wantBodyContains(t, page, wantNotice)
	}
	wantBodyContains(t, page, `value="`+wantUsername+`"`)
	returnTo := link.Query().Get("return_to")
	r = b.logIn(wantUsername, password, returnTo)
	wantRedirect(t, r, http.StatusSeeOther, returnTo)
	return b.get(returnTo)
}

func TestAuthorizeByPost(t *testing.T) {
	e := newOAuthEnv(t)
	b := e.aliceBrowser()
	b.mustCode(authQuery(e.app, "profile", "st", ""))

	t.Run("approved before: 303 with a code", func(t *testing.T) {
		r := b.post("/api/oauth2/authorize", authQuery(e.app, "profile", "p1", ""))
		wantStatus(t, r, http.StatusSeeOther)
		if q := location(t, r).Query(); q.Get("code") == "" || q.Get("state") != "p1" {
			t.Errorf("Location = %s, want a code and state=p1", r.Header.Get("Location"))
		}
	})
	t.Run("the consent page decides at its own path", func(t *testing.T) {
		q := authQuery(e.app, "profile", "p2", "")
		q.Set("prompt", "consent")
		r := b.post("/api/oauth2/authorize", q)
		wantStatus(t, r, http.StatusOK)
		wantBodyContains(t, r, `action="/api/oauth2/authorize/decision"`)
		form := consentForm(t, r)
		form.Set("decision", "allow")

		// The decision posted to the endpoint is an authorization request
		// without client_id, not a decision.
		old := b.post("/api/oauth2/authorize", form)
		wantErrorPage(t, old, http.StatusBadRequest)

		r = b.post("/api/oauth2/authorize/decision", form)
		wantStatus(t, r, http.StatusSeeOther)
		if q := location(t, r).Query(); q.Get("code") == "" || q.Get("state") != "p2" {
			t.Errorf("Location = %s, want a code and state=p2", r.Header.Get("Location"))
		}
	})
	t.Run("signed out: the login page returns to the same request as a GET", func(t *testing.T) {
		q := authQuery(e.app, "profile", "p3", "")
		link := wantLoginPage(t, e.newBrowser().post("/api/oauth2/authorize", q), http.StatusSeeOther)
		back, err := url.Parse(link.Get("return_to"))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := back.Query().Encode(), q.Encode(); got != want {
			t.Errorf("return_to's query = %s, want %s", got, want)
		}
	})
	t.Run("signed out with prompt=none: login_required", func(t *testing.T) {
		q := authQuery(e.app, "profile", "p4", "")
		q.Set("prompt", "none")
		wantAuthError(t, e.newBrowser().post("/api/oauth2/authorize", q), http.StatusSeeOther, e.app.RedirectURI, "login_required", "p4")
	})
	t.Run("a form that cannot be read", func(t *testing.T) {
		req, _ := http.NewRequest("POST", e.server.URL+"/api/oauth2/authorize", strings.NewReader("client_id=%zz"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		wantErrorPage(t, b.do(req), http.StatusBadRequest)
	})
}

// TestPromptLogin: prompt=login asks a signed-in user for the password,
// saying why, and the request goes on once they have entered it, with the
// new sign-in as the ID token's auth_time.
func TestPromptLogin(t *testing.T) {
	e := newOAuthEnv(t)
	b := e.aliceBrowser()
	first := e.authTimeOf(e.idTokenFor(b, e.app, nil).IDToken)
	e.clock.Advance(time.Minute)

	q := authQuery(e.app, "openid profile", "st", "")
	q.Set("prompt", "login")
	r := b.authorize(q)
	if link := wantLoginPage(t, r, http.StatusFound); link.Get("reason") != "prompt" {
		t.Errorf("reason = %q, want prompt", link.Get("reason"))
	}
	r = signInAgain(t, b, r, "asks you to enter your password again", "alice", "alices password")
	wantStatus(t, r, http.StatusFound) // approved before: no consent page, and no login again
	tk := e.redeemForIDToken(r)
	if again := e.authTimeOf(tk.IDToken); again.Sub(first) < time.Minute-time.Second {
		t.Errorf("auth_time after prompt=login = %v, want the new sign-in, a minute after %v", again, first)
	}

	t.Run("signed out, one login is enough", func(t *testing.T) {
		fresh := e.newBrowser()
		r := fresh.authorize(q)
		wantLoginPage(t, r, http.StatusFound)
		returnTo := location(t, r).Query().Get("return_to")
		wantRedirect(t, fresh.logIn("alice", "alices password", returnTo), http.StatusSeeOther, returnTo)
		r = fresh.get(returnTo)
		wantStatus(t, r, http.StatusFound)
		if location(t, r).Query().Get("code") == "" {
			t.Errorf("after the login: %s, want a code", r.Header.Get("Location"))
		}
	})
}

func TestMaxAge(t *testing.T) {
	e := newOAuthEnv(t)
	b := e.aliceBrowser()
	b.mustCode(authQuery(e.app, "openid profile", "st", ""))
	withMaxAge := func(v string, prompt string) url.Values {
		q := authQuery(e.app, "openid profile", "st", "")
		q.Set("max_age", v)
		if prompt != "" {
			q.Set("prompt", prompt)
		}
		return q
	}
	for _, bad := range []string{"-1", "abc", "+5", "1.5", " 5", "99999999999999999999"} {
		t.Run("invalid "+bad, func(t *testing.T) {
			wantAuthError(t, b.authorize(withMaxAge(bad, "")), http.StatusFound, e.app.RedirectURI, "invalid_request", "st")
		})
	}

	e.clock.Advance(2 * time.Minute)
	t.Run("a recent enough sign-in", func(t *testing.T) {
		r := b.authorize(withMaxAge("3600", ""))
		wantStatus(t, r, http.StatusFound)
		if location(t, r).Query().Get("code") == "" {
			t.Errorf("Location = %s, want a code", r.Header.Get("Location"))
		}
	})
	t.Run("too old with prompt=none: login_required", func(t *testing.T) {
		wantAuthError(t, b.authorize(withMaxAge("60", "none")), http.StatusFound, e.app.RedirectURI, "login_required", "st")
	})
	for _, maxAge := range []string{"60", "0"} {
		t.Run("too old for "+maxAge+": the password again", func(t *testing.T) {
			before := e.clock.Now().Add(-time.Second)
			r := b.authorize(withMaxAge(maxAge, ""))
			if link := wantLoginPage(t, r, http.StatusFound); link.Get("reason") != "max_age" {
				t.Errorf("reason = %q, want max_age", link.Get("reason"))
			}
			r = signInAgain(t, b, r, "asks for a recent sign-in", "alice", "alices password")
			wantStatus(t, r, http.StatusFound)
			tk := e.redeemForIDToken(r)
			if at := e.authTimeOf(tk.IDToken); at.Before(before.Truncate(time.Second)) {
				t.Errorf("auth_time = %v, want the new sign-in (after %v)", at, before)
			}
			e.clock.Advance(2 * time.Minute)
		})
	}
}

// TestLoginHint: login_hint pre-fills the login form; one that cannot be a
// username pre-fills nothing and breaks nothing.
func TestLoginHint(t *testing.T) {
	e := newOAuthEnv(t)
	for _, tc := range []struct{ hint, want string }{
		{"alice", `value="alice"`},
		{`"><script>x</script>`, `name="username" value=""`},
	} {
		t.Run(tc.hint, func(t *testing.T) {
			b := e.newBrowser()
			q := authQuery(e.app, "openid", "st", "")
			q.Set("login_hint", tc.hint)
			r := b.authorize(q)
			wantLoginPage(t, r, http.StatusFound)
			page := b.get(location(t, r).RequestURI())
			wantStatus(t, page, http.StatusOK)
			wantBodyContains(t, page, tc.want)
			if strings.Contains(string(page.body), "<script>") {
				t.Errorf("the hint reached the page unescaped:\n%s", page.body)
			}
		})
	}
	t.Run("longer than 512 characters", func(t *testing.T) {
		q := authQuery(e.app, "openid", "st", "")
		q.Set("login_hint", strings.Repeat("a", 513))
		b := e.aliceBrowser()
		b.mustCode(authQuery(e.app, "openid", "st", ""))
		wantAuthError(t, b.authorize(q), http.StatusFound, e.app.RedirectURI, "invalid_request", "st")
	})
}

// TestIDTokenHint: an id_token_hint must be an ID token this server issued
// to the client, expired or not; one naming another user than the one
// signed in asks to sign in as that user, or with prompt=none answers
// login_required.
func TestIDTokenHint(t *testing.T) {
	e := newOAuthEnv(t)
	e.mustRegister("bob", "bobs password")
	alice := e.aliceBrowser()
	aliceHint := e.idTokenFor(alice, e.app, nil).IDToken
	bob := e.newBrowser()
	bob.mustLogIn("bob", "bobs password")
	bobHint := e.idTokenFor(bob, e.app, nil).IDToken
	other := e.mustCreateClient(e.dev, map[string]any{"name": "Other"})
	alice.mustCode(authQuery(other, "openid", "st", ""))

	hinted := func(c client, hint, prompt string) url.Values {
		q := authQuery(c, "openid profile", "st", "")
		q.Set("id_token_hint", hint)
		if prompt != "" {
			q.Set("prompt", prompt)
		}
		return q
	}
	t.Run("the signed-in user's, even expired", func(t *testing.T) {
		e.clock.Advance(2 * time.Hour)
		r := alice.authorize(hinted(e.app, aliceHint, "none"))
		wantStatus(t, r, http.StatusFound)
		if location(t, r).Query().Get("code") == "" {
			t.Errorf("Location = %s, want a code", r.Header.Get("Location"))
		}
	})
	tampered := []byte(aliceHint)
	tampered[len(tampered)-5] ^= 1
	for name, hint := range map[string]string{
		"tampered":          string(tampered),
		"not a JWT":         "abc",
		"unsigned":          "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
		"another app's":     aliceHint, // for other, below
		"far too long":      strings.Repeat("a", 9000),
		"an unknown kid":    `eyJhbGciOiJSUzI1NiIsImtpZCI6Im5vcGUifQ.e30.` + strings.Repeat("A", 342),
		"two-part compact.": "eyJhbGciOiJSUzI1NiJ9.e30",
	} {
		t.Run(name, func(t *testing.T) {
			c := e.app
			if name == "another app's" {
				c = other
			}
			wantAuthError(t, alice.authorize(hinted(c, hint, "")), http.StatusFound, c.RedirectURI, "invalid_request", "st")
		})
	}
	t.Run("another user's with prompt=none: login_required", func(t *testing.T) {
		wantAuthError(t, alice.authorize(hinted(e.app, bobHint, "none")), http.StatusFound, e.app.RedirectURI, "login_required", "st")
	})
	t.Run("another user's: sign in as them", func(t *testing.T) {
		r := alice.authorize(hinted(e.app, bobHint, ""))
		link := wantLoginPage(t, r, http.StatusFound)
		if link.Get("reason") != "account" || link.Get("username") != "bob" {
			t.Errorf("reason, username = %q, %q; want account, bob", link.Get("reason"), link.Get("username"))
		}
		r = signInAgain(t, alice, r, "expects a different account", "bob", "bobs password")
		wantStatus(t, r, http.StatusFound)
		tk := e.redeemForIDToken(r)
		if c := e.verifiedClaims(tk.IDToken); c.PreferredUsername != "bob" {
			t.Errorf("the code is %q's, want bob's", c.PreferredUsername)
		}
	})
}

// TestRequestObjectsRefused: request and request_uri get their own errors
// (OpenID Connect Core §6, API.md §9).
func TestRequestObjectsRefused(t *testing.T) {
	e := newOAuthEnv(t)
	b := e.aliceBrowser()
	b.mustCode(authQuery(e.app, "openid", "st", ""))
	for param, code := range map[string]string{"request": "request_not_supported", "request_uri": "request_uri_not_supported"} {
		t.Run(param, func(t *testing.T) {
			q := authQuery(e.app, "openid", "st", "")
			q.Set(param, "eyJhbGciOiJub25lIn0.e30.")
			wantAuthError(t, b.authorize(q), http.StatusFound, e.app.RedirectURI, code, "st")
		})
	}
}

// Other parameters, such as those of OpenID Connect this server does not
// act on (display, ui_locales, claims_locales, acr_values, claims), are
// ignored (API.md §9): the request goes on as without them.
func TestUnknownAuthorizationParametersIgnored(t *testing.T) {
	e := newOAuthEnv(t)
	b := e.aliceBrowser()
	b.mustCode(authQuery(e.app, "openid profile", "st", ""))
	q := authQuery(e.app, "openid profile", "odd", "")
	for k, v := range map[string]string{"display": "popup", "ui_locales": "fr-CA fr", "claims_locales": "de", "acr_values": "urn:mace:incommon:iap:silver",
		"claims": `{"id_token":{"email":{"essential":true}}}`, "x-custom": "1"} {
		q.Set(k, v)
	}
	r := b.authorize(q)
	wantStatus(t, r, http.StatusFound)
	if cb := location(t, r).Query(); cb.Get("code") == "" || cb.Get("state") != "odd" {
		t.Fatalf("Location = %s, want a code and state odd", r.Header.Get("Location"))
	}
	if c := e.verifiedClaims(e.redeemForIDToken(r).IDToken); c.PreferredUsername != "alice" {
		t.Errorf("preferred_username = %q, want alice", c.PreferredUsername)
	}
}
