package controllers_test

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"

	"beerlocker/app"
)

// kidOf returns the key id in a compact JWS's header.
func kidOf(t testing.TB, token string) string {
	t.Helper()
	jws, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	return jws.Signatures[0].Header.KeyID
}

// publishedKids returns the key ids of the JWK Set e serves.
func publishedKids(t testing.TB, e *testEnv) []string {
	t.Helper()
	r := e.request("GET", "/.well-known/jwks.json", nil)
	wantStatus(t, r, http.StatusOK)
	var set jose.JSONWebKeySet
	decode(t, r, &set)
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.KeyID)
	}
	return kids
}

// A key rotation through the token endpoint, as relying parties see it
// (API.md §9): the next key is published at once and signs only after the
// activation delay; an ID token signed before the rotation still verifies
// with go-oidc against the published JWK Set; a new one carries the new
// kid; a second instance on the same database publishes the same set once
// it has reread the keys (within a minute).
func TestIDTokensAcrossKeyRotation(t *testing.T) {
	store := openTestStore(t)
	delay := func(o *app.Options) { o.SigningKeyActivationDelay = 10 * time.Minute }
	e := newOAuthEnvOn(newTestEnvConfig(t, store, "http://localhost:3000", testLimits, delay))
	other := newTestEnvConfig(t, store, "http://localhost:3000", testLimits, delay)
	ctx := context.Background()
	b := e.aliceBrowser()

	before := e.idTokenFor(b, e.app, nil).IDToken
	oldKid := kidOf(t, before)
	if _, err := e.deps.OAuth.Keys.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	published := publishedKids(t, e.testEnv)
	if len(published) < 2 || !slices.Contains(published, oldKid) {
		t.Fatalf("JWK Set after the rotation = %q, want the next key beside %s", published, oldKid)
	}
	if kid := kidOf(t, e.idTokenFor(b, e.app, nil).IDToken); kid != oldKid {
		t.Errorf("an ID token right after the rotation is signed by %s, want still %s until the activation delay", kid, oldKid)
	}

	e.clock.Advance(11 * time.Minute)
	other.clock.Advance(11 * time.Minute)
	after := e.idTokenFor(b, e.app, nil).IDToken
	newKid := kidOf(t, after)
	if newKid == oldKid || !slices.Contains(publishedKids(t, e.testEnv), newKid) {
		t.Errorf("after the activation delay the kid is %s (old %s), want a new published one", newKid, oldKid)
	}
	verifier := oidc.NewVerifier("http://localhost:3000", oidc.NewRemoteKeySet(ctx, e.server.URL+"/.well-known/jwks.json"),
		&oidc.Config{ClientID: e.app.ID, Now: e.clock.Now})
	for name, tok := range map[string]string{"signed before the rotation": before, "signed by the new key": after} {
		if _, err := verifier.Verify(ctx, tok); err != nil {
			t.Errorf("go-oidc Verify of the ID token %s: %v", name, err)
		}
	}
	a, o := e.request("GET", "/.well-known/jwks.json", nil), other.request("GET", "/.well-known/jwks.json", nil)
	if string(a.body) != string(o.body) {
		t.Errorf("two instances on one database publish different JWK Sets after a rotation:\n%s\n%s", a.body, o.body)
	}
}
