// Package accounts holds what happens to a user's account, for the API
// and the browser pages alike: registering, changing the password,
// deleting the account, and verifying the password itself (Verifier),
// with the cache of recently verified credentials.
package accounts

import (
	"context"
	"time"

	"beerlocker/grants"
	"beerlocker/models"
)

// Service carries out the account operations.
type Service struct {
	users  models.UserRepository
	hasher *models.Passwords
	cache  *CredentialCache
	grants *grants.Ender
	now    func() time.Time
}

// NewService returns the account operations over users, hashing with
// hasher, forgetting cached credentials in cache and ending grants with
// ender when a password changes or an account goes.
func NewService(users models.UserRepository, hasher *models.Passwords, cache *CredentialCache, ender *grants.Ender, now func() time.Time) *Service {
	return &Service{users: users, hasher: hasher, cache: cache, grants: ender, now: now}
}

// Register creates a user. Returns models.ErrConflict if the name is taken.
func (s *Service) Register(ctx context.Context, username, password string) (*models.User, error) {
	if err := models.ValidateCredentials(username, password); err != nil {
		return nil, err
	}
	hash, err := s.hasher.Hash(password)
	if err != nil {
		return nil, err
	}
	now := s.storeNow()
	u := &models.User{ID: models.NewID(now), Username: username, PasswordHash: hash, CreatedAt: now, UpdatedAt: now}
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
