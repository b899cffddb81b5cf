// Package cache keeps short-lived, bounded in-process copies of what the
// database holds, for the reads on every request: Bounded is the generic
// map, and Wrap decorates a store so that bearer token lookups are served
// from it while every revocation made through the store evicts at once.
package cache

import (
	"context"
	"sync"
	"time"

	"beerlocker/models"
)

// Bounded is a map of at most max entries, each living at most ttl. It is
// safe for concurrent use.
//
// An entry read from the database can be stale by the time it is stored:
// a deletion may have run between the read and the Put. So readers take a
// generation before the read and pass it to Put, and any invalidation since
// then makes the Put a no-op.
type Bounded[K comparable, V any] struct {
	ttl time.Duration
	max int
	now func() time.Time

	mu      sync.RWMutex
	entries map[K]entry[V]
	gen     uint64
}

type entry[V any] struct {
	value   V
	expires time.Time
}

// NewBounded returns an empty cache.
func NewBounded[K comparable, V any](ttl time.Duration, max int, now func() time.Time) *Bounded[K, V] {
	return &Bounded[K, V]{ttl: ttl, max: max, now: now, entries: make(map[K]entry[V])}
}

// Get returns the value of key if it is present and fresh.
func (c *Bounded[K, V]) Get(key K) (V, bool) {
	c.mu.RLock()
	e, ok := c.entries[key]
	c.mu.RUnlock()
	if !ok || !c.now().Before(e.expires) {
		var zero V
		return zero, false
	}
	return e.value, true
}

// Generation returns the value to pass to Put; take it before reading
// what will be stored.
func (c *Bounded[K, V]) Generation() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen
}

// Put stores value under key for at most the cache's ttl, or less when
// expires comes first, unless an invalidation happened since gen.
func (c *Bounded[K, V]) Put(key K, value V, gen uint64, expires time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if len(c.entries) >= c.max {
		c.evictLocked()
	}
	if limit := c.now().Add(c.ttl); expires.IsZero() || expires.After(limit) {
		expires = limit
	}
	c.entries[key] = entry[V]{value: value, expires: expires}
}

// evictLocked drops expired entries, or if none, an arbitrary eighth of
// the cache (map order is random), so memory stays bounded.
func (c *Bounded[K, V]) evictLocked() {
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

// Delete drops key.
func (c *Bounded[K, V]) Delete(key K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.entries, key)
}

// DeleteFunc drops every entry whose value matches.
func (c *Bounded[K, V]) DeleteFunc(match func(V) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for k, e := range c.entries {
		if match(e.value) {
			delete(c.entries, k)
		}
	}
}

// Len returns the number of entries, expired or not.
func (c *Bounded[K, V]) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}

// onUserDelete is a UserRepository that calls evict once an account is
// deleted. It writes every method out, so that a method added to
// UserRepository is a compile error here until someone decides whether it
// must evict.
type onUserDelete struct {
	next  models.UserRepository
	evict func(userID string)
}

var _ models.UserRepository = (*onUserDelete)(nil)

func (r *onUserDelete) Create(ctx context.Context, u *models.User) error {
	return r.next.Create(ctx, u)
}

func (r *onUserDelete) Get(ctx context.Context, id string) (*models.User, error) {
	return r.next.Get(ctx, id)
}

func (r *onUserDelete) GetByUsername(ctx context.Context, username string) (*models.User, error) {
	return r.next.GetByUsername(ctx, username)
}

func (r *onUserDelete) UpdatePassword(ctx context.Context, id, passwordHash string, now time.Time) (*models.User, error) {
	return r.next.UpdatePassword(ctx, id, passwordHash, now)
}

func (r *onUserDelete) Delete(ctx context.Context, id string) error {
	defer r.evict(id)
	return r.next.Delete(ctx, id)
}
