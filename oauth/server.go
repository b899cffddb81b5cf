package oauth

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"time"

	"beerlocker/accounts"
	"beerlocker/clientmeta"
	"beerlocker/keys"
	"beerlocker/limits"
	"beerlocker/metrics"
	"beerlocker/models"
	"beerlocker/pages"
	"beerlocker/revoked"
	"beerlocker/store/cache"
)

// Default lifetimes (API.md §6).
const (
	DefaultAccessTTL  = time.Hour
	DefaultRefreshTTL = 30 * 24 * time.Hour
	// MaxRefreshReuseGrace bounds RefreshReuseGrace (API.md §11): a
	// window for two tabs refreshing at once, not for a stolen token.
	MaxRefreshReuseGrace = 60 * time.Second
	// MaxGrantTTL caps a token family: rotation gives each refresh token a
	// fresh RefreshTTL, but no token of a grant outlives MaxGrantTTL from
	// the grant (RFC 9700 §4.14.2 lets a server bound a refresh token's
	// life however it likes; a stolen family then dies within 90 days
	// even while the thief keeps refreshing).
	MaxGrantTTL = 90 * 24 * time.Hour
	// CodeTTL: RFC 6749 §4.1.2 recommends at most 10 minutes; we keep 60 s.
	CodeTTL = 60 * time.Second
)

// Server is the authorization server. Its fields are its dependencies;
// the handler makers in this package read them.
type Server struct {
	Store       *models.Store
	Credentials CredentialVerifier // users' own passwords, for the password grant
	Limits      *limits.Guard      // brute-force limits on client secrets; nil for none
	// Registrations limits dynamic client registration per address, as
	// account registration is (API.md §8); nil for no limit.
	Registrations *limits.Throttle
	Pages         *pages.Renderer // draws the consent, device and error pages
	// Documents fetches the client metadata documents that client_ids
	// which are URLs name (API.md §10); nil: such ids are unknown apps.
	Documents *clientmeta.Fetcher
	Issuer    string           // PUBLIC_URL: the base of every endpoint URL
	Metrics   *metrics.Metrics // nil records nothing
	Keys      *keys.Manager    // signs ID tokens (OpenID Connect); nil issues none
	// Sealer and Revoked, both set, make access tokens sealed rather than
	// stored (see Sealer); Revoked must then be the list that the store's
	// revocations go through (revoked.Wrap).
	Sealer  *Sealer
	Revoked *revoked.List
	// Opened keeps sealed tokens opened, by value, so that a token used
	// again is not decrypted again; a token's record never changes, and
	// expiry and revocation are checked on every use. nil opens each time.
	Opened *cache.Bounded[string, *models.Token]
	Log    *slog.Logger
	Now    func() time.Time

	AccessTTL  time.Duration
	RefreshTTL time.Duration
	usage      usage // the hours of use already recorded (recordUse)

	// RefreshReuseGrace is how long after a rotation the same client may
	// present the rotated refresh token again and get fresh tokens rather
	// than have the family revoked (API.md §11); 0 for never.
	RefreshReuseGrace time.Duration
	// DeviceInterval is the polling interval given to devices (RFC 8628
	// §3.2); 0 means DefaultDeviceInterval.
	DeviceInterval time.Duration
}

// CredentialVerifier checks a user's own username and password.
type CredentialVerifier interface {
	// VerifyPassword returns the user's id, or models.ErrNotFound when the
	// username or the password is wrong, or a *limits.LimitedError when
	// there were too many failures to check it.
	VerifyPassword(ctx context.Context, at accounts.PasswordAttempt) (string, error)
}

// now is the clock at the precision stores keep.
func (s *Server) now() time.Time { return s.Now().UTC().Truncate(time.Millisecond) }

// VerifyAccessToken resolves a bearer access token presented at
// resource: a sealed one is opened and checked against the revocations in
// memory, a stored one is one indexed lookup by its hash. Either way a
// revocation made here takes effect on the next request. A token meant
// for another resource is no token there (RFC 8707, API.md §10).
func (s *Server) VerifyAccessToken(ctx context.Context, token string, resource models.Audience) (*models.Token, error) {
	if isPersonalToken(token) {
		return s.verifyPersonalToken(ctx, token, resource)
	}
	t, err := s.lookupToken(ctx, token)
	if err != nil {
		return nil, err
	}
	if t.Kind != models.AccessToken || !t.Audience.Has(resource) {
		return nil, models.ErrNotFound
	}
	s.recordUse(ctx, t.UserID, t.ClientID)
	return t, nil
}

// lookupToken returns the live token with that value, of either kind, or
// models.ErrNotFound if it is unknown, expired or revoked. A rotated
// refresh token is returned, with Rotated set.
func (s *Server) lookupToken(ctx context.Context, value string) (*models.Token, error) {
	if len(value) > maxAccessTokenLen {
		return nil, models.ErrNotFound
	}
	if s.sealing() && len(value) != storedAccessTokenLen && strings.HasPrefix(value, prefixAccessToken) {
		t, ok := s.openSealed(value)
		if !ok || !s.Now().Before(t.ExpiresAt) || s.Revoked.Revoked(t) {
			return nil, models.ErrNotFound
		}
		return t, nil
	}
	return s.Store.Tokens.Get(ctx, HashSecret(value), s.Now())
}

