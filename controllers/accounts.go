package controllers

import (
	"context"
	"time"

	"beerlocker/middleware"
	"beerlocker/models"
)

// Accounts carries out the account operations that touch more than one
// repository, for the API and the browser pages alike.
type Accounts struct {
	Store     *models.Store
	Passwords *models.Passwords
	Cache     *middleware.CredentialCache
	Now       func() time.Time
}

// Register creates a user. Returns models.ErrConflict if the name is taken.
func (a *Accounts) Register(ctx context.Context, username, password string) (*models.User, error) {
	if err := models.ValidateCredentials(username, password); err != nil {
		return nil, err
	}
	hash, err := a.Passwords.Hash(password)
	if err != nil {
		return nil, err
	}
	now := a.now()
	u := &models.User{ID: models.NewID(now), Username: username, PasswordHash: hash, CreatedAt: now, UpdatedAt: now}
	if err := a.Store.Users.Create(ctx, u); err != nil {
		return nil, err
	}
	return u, nil
}

// ChangePassword sets a new password and revokes every token and pending
// code of the user (API.md §3): whoever held the old password may have
// taken tokens.
func (a *Accounts) ChangePassword(ctx context.Context, userID, password string) (*models.User, error) {
	if err := models.ValidatePassword(password); err != nil {
		return nil, err
	}
	hash, err := a.Passwords.Hash(password)
	if err != nil {
		return nil, err
	}
	u, err := a.Store.Users.UpdatePassword(ctx, userID, hash, a.now())
	a.Cache.Invalidate(userID)
	if err != nil {
		return nil, err
	}
	if err := a.Store.Tokens.RevokeUser(ctx, userID); err != nil {
		return nil, err
	}
	// A code issued just before the change would otherwise still buy tokens.
	if err := a.Store.Codes.DeleteUser(ctx, userID); err != nil {
		return nil, err
	}
	return u, nil
}

// Delete removes the user and everything they own.
func (a *Accounts) Delete(ctx context.Context, userID string) error {
	err := a.Store.Users.Delete(ctx, userID)
	a.Cache.Invalidate(userID)
	return err
}

// now is the store's clock at the precision stores keep.
func (a *Accounts) now() time.Time { return a.Now().UTC().Truncate(time.Millisecond) }
