package keys_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"

	"beerlocker/keys"
	"beerlocker/models"
	"beerlocker/store/sqlite"
)

const testSecret = "the test secret key, at least thirty-two bytes"

// clock is a fake clock that moves only when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// openSQLite opens the embedded database in dir, closed when the test ends.
func openSQLite(t testing.TB, dir string) *models.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// newManager returns a Manager of repo on the clock, with the secret and
// activation delay given.
func newManager(t testing.TB, repo models.SigningKeyRepository, c *clock, secret string, delay time.Duration) *keys.Manager {
	t.Helper()
	m, err := keys.New(repo, keys.Config{Secret: []byte(secret), ActivationDelay: delay, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// idClaims are claims shaped like an ID token's, living an hour from now.
type idClaims struct {
	Issuer   string `json:"iss"`
	Subject  string `json:"sub"`
	Audience string `json:"aud"`
	Expiry   int64  `json:"exp"`
	IssuedAt int64  `json:"iat"`
}

func claimsAt(now time.Time) idClaims {
	return idClaims{Issuer: "https://beers.example", Subject: "user-1", Audience: "blci_app",
		Expiry: now.Add(time.Hour).Unix(), IssuedAt: now.Unix()}
}

func mustSign(t testing.TB, m *keys.Manager, c *clock, alg string) string {
	t.Helper()
	tok, err := m.Sign(context.Background(), alg, claimsAt(c.Now()))
	if err != nil {
		t.Fatalf("Sign(%q): %v", alg, err)
	}
	return tok
}

// header returns the kid and alg of a compact JWS.
func header(t testing.TB, token string) (kid, alg string) {
	t.Helper()
	obj, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil {
		t.Fatalf("parse %q: %v", token, err)
	}
	h := obj.Signatures[0].Header
	return h.KeyID, h.Algorithm
}

// jwk is one key of a JWK Set, as a relying party reads it.
type jwk map[string]any

func mustJWKS(t testing.TB, m *keys.Manager) []jwk {
	t.Helper()
	b, err := m.JWKS(context.Background())
	if err != nil {
		t.Fatalf("JWKS: %v", err)
	}
	var set struct{ Keys []jwk }
	if err := json.Unmarshal(b, &set); err != nil {
		t.Fatalf("JWKS is not JSON: %v\n%s", err, b)
	}
	return set.Keys
}

func kids(set []jwk) []string {
	var out []string
	for _, k := range set {
		out = append(out, k["kid"].(string))
	}
	return out
}

// serveJWKS serves m's JWK Set over HTTP, as GET /.well-known/jwks.json does.
func serveJWKS(t testing.TB, m *keys.Manager) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := m.JWKS(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// verifyRemote verifies token as a relying party does: go-oidc's
// RemoteKeySet, with a fresh cache, fetching the JWK Set over HTTP.
func verifyRemote(url, token string) error {
	_, err := oidc.NewRemoteKeySet(context.Background(), url).VerifySignature(context.Background(), token)
	return err
}

func TestFirstStartSignsAtOnce(t *testing.T) {
	c := newClock()
	m := newManager(t, openSQLite(t, t.TempDir()).SigningKeys, c, testSecret, 10*time.Minute)
	url := serveJWKS(t, m)
	set := mustJWKS(t, m)
	if len(set) != 2 || set[0]["alg"] != "RS256" || set[1]["alg"] != "ES256" {
		t.Fatalf("JWKS after the first start = %v, want one RS256 key, then one ES256 key", set)
	}
	if got := m.Algorithms(); !slices.Equal(got, []string{"RS256", "ES256"}) {
		t.Errorf("Algorithms() = %v, want [RS256 ES256]", got)
	}
	for alg, want := range map[string]jwk{"": set[0], "RS256": set[0], "ES256": set[1]} {
		tok := mustSign(t, m, c, alg)
		kid, hdrAlg := header(t, tok)
		if kid != want["kid"] || hdrAlg != want["alg"] {
			t.Errorf("Sign(%q): kid %s, alg %s; want the first key, %s %s", alg, kid, hdrAlg, want["kid"], want["alg"])
		}
		if err := verifyRemote(url, tok); err != nil {
			t.Errorf("Sign(%q): go-oidc does not verify the token against the JWK Set: %v", alg, err)
		}
		var got idClaims
		if err := m.Verify(context.Background(), tok, &got); err != nil || got != claimsAt(c.Now()) {
			t.Errorf("Sign(%q): Verify = %+v, %v; want the claims back", alg, got, err)
		}
	}
	if _, err := m.Sign(context.Background(), "HS256", claimsAt(c.Now())); err == nil {
		t.Error("Sign(HS256) succeeded")
	}
}

// TestJWKSHasNoPrivateParts: each key has kid, kty, use "sig" and alg,
// and no member of a private key (RFC 7518 §6.2.2, §6.3.2).
func TestJWKSHasNoPrivateParts(t *testing.T) {
	c := newClock()
	m := newManager(t, openSQLite(t, t.TempDir()).SigningKeys, c, testSecret, 0)
	mustJWKS(t, m)                                            // the first keys
	if _, err := m.Rotate(context.Background()); err != nil { // and a current one of each beside them
		t.Fatal(err)
	}
	set := mustJWKS(t, m)
	if len(set) != 4 {
		t.Fatalf("JWKS has %d keys, want 4", len(set))
	}
	for _, k := range set {
		for _, member := range []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"} {
			if _, ok := k[member]; ok {
				t.Errorf("key %v has the private member %q", k["kid"], member)
			}
		}
		kty := map[any]string{"RS256": "RSA", "ES256": "EC"}[k["alg"]]
		if k["kid"] == "" || k["kty"] != kty || k["use"] != "sig" || kty == "" {
			t.Errorf("key %v: want kid, kty %q, use sig and alg RS256 or ES256", k, kty)
		}
	}
}

func TestKeysSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	c := newClock()
	first := newManager(t, openSQLite(t, dir).SigningKeys, c, testSecret, 0)
	tok := mustSign(t, first, c, "")
	before := mustJWKS(t, first)
	again := newManager(t, openSQLite(t, dir).SigningKeys, c, testSecret, 0)
	if after := mustJWKS(t, again); !slices.Equal(kids(after), kids(before)) {
		t.Errorf("after a restart JWKS kids = %v, want %v", kids(after), kids(before))
	}
	if err := again.Verify(context.Background(), tok, nil); err != nil {
		t.Errorf("a token signed before the restart: Verify = %v", err)
	}
}

// TestWrongSecretRefuses: keys sealed under one SECRET_KEY are refused
// under another with an error that says so, on one line, and no panic.
func TestWrongSecretRefuses(t *testing.T) {
	store := openSQLite(t, t.TempDir())
	c := newClock()
	mustSign(t, newManager(t, store.SigningKeys, c, testSecret, 0), c, "")

	other := newManager(t, store.SigningKeys, c, "another secret key, also thirty-two bytes", 0)
	_, err := other.JWKS(context.Background())
	if !errors.Is(err, keys.ErrUndecryptable) || !strings.Contains(err.Error(), "SECRET_KEY") || strings.Contains(err.Error(), "\n") {
		t.Errorf("JWKS under another secret: %v; want one line naming SECRET_KEY, wrapping ErrUndecryptable", err)
	}
	if _, err := other.Sign(context.Background(), "", claimsAt(c.Now())); !errors.Is(err, keys.ErrUndecryptable) {
		t.Errorf("Sign under another secret: %v, want ErrUndecryptable", err)
	}
	if err := other.Maintain(context.Background()); !errors.Is(err, keys.ErrUndecryptable) {
		t.Errorf("Maintain under another secret: %v, want ErrUndecryptable", err)
	}
	if _, err := other.Rotate(context.Background()); !errors.Is(err, keys.ErrUndecryptable) {
		t.Errorf("Rotate under another secret: %v, want ErrUndecryptable", err)
	}
	if rows, err := store.SigningKeys.List(context.Background()); err != nil || len(rows) != 2 {
		t.Errorf("after Rotate under another secret the store holds %d keys (%v), want the 2 it had", len(rows), err)
	}
}

// TestTamperedKeyRefused alters stored rows: a changed byte, and sealed
// keys moved to other rows. A fresh Manager refuses them all.
func TestTamperedKeyRefused(t *testing.T) {
	tests := []struct {
		name   string
		tamper func(rows []*models.SigningKey) // rows: ES256 1, ES256 2, RS256 1, RS256 2
	}{
		{"byte changed", func(r []*models.SigningKey) { r[2].PrivateKey[len(r[2].PrivateKey)/2] ^= 1 }},
		{"swapped between kids", func(r []*models.SigningKey) { r[2].PrivateKey, r[3].PrivateKey = r[3].PrivateKey, r[2].PrivateKey }},
		{"moved to another algorithm", func(r []*models.SigningKey) { r[0].PrivateKey, r[2].PrivateKey = r[2].PrivateKey, r[0].PrivateKey }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			repo := openSQLite(t, t.TempDir()).SigningKeys
			c := newClock()
			m := newManager(t, repo, c, testSecret, 0)
			if _, err := m.Rotate(ctx); err != nil { // creates the first keys, then the second
				t.Fatal(err)
			}
			rows, err := repo.List(ctx)
			if err != nil || len(rows) != 4 {
				t.Fatalf("List = %d rows, %v; want 4", len(rows), err)
			}
			tc.tamper(rows)
			for _, r := range rows {
				if err := repo.Delete(ctx, r.ID); err != nil {
					t.Fatal(err)
				}
				if err := repo.Create(ctx, r); err != nil {
					t.Fatal(err)
				}
			}
			_, err = newManager(t, repo, c, testSecret, 0).JWKS(ctx)
			if !errors.Is(err, keys.ErrUndecryptable) {
				t.Errorf("JWKS of tampered keys: %v, want ErrUndecryptable", err)
			}
		})
	}
}

// TestSignRefusesLongLivedTokens: Sign keeps the promise that a retired
// key outlives every token it signed.
func TestSignRefusesLongLivedTokens(t *testing.T) {
	c := newClock()
	m := newManager(t, openSQLite(t, t.TempDir()).SigningKeys, c, testSecret, 0)
	long := claimsAt(c.Now())
	long.Expiry = c.Now().Add(2 * time.Hour).Unix()
	for name, claims := range map[string]any{
		"exp two hours away": long,
		"no exp":             map[string]any{"sub": "user-1"},
		"exp not a number":   map[string]any{"exp": "soon"},
		"not an object":      []int{1, 2},
	} {
		if tok, err := m.Sign(context.Background(), "", claims); err == nil {
			t.Errorf("%s: Sign = %s, want an error", name, tok)
		}
	}
}

func TestVerifyRefuses(t *testing.T) {
	c := newClock()
	m := newManager(t, openSQLite(t, t.TempDir()).SigningKeys, c, testSecret, 0)
	good := mustSign(t, m, c, "")
	kid, _ := header(t, good)

	parts := strings.Split(good, ".")
	sig := []byte(parts[2])
	sig[0] = map[bool]byte{true: 'B', false: 'A'}[sig[0] == 'A'] // another base64url character
	tests := map[string]string{
		"another server's token":  mustSign(t, newManager(t, openSQLite(t, t.TempDir()).SigningKeys, c, testSecret, 0), c, ""),
		"another key, our kid":    forge(t, kid, `{"sub":"admin","exp":9999999999}`),
		"payload changed":         parts[0] + "." + b64(`{"sub":"admin","exp":9999999999}`) + "." + parts[2],
		"signature changed":       parts[0] + "." + parts[1] + "." + string(sig),
		"alg none":                b64(`{"alg":"none","kid":"`+kid+`"}`) + "." + parts[1] + ".",
		"alg HS256":               b64(`{"alg":"HS256","kid":"`+kid+`"}`) + "." + parts[1] + "." + parts[2],
		"alg ES256 on an RSA key": b64(`{"alg":"ES256","kid":"`+kid+`"}`) + "." + parts[1] + "." + parts[2],
		"no kid":                  b64(`{"alg":"RS256"}`) + "." + parts[1] + "." + parts[2],
		"not a JWS":               "garbage",
		"empty":                   "",
	}
	for name, tok := range tests {
		if err := m.Verify(context.Background(), tok, nil); !errors.Is(err, keys.ErrInvalidToken) {
			t.Errorf("%s: Verify = %v, want ErrInvalidToken", name, err)
		}
	}
}

func TestRotation(t *testing.T) {
	ctx := context.Background()
	repo := openSQLite(t, t.TempDir()).SigningKeys
	c := newClock()
	const delay = 10 * time.Minute
	m := newManager(t, repo, c, testSecret, delay)
	url := serveJWKS(t, m)
	rp := oidc.NewRemoteKeySet(ctx, url) // one relying party, caching the set throughout

	old := mustSign(t, m, c, "")
	oldKid, _ := header(t, old)
	if _, err := rp.VerifySignature(ctx, old); err != nil {
		t.Fatal(err)
	}
	rotatedAt := c.Now()
	next, err := m.Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(next) != 2 || next[0].Alg != "RS256" || next[0].Generation != 2 || !next[0].ActiveAt.Equal(rotatedAt.Add(delay)) || next[0].PrivateKey != nil {
		t.Fatalf("Rotate = %+v, want generation 2 of RS256 then ES256, active in %s, without private keys", next, delay)
	}
	newKid := next[0].ID
	if got := kids(mustJWKS(t, m)); !slices.Contains(got, newKid) || !slices.Contains(got, oldKid) {
		t.Fatalf("JWKS right after Rotate = %v, want both %s and %s", got, oldKid, newKid)
	}

	c.Add(delay - time.Second)
	if kid, _ := header(t, mustSign(t, m, c, "")); kid != oldKid {
		t.Errorf("a second before the activation delay, Sign used %s, want the old key %s", kid, oldKid)
	}
	c.Add(time.Second)
	fresh := mustSign(t, m, c, "")
	if kid, _ := header(t, fresh); kid != newKid {
		t.Errorf("at the activation delay, Sign used %s, want the new key %s", kid, newKid)
	}
	for name, tok := range map[string]string{"signed before the rotation": old, "signed after": fresh} {
		if _, err := rp.VerifySignature(ctx, tok); err != nil {
			t.Errorf("token %s: the relying party does not verify it: %v", name, err)
		}
		if err := verifyRemote(url, tok); err != nil {
			t.Errorf("token %s: a new relying party does not verify it: %v", name, err)
		}
	}

	// The old key stopped signing at rotatedAt+delay; its tokens live at
	// most an hour, then the margin.
	retiredFor := keys.DefaultMaxTokenTTL + keys.RetentionMargin
	c.Add(retiredFor - time.Second)
	if err := verifyRemote(url, old); err != nil {
		t.Errorf("just before the end of its retention, a new relying party does not verify the old key's token: %v", err)
	}
	c.Add(time.Second)
	if got := kids(mustJWKS(t, m)); slices.Contains(got, oldKid) || !slices.Contains(got, newKid) {
		t.Errorf("after retention, JWKS = %v, want %s without %s", got, newKid, oldKid)
	}
	if err := verifyRemote(url, old); err == nil {
		t.Error("after retention, a new relying party still verifies the old key's token")
	}
	if err := m.Verify(ctx, old, nil); !errors.Is(err, keys.ErrInvalidToken) {
		t.Errorf("after retention, Verify(old token) = %v, want ErrInvalidToken", err)
	}
	if err := m.Maintain(ctx); err != nil {
		t.Fatal(err)
	}
	rows, err := repo.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.ID == oldKid {
			t.Error("Maintain left the retired key in the store")
		}
	}
	if len(rows) != 2 {
		t.Errorf("after Maintain the store holds %d keys, want the 2 current ones", len(rows))
	}
}

