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
	// Nonce is the OpenID Connect request's nonce, echoed in the ID token;
	// "" when none was sent.
	Nonce string
	// AuthTime is when the user last entered a password in the session
	// that approved the request (the ID token's auth_time).
	AuthTime time.Time
	// Audience is the resources the request named (RFC 8707), the REST
	// API when it named none; the grant's tokens are valid only there.
	Audience Audience
	// GrantEndsAt is the end the user chose for the grant on the consent
	// page (API.md §11); zero for until revoked.
	GrantEndsAt time.Time
}

// CodeRepository stores authorization codes.
//
// A used code is kept, marked used, until the store drops it some time
// after its expiry (DeleteExpired, a TTL, a key's grace). For as long as it
// is kept, a used code is ErrConflict, even once it has expired: the
// conflict wins over the expiry, so that a replay just after expiry still
// revokes the tokens issued from the code (RFC 6749 §4.1.2). Only an
// unused code that expired, or one no longer kept, is ErrNotFound.
type CodeRepository interface {
	// Create inserts c.
	Create(ctx context.Context, c *Code) error
	// Get returns the unused code with that hash without using it. Returns
	// ErrConflict if it was already used, expired or not, and ErrNotFound
	// if it is unknown, or unused and expired at now.
	Get(ctx context.Context, hash string, now time.Time) (*Code, error)
	// Consume marks the code used and returns it, atomically, so that of
	// concurrent calls exactly one succeeds. Returns ErrConflict if it was
	// already used, expired or not, and ErrNotFound if it is unknown, or
	// unused and expired at now.
	Consume(ctx context.Context, hash string, now time.Time) (*Code, error)
	// DeleteUser removes every code issued for the user, so that a password
	// change also ends the grants still in flight.
	DeleteUser(ctx context.Context, userID string) error
	// DeleteExpired removes codes that expired before now and returns how many.
	DeleteExpired(ctx context.Context, now time.Time) (int64, error)
}
