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
//
// The repositories with a method that deletes tokens (Tokens, Consents,
// Clients, Users) are wrapped; their wrappers write every method out
// rather than embed the interface, so that a method added to one is a
// compile error here until someone decides whether it must evict. Codes,
// DeviceCodes and Sessions are passed through: the cache holds only
// tokens, and none of their methods deletes one (a password change ends the tokens
// through Tokens.RevokeUser, not through Codes or DeviceCodes.DeleteUser).
func Wrap(s *models.Store, ttl time.Duration, max int, now func() time.Time) (*models.Store, *Tokens) {
	tc := &Tokens{Bounded: NewBounded[string, *models.Token](ttl, max, now)}
	wrapped := *s
	wrapped.Tokens = &tokens{next: s.Tokens, cache: tc}
	wrapped.Consents = &consents{next: s.Consents, cache: tc}
	wrapped.Clients = &clients{next: s.Clients, cache: tc}
	wrapped.Users = &users{next: s.Users, cache: tc}
	return &wrapped, tc
}

var (
	_ models.TokenRepository   = (*tokens)(nil)
	_ models.ConsentRepository = (*consents)(nil)
	_ models.ClientRepository  = (*clients)(nil)
	_ models.UserRepository    = (*users)(nil)
)

type tokens struct {
	next  models.TokenRepository
	cache *Tokens
}

func (r *tokens) Create(ctx context.Context, list ...*models.Token) error {
	return r.next.Create(ctx, list...)
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
	t, err := r.next.Get(ctx, hash, now)
	if err != nil {
		return nil, err
	}
	r.cache.Put(hash, t, gen, t.ExpiresAt)
	return t, nil
}

func (r *tokens) Rotate(ctx context.Context, hash string, now time.Time) error {
	defer r.cache.EvictHash(hash)
	return r.next.Rotate(ctx, hash, now)
}

func (r *tokens) Revoke(ctx context.Context, hash string) error {
	defer r.cache.EvictHash(hash)
	return r.next.Revoke(ctx, hash)
}

func (r *tokens) RevokeFamily(ctx context.Context, family string) error {
	defer r.cache.EvictFamily(family)
	return r.next.RevokeFamily(ctx, family)
}

func (r *tokens) RevokeUser(ctx context.Context, userID string) error {
	defer r.cache.EvictUser(userID)
	return r.next.RevokeUser(ctx, userID)
}

// DeleteExpired evicts nothing: Get never serves an expired token.
func (r *tokens) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	return r.next.DeleteExpired(ctx, now)
}

type consents struct {
	next  models.ConsentRepository
	cache *Tokens
}

func (r *consents) Grant(ctx context.Context, userID, clientID string, scopes []string, until, now time.Time) (*models.Consent, error) {
	return r.next.Grant(ctx, userID, clientID, scopes, until, now)
}

func (r *consents) Touch(ctx context.Context, userID, clientID string, at time.Time) error {
	return r.next.Touch(ctx, userID, clientID, at)
}

func (r *consents) Get(ctx context.Context, userID, clientID string) (*models.Consent, error) {
	return r.next.Get(ctx, userID, clientID)
}

func (r *consents) List(ctx context.Context, userID string) ([]*models.Consent, error) {
	return r.next.List(ctx, userID)
}

func (r *consents) Delete(ctx context.Context, userID, clientID string) error {
	defer r.cache.EvictClient(clientID, userID)
	return r.next.Delete(ctx, userID, clientID)
}

type clients struct {
	next  models.ClientRepository
	cache *Tokens
}

func (r *clients) Create(ctx context.Context, c *models.Client) error {
	return r.next.Create(ctx, c)
}

func (r *clients) Get(ctx context.Context, id string) (*models.Client, error) {
	return r.next.Get(ctx, id)
}

func (r *clients) GetOwned(ctx context.Context, ownerID, id string) (*models.Client, error) {
	return r.next.GetOwned(ctx, ownerID, id)
}

func (r *clients) List(ctx context.Context, ownerID string) ([]*models.Client, error) {
	return r.next.List(ctx, ownerID)
}

func (r *clients) Update(ctx context.Context, ownerID, id string, u models.ClientUpdate, now time.Time) (*models.Client, error) {
	return r.next.Update(ctx, ownerID, id, u, now)
}

func (r *clients) Delete(ctx context.Context, ownerID, id string) error {
	defer r.cache.EvictClient(id, "")
	return r.next.Delete(ctx, ownerID, id)
}

// DeleteUnapproved evicts nothing: a client no user approved holds no
// tokens.
func (r *clients) DeleteUnapproved(ctx context.Context, registeredBefore time.Time) (int64, error) {
	return r.next.DeleteUnapproved(ctx, registeredBefore)
}

type users struct {
	next  models.UserRepository
	cache *Tokens
}

func (r *users) Create(ctx context.Context, u *models.User) error {
	return r.next.Create(ctx, u)
}

func (r *users) Get(ctx context.Context, id string) (*models.User, error) {
	return r.next.Get(ctx, id)
}

func (r *users) GetByUsername(ctx context.Context, username string) (*models.User, error) {
	return r.next.GetByUsername(ctx, username)
}

// UpdatePassword evicts nothing: it deletes no token; the caller revokes
// the user's tokens through Tokens.RevokeUser, which evicts them.
func (r *users) UpdatePassword(ctx context.Context, id, passwordHash string, now time.Time) (*models.User, error) {
	return r.next.UpdatePassword(ctx, id, passwordHash, now)
}

// Delete also removes the user's clients, whose tokens other users hold,
// so the whole cache goes: accounts are deleted rarely.
func (r *users) Delete(ctx context.Context, id string) error {
	defer r.cache.EvictAll()
	return r.next.Delete(ctx, id)
}
