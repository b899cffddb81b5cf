package models

import (
	"context"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Grant types a client may register (RFC 6749 §4, RFC 8628 §3.4).
const (
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	GrantClientCredentials = "client_credentials"
	GrantPassword          = "password"
	GrantDeviceCode        = "urn:ietf:params:oauth:grant-type:device_code"
)

// grantTypes lists every grant type, in the order metadata shows them.
var grantTypes = [...]string{GrantAuthorizationCode, GrantRefreshToken, GrantClientCredentials, GrantPassword, GrantDeviceCode}

// GrantTypes returns every grant type, in the order metadata shows them;
// the slice is the caller's own.
func GrantTypes() []string { return slices.Clone(grantTypes[:]) }

// DefaultGrantTypes returns the grant types given to a client that
// registers none; the slice is the caller's own.
func DefaultGrantTypes() []string { return []string{GrantAuthorizationCode, GrantRefreshToken} }

// MaxClientsPerUser bounds how many apps one user registers, so listing
// them is a bounded query.
const MaxClientsPerUser = 100

// MaxClientIDLen bounds client ids. They are opaque strings the server
// generates (not NewID ids), or the URL of a client metadata document (at
// most 255 bytes, API.md §10), so stores check only the length.
const MaxClientIDLen = 255

// ValidClientID reports whether s could be a client id.
func ValidClientID(s string) bool { return s != "" && len(s) <= MaxClientIDLen }

// Client is an app a user registered to ask other users for access, or
// one that registered itself (RFC 7591, API.md §10), which has no owner.
// ID is an opaque, unguessable string. SecretHash is the SHA-256 of the
// client secret, empty for public clients.
type Client struct {
	ID string
	// OwnerID is the user who registered the app; "" for an app that
	// registered itself, which no user can see, change or delete.
	OwnerID      string
	Name         string
	SecretHash   string
	RedirectURIs []string
	// PostLogoutRedirectURIs are where RP-Initiated Logout may send the
	// browser afterwards (API.md §9); optional.
	PostLogoutRedirectURIs []string
	GrantTypes             []string
	Public                 bool
	// IDTokenSignedResponseAlg is the algorithm of the client's ID tokens
	// (OpenID Connect Registration 1.0 §2), one of IDTokenSigningAlgs; ""
	// is the default, RS256.
	IDTokenSignedResponseAlg string
	CreatedAt                time.Time
	UpdatedAt                time.Time
}

// IDTokenSigningAlgs are the algorithms a client may choose for its ID
// tokens: those the signing keys exist for (keys.Algorithms), RS256 first.
var IDTokenSigningAlgs = [...]string{"RS256", "ES256"}

// IDTokenAlg is the algorithm the client's ID tokens are signed with.
func (c *Client) IDTokenAlg() string {
	if c.IDTokenSignedResponseAlg == "" {
		return IDTokenSigningAlgs[0]
	}
	return c.IDTokenSignedResponseAlg
}

// SelfRegistered reports whether the app registered itself: no user
// vouches for it, and the consent page says so.
func (c *Client) SelfRegistered() bool { return c.OwnerID == "" }

// SelfRegisteredTTL is how long an app that registered itself is kept if
// no user approves it (API.md §10): registration needs no account, so
// what nobody uses must not pile up.
const SelfRegisteredTTL = 24 * time.Hour

// AllowsGrant reports whether the client registered grant type g.
func (c *Client) AllowsGrant(g string) bool { return slices.Contains(c.GrantTypes, g) }

// AcceptsRedirectURI reports whether uri is one of the client's registered
// redirect URIs. They are compared as exact strings (RFC 9700 §4.1.3), with
// one exception: for http on the loopback IP literals 127.0.0.1 and [::1]
// the port is ignored (RFC 8252 §7.3), since a native app listens on
// whatever port is free when it asks. Scheme, host, path and query still
// match exactly, and localhost, a name that could resolve elsewhere, gets
// no such exception (RFC 8252 §8.3).
func (c *Client) AcceptsRedirectURI(uri string) bool { return acceptsURI(c.RedirectURIs, uri) }

// acceptsURI is the matching rule of AcceptsRedirectURI over a list.
func acceptsURI(registeredURIs []string, uri string) bool {
	if slices.Contains(registeredURIs, uri) {
		return true
	}
	want, ok := loopbackWithoutPort(uri)
	if !ok {
		return false
	}
	return slices.ContainsFunc(registeredURIs, func(registered string) bool {
		got, ok := loopbackWithoutPort(registered)
		return ok && got == want
	})
}

// AcceptsPostLogoutRedirectURI reports whether uri is one of the client's
// registered post-logout redirect URIs, matched as AcceptsRedirectURI
// matches redirect URIs.
func (c *Client) AcceptsPostLogoutRedirectURI(uri string) bool {
	return acceptsURI(c.PostLogoutRedirectURIs, uri)
}

// loopbackWithoutPort returns an http URI on 127.0.0.1 or [::1] with its
// port, if any, cut out of the string, and false for any other URI or a
// port that is not a plain decimal 1–65535. It works on the string, not on
// a parsed URL, so nothing but the port is normalised away.
func loopbackWithoutPort(uri string) (string, bool) {
	for _, host := range [...]string{"http://127.0.0.1", "http://[::1]"} {
		rest, ok := strings.CutPrefix(uri, host)
		if !ok {
			continue
		}
		if port, ok := strings.CutPrefix(rest, ":"); ok {
			end := strings.IndexAny(port, "/?")
			if end < 0 {
				end = len(port)
			}
			n, err := strconv.Atoi(port[:end])
			if err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != port[:end] {
				return "", false
			}
			rest = port[end:]
		}
		if rest != "" && rest[0] != '/' && rest[0] != '?' {
			return "", false // "http://127.0.0.1:80@evil.example/" names another host
		}
		return host + rest, true
	}
	return "", false
}

// ClientUpdate is a partial change to a client: nil fields stay as they are.
type ClientUpdate struct {
	Name         *string
	RedirectURIs []string // nil: unchanged
	// PostLogoutRedirectURIs nil: unchanged; empty: none registered.
	PostLogoutRedirectURIs []string
	SecretHash             *string
	// IDTokenSignedResponseAlg nil: unchanged.
	IDTokenSignedResponseAlg *string
}

// ValidateClient checks a client's registration: name 1–100 characters of
// visible text, 1–10 acceptable redirect URIs and known grant types that
// suit its kind.
func ValidateClient(c *Client) error {
	var v validator
	checkClientName(&v, c.Name)
	checkRedirectURIs(&v, c.RedirectURIs, c.Public)
	checkURIList(&v, "post_logout_redirect_uris", c.PostLogoutRedirectURIs, 0, c.Public)
	checkIDTokenAlg(&v, c.IDTokenSignedResponseAlg)
	for _, g := range c.GrantTypes {
		if !slices.Contains(grantTypes[:], g) {
			v.check(false, "grant_types", "unknown grant type "+quote(g))
			return v.err()
		}
	}
	v.check(len(c.GrantTypes) > 0, "grant_types", "must not be empty")
	if c.Public {
		v.check(!c.AllowsGrant(GrantClientCredentials) && !c.AllowsGrant(GrantPassword),
			"grant_types", "a public client may not use client_credentials or password")
	}
	v.check(!c.AllowsGrant(GrantRefreshToken) || len(c.GrantTypes) > 1,
		"grant_types", "refresh_token needs a grant that issues refresh tokens")
	return v.err()
}

// ValidateClientUpdate checks the fields of u that are set.
func ValidateClientUpdate(u ClientUpdate, public bool) error {
	var v validator
	if u.Name != nil {
		checkClientName(&v, *u.Name)
	}
	if u.RedirectURIs != nil {
		checkRedirectURIs(&v, u.RedirectURIs, public)
	}
	if u.PostLogoutRedirectURIs != nil {
		checkURIList(&v, "post_logout_redirect_uris", u.PostLogoutRedirectURIs, 0, public)
	}
	if u.IDTokenSignedResponseAlg != nil {
		checkIDTokenAlg(&v, *u.IDTokenSignedResponseAlg)
	}
	return v.err()
}

func checkIDTokenAlg(v *validator, alg string) {
	v.check(alg == "" || slices.Contains(IDTokenSigningAlgs[:], alg), "id_token_signed_response_alg",
		"must be one of "+strings.Join(IDTokenSigningAlgs[:], ", "))
}

func checkClientName(v *validator, name string) {
	n := utf8.RuneCountInString(strings.TrimSpace(name))
	if !utf8.ValidString(name) || n < 1 || n > 100 {
		v.check(false, "name", "must be 1–100 characters")
		return
	}
	v.check(visibleName(name), "name", "must be visible text, without control, format or invisible characters")
}

// visibleName reports whether a name shows as what it says (API.md §5):
// the consent page names the app by it, so characters that hide or
// disguise text are refused. These are control (Unicode Cc: NUL, newline,
// tab) and format characters (Cf: zero-width spaces and joiners, bidi
// overrides and isolates, soft hyphens, tags), and the other default
// ignorable code points, which fonts draw as nothing (the Hangul fillers,
// U+034F). At least one letter, digit, punctuation mark or symbol must
// remain, so a name is never blank or only combining marks.
func visibleName(name string) bool {
	visible := false
	for _, r := range name {
		if unicode.In(r, unicode.Cc, unicode.Cf, unicode.Other_Default_Ignorable_Code_Point) {
			return false
		}
		visible = visible || unicode.In(r, unicode.L, unicode.N, unicode.P, unicode.S)
	}
	return visible
}

func checkRedirectURIs(v *validator, uris []string, public bool) {
	checkURIList(v, "redirect_uris", uris, 1, public)
}

// checkURIList checks a list of redirect URIs registered under field:
// min–10 of them, each acceptable to RedirectURIProblem. Redirect URIs and
// post-logout redirect URIs follow the same rules (API.md §9).
func checkURIList(v *validator, field string, uris []string, min int, public bool) {
	if len(uris) < min || len(uris) > 10 {
		v.check(false, field, "must hold "+strconv.Itoa(min)+"–10 URIs")
		return
	}
	for _, u := range uris {
		if msg := RedirectURIProblem(u, public); msg != "" {
			v.check(false, field, quote(u)+": "+msg)
			return
		}
	}
}

// RedirectURIProblem says what is wrong with a redirect URI a client wants
// to register, or returns "" when it is acceptable: absolute, no fragment,
// https, or http on a loopback host, or for public clients a private-use
// scheme (RFC 8252 §7.1).
func RedirectURIProblem(raw string, public bool) string {
	if len(raw) > 2000 {
		return "is longer than 2000 characters"
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() {
		return "must be an absolute URI"
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return "must not contain a fragment"
	}
	if u.User != nil {
		return "must not contain user information"
	}
	switch u.Scheme {
	case "https":
		if u.Hostname() == "" { // "https://:443/" has a Host but no host name
			return "must name a host"
		}
	case "http":
		if !isLoopback(u.Hostname()) {
			return "http is allowed only for localhost, 127.0.0.1 and [::1]"
		}
	default:
		// RFC 8252 §7.1: private-use schemes are reverse domain names,
		// which always contain a dot.
		if !public || !strings.Contains(u.Scheme, ".") {
			return "must use https (or http on a loopback host)"
		}
	}
	return ""
}

// isLoopback accepts the loopback hosts RFC 8252 §7.3 names, spelled as
// the error message does: other spellings of them ("[::ffff:127.0.0.1]",
// "[0:0:0:0:0:0:0:1]") are refused rather than compared as addresses.
func isLoopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

func quote(s string) string {
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return "\"" + s + "\""
}

// ClientRepository stores OAuth clients. An owner id "" owns nothing: the
// methods that take an owner never find a client that registered itself.
type ClientRepository interface {
	// Create inserts c. Returns ErrConflict if the owner already has
	// MaxClientsPerUser clients (a client without an owner has no such
	// bound; registration is limited per address instead).
	Create(ctx context.Context, c *Client) error
	// Get returns the client with that id whoever owns it, or ErrNotFound.
	Get(ctx context.Context, id string) (*Client, error)
	// GetOwned returns the owner's client with that id, or ErrNotFound.
	GetOwned(ctx context.Context, ownerID, id string) (*Client, error)
	// List returns the owner's clients, oldest first.
	List(ctx context.Context, ownerID string) ([]*Client, error)
	// Update applies u and returns the result, or ErrNotFound.
	Update(ctx context.Context, ownerID, id string, u ClientUpdate, now time.Time) (*Client, error)
	// Delete removes the owner's client with its codes, tokens and
	// consents, or returns ErrNotFound.
	Delete(ctx context.Context, ownerID, id string) error
	// DeleteUnapproved removes the clients without an owner created
	// before registeredBefore that no user has approved (no consent),
	// with whatever they hold, and returns how many.
	DeleteUnapproved(ctx context.Context, registeredBefore time.Time) (int64, error)
}
