package models

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"
)

// User is someone with a beer locker. PasswordHash is an argon2id PHC
// string; it never leaves the server.
type User struct {
	ID           string
	Username     string
	PasswordHash string
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// UsernameKey is the form of a username that uniqueness is checked on:
// usernames are unique without regard to case.
func UsernameKey(username string) string { return strings.ToLower(username) }

// ValidateCredentials checks a username and password against the rules of
// registration: usernames are 3–64 characters of A–Z a–z 0–9 . _ -, and
// passwords 8–128 characters.
func ValidateCredentials(username, password string) error {
	var v validator
	v.check(ValidUsername(username), "username", "must be 3–64 characters of letters, digits, '.', '_' or '-'")
	validatePassword(&v, password)
	return v.err()
}

// ValidatePassword checks a new password against the rules of registration.
func ValidatePassword(password string) error {
	var v validator
	validatePassword(&v, password)
	return v.err()
}

func validatePassword(v *validator, password string) {
	n := utf8.RuneCountInString(password)
	v.check(utf8.ValidString(password) && n >= 8 && n <= 128, "password", "must be 8–128 characters")
}

// ValidUsername reports whether s may be a username: 3–64 letters, digits,
// ".", "_" or "-".
func ValidUsername(s string) bool {
	if len(s) < 3 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-'
		if !ok {
			return false
		}
	}
	return true
}

// UserRepository stores users.
type UserRepository interface {
	// Create inserts u, whose ID and timestamps the caller has set.
	// Returns ErrConflict if the username is taken, in any case.
	Create(ctx context.Context, u *User) error
	// Get returns the user with that id, or ErrNotFound.
	Get(ctx context.Context, id string) (*User, error)
	// GetByUsername finds a user without regard to case, or returns ErrNotFound.
	GetByUsername(ctx context.Context, username string) (*User, error)
	// UpdatePassword replaces the user's password hash and returns the
	// updated user, or ErrNotFound.
	UpdatePassword(ctx context.Context, id, passwordHash string, now time.Time) (*User, error)
	// Delete removes the user and everything they own: beers, clients (with
	// those clients' codes, tokens and consents), consents, codes, tokens
	// and browser sessions. Returns ErrNotFound if there is no such user.
	Delete(ctx context.Context, id string) error
}
