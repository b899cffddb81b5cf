// Package accounts holds what happens to a user's account, for the API
// and the browser pages alike: registering, changing the password,
// deleting the account, and verifying the password itself (Verifier),
// with the cache of recently verified credentials.
package accounts

import (
	"context"
	"errors"
	"time"

	"beerlocker/grants"
	"beerlocker/limits"
	"beerlocker/models"
)

// Service carries out the account operations.
type Service struct {
	users    models.UserRepository
	hasher   *models.Passwords
	cache    *CredentialCache
	grants   *grants.Ender
	register *limits.Throttle
	now      func() time.Time
}

// NewService returns the account operations over users, hashing with
// hasher, forgetting cached credentials in cache and ending grants with
// ender when a password changes or an account goes, and limiting
// registrations per address with register (nil for no limit).
func NewService(users models.UserRepository, hasher *models.Passwords, cache *CredentialCache, ender *grants.Ender,
	register *limits.Throttle, now func() time.Time) *Service {
	return &Service{users: users, hasher: hasher, cache: cache, grants: ender, register: register, now: now}
}

// Registration is an attempt to create an account, on the API or the
// register page.
type Registration struct {
	Username, Password string
	Address            string // the client address, which the limit counts
}

// Register creates a user. Every attempt first counts against its
// address's registration limit, whether it then succeeds or not (API.md
// §8): once the limit is spent it returns a *limits.LimitedError (or the
// limit store's error) and nothing else happens. A taken username (in any
// case) is models.ErrConflict before the password is hashed, so probing
// names costs no argon2id work; two registrations of one name that both
// pass that check are decided by the store's unique index, which answers
// the later one models.ErrConflict too.
func (s *Service) Register(ctx context.Context, r Registration) (*models.User, error) {
	if err := s.register.Allow(ctx, r.Address); err != nil {
		return nil, err
	}
	if err := models.ValidateCredentials(r.Username, r.Password); err != nil {
		return nil, err
	}
	switch _, err := s.users.GetByUsername(ctx, r.Username); {
	case err == nil:
		return nil, models.ErrConflict
	case !errors.Is(err, models.ErrNotFound):
		return nil, err
	}
	hash, err := s.hasher.Hash(r.Password)
	if err != nil {
		return nil, err
	}
	now := s.storeNow()
	u := &models.User{ID: models.NewID(now), Username: r.Username, PasswordHash: hash, CreatedAt: now, UpdatedAt: now}
	if err := s.users.Create(ctx, u); err != nil {
		return nil, err
	}
	return u, nil
}

// ChangePassword sets a new password and ends every grant of the user
// (API.md §3): whoever held the old password may have taken tokens.
func (s *Service) ChangePassword(ctx context.Context, userID, password string) (*models.User, error) {
	if err := models.ValidatePassword(password); err != nil {
		return nil, err
	}
	hash, err := s.hasher.Hash(password)
	if err != nil {
		return nil, err
	}
	u, err := s.users.UpdatePassword(ctx, userID, hash, s.storeNow())
	s.cache.Invalidate(userID)
	if err != nil {
		return nil, err
	}
	if err := s.grants.EndUserGrants(ctx, userID); err != nil {
		return nil, err
	}
	return u, nil
}

// Delete removes the user and everything they own or gave.
func (s *Service) Delete(ctx context.Context, userID string) error {
	err := s.grants.DeleteUser(ctx, userID)
	s.cache.Invalidate(userID)
	return err
}

// storeNow is the clock at the precision stores keep.
func (s *Service) storeNow() time.Time { return s.now().UTC().Truncate(time.Millisecond) }
