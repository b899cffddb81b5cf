package controllers_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// idTokenClaims are the ID token claims the tests read (API.md §9).
type idTokenClaims struct {
	Subject           string `json:"sub"`
	AuthorizedParty   string `json:"azp"`
	AuthTime          int64  `json:"auth_time"`
	Nonce             string `json:"nonce"`
	PreferredUsername string `json:"preferred_username"`
}

// idTokens is the token response with its ID token.
type idTokens struct {
	tokens
	IDToken string `json:"id_token"`
}

// The code grant with openid returns an ID token that the relying-party
// library go-oidc verifies against the published JWK Set: signature, iss,
// aud, exp, nonce, at_hash; a refresh returns one with the same sub and
// auth_time and no nonce (API.md §9).
func TestIDTokenVerifiedByGoOIDC(t *testing.T) {
	e := newOAuthEnv(t)
	ctx := context.Background()
	keySet := oidc.NewRemoteKeySet(ctx, e.server.URL+"/.well-known/jwks.json")
	verifier := oidc.NewVerifier("http://localhost:3000", keySet, &oidc.Config{ClientID: e.app.ID})

	b := e.aliceBrowser()
	loginDone := time.Now()
	q := authQuery(e.app, "openid profile beers:read", "st", "")
	q.Set("nonce", "n-0S6_WzA2Mj")
	code := b.mustCode(q)
	var tk idTokens
	r := e.postForm("/api/oauth2/token", &e.app, codeForm(e.app, code, ""))
	wantStatus(t, r, 200)
	decode(t, r, &tk)
	if tk.IDToken == "" {
		t.Fatalf("no id_token in %s", r.body)
	}
	idt, err := verifier.Verify(ctx, tk.IDToken)
	if err != nil {
		t.Fatalf("go-oidc Verify: %v", err)
	}
	if err := idt.VerifyAccessToken(tk.AccessToken); err != nil {
		t.Errorf("at_hash: %v", err)
	}
	if idt.Nonce != "n-0S6_WzA2Mj" || idt.Subject != e.aliceID {
		t.Errorf("nonce, sub = %q, %q; want the request's nonce and alice's id %q", idt.Nonce, idt.Subject, e.aliceID)
	}
	if life := idt.Expiry.Sub(idt.IssuedAt); life <= 0 || life > time.Hour {
		t.Errorf("exp - iat = %v, want at most 1 h", life)
	}
	var c idTokenClaims
	if err := idt.Claims(&c); err != nil {
		t.Fatal(err)
	}
	if c.AuthorizedParty != e.app.ID || c.PreferredUsername != "alice" {
		t.Errorf("azp, preferred_username = %q, %q", c.AuthorizedParty, c.PreferredUsername)
	}
	if at := time.Unix(c.AuthTime, 0); c.AuthTime == 0 || at.After(loginDone.Add(time.Second)) || loginDone.Sub(at) > time.Minute {
		t.Errorf("auth_time = %v, want the login (before %v)", at, loginDone)
	}

	var refreshed idTokens
	r = e.postForm("/api/oauth2/token", &e.app, refreshForm(tk.RefreshToken, ""))
	wantStatus(t, r, 200)
	decode(t, r, &refreshed)
	idt2, err := verifier.Verify(ctx, refreshed.IDToken)
	if err != nil {
		t.Fatalf("refreshed ID token: go-oidc Verify: %v (body %s)", err, r.body)
	}
	if err := idt2.VerifyAccessToken(refreshed.AccessToken); err != nil {
		t.Errorf("refreshed at_hash: %v", err)
	}
	var c2 idTokenClaims
	if err := idt2.Claims(&c2); err != nil {
		t.Fatal(err)
	}
	if c2.Subject != c.Subject || c2.AuthTime != c.AuthTime || c2.Nonce != "" {
		t.Errorf("refreshed sub, auth_time, nonce = %q, %d, %q; want %q, %d and no nonce", c2.Subject, c2.AuthTime, c2.Nonce, c.Subject, c.AuthTime)
	}

	t.Run("without openid no ID token", func(t *testing.T) {
		code := b.mustCode(authQuery(e.app, "beers:read", "st", ""))
		var plain idTokens
		r := e.postForm("/api/oauth2/token", &e.app, codeForm(e.app, code, ""))
		wantStatus(t, r, 200)
		decode(t, r, &plain)
		if plain.IDToken != "" {
			t.Errorf("id_token issued without the openid scope: %s", r.body)
		}
		r = e.postForm("/api/oauth2/token", &e.app, refreshForm(plain.RefreshToken, ""))
		wantStatus(t, r, 200)
		if decode(t, r, &plain); plain.IDToken != "" {
			t.Errorf("refresh without openid issued an id_token: %s", r.body)
		}
	})

	t.Run("a nonce longer than 512 characters is refused", func(t *testing.T) {
		q := authQuery(e.app, "openid", "st", "")
		q.Set("nonce", string(make([]byte, 513)))
		r := b.authorize(q)
		if loc := location(t, r); loc.Query().Get("error") != "invalid_request" {
			t.Errorf("redirect %s, want error=invalid_request", loc)
		}
	})
}

