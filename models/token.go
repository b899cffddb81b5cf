package models

import (
	"context"
	"time"
)

// TokenKind tells access tokens from refresh tokens.
type TokenKind string

// Token kinds.
const (
	AccessToken  TokenKind = "access"
	RefreshToken TokenKind = "refresh"
)

// Token is an access or refresh token, stored by the SHA-256 of its value.
// Tokens issued from one grant share a FamilyID: the code's hash for the
// authorization code grant, a fresh id otherwise; refresh rotation keeps it.
type Token struct {
	Hash      string
	Kind      TokenKind
	ClientID  string
	UserID    string // "" for client_credentials tokens
	Scopes    []string
	FamilyID  string
	CreatedAt time.Time
	ExpiresAt time.Time
	// GrantedAt is when the family's grant began: the code, password or
	// device grant that issued its first tokens. Refresh rotation keeps it,
	// so a family's life can be capped. Zero for tokens stored before it
	// was recorded; see GrantStart.
	GrantedAt time.Time
	// AuthTime is when the user last entered a password before the grant
	// (the ID token's auth_time), kept through refresh rotation so a
	// refreshed ID token carries the same one. Zero when unknown.
	AuthTime time.Time
	// Audience is where the token is valid (RFC 8707); a refresh token's
	// is the grant's, which an access token may narrow. Zero for tokens
	// stored before audiences existed: the REST API (Audience.Effective).
	Audience Audience
	// Rotated is true for a refresh token that was already exchanged; it
	// is kept until it expires so that its reuse can be detected.
	Rotated bool
	// RotatedAt is when it was exchanged, which the refresh reuse grace
	// counts from; zero if not rotated, or rotated before it was kept.
	RotatedAt time.Time
	// GrantEndsAt is the end the user chose for the family's grant (API.md
	// §11): no token of it lives past it, and rotation keeps it. Zero for
	// until revoked (and in tokens stored before it existed).
	GrantEndsAt time.Time
}

// GrantStart is when the token's grant began: GrantedAt, or for a token
// stored before that was recorded, the token's own creation, the earliest
// time known.
func (t *Token) GrantStart() time.Time {
	if t.GrantedAt.IsZero() {
		return t.CreatedAt
	}
	return t.GrantedAt
}

// TokenRepository stores tokens. Revoking a token deletes it.
type TokenRepository interface {
	// Create inserts the tokens.
	Create(ctx context.Context, tokens ...*Token) error
	// Get returns the token with that hash, rotated or not, or ErrNotFound
	// if it is unknown, revoked or expired at now.
	Get(ctx context.Context, hash string, now time.Time) (*Token, error)
	// Rotate marks the refresh token used, atomically, so that of
	// concurrent calls exactly one succeeds. Returns ErrConflict if it was
	// already rotated (RFC 6819 §5.2.2.3: the caller revokes the family),
	// and ErrNotFound if it is unknown, revoked or expired.
	Rotate(ctx context.Context, hash string, now time.Time) error
	// Revoke deletes the token. Revoking an unknown token is not an error.
	Revoke(ctx context.Context, hash string) error
	// RevokeFamily deletes every token of the family.
	RevokeFamily(ctx context.Context, familyID string) error
	// RevokeUser deletes every token of the user.
	RevokeUser(ctx context.Context, userID string) error
	// DeleteExpired removes tokens that expired before now and returns how many.
	DeleteExpired(ctx context.Context, now time.Time) (int64, error)
}
