package accounts

import (
	"testing"
	"time"
)

func TestCredentialCache(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := NewCredentialCache([]byte("secret"), 60*time.Second, 100, func() time.Time { return now })

	k := c.Key("alice", "pw")
	if k == c.Key("alice", "pw2") || k == c.Key("alic", "epw") || k == NewCredentialCache([]byte("other"), time.Minute, 1, time.Now).Key("alice", "pw") {
		t.Fatal("distinct credentials or secrets share a key")
	}
	if _, ok := c.Get(k); ok {
		t.Fatal("hit on an empty cache")
	}
	c.Put(k, "u1", c.Generation())
	if id, ok := c.Get(k); !ok || id != "u1" {
		t.Fatalf("Get = %q, %v; want u1", id, ok)
	}

	now = now.Add(60 * time.Second)
	if _, ok := c.Get(k); ok {
		t.Error("an entry lived longer than its TTL")
	}

	c.Put(k, "u1", c.Generation())
	c.Put(c.Key("bob", "pw"), "u2", c.Generation())
	c.Invalidate("u1")
	if _, ok := c.Get(k); ok {
		t.Error("Invalidate left the user's entry")
	}
	if _, ok := c.Get(c.Key("bob", "pw")); !ok {
		t.Error("Invalidate dropped another user's entry")
	}

	// A check that began before an Invalidate must not cache its result.
	gen := c.Generation()
	c.Invalidate("u1")
	c.Put(k, "u1", gen)
	if _, ok := c.Get(k); ok {
		t.Error("Put after a racing Invalidate was kept")
	}
}

func TestCredentialCacheIsBounded(t *testing.T) {
	c := NewCredentialCache([]byte("secret"), time.Minute, 64, time.Now)
	for i := range 10_000 {
		c.Put(c.Key("user", string(rune(i))), "u", c.Generation())
		if n := c.Len(); n > 64 {
			t.Fatalf("cache grew to %d entries, bound is 64", n)
		}
	}
}
