package middleware

import (
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"beerlocker/accounts"
	"beerlocker/httperr"
	"beerlocker/models"
	"beerlocker/problem"
)

// Principal is who a request acts for.
type Principal struct {
	UserID   string   // "" for a client_credentials token
	ClientID string   // "" with Basic auth
	Scopes   []string // every scope with Basic auth
	Basic    bool
	// PasswordHash is, with Basic auth on a RequireBasic route, the hash
	// the password matched (see accounts.Verified).
	PasswordHash string
}

// TokenVerifier resolves a bearer access token.
type TokenVerifier interface {
	// VerifyAccessToken returns the live access token with that value
	// meant for resource, or models.ErrNotFound if it is unknown, expired,
	// revoked, meant for another resource or not an access token.
	VerifyAccessToken(ctx context.Context, token string, resource models.Audience) (*models.Token, error)
}

// PasswordVerifier checks a user's own username and password;
// *accounts.Verifier is the one.
type PasswordVerifier interface {
	// Verify returns the user, or models.ErrNotFound when the username or
	// the password is wrong, or a *limits.LimitedError when there were
	// too many failures to check it.
	Verify(ctx context.Context, at accounts.PasswordAttempt) (accounts.Verified, error)
}

// AuthObserver counts rejected bearer tokens; *metrics.Metrics is one. Its
// method must accept a nil receiver when it is a nil pointer.
type AuthObserver interface {
	AuthFailure(kind string)
}

// Authenticator authenticates API requests by HTTP Basic (the user's own
// password) or a Bearer token, and checks the route's scope. It is the
// adapter between Gin and the verifiers; what a credential is worth is
// theirs to say.
type Authenticator struct {
	passwords PasswordVerifier
	tokens    TokenVerifier
	resource  Resource
	log       *slog.Logger
	obs       AuthObserver
}

// Resource is the resource an Authenticator guards (RFC 8707, RFC 9728):
// a bearer token is accepted only if it was issued for it, and every
// Bearer challenge names its metadata.
type Resource struct {
	Audience    models.Audience // one resource
	MetadataURL string          // its protected-resource metadata; "" for none
}

// NewAuthenticator returns an Authenticator of resource that checks
// passwords and tokens with the verifiers given, logs unexpected failures
// to log and counts rejected tokens in obs (nil counts nothing).
func NewAuthenticator(passwords PasswordVerifier, tokens TokenVerifier, resource Resource, log *slog.Logger, obs AuthObserver) *Authenticator {
	if obs == nil {
		obs = noAuthObserver{}
	}
	return &Authenticator{passwords: passwords, tokens: tokens, resource: resource, log: log, obs: obs}
}

type noAuthObserver struct{}

func (noAuthObserver) AuthFailure(string) {}

const principalKey = "principal"

// GetPrincipal returns the principal an auth middleware stored.
func GetPrincipal(c *gin.Context) *Principal {
	p, _ := c.Get(principalKey)
	return p.(*Principal)
}

// Require authenticates a user by Basic or Bearer and requires scope.
func (a *Authenticator) Require(scope string) gin.HandlerFunc {
	return func(c *gin.Context) {
		p, ok := a.authenticate(c, authAny)
		if !ok {
			return
		}
		if !p.Basic && !models.HasScopes(p.Scopes, []string{scope}) {
			httperr.ChallengeScope(c.Writer.Header(), scope, a.resource.MetadataURL)
			problem.Abort(c, problem.Problem{Status: http.StatusForbidden, Title: "Insufficient scope",
				Detail: "This token lacks the scope " + scope + "."})
			return
		}
		c.Next()
	}
}

// RequireBearer authenticates a user by a Bearer token only, as the MCP
// endpoint wants (API.md §10): its 401 challenges Bearer alone, and which
// scope a request needs is the handler's to say, from what it asks for.
func (a *Authenticator) RequireBearer() gin.HandlerFunc {
	return func(c *gin.Context) {
		if _, ok := a.authenticate(c, authBearerOnly); ok {
			c.Next()
		}
	}
}

// RequireBasic authenticates a user by Basic only: the routes that change
// the account itself want the password, not a token, and check it now,
// never from the credential cache.
func (a *Authenticator) RequireBasic() gin.HandlerFunc {
	return func(c *gin.Context) {
		p, ok := a.authenticate(c, authFreshBasic)
		if !ok {
			return
		}
		if !p.Basic {
			problem.Abort(c, problem.Problem{Status: http.StatusForbidden, Title: "Password required",
				Detail: "This route accepts only HTTP Basic authentication with your password."})
			return
		}
		c.Next()
	}
}

// authMode says which credentials a route takes.
type authMode int

const (
	authAny        authMode = iota // Basic (cached check) or Bearer
	authFreshBasic                 // Basic, checked now, never from the credential cache; Bearer to be refused
	authBearerOnly                 // Bearer only; Basic is not a credential here
)

