package models

import (
	"context"
	"time"
)

// RevocationKind says which access tokens a Revocation ends.
type RevocationKind string

// Revocation kinds. A token, family or client revocation ends every token
// it names whenever it was issued (a client is revoked when it is
// deleted, and never returns); a user or grant revocation ends the tokens
// issued at or before the revocation's At, so that what the user grants
// afterwards works.
const (
	RevokedToken  RevocationKind = "token"  // Key: the token's hash
	RevokedFamily RevocationKind = "family" // Key: a family id
	RevokedUser   RevocationKind = "user"   // Key: a user id: every token of the user
	RevokedClient RevocationKind = "client" // Key: a deleted client's id: every token of the client
	RevokedGrant  RevocationKind = "grant"  // Key: GrantKey(user, client)
)

// GrantKey is the Key of a RevokedGrant: one user's tokens of one client.
func GrantKey(userID, clientID string) string { return userID + " " + clientID }

// Revocation ends sealed access tokens, which are not stored and so cannot
// be deleted: a durable record that every instance holds in memory until
// ExpiresAt, by when every token it could end has expired.
type Revocation struct {
	Kind RevocationKind
	Key  string
	// At is when the revocation was made, at microsecond precision: the
	// tokens of a user, client or grant issued at or before it end.
	At        time.Time
	ExpiresAt time.Time
}

// RevocationRepository stores revocations. Of the revocations of one kind
// and key, what counts is the latest At and the latest ExpiresAt: a
// backend may keep one record per kind and key (SQLite's upsert), or one
// per Add (Mongo: FerretDB does not update one document atomically under
// concurrent writers, but inserts are), and readers fold them.
type RevocationRepository interface {
	// Add stores r. Adding the same revocation twice is not an error.
	Add(ctx context.Context, r *Revocation) error
	// ListSince returns the revocations with an At at or after since that
	// have not expired at now, oldest At first; one kind and key may
	// appear more than once.
	ListSince(ctx context.Context, since, now time.Time) ([]*Revocation, error)
	// DeleteExpired removes revocations that expired before now and
	// returns how many.
	DeleteExpired(ctx context.Context, now time.Time) (int64, error)
}
