package cache

import (
	"context"
	"time"

	"beerlocker/models"
)

// Tokens is the bearer token cache: token hash → token, filled by lookups
// and emptied by every revocation made through the wrapped store.
type Tokens struct {
	*Bounded[string, *models.Token]
	// Observe, when set, is told whether each lookup was a hit.
	Observe func(hit bool)
}

// EvictHash drops one token.
func (t *Tokens) EvictHash(hash string) { t.Delete(hash) }

// EvictFamily drops every token of a grant.
func (t *Tokens) EvictFamily(family string) {
	t.DeleteFunc(func(tk *models.Token) bool { return tk.FamilyID == family })
}

// EvictUser drops every token of a user.
func (t *Tokens) EvictUser(userID string) {
	t.DeleteFunc(func(tk *models.Token) bool { return tk.UserID == userID })
}

// EvictClient drops every token of a client, or only those of one user.
func (t *Tokens) EvictClient(clientID, userID string) {
	t.DeleteFunc(func(tk *models.Token) bool {
		return tk.ClientID == clientID && (userID == "" || tk.UserID == userID)
	})
}

// EvictAll empties the cache.
func (t *Tokens) EvictAll() { t.DeleteFunc(func(*models.Token) bool { return true }) }

// Wrap returns a store whose token lookups are served from a cache of at
// most max tokens, each kept at most ttl. Every method of the returned
// store that revokes tokens (revocation, rotation, password change through
// RevokeUser, app revocation, client and account deletion) evicts them once
// the database has done so; ttl bounds how long a revocation made by
// another instance goes unseen here.
func Wrap(s *models.Store, ttl time.Duration, max int, now func() time.Time) (*models.Store, *Tokens) {
	tc := &Tokens{Bounded: NewBounded[string, *models.Token](ttl, max, now)}
	wrapped := *s
	wrapped.Tokens = &tokens{TokenRepository: s.Tokens, cache: tc}
	wrapped.Consents = &consents{ConsentRepository: s.Consents, cache: tc}
	wrapped.Clients = &clients{ClientRepository: s.Clients, cache: tc}
	wrapped.Users = &users{UserRepository: s.Users, cache: tc}
	return &wrapped, tc
}

type tokens struct {
	models.TokenRepository
	cache *Tokens
}

// Get serves a fresh cached token, else reads the database and caches the
// result until the earlier of the ttl and the token's own expiry.
func (r *tokens) Get(ctx context.Context, hash string, now time.Time) (*models.Token, error) {
	t, ok := r.cache.Get(hash)
	hit := ok && now.Before(t.ExpiresAt)
	if r.cache.Observe != nil {
		r.cache.Observe(hit)
	}
	if hit {
		return t, nil
	}
	gen := r.cache.Generation()
	t, err := r.TokenRepository.Get(ctx, hash, now)
	if err != nil {
		return nil, err
	}
	r.cache.Put(hash, t, gen, t.ExpiresAt)
	return t, nil
}

func (r *tokens) Rotate(ctx context.Context, hash string, now time.Time) error {
	defer r.cache.EvictHash(hash)
	return r.TokenRepository.Rotate(ctx, hash, now)
}

func (r *tokens) Revoke(ctx context.Context, hash string) error {
	defer r.cache.EvictHash(hash)
	return r.TokenRepository.Revoke(ctx, hash)
}

func (r *tokens) RevokeFamily(ctx context.Context, family string) error {
	defer r.cache.EvictFamily(family)
	return r.TokenRepository.RevokeFamily(ctx, family)
}

func (r *tokens) RevokeUser(ctx context.Context, userID string) error {
	defer r.cache.EvictUser(userID)
	return r.TokenRepository.RevokeUser(ctx, userID)
}

type consents struct {
	models.ConsentRepository
	cache *Tokens
}

func (r *consents) Delete(ctx context.Context, userID, clientID string) error {
	defer r.cache.EvictClient(clientID, userID)
	return r.ConsentRepository.Delete(ctx, userID, clientID)
}

type clients struct {
	models.ClientRepository
	cache *Tokens
}

func (r *clients) Delete(ctx context.Context, ownerID, id string) error {
	defer r.cache.EvictClient(id, "")
	return r.ClientRepository.Delete(ctx, ownerID, id)
}

type users struct {
	models.UserRepository
	cache *Tokens
}

// Delete also removes the user's clients, whose tokens other users hold,
// so the whole cache goes: accounts are deleted rarely.
func (r *users) Delete(ctx context.Context, id string) error {
	defer r.cache.EvictAll()
	return r.UserRepository.Delete(ctx, id)
}
