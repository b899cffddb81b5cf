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
}

// ConsentRepository stores remembered consents, one per (user, client).
type ConsentRepository interface {
	// Grant sets the user's consent for the client to scopes, creating it
	// at now if there is none, and returns the result. It replaces the
	// scopes the consent held: the latest decision is the one that counts
	// (API.md §11), so a narrower one narrows it.
	Grant(ctx context.Context, userID, clientID string, scopes []string, now time.Time) (*Consent, error)
	// Get returns the user's consent for the client, or ErrNotFound.
	Get(ctx context.Context, userID, clientID string) (*Consent, error)
	// List returns the user's consents, oldest first.
	List(ctx context.Context, userID string) ([]*Consent, error)
	// Delete removes the user's consent for the client and every code and
	// token the client holds for that user. Returns ErrNotFound if there
	// was no consent.
	Delete(ctx context.Context, userID, clientID string) error
}