// decode unmarshals a JSON response body into v.
func decode(t testing.TB, r *response, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("%v in %s", err, r.body)
	}
}

// The device grant with openid returns an ID token too, verified by go-oidc.
func TestDeviceGrantIDToken(t *testing.T) {
	e := newDeviceEnv(t)
	ctx := context.Background()
	verifier := oidc.NewVerifier("http://localhost:3000",
		oidc.NewRemoteKeySet(ctx, e.server.URL+"/.well-known/jwks.json"), &oidc.Config{ClientID: e.tv.ID})

	da := e.mustDeviceAuth(e.tv, "openid beers:read")
	// The sign-in happens somewhere between these two readings of the
	// clock, which a busy machine can put in different seconds.
	beforeSignIn := e.clock.Now()
	b := e.aliceBrowser()
	afterSignIn := e.clock.Now()
	e.clock.Advance(3 * time.Minute) // the approval comes later than the sign-in
	consent := b.enterCode(da.UserCode)
	wantStatus(t, consent, http.StatusOK)
	wantStatus(t, b.decide(consent, "allow"), http.StatusOK)
	r := e.poll(e.tv, da.DeviceCode)
	wantStatus(t, r, http.StatusOK)
	var tk idTokens
	decode(t, r, &tk)
	idt, err := verifier.Verify(ctx, tk.IDToken)
	if err != nil {
		t.Fatalf("go-oidc Verify of the device grant's id_token: %v (body %s)", err, r.body)
	}
	if err := idt.VerifyAccessToken(tk.AccessToken); err != nil {
		t.Errorf("at_hash: %v", err)
	}
	if idt.Subject != e.aliceID || idt.Nonce != "" {
		t.Errorf("sub, nonce = %q, %q; want alice's id and no nonce", idt.Subject, idt.Nonce)
	}
	var c idTokenClaims
	if err := idt.Claims(&c); err != nil {
		t.Fatal(err)
	}
	if c.AuthTime < beforeSignIn.Unix() || c.AuthTime > afterSignIn.Unix() {
		t.Errorf("auth_time = %d, want %d–%d: when alice signed in, in the browser that approved (not the approval, 3 min later)",
			c.AuthTime, beforeSignIn.Unix(), afterSignIn.Unix())
	}
}

// UserInfo (API.md §9) answers a token with openid, through go-oidc's
// Provider.UserInfo and by hand for its errors.
func TestUserInfo(t *testing.T) {
	e := newOAuthEnv(t)
	b := e.aliceBrowser()
	token := func(scope string) string {
		code := b.mustCode(authQuery(e.app, scope, "st", ""))
		return e.mustToken(&e.app, codeForm(e.app, code, "")).AccessToken
	}
	withProfile := token("openid profile")
	for _, method := range []string{"GET", "POST"} {
		r := e.request(method, "/api/oauth2/userinfo", nil, bearer(withProfile))
		wantStatus(t, r, http.StatusOK)
		if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("%s: Cache-Control = %q, want no-store", method, cc)
		}
		m := r.json(t)
		if m["sub"] != e.aliceID || m["preferred_username"] != "alice" || m["updated_at"] == nil {
			t.Errorf("%s userinfo = %v, want alice's sub, preferred_username and updated_at", method, m)
		}
	}
	if r := e.request("GET", "/api/oauth2/userinfo", nil, "Authorization: bearer "+withProfile); r.StatusCode != http.StatusOK {
		t.Errorf("with the scheme in lower case: %d %s, want 200 (RFC 7235 §2.1)", r.StatusCode, r.body)
	}
	m := e.request("GET", "/api/oauth2/userinfo", nil, bearer(token("openid"))).json(t)
	if m["sub"] != e.aliceID || m["preferred_username"] != nil {
		t.Errorf("userinfo without profile = %v, want only sub", m)
	}

	r := e.request("GET", "/api/oauth2/userinfo", nil, bearer(token("beers:read")))
	wantStatus(t, r, http.StatusForbidden)
	if ch := r.Header.Get("WWW-Authenticate"); !strings.Contains(ch, `error="insufficient_scope"`) {
		t.Errorf("WWW-Authenticate = %q, want insufficient_scope", ch)
	}
	for name, auth := range map[string][]string{"a bad token": {bearer("blat_nope")}, "no token": nil, "Basic": {e.alice}} {
		r := e.request("GET", "/api/oauth2/userinfo", nil, auth...)
		wantStatus(t, r, http.StatusUnauthorized)
		if ch := r.Header.Get("WWW-Authenticate"); !strings.HasPrefix(ch, "Bearer") || !strings.Contains(ch, `error="invalid_token"`) {
			t.Errorf("%s: WWW-Authenticate = %q, want Bearer error=\"invalid_token\"", name, ch)
		}
	}
}

// issuerTransport sends requests for the issuer, http://localhost:3000,
// to the test server, so a relying party can discover and use the
// endpoints the documents name.
type issuerTransport struct{ server string }

