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
	// OpenID Connect (API.md §9): openid asks for an ID token and
	// UserInfo; offline_access for a refresh token in OIDC terms.
	ScopeOpenID        = "openid"
	ScopeOfflineAccess = "offline_access"
)

// allScopes lists every scope, in the order pages and metadata show them.
var allScopes = [...]string{ScopeProfile, ScopeBeersRead, ScopeBeersWrite, ScopeClients, ScopeOpenID, ScopeOfflineAccess}

// scopeDescriptions say what each scope allows, in the words the consent
// and account pages show.
var scopeDescriptions = map[string]string{
	ScopeProfile:    "See your username and when you joined",
	ScopeBeersRead:  "See the beers in your locker",
	ScopeBeersWrite: "Add, change and remove beers in your locker",
	ScopeClients:    "Register and manage OAuth apps on your behalf",
	// OpenID Connect.
	ScopeOpenID:        "Know who you are",
	ScopeOfflineAccess: "Keep access while you are away",
}

// AllScopes returns every scope, in the order pages and metadata show
// them; the slice is the caller's own.
func AllScopes() []string { return slices.Clone(allScopes[:]) }

// DefaultScopes returns the scopes granted when a request names none
// (API.md §1); the slice is the caller's own.
func DefaultScopes() []string { return []string{ScopeProfile, ScopeBeersRead} }

// ScopeDescription says in plain words what scope allows. A scope without
// a description (one retired after it was granted) is described by its
// name.
func ScopeDescription(scope string) string {
	if d, ok := scopeDescriptions[scope]; ok {
		return d
	}
	return scope
}

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
		if !slices.Contains(allScopes[:], f) {
			return nil, false
		}
	}
	return CanonicalScopes(strings.Fields(s)), true
}

// CanonicalScopes returns the known scopes among list in canonical order
// (the order of AllScopes), once each.
func CanonicalScopes(list []string) []string {
	var scopes []string
	for _, known := range allScopes {
		if slices.Contains(list, known) {
			scopes = append(scopes, known)
		}
	}
	return scopes
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
