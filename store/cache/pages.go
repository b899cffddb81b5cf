package cache

import (
	"context"
	"time"

	"beerlocker/models"
)

// Pages holds the encoded responses of users' beer list pages (GET
// /api/beers), so a repeated read costs neither a query nor encoding. Every
// beer written through the wrapped store evicts its owner's pages, after
// the write: a page read before a write completes is not stored (Bounded's
// generations), so no stale page outlives a write at this instance.
type Pages struct {
	b *Bounded[pageKey, page]
	// Observe, when set, is told whether each lookup was a hit.
	Observe func(hit bool)
}

type pageKey struct {
	owner, after string
	limit        int
}

type page struct {
	owner string
	body  []byte
}

// WrapBeerPages returns a store whose beer writes evict the owner's pages
// from the returned cache of at most max pages, each kept at most ttl.
// ttl bounds how long a write made by another instance goes unseen here,
// so use it only where one instance writes the database, or where that
// delay is acceptable.
func WrapBeerPages(s *models.Store, ttl time.Duration, max int, now func() time.Time) (*models.Store, *Pages) {
	p := &Pages{b: NewBounded[pageKey, page](ttl, max, now)}
	wrapped := *s
	wrapped.Beers = &pagedBeers{next: s.Beers, pages: p}
	wrapped.Users = &onUserDelete{next: s.Users, evict: p.EvictOwner} // with the account go its beers
	return &wrapped, p
}

// Get returns the encoded page of owner's list, if cached.
func (p *Pages) Get(owner string, pg models.Page) ([]byte, bool) {
	v, ok := p.b.Get(pageKey{owner, pg.After, pg.Limit})
	if p.Observe != nil {
		p.Observe(ok)
	}
	return v.body, ok
}

// Generation returns the value to pass to Put; take it before reading the
// page from the store.
func (p *Pages) Generation() uint64 { return p.b.Generation() }

// Put stores the encoded page, unless a beer was written since gen. The
// cache keeps body; the caller must not modify it.
func (p *Pages) Put(owner string, pg models.Page, body []byte, gen uint64) {
	p.b.Put(pageKey{owner, pg.After, pg.Limit}, page{owner, body}, gen, time.Time{})
}

// EvictOwner drops every page of one user.
func (p *Pages) EvictOwner(owner string) {
	p.b.DeleteFunc(func(v page) bool { return v.owner == owner })
}

// Len returns the number of pages held, expired or not.
func (p *Pages) Len() int { return p.b.Len() }

// pagedBeers writes every method out, so that a method added to
// BeerRepository is a compile error here until someone decides whether it
// must evict.
type pagedBeers struct {
	next  models.BeerRepository
	pages *Pages
}

var _ models.BeerRepository = (*pagedBeers)(nil)

func (r *pagedBeers) Create(ctx context.Context, b *models.Beer) error {
	defer r.pages.EvictOwner(b.OwnerID)
	return r.next.Create(ctx, b)
}

func (r *pagedBeers) Get(ctx context.Context, ownerID, id string) (*models.Beer, error) {
	return r.next.Get(ctx, ownerID, id)
}

func (r *pagedBeers) List(ctx context.Context, ownerID string, p models.Page) ([]*models.Beer, string, error) {
	return r.next.List(ctx, ownerID, p)
}

func (r *pagedBeers) Update(ctx context.Context, ownerID, id string, u models.BeerUpdate, now time.Time) (*models.Beer, error) {
	defer r.pages.EvictOwner(ownerID)
	return r.next.Update(ctx, ownerID, id, u, now)
}

func (r *pagedBeers) Delete(ctx context.Context, ownerID, id string) error {
	defer r.pages.EvictOwner(ownerID)
	return r.next.Delete(ctx, ownerID, id)
}
