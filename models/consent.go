package models

import (
	"context"
	"time"
)

// Consent records that a user approved a client for some scopes, so the
// consent page is not shown again for those scopes.
type Consent struct {
	UserID    string
	ClientID  string
	Scopes    []string
	CreatedAt time.Time
	UpdatedAt time.Time
	// ExpiresAt is the end the user chose for the grant (API.md §11):
	// the consent is remembered only until then. Zero for until revoked.
	ExpiresAt time.Time
	// LastUsedAt is when the app last used its access, to the hour (a
	// refresh counts); zero before the first use.
	LastUsedAt time.Time
}

// Live reports whether the consent still holds at now: it has no end,
// or its end is after now.
func (c *Consent) Live(now time.Time) bool { return c.ExpiresAt.IsZero() || now.Before(c.ExpiresAt) }

// ConsentRepository stores remembered consents, one per (user, client).
type ConsentRepository interface {
	// Grant sets the user's consent for the client to scopes, creating it
	// at now if there is none, and returns the result. It replaces the
	// scopes the consent held: the latest decision is the one that counts
	// (API.md §11), so a narrower one narrows it.
	// until is the grant's end the user chose, zero for until revoked; it
	// replaces the consent's too.
	Grant(ctx context.Context, userID, clientID string, scopes []string, until, now time.Time) (*Consent, error)
	// Touch records that the app used the user's access at the hour of
	// at: LastUsedAt becomes at truncated to the hour, unless it is that
	// or later already. A consent that does not exist is not an error.
	Touch(ctx context.Context, userID, clientID string, at time.Time) error
	// Get returns the user's consent for the client, or ErrNotFound.
	Get(ctx context.Context, userID, clientID string) (*Consent, error)
	// List returns the user's consents, oldest first.
	List(ctx context.Context, userID string) ([]*Consent, error)
	// Delete removes the user's consent for the client and every code and
	// token the client holds for that user. Returns ErrNotFound if there
	// was no consent.
	Delete(ctx context.Context, userID, clientID string) error
}
