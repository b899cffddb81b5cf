package cache

import (
	"context"
	"time"

	"beerlocker/models"
)

// Clients is the client record cache: client id → client, filled by the
// lookups that authenticate a client on every token request, emptied of a
// client by its update or deletion through the wrapped store, and wholly
// by an account deletion (which deletes the account's clients).
type Clients struct {
	*Bounded[string, *models.Client]
	// Observe, when set, is told whether each lookup was a hit.
	Observe func(hit bool)
}

// WrapClients returns a store whose Clients.Get is served from a cache of
// at most max clients, each kept at most ttl. A change made through the
// returned store counts at once; ttl bounds how long a change made by
// another instance (a rotated secret, a removed redirect URI, a deleted
// client) goes unseen here. The cached clients are shared: callers must
// not modify what Get returns.
func WrapClients(s *models.Store, ttl time.Duration, max int, now func() time.Time) (*models.Store, *Clients) {
	cc := &Clients{Bounded: NewBounded[string, *models.Client](ttl, max, now)}
	wrapped := *s
	wrapped.Clients = &cachedClients{next: s.Clients, cache: cc}
	// An account deletion deletes the account's clients.
	wrapped.Users = &onUserDelete{next: s.Users, evict: func(owner string) {
		cc.DeleteFunc(func(c *models.Client) bool { return c.OwnerID == owner })
	}}
	return &wrapped, cc
}

// cachedClients writes every method out, so that a method added to
// ClientRepository is a compile error here until someone decides whether
// it must evict.
type cachedClients struct {
	next  models.ClientRepository
	cache *Clients
}

var _ models.ClientRepository = (*cachedClients)(nil)

func (r *cachedClients) Create(ctx context.Context, c *models.Client) error {
	return r.next.Create(ctx, c)
}

func (r *cachedClients) Get(ctx context.Context, id string) (*models.Client, error) {
	c, ok := r.cache.Get(id)
	if r.cache.Observe != nil {
		r.cache.Observe(ok)
	}
	if ok {
		return c, nil
	}
	gen := r.cache.Generation()
	c, err := r.next.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	r.cache.Put(id, c, gen, time.Time{})
	return c, nil
}

func (r *cachedClients) GetOwned(ctx context.Context, ownerID, id string) (*models.Client, error) {
	return r.next.GetOwned(ctx, ownerID, id)
}

func (r *cachedClients) List(ctx context.Context, ownerID string) ([]*models.Client, error) {
	return r.next.List(ctx, ownerID)
}

func (r *cachedClients) Update(ctx context.Context, ownerID, id string, u models.ClientUpdate, now time.Time) (*models.Client, error) {
	defer r.cache.Delete(id)
	return r.next.Update(ctx, ownerID, id, u, now)
}

func (r *cachedClients) Delete(ctx context.Context, ownerID, id string) error {
	defer r.cache.Delete(id)
	return r.next.Delete(ctx, ownerID, id)
}

// DeleteUnapproved does not say which clients went, so every cached
// client without an owner leaves the cache when any did.
func (r *cachedClients) DeleteUnapproved(ctx context.Context, registeredBefore time.Time) (int64, error) {
	n, err := r.next.DeleteUnapproved(ctx, registeredBefore)
	if n > 0 {
		r.cache.DeleteFunc(func(c *models.Client) bool { return c.SelfRegistered() })
	}
	return n, err
}
