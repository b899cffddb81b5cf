package oauth

import (
	"bytes"
	"encoding/base64"
	"reflect"
	"strings"
	"testing"
	"time"

	"beerlocker/models"
)

func testSealer(t testing.TB, fill byte) *Sealer {
	t.Helper()
	s, err := NewSealer(bytes.Repeat([]byte{fill}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func sampleToken() *models.Token {
	at := time.Date(2026, 12, 3, 10, 11, 12, 345678000, time.UTC)
	return &models.Token{
		Kind: models.AccessToken, ClientID: "blci_" + strings.Repeat("c", 43), UserID: models.NewID(at),
		Scopes: []string{"beers:read", "openid", "profile"}, FamilyID: strings.Repeat("f", 64),
		CreatedAt: at, ExpiresAt: at.Add(time.Hour).Truncate(time.Millisecond), GrantedAt: at.Add(-time.Minute).Truncate(time.Millisecond),
		AuthTime: at.Add(-2 * time.Minute).Truncate(time.Second), Audience: models.AudienceAPI | models.AudienceMCP,
	}
}

// resealed opens value's plaintext, lets change rewrite it and seals it
// again under s: a token as an older version, or a bug, would have sealed.
func resealed(t *testing.T, s *Sealer, value string, change func([]byte) []byte) string {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(value, prefixAccessToken))
	if err != nil {
		t.Fatal(err)
	}
	n := s.aead.NonceSize()
	plain, err := s.aead.Open(nil, raw[:n], raw[n:], additionalData)
	if err != nil {
		t.Fatal(err)
	}
	out := s.aead.Seal(bytes.Clone(raw[:n]), raw[:n], change(plain), additionalData)
	return prefixAccessToken + base64.RawURLEncoding.EncodeToString(out)
}

// A version 1 token, sealed before audiences, still opens, with the zero
// audience: the REST API, the only resource there was. An audience this
// version does not know, or an unknown version, does not open.
func TestSealedTokenVersions(t *testing.T) {
	s := testSealer(t, 1)
	tok := sampleToken()
	tok.Audience = models.AudienceMCP
	value := s.Seal(tok)
	v1 := resealed(t, s, value, func(p []byte) []byte { p[0] = 1; return p[:len(p)-1] })
	got, ok := s.Open(v1)
	if !ok {
		t.Fatal("a version 1 token did not open")
	}
	if got.Audience != 0 || !got.Audience.Has(models.AudienceAPI) || got.Audience.Has(models.AudienceMCP) {
		t.Errorf("version 1 token: audience %v, want 0 (the REST API only)", got.Audience)
	}
	for name, change := range map[string]func([]byte) []byte{
		"unknown audience bit": func(p []byte) []byte { p[len(p)-1] = 4; return p },
		"version 3":            func(p []byte) []byte { p[0] = 3; return p },
		"version 0":            func(p []byte) []byte { p[0] = 0; return p },
		"trailing byte":        func(p []byte) []byte { return append(p, 0) },
	} {
		if _, ok := s.Open(resealed(t, s, value, change)); ok {
			t.Errorf("%s: opened", name)
		}
	}
}

// A sealed token opens to the record it was sealed from, to the
// microsecond, and is told from a random token by its length.
func TestSealedTokenRoundTrip(t *testing.T) {
	s := testSealer(t, 1)
	for _, want := range []*models.Token{sampleToken(), {Kind: models.AccessToken, ClientID: "blci_x", Scopes: []string{"beers:read"},
		FamilyID: "fam", CreatedAt: time.UnixMicro(1).UTC(), ExpiresAt: time.UnixMicro(2).UTC()}} {
		value := s.Seal(want)
		if !strings.HasPrefix(value, prefixAccessToken) || len(value) == storedAccessTokenLen || len(value) > maxAccessTokenLen {
			t.Fatalf("sealed value %q: wrong prefix or length %d", value, len(value))
		}
		got, ok := s.Open(value)
		if !ok {
			t.Fatalf("Open(Seal(t)) failed")
		}
		w := *want
		w.Hash = HashSecret(value)
		if !reflect.DeepEqual(got, &w) {
			t.Errorf("Open(Seal(t)) =\n%+v, want\n%+v", got, &w)
		}
		if again := s.Seal(want); again == value {
			t.Error("two seals of one token are equal: the nonce is not fresh")
		}
	}
}

// Nothing but this key's own, unchanged seal opens: not another key's,
// not a changed byte anywhere, not a cut one, not a random token.
func TestSealedTokenRefusesForgeries(t *testing.T) {
	s := testSealer(t, 1)
	value := s.Seal(sampleToken())
	if _, ok := testSealer(t, 2).Open(value); ok {
		t.Error("a token sealed under another key opened")
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(value, prefixAccessToken))
	if err != nil {
		t.Fatal(err)
	}
	for i := range raw {
		changed := bytes.Clone(raw)
		changed[i] ^= 0x01
		if _, ok := s.Open(prefixAccessToken + base64.RawURLEncoding.EncodeToString(changed)); ok {
			t.Fatalf("a token with byte %d changed opened", i)
		}
	}
	for _, v := range []string{value[:len(value)-1], value[:20], prefixAccessToken, "blrt_" + value[5:], value + "A", prefixAccessToken + strings.Repeat("A", 43)} {
		if _, ok := s.Open(v); ok {
			t.Errorf("Open(%q) succeeded", v)
		}
	}
}

// FuzzOpenSealed checks that Open never panics and opens only what Seal
// made.
func FuzzOpenSealed(f *testing.F) {
	s := testSealer(f, 1)
	f.Add(s.Seal(sampleToken()))
	f.Add("blat_")
	f.Add("blat_AAAA")
	f.Fuzz(func(t *testing.T, value string) {
		tok, ok := s.Open(value)
		if ok && (tok.Kind != models.AccessToken || tok.Hash != HashSecret(value)) {
			t.Fatalf("Open(%q) = %+v", value, tok)
		}
	})
}
