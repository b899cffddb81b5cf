package controllers_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
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
	b := e.aliceBrowser()
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
}
