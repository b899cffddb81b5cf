package accounts

import (
	"crypto/hmac"
	"crypto/sha256"
	"time"

	"beerlocker/store/cache"
)

// CredentialCache remembers Basic credentials that were verified recently,
// so that a repeated valid credential is not re-hashed with argon2id on
// every request. Entries are keyed by an HMAC of the credential pair under
// the server secret (a memory dump shows no password, and the keys cannot be
// brute-forced offline without the secret), live at most TTL, and are
// dropped at once when the user's password changes or the account goes.
// Only successful checks are cached; a wrong password is never remembered.
type CredentialCache struct {
	secret []byte
	users  *cache.Bounded[[32]byte, string] // credential key → user id
}

// NewCredentialCache returns a cache of at most max entries living ttl.
func NewCredentialCache(secret []byte, ttl time.Duration, max int, now func() time.Time) *CredentialCache {
	return &CredentialCache{secret: secret, users: cache.NewBounded[[32]byte, string](ttl, max, now)}
}

// Key derives the cache key of a credential pair.
func (c *CredentialCache) Key(username, password string) [32]byte {
	m := hmac.New(sha256.New, c.secret)
	m.Write([]byte(username))
	m.Write([]byte{0}) // usernames cannot contain NUL, so the split is unambiguous
	m.Write([]byte(password))
	var k [32]byte
	m.Sum(k[:0])
	return k
}

// Get returns the user id verified for key, if it is still fresh.
func (c *CredentialCache) Get(key [32]byte) (string, bool) { return c.users.Get(key) }

// Generation returns a value to pass to Put. Take it before reading the
// user, so that an Invalidate racing with the check prevents the Put.
func (c *CredentialCache) Generation() uint64 { return c.users.Generation() }

// Put remembers that key was verified for userID, unless any Invalidate
// happened since gen was taken.
func (c *CredentialCache) Put(key [32]byte, userID string, gen uint64) {
	c.users.Put(key, userID, gen, time.Time{})
}

// Invalidate drops every entry of the user.
func (c *CredentialCache) Invalidate(userID string) {
	c.users.DeleteFunc(func(id string) bool { return id == userID })
}

// Len returns the number of entries, expired or not.
func (c *CredentialCache) Len() int { return c.users.Len() }
