package oauth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
)

// validVerifier checks RFC 7636 §4.1: 43–128 characters of
// [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~".
func validVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for i := 0; i < len(v); i++ {
		if !unreserved(v[i]) {
			return false
		}
	}
	return true
}

// validChallenge checks the shape of an S256 code_challenge: the
// unpadded base64url of a SHA-256 sum is exactly 43 characters. The
// decoder ignores newlines and the unused low bits of the last character,
// so only what re-encodes to itself is the encoding of a sum; anything
// else could never match a verifier.
func validChallenge(ch string) bool {
	if len(ch) != 43 {
		return false
	}
	b, err := base64.RawURLEncoding.DecodeString(ch)
	return err == nil && len(b) == sha256.Size && base64.RawURLEncoding.EncodeToString(b) == ch
}

func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

// verifierMatches applies RFC 7636 §4.6: BASE64URL(SHA256(verifier))
// must equal the stored challenge; compared in constant time.
func verifierMatches(verifier, challenge string) bool {
	sum := sha256.Sum256([]byte(verifier))
	got := base64.RawURLEncoding.EncodeToString(sum[:])
	return subtle.ConstantTimeCompare([]byte(got), []byte(challenge)) == 1
}
