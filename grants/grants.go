// Package grants ends what a user gave an app, and the user's browser
// sessions: the one place where a password change, an account deletion, a
// client deletion and an app revoked on the account page end sessions,
// tokens, codes, device codes and remembered consents. Every revocation
// goes through the store, whose wrappers evict the bearer cache and
// broadcast to the other instances, so what ends here is refused on the
// next request everywhere.
package grants

import (
	"context"
	"errors"
	"log/slog"

	"beerlocker/models"
	"beerlocker/security"
)

// Ender ends grants in a store.
type Ender struct {
	store *models.Store
	log   *slog.Logger
}

// NewEnder returns an Ender over store, logging security events to log.
func NewEnder(store *models.Store, log *slog.Logger) *Ender {
	return &Ender{store: store, log: log}
}

// EndUserGrants ends every grant the user gave and every browser session
// (a password change, API.md §3 and §7): every session, token, pending
// code and device code the user decided, since whoever held the old
// password may have taken any of them.
// The consents stay: the user still approves those apps.
func (e *Ender) EndUserGrants(ctx context.Context, userID string) error {
	// Sessions go first, so that none gets a code once codes are gone;
	// then codes and device codes; tokens last: a code redeemed while
	// this runs can only yield tokens that the last step then revokes.
	if err := e.store.Sessions.DeleteUser(ctx, userID); err != nil {
		return err
	}
	if err := e.store.Codes.DeleteUser(ctx, userID); err != nil {
		return err
	}
	if err := e.store.DeviceCodes.DeleteUser(ctx, userID); err != nil {
		return err
	}
	// API.md §11: a password change ends the personal access tokens too.
	if err := e.store.PersonalTokens.DeleteUser(ctx, userID); err != nil {
		return err
	}
	return e.store.Tokens.RevokeUser(ctx, userID)
}

// EndAppGrant ends what one app holds for one user and forgets the
// consent (API.md §7, Revoke on /account): its tokens, codes and device
// codes. Ending a grant that is already gone (a second click) is not an
// error.
func (e *Ender) EndAppGrant(ctx context.Context, userID, clientID string) error {
	err := e.store.Consents.Delete(ctx, userID, clientID)
	if errors.Is(err, models.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	security.Log(ctx, e.log, security.EventAppRevoked, slog.String("user_id", userID), slog.String("client_id", clientID))
	return nil
}

// DeleteClient deletes the owner's client and every grant it holds: its
// codes, device codes, tokens and the consents users gave it (API.md §5).
// It returns models.ErrNotFound when the owner has no such client.
func (e *Ender) DeleteClient(ctx context.Context, ownerID, clientID string) error {
	return e.store.Clients.Delete(ctx, ownerID, clientID)
}

// DeleteUser deletes the account and everything it owns or gave: browser
// sessions, beers, clients with their grants, consents, codes, device
// codes, tokens and personal access tokens (API.md §3; every store's
// Users.Delete cascades to them). The sessions end first, so that no
// browser acts for the account while the rest goes.
func (e *Ender) DeleteUser(ctx context.Context, userID string) error {
	if err := e.store.Sessions.DeleteUser(ctx, userID); err != nil {
		return err
	}
	return e.store.Users.Delete(ctx, userID)
}
