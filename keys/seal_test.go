package keys

import (
	"bytes"
	"errors"
	"testing"
)

func mustSealer(t *testing.T, secret string) *sealer {
	t.Helper()
	s, err := newSealer([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSealRoundTrip(t *testing.T) {
	s := mustSealer(t, "a secret key of at least thirty-two bytes")
	plain := []byte("PKCS #8 bytes \x00\xff")
	sealed := s.seal("kid-1", RS256, plain)
	if bytes.Contains(sealed, plain) {
		t.Fatal("the sealed key contains the plaintext")
	}
	got, err := s.open("kid-1", RS256, sealed)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("open = %q, %v; want the plaintext back", got, err)
	}
	if again := s.seal("kid-1", RS256, plain); bytes.Equal(again, sealed) {
		t.Error("two seals of one key are equal: the nonce is not fresh")
	}
}

// TestSealRefuses: a wrong secret, another row's id or algorithm as the
// additional data, and any change to the bytes all fail with
// ErrUndecryptable, never a panic.
func TestSealRefuses(t *testing.T) {
	s := mustSealer(t, "a secret key of at least thirty-two bytes")
	sealed := s.seal("kid-1", RS256, []byte("private key"))
	flipped := func(i int) []byte {
		b := bytes.Clone(sealed)
		b[i] ^= 1
		return b
	}
	tests := []struct {
		name     string
		s        *sealer
		kid, alg string
		sealed   []byte
	}{
		{"another secret", mustSealer(t, "another secret key, also thirty-two bytes"), "kid-1", RS256, sealed},
		{"moved to another kid", s, "kid-2", RS256, sealed},
		{"moved to another algorithm", s, "kid-1", ES256, sealed},
		{"version byte changed", s, "kid-1", RS256, flipped(0)},
		{"nonce changed", s, "kid-1", RS256, flipped(1)},
		{"ciphertext changed", s, "kid-1", RS256, flipped(len(sealed) / 2)},
		{"tag changed", s, "kid-1", RS256, flipped(len(sealed) - 1)},
		{"truncated", s, "kid-1", RS256, sealed[:len(sealed)-1]},
		{"too short", s, "kid-1", RS256, sealed[:5]},
		{"empty", s, "kid-1", RS256, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.s.open(tc.kid, tc.alg, tc.sealed)
			if !errors.Is(err, ErrUndecryptable) || got != nil {
				t.Errorf("open = %q, %v; want nil, %v", got, err, ErrUndecryptable)
			}
		})
	}
}
