package controllers_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"beerlocker/app"
	"beerlocker/models"
)

func TestJWKS(t *testing.T) {
	e := newTestEnv(t)
	r := e.request("GET", "/.well-known/jwks.json", nil)
	wantStatus(t, r, http.StatusOK)
	if cc := r.Header.Get("Cache-Control"); cc != "public, max-age=60" {
		t.Errorf("Cache-Control = %q, want public, max-age=60", cc)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	set, _ := r.json(t)["keys"].([]any)
	if len(set) != 2 {
		t.Fatalf("keys = %v, want an RS256 and an ES256 key", set)
	}

	// A relying party verifies what the server signs against this route.
	rp := oidc.NewRemoteKeySet(context.Background(), e.server.URL+"/.well-known/jwks.json")
	for _, alg := range []string{"RS256", "ES256"} {
		tok, err := e.deps.Keys.Sign(context.Background(), alg, map[string]any{"sub": "u1", "exp": e.clock.Now().Add(time.Hour).Unix()})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := rp.VerifySignature(context.Background(), tok); err != nil {
			t.Errorf("%s: go-oidc does not verify the token against the JWK Set: %v", alg, err)
		}
	}
}

// unavailableSigningKeys injects a failure: the database does not answer.
type unavailableSigningKeys struct{ models.SigningKeyRepository }

func (unavailableSigningKeys) List(context.Context) ([]*models.SigningKey, error) {
	return nil, fmt.Errorf("sqlite: list signing keys: %w", models.ErrUnavailable)
}

func TestJWKSFailures(t *testing.T) {
	t.Run("database down", func(t *testing.T) {
		store := *openTestStore(t)
		store.SigningKeys = unavailableSigningKeys{store.SigningKeys}
		e := newTestEnvWith(t, &store)
		r := e.request("GET", "/.well-known/jwks.json", nil)
		wantProblem(t, r, http.StatusServiceUnavailable)
		if r.Header.Get("Retry-After") == "" {
			t.Error("503 without Retry-After")
		}
	})
	t.Run("keys sealed under another SECRET_KEY", func(t *testing.T) {
		store := openTestStore(t)
		wantStatus(t, newTestEnvWith(t, store).request("GET", "/.well-known/jwks.json", nil), http.StatusOK)
		e := newTestEnvConfig(t, store, "http://localhost:3000", testLimits, func(o *app.Options) {
			o.Secret = []byte("another secret key, thirty-two bytes long")
		})
		p := wantProblem(t, e.request("GET", "/.well-known/jwks.json", nil), http.StatusInternalServerError)
		if d, _ := p["detail"].(string); strings.Contains(d, "SECRET_KEY") {
			t.Errorf("500 detail leaks the cause: %q", d)
		}
		if !strings.Contains(e.logs.String(), "SECRET_KEY") {
			t.Error("the log does not say the keys do not decrypt under this SECRET_KEY")
		}
	})
}

// TestJWKSSameOnTwoInstances: two services on one database publish the
// same JWK Set, byte for byte.
func TestJWKSSameOnTwoInstances(t *testing.T) {
	store := openTestStore(t)
	a, b := newTestEnvWith(t, store), newTestEnvWith(t, store)
	ra, rb := a.request("GET", "/.well-known/jwks.json", nil), b.request("GET", "/.well-known/jwks.json", nil)
	wantStatus(t, ra, http.StatusOK)
	wantStatus(t, rb, http.StatusOK)
	if string(ra.body) != string(rb.body) {
		t.Errorf("two instances publish different JWK Sets:\n%s\n%s", ra.body, rb.body)
	}
}