// authenticate stores the request's principal, or answers 401/403, or
// what the httperr table says of a failure (429, 503, 500), and returns
// false.
func (a *Authenticator) authenticate(c *gin.Context, mode authMode) (*Principal, bool) {
	var header string // "Authorization" is canonical already: no Header.Get
	if v := c.Request.Header["Authorization"]; len(v) > 0 {
		header = v[0]
	}
	scheme, cred, _ := strings.Cut(header, " ")
	bearerOnly := mode == authBearerOnly
	var p *Principal
	var err error
	switch {
	case strings.EqualFold(scheme, "Basic") && !bearerOnly:
		p, err = a.basic(c.Request.Context(), c.ClientIP(), cred, mode == authFreshBasic)
	case strings.EqualFold(scheme, "Bearer"):
		p, err = a.bearer(c.Request.Context(), strings.TrimSpace(cred))
		if errors.Is(err, errUnauthorized) {
			a.obs.AuthFailure("bearer")
			a.challenge(c, true, bearerOnly, "The access token is invalid, expired, revoked or not meant for this resource.")
			return nil, false
		}
	case header == "":
		detail := "Authentication is required: HTTP Basic or a Bearer token."
		if bearerOnly {
			detail = "Authentication is required: a Bearer token."
		}
		if c.Query("access_token") != "" {
			detail = "Access tokens are not accepted in the query string; send an Authorization: Bearer header."
		}
		a.challenge(c, false, bearerOnly, detail)
		return nil, false
	case bearerOnly:
		a.challenge(c, false, true, "This endpoint takes only a Bearer token in the Authorization header.")
		return nil, false
	default:
		a.challenge(c, false, false, "The Authorization header is malformed or uses an unsupported scheme.")
		return nil, false
	}
	switch {
	case errors.Is(err, errUnauthorized):
		a.challenge(c, false, false, "The username or password is wrong.")
		return nil, false
	case err != nil:
		problem.Error(c, a.log, err, "")
		return nil, false
	}
	if p.UserID == "" {
		problem.Abort(c, problem.Problem{Status: http.StatusForbidden, Title: "User token required",
			Detail: "This token was issued to a client without a user; this route acts for a user."})
		return nil, false
	}
	c.Set(principalKey, p)
	return p, true
}

var errUnauthorized = errors.New("unauthorized")

func (a *Authenticator) basic(ctx context.Context, addr, cred string, fresh bool) (*Principal, error) {
	username, password, ok := parseBasic(cred)
	if !ok {
		return nil, errUnauthorized
	}
	u, err := a.passwords.Verify(ctx, accounts.PasswordAttempt{Username: username, Password: password, Address: addr, Via: "basic", Fresh: fresh})
	if errors.Is(err, models.ErrNotFound) {
		return nil, errUnauthorized
	}
	if err != nil {
		return nil, err
	}
	return &Principal{UserID: u.UserID, Scopes: models.AllScopes(), Basic: true, PasswordHash: u.PasswordHash}, nil
}

func (a *Authenticator) bearer(ctx context.Context, token string) (*Principal, error) {
	if token == "" {
		return nil, errUnauthorized
	}
	t, err := a.tokens.VerifyAccessToken(ctx, token, a.resource.Audience)
	if errors.Is(err, models.ErrNotFound) {
		return nil, errUnauthorized
	}
	if err != nil {
		return nil, err
	}
	return &Principal{UserID: t.UserID, ClientID: t.ClientID, Scopes: t.Scopes}, nil
}

// parseBasic decodes the credentials of a Basic Authorization header
// (RFC 7617 §2). A username cannot contain ':' and neither part may be empty.
func parseBasic(cred string) (username, password string, ok bool) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
	if err != nil {
		return "", "", false
	}
	username, password, ok = strings.Cut(string(raw), ":")
	return username, password, ok && username != "" && password != ""
}

// RejectPassword answers 401 as for a wrong password, with detail: for a
// handler that finds, after the fact, that the password it was let in
// with is no longer the user's.
func (a *Authenticator) RejectPassword(c *gin.Context, detail string) {
	a.challenge(c, false, false, detail)
}

// challenge answers 401 with both challenges of API.md §1: Bearer (with
// error="invalid_token" when a bearer token was rejected) and Basic; or
// with Bearer alone where only a token is taken.
func (a *Authenticator) challenge(c *gin.Context, badToken, bearerOnly bool, detail string) {
	if bearerOnly {
		httperr.ChallengeBearer(c.Writer.Header(), badToken, a.resource.MetadataURL)
	} else {
		httperr.ChallengeAPI(c.Writer.Header(), badToken, a.resource.MetadataURL)
	}
	problem.Abort(c, problem.Problem{Status: http.StatusUnauthorized, Title: "Unauthorized", Detail: detail})
}
