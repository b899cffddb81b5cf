package accounts

import (
	"context"
	"testing"
	"time"

	"beerlocker/models"
)

// get is Get on a cache without a store, which cannot fail.
func get(c *CredentialCache, k [32]byte) (string, bool) {
	id, ok, _ := c.Get(context.Background(), k)
	return id, ok
}

func user(id string) *models.User { return &models.User{ID: id, PasswordHash: "hash of " + id} }

func TestCredentialCache(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := NewCredentialCache([]byte("secret"), 60*time.Second, 100, func() time.Time { return now }, nil)

	k := c.Key("alice", "pw")
	if k == c.Key("alice", "pw2") || k == c.Key("alic", "epw") || k == NewCredentialCache([]byte("other"), time.Minute, 1, time.Now, nil).Key("alice", "pw") {
		t.Fatal("distinct credentials or secrets share a key")
	}
	if _, ok := get(c, k); ok {
		t.Fatal("hit on an empty cache")
	}
	c.Put(k, user("u1"), c.Generation())
	if id, ok := get(c, k); !ok || id != "u1" {
		t.Fatalf("Get = %q, %v; want u1", id, ok)
	}

	now = now.Add(60 * time.Second)
	if _, ok := get(c, k); ok {
		t.Error("an entry lived longer than its TTL")
	}

	c.Put(k, user("u1"), c.Generation())
	c.Put(c.Key("bob", "pw"), user("u2"), c.Generation())
	c.Invalidate("u1")
	if _, ok := get(c, k); ok {
		t.Error("Invalidate left the user's entry")
	}
	if _, ok := get(c, c.Key("bob", "pw")); !ok {
		t.Error("Invalidate dropped another user's entry")
	}

	// A check that began before an Invalidate must not cache its result.
	gen := c.Generation()
	c.Invalidate("u1")
	c.Put(k, user("u1"), gen)
	if _, ok := get(c, k); ok {
		t.Error("Put after a racing Invalidate was kept")
	}
}

func TestCredentialCacheIsBounded(t *testing.T) {
	c := NewCredentialCache([]byte("secret"), time.Minute, 64, time.Now, nil)
	for i := range 10_000 {
		c.Put(c.Key("user", string(rune(i))), user("u"), c.Generation())
		if n := c.Len(); n > 64 {
			t.Fatalf("cache grew to %d entries, bound is 64", n)
		}
	}
}

// oneUser is a UserRepository holding one user, for Get; the cache reads
// nothing else.
type oneUser struct {
	models.UserRepository
	u *models.User
}

func (r *oneUser) Get(_ context.Context, id string) (*models.User, error) {
	if r.u == nil || r.u.ID != id {
		return nil, models.ErrNotFound
	}
	return r.u, nil
}

// TestCredentialCacheChecksTheStoredHash: with a store to check against,
// an entry counts only while the user's stored password hash is the one
// it was verified with, so a change made where Invalidate cannot reach
// (another instance) ends it at once; so does the account going.
func TestCredentialCacheChecksTheStoredHash(t *testing.T) {
	ctx := context.Background()
	alice := user("u1")
	stored := &oneUser{u: alice}
	c := NewCredentialCache([]byte("secret"), time.Minute, 100, time.Now, stored)
	k := c.Key("alice", "pw")
	c.Put(k, alice, c.Generation())
	if id, ok, err := c.Get(ctx, k); err != nil || !ok || id != "u1" {
		t.Fatalf("Get = %q, %v, %v; want u1", id, ok, err)
	}
	stored.u = &models.User{ID: "u1", PasswordHash: "another hash"}
	if _, ok, err := c.Get(ctx, k); err != nil || ok {
		t.Errorf("Get after the stored hash changed = %v, %v; want a miss", ok, err)
	}
	if c.Len() != 0 {
		t.Errorf("the stale entry was kept: %d entries", c.Len())
	}
	c.Put(k, stored.u, c.Generation())
	stored.u = nil
	if _, ok, err := c.Get(ctx, k); err != nil || ok {
		t.Errorf("Get after the account went = %v, %v; want a miss", ok, err)
	}
}
