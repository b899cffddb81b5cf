package redis

import (
	"context"
	"errors"
	"time"

	"beerlocker/models"
)

// Compose returns primary with its codes, tokens, device codes and
// personal access tokens kept in s instead. Everything else stays in the primary, the signing keys too:
// they are long-lived and nothing in Redis refers to them. The deletions
// that cascade to codes and tokens in the primary store
// (revoking an app, deleting a client, deleting an account) cascade into
// Redis too: Redis first, so that a failure leaves the consent, client or
// user in place for a retry rather than live tokens without one; then the
// primary; then Redis again, for anything issued in between.
func (s *Store) Compose(primary *models.Store) *models.Store {
	c := *primary
	c.Codes, c.Tokens, c.DeviceCodes = s.Codes, s.Tokens, s.DeviceCodes
	c.Consents = &consents{next: primary.Consents, s: s}
	c.Clients = &clients{next: primary.Clients, s: s}
	c.Users = &users{next: primary.Users, clients: primary.Clients, s: s}
	c.PersonalTokens = &personalTokens{s: s, users: primary.Users}
	c.DB = databases{primary.DB, s}
	return &c
}

// The wrappers of the primary's repositories write every method out
// rather than embed the interface, so that a method added to one is a
// compile error here until someone decides whether it must cascade into
// Redis.
var (
	_ models.ConsentRepository = (*consents)(nil)
	_ models.ClientRepository  = (*clients)(nil)
	_ models.UserRepository    = (*users)(nil)
	_ models.Database          = databases{}
)

// grant is everything a user holds through one client.
func grant(userID, clientID string) []dropSpec {
	return []dropSpec{{"t", "tu:" + userID, clientID}, {"c", "cu:" + userID, clientID}, {"d", "du:" + userID, clientID}}
}

// ofClient is everything anyone holds through a client.
func ofClient(clientID string) []dropSpec {
	return []dropSpec{{"t", "tc:" + clientID, ""}, {"c", "cc:" + clientID, ""}, {"d", "dc:" + clientID, ""}}
}

// ofUser is everything a user holds through any client, and the user's
// personal access tokens.
func ofUser(userID string) []dropSpec {
	return []dropSpec{{"t", "tu:" + userID, ""}, {"c", "cu:" + userID, ""}, {"d", "du:" + userID, ""}, {"p", "pu:" + userID, ""}}
}

// cascade drops specs in Redis, then runs del in the primary, then drops
// specs again. A failure of that last drop cannot be retried by the
// caller, whose object is gone by then, so it is retried here a few
// times, over about a second, to ride out a blip.
func (s *Store) cascade(ctx context.Context, op string, specs []dropSpec, events []string, del func() error) error {
	if err := s.drop(ctx, op, specs, events...); err != nil {
		return err
	}
	if err := del(); err != nil {
		return err
	}
	var err error
	for wait := 100 * time.Millisecond; wait <= 800*time.Millisecond; wait *= 2 {
		if err = s.drop(ctx, op, specs, events...); err == nil || ctx.Err() != nil {
			return err
		}
		time.Sleep(wait)
	}
	return err
}

type consents struct {
	next models.ConsentRepository
	s    *Store
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

// Delete ends the client's access for the user even when no consent was
// remembered (tokens from the password grant have none), as the other
// backends do: ErrNotFound then only reports that there was no consent.
func (r *consents) Delete(ctx context.Context, userID, clientID string) error {
	var missing error
	err := r.s.cascade(ctx, "revoke app", grant(userID, clientID), []string{evictClient(clientID, userID)},
		func() error {
			if err := r.next.Delete(ctx, userID, clientID); !errors.Is(err, models.ErrNotFound) {
				return err
			}
			missing = models.ErrNotFound
			return nil
		})
	if err != nil {
		return err
	}
	return missing
}

type clients struct {
	next models.ClientRepository
	s    *Store
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
	if _, err := r.next.GetOwned(ctx, ownerID, id); err != nil {
		return err
	}
	return r.s.cascade(ctx, "delete client", ofClient(id), []string{evictClient(id, "")},
		func() error { return r.next.Delete(ctx, ownerID, id) })
}

// DeleteUnapproved has nothing to cascade: a client no user approved has
// no codes or tokens, and a device code it asked for expires within
// minutes, unredeemable once the client is gone.
func (r *clients) DeleteUnapproved(ctx context.Context, registeredBefore time.Time) (int64, error) {
	return r.next.DeleteUnapproved(ctx, registeredBefore)
}

type users struct {
	next    models.UserRepository
	clients models.ClientRepository
	s       *Store
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

// UpdatePassword cascades nothing: the caller ends the user's tokens,
// codes and device codes through their own repositories, which live here;
// Tokens.RevokeUser also tells every instance to forget the credentials it
// verified for the user.
func (r *users) UpdatePassword(ctx context.Context, id, passwordHash string, now time.Time) (*models.User, error) {
	return r.next.UpdatePassword(ctx, id, passwordHash, now)
}

// Delete also ends what other users hold through the user's clients, and
// then tells every instance to forget the user, whether or not there were
// tokens to revoke: each drops the credentials it verified for the user,
// as after Tokens.RevokeUser.
func (r *users) Delete(ctx context.Context, id string) error {
	if _, err := r.next.Get(ctx, id); err != nil {
		return err
	}
	owned, err := r.clients.List(ctx, id)
	if err != nil {
		return err
	}
	specs, events := ofUser(id), []string{evictUser(id)}
	for _, c := range owned {
		specs = append(specs, ofClient(c.ID)...)
		events = append(events, evictClient(c.ID, ""))
	}
	err = r.s.cascade(ctx, "delete user", specs, events,
		func() error { return r.next.Delete(ctx, id) })
	if err != nil {
		return err
	}
	return r.s.revoked.publish(ctx, evictUser(id))
}

// databases is the primary database and Redis as one: both must answer.
type databases struct {
	primary models.Database
	redis   *Store
}

func (d databases) Ping(ctx context.Context) error {
	if err := d.primary.Ping(ctx); err != nil {
		return err
	}
	return d.redis.Ping(ctx)
}

func (d databases) Close() error {
	return errors.Join(d.primary.Close(), d.redis.Close())
}