func (t issuerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	if req.URL.Host == "localhost:3000" {
		u, err := url.Parse(t.server)
		if err != nil {
			return nil, err
		}
		req.URL.Scheme, req.URL.Host = u.Scheme, u.Host
	}
	return http.DefaultTransport.RoundTrip(req)
}

// The README's "Sign in with Beer Locker" flow, with go-oidc's Provider
// from discovery: the code grant with PKCE and a nonce, Verify,
// VerifyAccessToken and UserInfo.
func TestGoOIDCProviderFromDiscovery(t *testing.T) {
	e := newOAuthEnv(t)
	ctx := oidc.ClientContext(context.Background(), &http.Client{Transport: issuerTransport{e.server.URL}})
	provider, err := oidc.NewProvider(ctx, "http://localhost:3000")
	if err != nil {
		t.Fatalf("oidc.NewProvider: %v", err)
	}
	conf := oauth2.Config{ClientID: e.app.ID, ClientSecret: e.app.Secret, Endpoint: provider.Endpoint(),
		RedirectURL: e.app.RedirectURI, Scopes: []string{oidc.ScopeOpenID, "profile"}}
	verifier := oauth2.GenerateVerifier()
	authURL, err := url.Parse(conf.AuthCodeURL("st", oidc.Nonce("n-42"), oauth2.S256ChallengeOption(verifier)))
	if err != nil {
		t.Fatal(err)
	}
	code := e.aliceBrowser().mustCode(authURL.Query())
	tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	rawID, _ := tok.Extra("id_token").(string)
	idToken, err := provider.Verifier(&oidc.Config{ClientID: e.app.ID}).Verify(ctx, rawID)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if idToken.Nonce != "n-42" {
		t.Errorf("nonce = %q, want n-42", idToken.Nonce)
	}
	if err := idToken.VerifyAccessToken(tok.AccessToken); err != nil {
		t.Errorf("VerifyAccessToken: %v", err)
	}
	info, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatalf("UserInfo: %v", err)
	}
	var claims struct {
		PreferredUsername string `json:"preferred_username"`
	}
	if err := info.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if info.Subject != idToken.Subject || info.Subject != e.aliceID || claims.PreferredUsername != "alice" {
		t.Errorf("userinfo sub, preferred_username = %q, %q; want the ID token's sub %q and alice", info.Subject, claims.PreferredUsername, idToken.Subject)
	}
}

// prompt=none through go-oidc and x/oauth2, as a relying party checks a
// session silently (API.md §9): login_required with nobody signed in,
// consent_required when the user has not approved these scopes, and with
// both a code straight away, whose ID token go-oidc verifies with the
// nonce. The consent page names openid as "Know who you are".
func TestPromptNoneWithGoOIDC(t *testing.T) {
	e := newOAuthEnv(t)
	ctx := oidc.ClientContext(context.Background(), &http.Client{Transport: issuerTransport{e.server.URL}})
	provider, err := oidc.NewProvider(ctx, "http://localhost:3000")
	if err != nil {
		t.Fatalf("oidc.NewProvider: %v", err)
	}
	conf := oauth2.Config{ClientID: e.app.ID, ClientSecret: e.app.Secret, Endpoint: provider.Endpoint(),
		RedirectURL: e.app.RedirectURI, Scopes: []string{oidc.ScopeOpenID, "profile"}}
	silent := func(state, nonce string) url.Values {
		u, err := url.Parse(conf.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.SetAuthURLParam("prompt", "none")))
		if err != nil {
			t.Fatal(err)
		}
		return u.Query()
	}

	wantAuthError(t, e.newBrowser().authorize(silent("s1", "n1")), http.StatusFound, e.app.RedirectURI, "login_required", "s1")
	b := e.aliceBrowser()
	wantAuthError(t, b.authorize(silent("s2", "n2")), http.StatusFound, e.app.RedirectURI, "consent_required", "s2")

	q := silent("s3", "n3")
	q.Del("prompt")
	page := b.authorize(q)
	wantStatus(t, page, http.StatusOK)
	wantBodyContains(t, page, "Know who you are")
	form := consentForm(t, page)
	form.Set("decision", "allow")
	wantStatus(t, b.post("/api/oauth2/authorize/decision", form), http.StatusSeeOther)

	r := b.authorize(silent("s4", "n4"))
	wantStatus(t, r, http.StatusFound)
	cb := location(t, r).Query()
	if cb.Get("state") != "s4" || cb.Get("code") == "" {
		t.Fatalf("silent request: %s, want a code and state s4", r.Header.Get("Location"))
	}
	tok, err := conf.Exchange(ctx, cb.Get("code"))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	rawID, _ := tok.Extra("id_token").(string)
	idt, err := provider.Verifier(&oidc.Config{ClientID: e.app.ID}).Verify(ctx, rawID)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if idt.Nonce != "n4" || idt.Subject != e.aliceID {
		t.Errorf("nonce, sub = %q, %q; want n4 and alice's id", idt.Nonce, idt.Subject)
	}
}
