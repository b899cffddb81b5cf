package models

import (
	"slices"
	"strings"
)

// Scopes a token can carry (API.md §1). Basic auth has every scope.
const (
	ScopeProfile    = "profile"
	ScopeBeersRead  = "beers:read"
	ScopeBeersWrite = "beers:write"
	ScopeClients    = "clients"
)

// Scopes lists every scope, in the order pages and metadata show them.
var Scopes = []string{ScopeProfile, ScopeBeersRead, ScopeBeersWrite, ScopeClients}

// DefaultScopes are granted when a request names none.
var DefaultScopes = []string{ScopeProfile, ScopeBeersRead}

// ParseScope splits a space-delimited scope string (RFC 6749 §3.3) into
// known scopes in canonical order without duplicates. It returns ok=false
// if any scope is unknown or the string is malformed.
func ParseScope(s string) (scopes []string, ok bool) {
	if len(s) > 1000 {
		return nil, false
	}
	for _, f := range strings.Split(s, " ") {
		if f == "" {
			continue // RFC 6749 §3.3 separates by one space; be lenient on extra spaces
		}
		if !slices.Contains(Scopes, f) {
			return nil, false
		}
	}
	for _, known := range Scopes {
		if slices.Contains(strings.Fields(s), known) {
			scopes = append(scopes, known)
		}
	}
	return scopes, true
}

// ScopeString joins scopes with single spaces.
func ScopeString(scopes []string) string { return strings.Join(scopes, " ") }

// HasScopes reports whether granted includes every scope in wanted.
func HasScopes(granted, wanted []string) bool {
	for _, w := range wanted {
		if !slices.Contains(granted, w) {
			return false
		}
	}
	return true
}
