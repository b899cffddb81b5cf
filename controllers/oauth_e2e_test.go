package controllers_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// TestOAuthWithRealClient drives the whole flow with golang.org/x/oauth2,
// the library third-party Go apps use: authorization code with PKCE through
// the real login and consent forms, refresh through a TokenSource, then
// refresh-token reuse, client credentials and the password grant.
func TestOAuthWithRealClient(t *testing.T) {
	e := newTestEnv(t)
	e.mustRegister("owner", "owners password")
	e.mustRegister("alice", "alices password")
	app := e.mustCreateClient(basic("owner", "owners password"), map[string]any{
		"name":        "Beer Buddy",
		"grant_types": []string{"authorization_code", "refresh_token", "client_credentials", "password"},
	})
	conf := &oauth2.Config{
		ClientID: app.ID, ClientSecret: app.Secret, RedirectURL: app.RedirectURI,
		Scopes: []string{"profile", "beers:read", "beers:write"},
		Endpoint: oauth2.Endpoint{
			AuthURL: e.server.URL + "/api/oauth2/authorize", TokenURL: e.server.URL + "/api/oauth2/token",
			AuthStyle: oauth2.AuthStyleInHeader,
		},
	}
	ctx := context.WithValue(t.Context(), oauth2.HTTPClient, e.server.Client())

	// The app sends alice's browser to the authorization endpoint.
	verifier := oauth2.GenerateVerifier()
	authURL := conf.AuthCodeURL("xyz-state", oauth2.S256ChallengeOption(verifier))
	b := e.newBrowser()
	r := b.get(strings.TrimPrefix(authURL, e.server.URL))
	wantStatus(t, r, http.StatusFound)
	loginURL := location(t, r)
	if loginURL.Path != "/login" || loginURL.Query().Get("return_to") == "" {
		t.Fatalf("not signed in: redirected to %s, want /login?return_to=...", loginURL)
	}

	// She logs in and comes back to the consent page.
	r = b.logIn("alice", "alices password", loginURL.Query().Get("return_to"))
	wantStatus(t, r, http.StatusSeeOther)
	r = b.get(r.Header.Get("Location"))
	wantStatus(t, r, http.StatusOK)
	for _, want := range []string{"Beer Buddy", "owner", "See the beers in your locker", "Add, change and remove beers"} {
		wantBodyContains(t, r, want)
	}

	// She presses Allow.
	form := consentForm(t, r)
	form.Set("decision", "allow")
	r = b.post("/api/oauth2/authorize/decision", form)
	wantStatus(t, r, http.StatusSeeOther)
	cb := location(t, r)
	if got := cb.Scheme + "://" + cb.Host + cb.Path; got != app.RedirectURI {
		t.Fatalf("redirected to %s, want the app's %s", got, app.RedirectURI)
	}
	if cb.Query().Get("state") != "xyz-state" || cb.Query().Get("iss") != "http://localhost:3000" {
		t.Errorf("callback query = %v, want state and iss", cb.Query())
	}
	code := cb.Query().Get("code")
	if !strings.HasPrefix(code, "blac_") {
		t.Fatalf("code = %q, want a blac_ code", code)
	}

	// The app exchanges the code with its verifier.
	tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	if !strings.HasPrefix(tok.AccessToken, "blat_") || !strings.HasPrefix(tok.RefreshToken, "blrt_") || tok.TokenType != "Bearer" {
		t.Fatalf("token = %+v, want blat_ access and blrt_ refresh tokens", tok)
	}
	if got := tok.Extra("scope"); got != "profile beers:read beers:write" {
		t.Errorf("scope = %v", got)
	}
	api := conf.Client(ctx, tok)
	resp, err := api.Post(e.server.URL+"/api/beers", "application/json", strings.NewReader(`{"name":"From the app","quantity":2}`))
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("POST /api/beers with the app's token: %v %v", resp.Status, err)
	}
	resp.Body.Close()

	// The code works once.
	if _, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier)); !isOAuthError(err, "invalid_grant") {
		t.Fatalf("second Exchange: err = %v, want invalid_grant", err)
	}
	// ...and its replay revoked the tokens issued from it (RFC 6749 §4.1.2).
	wantProblem(t, e.request("GET", "/api/beers", nil, bearer(tok.AccessToken)), 401)

	// A fresh authorization: consent is remembered, so no page this time.
	r = b.get(strings.TrimPrefix(conf.AuthCodeURL("s2", oauth2.S256ChallengeOption(verifier)), e.server.URL))
	wantStatus(t, r, http.StatusFound)
	code = location(t, r).Query().Get("code")
	tok, err = conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("Exchange after remembered consent: %v", err)
	}

	// The TokenSource refreshes an expired access token, rotating the refresh token.
	firstRefresh := tok.RefreshToken
	tok.Expiry = time.Now().Add(-time.Minute)
	refreshed, err := conf.TokenSource(ctx, tok).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if refreshed.AccessToken == tok.AccessToken || refreshed.RefreshToken == firstRefresh || refreshed.RefreshToken == "" {
		t.Fatalf("refresh did not rotate: %+v", refreshed)
	}
	wantStatus(t, e.request("GET", "/api/users/me", nil, bearer(refreshed.AccessToken)), 200)

	// Reusing the rotated refresh token fails and revokes the whole family.
	stale := &oauth2.Token{RefreshToken: firstRefresh, Expiry: time.Now().Add(-time.Minute)}
	if _, err := conf.TokenSource(ctx, stale).Token(); !isOAuthError(err, "invalid_grant") {
		t.Fatalf("refresh reuse: err = %v, want invalid_grant", err)
	}
	wantProblem(t, e.request("GET", "/api/users/me", nil, bearer(refreshed.AccessToken)), 401)
	if _, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: refreshed.RefreshToken}).Token(); !isOAuthError(err, "invalid_grant") {
		t.Fatalf("refresh with the family's newest token after reuse: err = %v, want invalid_grant", err)
	}

	// Client credentials: a token for the app itself, with no user.
	cc := &clientcredentials.Config{ClientID: app.ID, ClientSecret: app.Secret, TokenURL: conf.Endpoint.TokenURL, AuthStyle: oauth2.AuthStyleInHeader}
	ccTok, err := cc.Token(ctx)
	if err != nil {
		t.Fatalf("client credentials: %v", err)
	}
	if ccTok.RefreshToken != "" {
		t.Error("client_credentials returned a refresh token")
	}
	wantProblem(t, e.request("GET", "/api/beers", nil, bearer(ccTok.AccessToken)), 403)

	// Password grant, for a client that registered it.
	pwTok, err := conf.PasswordCredentialsToken(ctx, "alice", "alices password")
	if err != nil {
		t.Fatalf("password grant: %v", err)
	}
	r = e.request("GET", "/api/beers", nil, bearer(pwTok.AccessToken))
	wantStatus(t, r, 200)
	wantBodyContains(t, r, "From the app")
	if _, err := conf.PasswordCredentialsToken(ctx, "alice", "wrong password"); !isOAuthError(err, "invalid_grant") {
		t.Fatalf("password grant with a wrong password: err = %v, want invalid_grant", err)
	}
}

func isOAuthError(err error, code string) bool {
	var re *oauth2.RetrieveError
	return errors.As(err, &re) && re.ErrorCode == code
}
