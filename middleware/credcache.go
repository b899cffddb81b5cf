package middleware

import (
	"crypto/hmac"
	"crypto/sha256"
	"sync"
	"time"
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
	ttl    time.Duration
	max    int
	now    func() time.Time

	mu      sync.Mutex
	entries map[[32]byte]cacheEntry
	gen     uint64 // bumped by every Invalidate
}

type cacheEntry struct {
	userID  string
	expires time.Time
}

// NewCredentialCache returns a cache of at most max entries living ttl.
func NewCredentialCache(secret []byte, ttl time.Duration, max int, now func() time.Time) *CredentialCache {
	return &CredentialCache{secret: secret, ttl: ttl, max: max, now: now, entries: make(map[[32]byte]cacheEntry)}
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
func (c *CredentialCache) Get(key [32]byte) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok {
		return "", false
	}
	if !c.now().Before(e.expires) {
		delete(c.entries, key)
		return "", false
	}
	return e.userID, true
}

// Generation returns a value to pass to Put. Take it before reading the
// user, so that an Invalidate racing with the check prevents the Put.
func (c *CredentialCache) Generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// Put remembers that key was verified for userID, unless any Invalidate
// happened since gen was taken.
func (c *CredentialCache) Put(key [32]byte, userID string, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if len(c.entries) >= c.max {
		c.evictLocked()
	}
	c.entries[key] = cacheEntry{userID: userID, expires: c.now().Add(c.ttl)}
}

// evictLocked drops expired entries, or if none, an arbitrary eighth of
// the cache (map order is random), so memory stays bounded.
func (c *CredentialCache) evictLocked() {
	now := c.now()
	for k, e := range c.entries {
		if !now.Before(e.expires) {
			delete(c.entries, k)
		}
	}
	for k := range c.entries {
		if len(c.entries) < c.max-c.max/8 {
			break
		}
		delete(c.entries, k)
	}
}

// Invalidate drops every entry of the user.
func (c *CredentialCache) Invalidate(userID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for k, e := range c.entries {
		if e.userID == userID {
			delete(c.entries, k)
		}
	}
}

// Len returns the number of entries, expired or not.
func (c *CredentialCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
