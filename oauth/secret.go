package oauth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
)

// Prefixes of the secrets this server issues. They make a leaked value
// recognizable to secret scanners and to people reading logs.
const (
	prefixAccessToken  = "blat_"
	prefixRefreshToken = "blrt_"
	prefixCode         = "blac_"
	prefixClientSecret = "blcs_"
	prefixClientID     = "blci_"
)

// newSecret returns a value of 32 random bytes, URL-safe, with prefix,
// and the hash to store in its place.
func newSecret(prefix string) (value, hash string) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("oauth: crypto/rand failed: " + err.Error())
	}
	value = prefix + base64.RawURLEncoding.EncodeToString(b[:])
	return value, HashSecret(value)
}

// NewClientID returns a fresh client id: public, but unguessable.
func NewClientID() string {
	id, _ := newSecret(prefixClientID)
	return id
}

// NewClientSecret returns a fresh client secret and its hash.
func NewClientSecret() (secret, hash string) { return newSecret(prefixClientSecret) }

// HashSecret is the form in which tokens, codes and client secrets are
// stored: hex SHA-256. The values carry 256 bits of entropy, so a fast hash
// is enough; a slow one would only slow down every request.
func HashSecret(value string) string {
	sum := sha256.Sum256([]byte(value))
	return hex.EncodeToString(sum[:])
}

// secretMatches compares a presented secret with a stored hash in
// constant time.
func secretMatches(presented, storedHash string) bool {
	got := HashSecret(presented)
	return subtle.ConstantTimeCompare([]byte(got), []byte(storedHash)) == 1
}
