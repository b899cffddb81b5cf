package models

import (
	"context"
	"slices"
	"time"
	"unicode/utf8"
)

// PersonalToken is a token a user makes for their own scripts (API.md
// §11): a Bearer token on the API, limited to its scopes, in place of the
// password. Only its hash is stored; the value is shown once, at creation.
type PersonalToken struct {
	ID     string // NewID; what the API and /account name it by
	UserID string
	Name   string
	Hash   string // HashSecret of the value
	Scopes []string
	// CreatedAt and ExpiresAt: the token works from one until the other.
	CreatedAt time.Time
	ExpiresAt time.Time
	// LastUsedAt is when it was last used, to the hour; zero for never.
	LastUsedAt time.Time
}

// PersonalTokenScopes are the scopes a personal access token may have:
// every scope of the API (API.md §11), none of OpenID Connect's.
func PersonalTokenScopes() []string {
	return []string{ScopeProfile, ScopeBeersRead, ScopeBeersWrite, ScopeClients}
}

// MaxPersonalTokensPerUser bounds a user's personal access tokens, so
// listing them is a bounded query.
const MaxPersonalTokensPerUser = 100

// Personal access tokens live 1–366 days, 30 by default (API.md §11).
const (
	MinPersonalTokenDays     = 1
	MaxPersonalTokenDays     = 366
	DefaultPersonalTokenDays = 30
)

// ValidatePersonalToken checks a new token's name, scopes and lifetime in
// days, in API.md §11's terms.
func ValidatePersonalToken(name string, scopes []string, days int) error {
	var v validator
	n := utf8.RuneCountInString(name)
	v.check(utf8.ValidString(name) && n >= 1 && n <= 100 && visibleName(name), "name", "must be 1–100 characters of visible text")
	allowed := PersonalTokenScopes()
	ok := len(scopes) > 0
	for _, s := range scopes {
		ok = ok && slices.Contains(allowed, s)
	}
	v.check(ok, "scopes", "must be a non-empty list of profile, beers:read, beers:write and clients")
	v.check(days >= MinPersonalTokenDays && days <= MaxPersonalTokenDays, "expires_in_days", "must be a whole number from 1 to 366")
	return v.err()
}

// PersonalTokenRepository stores personal access tokens.
type PersonalTokenRepository interface {
	// Create inserts t. Returns ErrConflict if the user already has
	// MaxPersonalTokensPerUser tokens (expired ones count until swept),
	// and ErrNotFound if the user does not exist.
	Create(ctx context.Context, t *PersonalToken) error
	// GetByHash returns the token with that hash that is live at now, or
	// ErrNotFound.
	GetByHash(ctx context.Context, hash string, now time.Time) (*PersonalToken, error)
	// List returns the user's tokens, expired ones included, newest first.
	List(ctx context.Context, userID string) ([]*PersonalToken, error)
	// Delete removes the user's token with that id, or returns
	// ErrNotFound (also for another user's token).
	Delete(ctx context.Context, userID, id string) error
	// DeleteUser removes every token of the user: a password change ends
	// them. (The account's deletion does too, through Users.Delete,
	// which cascades to them in every store.)
	DeleteUser(ctx context.Context, userID string) error
	// Touch records a use at the hour of at: LastUsedAt becomes at
	// truncated to the hour unless it is that or later already. An
	// unknown token is not an error.
	Touch(ctx context.Context, hash string, at time.Time) error
	// DeleteExpired removes tokens that expired before now and returns
	// how many.
	DeleteExpired(ctx context.Context, now time.Time) (int64, error)
}