func (s *Server) openSealed(value string) (*models.Token, bool) {
	if s.Opened == nil {
		return s.Sealer.Open(value)
	}
	if t, ok := s.Opened.Get(value); ok {
		return t, true
	}
	gen := s.Opened.Generation()
	t, ok := s.Sealer.Open(value)
	if ok {
		s.Opened.Put(value, t, gen, t.ExpiresAt)
	}
	return t, ok
}

func (s *Server) sealing() bool { return s.Sealer != nil && s.Revoked != nil }

// tokenResponse is the success body of the token endpoint (RFC 6749 §5.1).
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope"`
	IDToken      string `json:"id_token,omitempty"` // OpenID Connect, with the openid scope
}

// family is the token family a grant issues into: its id, and when the
// grant began (the zero time for a new grant, which begins now).
type family struct {
	id    string
	since time.Time
	// authTime is when the user last entered a password before the grant
	// (the ID token's auth_time), kept on every token of the family.
	authTime time.Time
	// audience is the grant's (RFC 8707): the refresh token keeps it, so
	// a refresh may narrow an access token's but never widen it.
	audience models.Audience
	// ends is the end the user chose for the grant (API.md §11), zero for
	// until revoked: no token of the family outlives it.
	ends time.Time
}

// issue creates an access token for scopes at audience, and a refresh
// token when withRefresh, in family f. refreshScopes are the scopes the
// refresh token keeps (RFC 6749 §6: a rotated refresh token has the scope
// of the old one), as it keeps the family's audience.
// No token outlives MaxGrantTTL from the grant, or the end the user chose
// for it, and expires_in says so.
func (s *Server) issue(ctx context.Context, client *models.Client, userID string, scopes, refreshScopes []string, audience models.Audience, f family, withRefresh bool) (*tokenResponse, error) {
	now := s.now()
	if f.since.IsZero() {
		f.since = now
	}
	end := f.since.Add(MaxGrantTTL)
	if !f.ends.IsZero() {
		end = earlier(end, f.ends)
	}
	if end.Sub(now) < time.Second { // the last second: expires_in would be 0
		return nil, errInvalidGrant("The grant has reached its end; ask the user again.")
	}
	accessEnd := earlier(now.Add(s.AccessTTL), end)
	accessToken := &models.Token{
		Kind: models.AccessToken, ClientID: client.ID, UserID: userID,
		Scopes: scopes, FamilyID: f.id, CreatedAt: now, ExpiresAt: accessEnd, GrantedAt: f.since, AuthTime: f.authTime,
		Audience: audience, GrantEndsAt: f.ends,
	}
	var access string
	var tokens []*models.Token
	if s.sealing() && accessEnd.Sub(now) <= revoked.Keep {
		// Issued at the microsecond, as revocations are made: a user's
		// revocation then ends exactly the tokens issued before it.
		accessToken.CreatedAt = s.Now().UTC().Truncate(time.Microsecond)
		access = s.Sealer.Seal(accessToken)
	} else {
		access, accessToken.Hash = newSecret(prefixAccessToken)
		tokens = append(tokens, accessToken)
	}
	resp := &tokenResponse{AccessToken: access, TokenType: "Bearer", ExpiresIn: int(accessEnd.Sub(now) / time.Second), Scope: models.ScopeString(scopes)}
	if withRefresh {
		refresh, refreshHash := newSecret(prefixRefreshToken)
		tokens = append(tokens, &models.Token{
			Hash: refreshHash, Kind: models.RefreshToken, ClientID: client.ID, UserID: userID,
			Scopes: refreshScopes, FamilyID: f.id, CreatedAt: now, ExpiresAt: earlier(now.Add(s.RefreshTTL), end), GrantedAt: f.since, AuthTime: f.authTime,
			Audience: f.audience, GrantEndsAt: f.ends,
		})
		resp.RefreshToken = refresh
	}
	if len(tokens) == 0 {
		return resp, nil
	}
	if err := s.Store.Tokens.Create(ctx, tokens...); err != nil {
		if errors.Is(err, models.ErrNotFound) {
			// The user or client went away while the grant ran.
			return nil, errInvalidGrant("The grant's user or client no longer exists.")
		}
		return nil, err
	}
	return resp, nil
}

func earlier(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// resolveScope parses a requested scope against what may be granted:
// empty means the default scopes (narrowed to what is allowed); anything
// outside allowed is invalid_scope.
func resolveScope(requested string, allowed []string) ([]string, *Error) {
	scopes, ok := models.ParseScope(requested)
	if !ok {
		return nil, errInvalidScope("The scope names an unknown scope; known scopes are: " + models.ScopeString(models.AllScopes()) + ".")
	}
	if len(scopes) == 0 {
		for _, d := range models.DefaultScopes() {
			if slices.Contains(allowed, d) {
				scopes = append(scopes, d)
			}
		}
		if len(scopes) == 0 {
			return nil, errInvalidScope("No scope was requested and the default scopes are not available.")
		}
		return scopes, nil
	}
	if !models.HasScopes(allowed, scopes) {
		return nil, errInvalidScope("The scope asks for more than this grant may have.")
	}
	return scopes, nil
}
