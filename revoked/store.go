package revoked

import (
	"context"
	"time"

	"beerlocker/models"
)

// Wrap returns a store whose every method that ends tokens also ends the
// sealed ones, through l: the revocation is recorded (durably, then in
// memory) before the wrapped method runs, so that a failure leaves the
// stored tokens for a retry rather than live sealed ones, and so that a
// revocation channel the wrapped store speaks on (Redis) announces it
// only once other instances can read it.
//
// The repositories with such a method (Tokens, Consents, Clients, Users)
// are wrapped, and their wrappers write every method out rather than
// embed the interface, so that a method added to one is a compile error
// here until someone decides whether it ends tokens.
func Wrap(s *models.Store, l *List) *models.Store {
	w := *s
	w.Tokens = &tokens{next: s.Tokens, l: l}
	w.Consents = &consents{next: s.Consents, l: l}
	w.Clients = &clients{next: s.Clients, l: l}
	w.Users = &users{next: s.Users, clients: s.Clients, l: l}
	return &w
}

var (
	_ models.TokenRepository   = (*tokens)(nil)
	_ models.ConsentRepository = (*consents)(nil)
	_ models.ClientRepository  = (*clients)(nil)
	_ models.UserRepository    = (*users)(nil)
)

// revocation is one of kind and key, made now, at microsecond precision:
// a sealed token issued in the same microsecond is ended too.
func (l *List) revocation(kind models.RevocationKind, k string) *models.Revocation {
	at := l.now().UTC().Truncate(time.Microsecond)
	return &models.Revocation{Kind: kind, Key: k, At: at, ExpiresAt: at.Add(Keep)}
}

// deletedAhead is how far ahead an account deletion's revocation is
// dated; less than refreshOverlap, so that Refresh still reads it.
const deletedAhead = 10 * time.Second

type tokens struct {
	next models.TokenRepository
	l    *List
}

func (r *tokens) Create(ctx context.Context, list ...*models.Token) error {
	return r.next.Create(ctx, list...)
}

func (r *tokens) Get(ctx context.Context, hash string, now time.Time) (*models.Token, error) {
	return r.next.Get(ctx, hash, now)
}

// Rotate ends nothing: a rotated refresh token stays stored, so that its
// reuse is detected.
func (r *tokens) Rotate(ctx context.Context, hash string, now time.Time) error {
	return r.next.Rotate(ctx, hash, now)
}

func (r *tokens) Revoke(ctx context.Context, hash string) error {
	if err := r.l.record(ctx, r.l.revocation(models.RevokedToken, hash)); err != nil {
		return err
	}
	return r.next.Revoke(ctx, hash)
}

func (r *tokens) RevokeFamily(ctx context.Context, family string) error {
	if family == "" {
		return r.next.RevokeFamily(ctx, family) // not a family
	}
	if err := r.l.record(ctx, r.l.revocation(models.RevokedFamily, family)); err != nil {
		return err
	}
	return r.next.RevokeFamily(ctx, family)
}

func (r *tokens) RevokeUser(ctx context.Context, userID string) error {
	if err := r.l.record(ctx, r.l.revocation(models.RevokedUser, userID)); err != nil {
		return err
	}
	return r.next.RevokeUser(ctx, userID)
}

func (r *tokens) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	return r.next.DeleteExpired(ctx, now)
}

type consents struct {
	next models.ConsentRepository
	l    *List
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

// Delete ends the user's tokens of the client even without a consent, as
// the wrapped store does: the user's own grant, keyed by the user.
func (r *consents) Delete(ctx context.Context, userID, clientID string) error {
	if err := r.l.record(ctx, r.l.revocation(models.RevokedGrant, models.GrantKey(userID, clientID))); err != nil {
		return err
	}
	return r.next.Delete(ctx, userID, clientID)
}

type clients struct {
	next models.ClientRepository
	l    *List
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

// Delete records the revocation only for the client's owner: anyone else
// gets ErrNotFound and ends nothing, so no user can end another's app.
func (r *clients) Delete(ctx context.Context, ownerID, id string) error {
	if _, err := r.next.GetOwned(ctx, ownerID, id); err != nil {
		return err
	}
	if err := r.l.record(ctx, r.l.revocation(models.RevokedClient, id)); err != nil {
		return err
	}
	return r.next.Delete(ctx, ownerID, id)
}

// DeleteUnapproved records nothing: a client no user approved was never
// issued a token.
func (r *clients) DeleteUnapproved(ctx context.Context, registeredBefore time.Time) (int64, error) {
	return r.next.DeleteUnapproved(ctx, registeredBefore)
}

type users struct {
	next    models.UserRepository
	clients models.ClientRepository
	l       *List
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

// UpdatePassword ends nothing itself: the caller ends the user's tokens
// through Tokens.RevokeUser.
func (r *users) UpdatePassword(ctx context.Context, id, passwordHash string, now time.Time) (*models.User, error) {
	return r.next.UpdatePassword(ctx, id, passwordHash, now)
}

// Delete ends the user's tokens and every token of the user's clients,
// which the wrapped store deletes with the account.
func (r *users) Delete(ctx context.Context, id string) error {
	if _, err := r.next.Get(ctx, id); err != nil {
		return err
	}
	owned, err := r.clients.List(ctx, id)
	if err != nil {
		return err
	}
	// The account's id never returns either: its revocation is dated a
	// little ahead, so that a grant that read the user just before the
	// deletion cannot issue a token that outlives it.
	gone := r.l.revocation(models.RevokedUser, id)
	gone.At = gone.At.Add(deletedAhead)
	revs := []*models.Revocation{gone}
	for _, c := range owned {
		revs = append(revs, r.l.revocation(models.RevokedClient, c.ID))
	}
	if err := r.l.record(ctx, revs...); err != nil {
		return err
	}
	return r.next.Delete(ctx, id)
}
