package models

import (
	"context"
	"time"
)

// Code is an authorization code (RFC 6749 §4.1.2), stored by the SHA-256 of
// its value. Tokens issued from it carry its hash as their FamilyID, so a
// replay can revoke them.
type Code struct {
	Hash     string
	ClientID string
	UserID   string
	// RedirectURI is where the code was sent: the request's redirect_uri,
	// or the client's only one when the request named none.
	RedirectURI string
	// RedirectURIOmitted records that the request named no redirect_uri,
	// so the token request may leave it out too (RFC 6749 §4.1.3). The
	// zero value is the strict one.
	RedirectURIOmitted bool
	Scopes             []string
	CodeChallenge      string // BASE64URL(SHA256(verifier)), "" without PKCE
	CreatedAt          time.Time
	ExpiresAt          time.Time
}

// CodeRepository stores authorization codes.
type CodeRepository interface {
	// Create inserts c.
	Create(ctx context.Context, c *Code) error
	// Get returns the unused code with that hash without using it. Returns
	// ErrConflict if it was already used, and ErrNotFound if it is unknown
	// or expired at now.
	Get(ctx context.Context, hash string, now time.Time) (*Code, error)
	// Consume marks the code used and returns it, atomically, so that of
	// concurrent calls exactly one succeeds. Returns ErrConflict if it was
	// already used, and ErrNotFound if it is unknown or expired at now.
	Consume(ctx context.Context, hash string, now time.Time) (*Code, error)
	// DeleteUser removes every code issued for the user, so that a password
	// change also ends the grants still in flight.
	DeleteUser(ctx context.Context, userID string) error
	// DeleteExpired removes codes that expired before now and returns how many.
	DeleteExpired(ctx context.Context, now time.Time) (int64, error)
}
