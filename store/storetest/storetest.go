// Package storetest is the conformance suite every storage backend runs, in
// the manner of dex's storage tests: a backend's own test calls Run with a
// function that opens a fresh, empty store, and Run checks every method of
// every repository in models, with its documented errors, its cascades and
// the atomicity of its one-shot operations under concurrent calls.
//
// Times go in at millisecond precision and are compared in UTC, truncated to
// milliseconds, because that is what the backends keep. Expiry is checked
// against a fixed base time, never the wall clock.
package storetest

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"beerlocker/models"
)

// Run runs the conformance suite as named subtests (Users/..., Beers/...,
// Clients/..., Consents/..., Codes/..., Tokens/..., DeviceCodes/...,
// Sessions/..., SigningKeys/..., Revocations/..., PersonalTokens/...,
// Concurrency/...). open is called once per subtest and must return a
// fresh, empty store; the backend's test registers its cleanup with
// t.Cleanup.
func Run(t *testing.T, open func(t *testing.T) *models.Store) {
	groups := []struct {
		name  string
		tests []test
	}{
		{"Users", userTests},
		{"Beers", beerTests},
		{"Clients", clientTests},
		{"Consents", consentTests},
		{"Codes", codeTests},
		{"Tokens", tokenTests},
		{"DeviceCodes", deviceTests},
		{"Sessions", sessionTests},
		{"SigningKeys", signingKeyTests},
		{"Revocations", revocationTests},
		{"PersonalTokens", personalTokenTests},
		{"Concurrency", concurrencyTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, tc := range g.tests {
				t.Run(tc.name, func(t *testing.T) {
					s := open(t)
					if s == nil {
						t.Fatal("open returned a nil store")
					}
					tc.fn(t, s)
				})
			}
		})
	}
}

// test is one subtest, run against its own fresh store.
type test struct {
	name string
	fn   func(t *testing.T, s *models.Store)
}

// base is the fixed "now" of the suite. Everything the suite creates is
// stamped relative to it, so expiry never depends on the wall clock.
var base = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// Lifetimes of the fixtures: long enough that "now" in a test (base plus a
// few seconds) is inside them, short enough to step past.
const (
	codeLife  = 60 * time.Second
	tokenLife = time.Hour
)

// ms is the form a time is compared in: UTC, truncated to milliseconds.
func ms(tm time.Time) time.Time { return tm.UTC().Truncate(time.Millisecond) }

// sameTime reports whether a and b are the same instant at millisecond precision.
func sameTime(a, b time.Time) bool { return ms(a).Equal(ms(b)) }

// orNil makes an empty slice nil, so that a backend may return either.
func orNil(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

// newHash returns an opaque value shaped like a stored SHA-256 hash.
// newClientID returns an id of the shape the server gives clients: a
// prefix and 43 base64url characters, not a models.NewID.
func newClientID() string {
	return "blci_" + base64.RawURLEncoding.EncodeToString([]byte(newHash())[:32])
}

func newHash() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("storetest: crypto/rand failed: " + err.Error())
	}
	return hex.EncodeToString(b)
}

// wantErr fails the test unless err is (or wraps) want.
func wantErr(t testing.TB, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s error = %v, want %v", what, err, want)
	}
}

// mustOK stops the test if err is not nil.
func mustOK(t testing.TB, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// checkEqual fails the test unless got and want are deeply equal. Callers
// normalize both first (times with ms, slices with orNil).
func checkEqual[T any](t testing.TB, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s\n got = %+v\nwant %+v", what, got, want)
	}
}

func normUser(u *models.User) *models.User {
	if u == nil {
		return nil
	}
	c := *u
	c.CreatedAt, c.UpdatedAt = ms(c.CreatedAt), ms(c.UpdatedAt)
	return &c
}

func normBeer(b *models.Beer) *models.Beer {
	if b == nil {
		return nil
	}
	c := *b
	c.CreatedAt, c.UpdatedAt = ms(c.CreatedAt), ms(c.UpdatedAt)
	return &c
}

func normClient(cl *models.Client) *models.Client {
	if cl == nil {
		return nil
	}
	c := *cl
	c.RedirectURIs, c.GrantTypes = orNil(c.RedirectURIs), orNil(c.GrantTypes)
	c.PostLogoutRedirectURIs = orNil(c.PostLogoutRedirectURIs)
	c.CreatedAt, c.UpdatedAt = ms(c.CreatedAt), ms(c.UpdatedAt)
	return &c
}

