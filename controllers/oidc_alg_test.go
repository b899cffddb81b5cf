package controllers_test

import (
	"context"
	"net/http"
	"slices"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
)

// A client may register id_token_signed_response_alg (API.md §9): RS256,
// the default, or ES256; its ID tokens are signed so, and go-oidc verifies
// them against the published keys. Anything else is a 400 naming the field.
func TestIDTokenSignedResponseAlg(t *testing.T) {
	e := newOAuthEnv(t)
	if got := e.request("GET", "/api/clients/"+e.app.ID, nil, e.dev).json(t)["id_token_signed_response_alg"]; got != "RS256" {
		t.Errorf("id_token_signed_response_alg of a client that chose none = %v, want RS256", got)
	}
	ec := e.mustCreateClient(e.dev, map[string]any{"name": "Elliptic", "id_token_signed_response_alg": "ES256"})
	if got := e.request("GET", "/api/clients/"+ec.ID, nil, e.dev).json(t)["id_token_signed_response_alg"]; got != "ES256" {
		t.Errorf("id_token_signed_response_alg = %v, want ES256", got)
	}

	algOf := func(token string) string {
		jws, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
		if err != nil {
			t.Fatal(err)
		}
		return jws.Signatures[0].Header.Algorithm
	}
	ctx := context.Background()
	b := e.aliceBrowser()
	for _, tc := range []struct {
		c   client
		alg string
	}{{e.app, "RS256"}, {ec, "ES256"}} {
		tok := e.idTokenFor(b, tc.c, authQuery(tc.c, "openid", "st", "")).IDToken
		if got := algOf(tok); got != tc.alg {
			t.Errorf("%s's ID token is signed with %s, want %s", tc.c.ID, got, tc.alg)
		}
		v := oidc.NewVerifier("http://localhost:3000", oidc.NewRemoteKeySet(ctx, e.server.URL+"/.well-known/jwks.json"),
			&oidc.Config{ClientID: tc.c.ID, SupportedSigningAlgs: []string{tc.alg}, Now: e.clock.Now})
		if _, err := v.Verify(ctx, tok); err != nil {
			t.Errorf("go-oidc Verify of the %s ID token: %v", tc.alg, err)
		}
	}

	// A PATCH changes it; "" goes back to the default.
	wantStatus(t, e.request("PATCH", "/api/clients/"+e.app.ID, map[string]any{"id_token_signed_response_alg": "ES256"}, e.dev), http.StatusOK)
	if got := algOf(e.idTokenFor(b, e.app, nil).IDToken); got != "ES256" {
		t.Errorf("after the PATCH to ES256 the ID token is signed with %s", got)
	}
	r := e.request("PATCH", "/api/clients/"+e.app.ID, map[string]any{"id_token_signed_response_alg": ""}, e.dev)
	wantStatus(t, r, http.StatusOK)
	if got := r.json(t)["id_token_signed_response_alg"]; got != "RS256" {
		t.Errorf("after the PATCH to \"\": %v, want RS256", got)
	}

	for _, alg := range []any{"none", "HS256", "rs256", "PS256", 256} {
		for _, req := range []struct{ method, path string }{{"POST", "/api/clients"}, {"PATCH", "/api/clients/" + ec.ID}} {
			r := e.request(req.method, req.path, map[string]any{"name": "Bad", "redirect_uris": []string{"https://bad.example/cb"},
				"id_token_signed_response_alg": alg}, e.dev)
			p := wantProblem(t, r, http.StatusBadRequest)
			if _, isString := alg.(string); isString && !slices.Contains(problemFields(p), "id_token_signed_response_alg") {
				t.Errorf("%s with %v: errors[] fields = %q, want id_token_signed_response_alg", req.method, alg, problemFields(p))
			}
		}
	}
	if got := e.request("GET", "/api/clients/"+ec.ID, nil, e.dev).json(t)["id_token_signed_response_alg"]; got != "ES256" {
		t.Errorf("after refused PATCHes: %v, want ES256 still", got)
	}
}
