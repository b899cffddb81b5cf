package accounts

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"time"

	"beerlocker/models"
	"beerlocker/store/cache"
)

// CredentialCache remembers Basic credentials that were verified recently,
// so that a repeated valid credential is not re-hashed with argon2id on
// every request. Entries are keyed by an HMAC of the credential pair under
// the server secret (a memory dump shows no password, and the keys cannot be
// brute-forced offline without the secret), live at most TTL, and are
// dropped at once when the user's password changes or the account goes.
// Only successful checks are cached; a wrong password is never remembered.
//
// A password changed at another instance must end the entry here too.
// With a store to check against (no revocation channel links the
// instances), every hit reads the user by id, one primary-key lookup, and
// counts only while the stored password hash is still the one the entry
// was verified against. Without one, the revocation channel's listener
// calls Invalidate when any instance changes the password.
type CredentialCache struct {
	secret []byte
	users  *cache.Bounded[[32]byte, verified] // credential key → whom it verified
	stored models.UserRepository              // nil: trust Invalidate alone
}

// verified is a credential's check: the user, and the password hash it
// was checked against.
type verified struct {
	userID, passwordHash string
}

// NewCredentialCache returns a cache of at most max entries living ttl.
// With stored, each hit is checked against the user's stored password
// hash; with nil, only Invalidate ends an entry before its ttl.
func NewCredentialCache(secret []byte, ttl time.Duration, max int, now func() time.Time, stored models.UserRepository) *CredentialCache {
	return &CredentialCache{secret: secret, users: cache.NewBounded[[32]byte, verified](ttl, max, now), stored: stored}
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

// Get returns the user id verified for key, if it is still fresh and, with
// a store to check against, the user's password is still the one it was
// verified with; an entry that no longer holds is dropped. The error is
// the store's.
func (c *CredentialCache) Get(ctx context.Context, key [32]byte) (string, bool, error) {
	v, ok := c.users.Get(key)
	if !ok {
		return "", false, nil
	}
	if c.stored == nil {
		return v.userID, true, nil
	}
	u, err := c.stored.Get(ctx, v.userID)
	switch {
	case errors.Is(err, models.ErrNotFound):
	case err != nil:
		return "", false, err
	case u.PasswordHash == v.passwordHash:
		return v.userID, true, nil
	}
	c.users.Delete(key)
	return "", false, nil
}

// Generation returns a value to pass to Put. Take it before reading the
// user, so that an Invalidate racing with the check prevents the Put.
func (c *CredentialCache) Generation() uint64 { return c.users.Generation() }

// Put remembers that key was verified for u, with the password hash u
// has, unless any Invalidate happened since gen was taken.
func (c *CredentialCache) Put(key [32]byte, u *models.User, gen uint64) {
	c.users.Put(key, verified{userID: u.ID, passwordHash: u.PasswordHash}, gen, time.Time{})
}

// Invalidate drops every entry of the user.
func (c *CredentialCache) Invalidate(userID string) {
	c.users.DeleteFunc(func(v verified) bool { return v.userID == userID })
}

// InvalidateAll drops every entry: what a listener that may have missed
// revocations does.
func (c *CredentialCache) InvalidateAll() {
	c.users.DeleteFunc(func(verified) bool { return true })
}

// Len returns the number of entries, expired or not.
func (c *CredentialCache) Len() int { return c.users.Len() }
