package models

import (
	"context"
	"time"
)

// SigningKey is one key the OpenID Connect provider signs tokens with
// (API.md §9 "Keys"). Each algorithm has its own chain of keys, numbered
// by Generation: an algorithm's first key is generation 1, and each
// rotation adds the next. A key is published from CreatedAt until it is
// deleted, and signs from ActiveAt until a later generation of its
// algorithm is active; which key that is, and when a key may be deleted,
// is package keys' rule, worked out from the stored keys alone.
type SigningKey struct {
	ID         string // the JWK "kid"
	Alg        string // the JWS algorithm, such as "RS256"
	Generation int64  // 1, 2, …; unique per Alg
	// PrivateKey is the private key, encrypted by package keys; to a store
	// it is opaque bytes.
	PrivateKey []byte
	CreatedAt  time.Time
	ActiveAt   time.Time
}

// MaxSigningKeys bounds the stored signing keys, and so List. A store
// normally holds a handful: per algorithm the current key, the next one
// and those retired within the last token lifetime; package keys refuses
// a rotation that would pass the bound.
const MaxSigningKeys = 1000

// SigningKeyRepository stores the signing keys. There are a handful of
// them, so List returns them all.
type SigningKeyRepository interface {
	// Create inserts k. Returns ErrConflict if a key with k.ID, or with
	// k.Alg and k.Generation, exists: of two instances that create the
	// same generation at once (the first start, a rotation), exactly one
	// succeeds, and the other uses the winner's key.
	Create(ctx context.Context, k *SigningKey) error
	// List returns every stored key, by Alg and then Generation.
	List(ctx context.Context) ([]*SigningKey, error)
	// Delete removes the key with that id. Returns ErrNotFound if there is
	// none (another instance may have deleted it first).
	Delete(ctx context.Context, id string) error
}