// normConsent sorts the scopes: a consent's scopes are a set.
func normConsent(cs *models.Consent) *models.Consent {
	if cs == nil {
		return nil
	}
	c := *cs
	c.Scopes = orNil(slices.Sorted(slices.Values(c.Scopes)))
	c.CreatedAt, c.UpdatedAt = ms(c.CreatedAt), ms(c.UpdatedAt)
	if !c.ExpiresAt.IsZero() {
		c.ExpiresAt = ms(c.ExpiresAt)
	}
	if !c.LastUsedAt.IsZero() {
		c.LastUsedAt = ms(c.LastUsedAt)
	}
	return &c
}

func normCode(cd *models.Code) *models.Code {
	if cd == nil {
		return nil
	}
	c := *cd
	c.Scopes = orNil(c.Scopes)
	c.CreatedAt, c.ExpiresAt = ms(c.CreatedAt), ms(c.ExpiresAt)
	if !c.AuthTime.IsZero() {
		c.AuthTime = ms(c.AuthTime)
	}
	if !c.GrantEndsAt.IsZero() {
		c.GrantEndsAt = ms(c.GrantEndsAt)
	}
	return &c
}

func normToken(tk *models.Token) *models.Token {
	if tk == nil {
		return nil
	}
	c := *tk
	c.Scopes = orNil(c.Scopes)
	c.CreatedAt, c.ExpiresAt = ms(c.CreatedAt), ms(c.ExpiresAt)
	if !c.GrantedAt.IsZero() {
		c.GrantedAt = ms(c.GrantedAt)
	}
	if !c.RotatedAt.IsZero() {
		c.RotatedAt = ms(c.RotatedAt)
	}
	if !c.AuthTime.IsZero() {
		c.AuthTime = ms(c.AuthTime)
	}
	if !c.GrantEndsAt.IsZero() {
		c.GrantEndsAt = ms(c.GrantEndsAt)
	}
	return &c
}

// mustCreateUser creates a user named name, created at base.
func mustCreateUser(t testing.TB, s *models.Store, name string) *models.User {
	t.Helper()
	u := &models.User{
		ID:           models.NewID(base),
		Username:     name,
		PasswordHash: "$argon2id$v=19$m=8,t=1,p=1$" + newHash(),
		CreatedAt:    base,
		UpdatedAt:    base,
	}
	mustOK(t, "Users.Create("+name+")", s.Users.Create(t.Context(), u))
	return u
}

// mustCreateBeer creates a beer of the owner, created at the given time.
func mustCreateBeer(t testing.TB, s *models.Store, ownerID, name string, at time.Time) *models.Beer {
	t.Helper()
	b := &models.Beer{
		ID:        models.NewID(at),
		OwnerID:   ownerID,
		Name:      name,
		Type:      "IPA",
		Quantity:  6,
		CreatedAt: at,
		UpdatedAt: at,
	}
	mustOK(t, "Beers.Create("+name+")", s.Beers.Create(t.Context(), b))
	return b
}

// mustCreateClient creates a confidential client of the owner, created at the given time.
func mustCreateClient(t testing.TB, s *models.Store, ownerID, name string, at time.Time) *models.Client {
	t.Helper()
	c := &models.Client{
		ID:           newClientID(),
		OwnerID:      ownerID,
		Name:         name,
		SecretHash:   newHash(),
		RedirectURIs: []string{"https://app.example/cb"},
		GrantTypes:   []string{models.GrantAuthorizationCode, models.GrantRefreshToken},
		CreatedAt:    at,
		UpdatedAt:    at,
	}
	mustOK(t, "Clients.Create("+name+")", s.Clients.Create(t.Context(), c))
	return c
}

// mustCreateCode creates a code of the user for the client, valid from
// base for codeLife.
func mustCreateCode(t testing.TB, s *models.Store, clientID, userID string) *models.Code {
	t.Helper()
	c := newCode(clientID, userID)
	mustOK(t, "Codes.Create", s.Codes.Create(t.Context(), c))
	return c
}

