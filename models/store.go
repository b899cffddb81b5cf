package models

import "context"

// Database is the connection behind a Store.
type Database interface {
	// Ping returns nil when the database answers.
	Ping(ctx context.Context) error
	// Close releases the connection.
	Close() error
}

// Store is every repository of one backend. It is a plain struct so that a
// test can swap out one field.
type Store struct {
	Users    UserRepository
	Beers    BeerRepository
	Clients  ClientRepository
	Consents ConsentRepository
	Codes    CodeRepository
	Tokens   TokenRepository
	// DeviceCodes holds device authorizations (RFC 8628).
	DeviceCodes DeviceCodeRepository
	// Sessions holds browser sessions and their open consent pages.
	Sessions SessionRepository
	// SigningKeys holds the OpenID Connect signing keys (package keys).
	SigningKeys SigningKeyRepository
	// Revocations ends sealed access tokens, which are not stored.
	Revocations RevocationRepository
	// PersonalTokens holds users' personal access tokens (API.md §11).
	PersonalTokens PersonalTokenRepository

	DB Database
}

// Ping returns nil when the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.DB.Ping(ctx) }

// Close releases the database.
func (s *Store) Close() error { return s.DB.Close() }