func TestAutomaticRotation(t *testing.T) {
	ctx := context.Background()
	repo := openSQLite(t, t.TempDir()).SigningKeys
	c := newClock()
	m, err := keys.New(repo, keys.Config{Secret: []byte(testSecret), ActivationDelay: 10 * time.Minute,
		Rotation: keys.DefaultRotation, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Maintain(ctx); err != nil {
		t.Fatal(err)
	}
	first := kids(mustJWKS(t, m))
	c.Add(keys.DefaultRotation - time.Second)
	if err := m.Maintain(ctx); err != nil {
		t.Fatal(err)
	}
	if got := kids(mustJWKS(t, m)); !slices.Equal(got, first) {
		t.Fatalf("before the rotation period, JWKS = %v, want %v", got, first)
	}
	c.Add(time.Second)
	if err := m.Maintain(ctx); err != nil {
		t.Fatal(err)
	}
	got := kids(mustJWKS(t, m))
	if len(got) != 4 || !slices.Contains(got, first[0]) {
		t.Fatalf("after the rotation period, JWKS = %v, want a new key per algorithm beside %v", got, first)
	}
	if kid, _ := header(t, mustSign(t, m, c, "")); kid != first[0] {
		t.Errorf("right after an automatic rotation, Sign used %s, want the old key %s", kid, first[0])
	}
	if err := m.Maintain(ctx); err != nil { // not due again
		t.Fatal(err)
	}
	if n := len(mustJWKS(t, m)); n != 4 {
		t.Errorf("a second Maintain: JWKS has %d keys, want 4", n)
	}
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// forge signs payload with a key of its own, under the kid given.
func forge(t testing.TB, kid, payload string) string {
	t.Helper()
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: priv, KeyID: kid}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := signer.Sign([]byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestConcurrentUse signs and verifies from several goroutines while
// another rotates and the clock moves: every token verifies, and the race
// detector sees the key set swapped under readers.
func TestConcurrentUse(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	m := newManager(t, openSQLite(t, t.TempDir()).SigningKeys, c, testSecret, 0)
	mustJWKS(t, m)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan error, 100)
	for i := range 4 {
		wg.Go(func() {
			alg := []string{"RS256", "ES256"}[i%2]
			for {
				select {
				case <-stop:
					return
				default:
				}
				tok, err := m.Sign(ctx, alg, claimsAt(c.Now()))
				if err == nil {
					err = m.Verify(ctx, tok, nil)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for range 3 {
		if _, err := m.Rotate(ctx); err != nil {
			t.Fatal(err)
		}
		c.Add(keys.RefreshEvery)
		if err := m.Maintain(ctx); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Sign or Verify during rotations: %v", err)
	}
}

// Clients may choose only algorithms there are keys for: the list
// models validates id_token_signed_response_alg against is the keys'.
func TestClientsChooseAmongTheKeysAlgorithms(t *testing.T) {
	m, err := keys.New(nil, keys.Config{Secret: []byte(testSecret)}) // Algorithms reads no store
	if err != nil {
		t.Fatal(err)
	}
	if got, want := m.Algorithms(), models.IDTokenSigningAlgs[:]; !slices.Equal(got, want) {
		t.Errorf("keys sign with %q, clients choose among %q", got, want)
	}
}