// newCode returns a code valid from base for codeLife.
func newCode(clientID, userID string) *models.Code {
	return &models.Code{
		Hash:          newHash(),
		ClientID:      clientID,
		UserID:        userID,
		RedirectURI:   "https://app.example/cb",
		Scopes:        []string{"profile", "beers:read"},
		CodeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		CreatedAt:     base,
		ExpiresAt:     base.Add(codeLife),
	}
}

// newToken returns a token valid from base for tokenLife, not yet stored.
func newToken(kind models.TokenKind, clientID, userID, familyID string) *models.Token {
	return &models.Token{
		Hash:      newHash(),
		Kind:      kind,
		ClientID:  clientID,
		UserID:    userID,
		Scopes:    []string{"profile", "beers:read"},
		FamilyID:  familyID,
		CreatedAt: base,
		ExpiresAt: base.Add(tokenLife),
	}
}

// mustCreateToken creates a token valid from base for tokenLife.
func mustCreateToken(t testing.TB, s *models.Store, kind models.TokenKind, clientID, userID, familyID string) *models.Token {
	t.Helper()
	tk := newToken(kind, clientID, userID, familyID)
	mustOK(t, "Tokens.Create", s.Tokens.Create(t.Context(), tk))
	return tk
}

// mustGrant grants the user's consent to the client at the given time.
func mustGrant(t testing.TB, s *models.Store, userID, clientID string, at time.Time, scopes ...string) *models.Consent {
	t.Helper()
	c, err := s.Consents.Grant(t.Context(), userID, clientID, scopes, time.Time{}, at)
	mustOK(t, "Consents.Grant", err)
	return c
}

// now is the "now" a test reads at: inside every fixture's lifetime.
var now = base.Add(10 * time.Second)

// wantTokenGone fails the test unless the token is gone (checked at now,
// inside its lifetime, so expiry cannot explain its absence).
func wantTokenGone(t testing.TB, s *models.Store, what string, tk *models.Token) {
	t.Helper()
	got, err := s.Tokens.Get(t.Context(), tk.Hash, now)
	if !errors.Is(err, models.ErrNotFound) {
		t.Errorf("%s: Tokens.Get = %+v, %v, want %v", what, got, err, models.ErrNotFound)
	}
}

// wantTokenKept fails the test unless the token is still there.
func wantTokenKept(t testing.TB, s *models.Store, what string, tk *models.Token) {
	t.Helper()
	if _, err := s.Tokens.Get(t.Context(), tk.Hash, now); err != nil {
		t.Errorf("%s: Tokens.Get error = %v, want nil", what, err)
	}
}

// wantCodeGone fails the test unless the code is gone. Consuming is the
// only way to read a code, so this uses it up if it was (wrongly) there.
func wantCodeGone(t testing.TB, s *models.Store, what string, c *models.Code) {
	t.Helper()
	got, err := s.Codes.Consume(t.Context(), c.Hash, now)
	if !errors.Is(err, models.ErrNotFound) {
		t.Errorf("%s: Codes.Consume = %+v, %v, want %v", what, got, err, models.ErrNotFound)
	}
}

// wantCodeKept fails the test unless the code can still be consumed, which
// uses it up.
func wantCodeKept(t testing.TB, s *models.Store, what string, c *models.Code) {
	t.Helper()
	if _, err := s.Codes.Consume(t.Context(), c.Hash, now); err != nil {
		t.Errorf("%s: Codes.Consume error = %v, want nil", what, err)
	}
}

// wantConsentGone fails the test unless the user has no consent for the client.
func wantConsentGone(t testing.TB, s *models.Store, what, userID, clientID string) {
	t.Helper()
	got, err := s.Consents.Get(t.Context(), userID, clientID)
	if !errors.Is(err, models.ErrNotFound) {
		t.Errorf("%s: Consents.Get = %+v, %v, want %v", what, got, err, models.ErrNotFound)
	}
}

// wantConsentKept fails the test unless the user's consent for the client is there.
func wantConsentKept(t testing.TB, s *models.Store, what, userID, clientID string) {
	t.Helper()
	if _, err := s.Consents.Get(t.Context(), userID, clientID); err != nil {
		t.Errorf("%s: Consents.Get error = %v, want nil", what, err)
	}
}

// ptr returns a pointer to v, for the fields of update types.
func ptr[T any](v T) *T { return &v }

// errOnly drops the value of a (value, error) pair.
func errOnly[T any](_ T, err error) error { return err }
