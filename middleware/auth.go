package middleware

import (
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"beerlocker/limits"
	"beerlocker/metrics"
	"beerlocker/models"
)

// Realm names this server in WWW-Authenticate challenges.
const Realm = "beerlocker"

// Principal is who a request acts for.
type Principal struct {
	UserID   string   // "" for a client_credentials token
	ClientID string   // "" with Basic auth
	Scopes   []string // every scope with Basic auth
	Basic    bool
}

// TokenVerifier resolves a bearer access token.
type TokenVerifier interface {
	// VerifyAccessToken returns the live access token with that value, or
	// models.ErrNotFound if it is unknown, expired, revoked or not an
	// access token.
	VerifyAccessToken(ctx context.Context, token string) (*models.Token, error)
}

// Authenticator authenticates API requests by HTTP Basic (the user's own
// password) or a Bearer token, and checks the route's scope.
type Authenticator struct {
	// Metrics counts cache lookups and bearer failures; nil counts nothing.
	Metrics   *metrics.Metrics
	Users     models.UserRepository
	Passwords *models.Passwords
	Cache     *CredentialCache
	Tokens    TokenVerifier // nil refuses every bearer token
	Limits    *limits.Guard // brute-force limits on passwords; nil for none
	LogKey    []byte        // key of the username pseudonyms in security logs
	Log       *slog.Logger
}

// PasswordAttempt is a user's username and password presented on one
// surface, with where it came from.
type PasswordAttempt struct {
	Username, Password string
	Address            string // the client address (gin's ClientIP)
	Via                string // "basic", "login" or "password_grant", for the security log
}

const principalKey = "principal"

// GetPrincipal returns the principal an auth middleware stored.
func GetPrincipal(c *gin.Context) *Principal {
	p, _ := c.Get(principalKey)
	return p.(*Principal)
}

// Require authenticates a user by Basic or Bearer and requires scope.
func (a *Authenticator) Require(scope string) gin.HandlerFunc {
	return func(c *gin.Context) {
		p, ok := a.authenticate(c)
		if !ok {
			return
		}
		if !p.Basic && !models.HasScopes(p.Scopes, []string{scope}) {
			c.Header("WWW-Authenticate", `Bearer realm="`+Realm+`", error="insufficient_scope", scope="`+scope+`"`)
			AbortWithProblem(c, Problem{Status: http.StatusForbidden, Title: "Insufficient scope",
				Detail: "This token lacks the scope " + scope + "."})
			return
		}
		c.Next()
	}
}

// RequireBasic authenticates a user by Basic only: the routes that change
// the account itself want the password, not a token.
func (a *Authenticator) RequireBasic() gin.HandlerFunc {
	return func(c *gin.Context) {
		p, ok := a.authenticate(c)
		if !ok {
			return
		}
		if !p.Basic {
			AbortWithProblem(c, Problem{Status: http.StatusForbidden, Title: "Password required",
				Detail: "This route accepts only HTTP Basic authentication with your password."})
			return
		}
		c.Next()
	}
}

// authenticate stores the request's principal, or answers 401/403/500 and
// returns false.
func (a *Authenticator) authenticate(c *gin.Context) (*Principal, bool) {
	header := c.GetHeader("Authorization")
	scheme, cred, _ := strings.Cut(header, " ")
	var p *Principal
	var err error
	switch {
	case strings.EqualFold(scheme, "Basic"):
		p, err = a.basic(c.Request.Context(), c.ClientIP(), cred)
	case strings.EqualFold(scheme, "Bearer"):
		p, err = a.bearer(c.Request.Context(), strings.TrimSpace(cred))
		if errors.Is(err, errUnauthorized) {
			a.Metrics.AuthFailure("bearer")
			challenge(c, true, "The access token is invalid, expired or revoked.")
			return nil, false
		}
	case header == "":
		detail := "Authentication is required: HTTP Basic or a Bearer token."
		if c.Query("access_token") != "" {
			detail = "Access tokens are not accepted in the query string; send an Authorization: Bearer header."
		}
		challenge(c, false, detail)
		return nil, false
	default:
		challenge(c, false, "The Authorization header is malformed or uses an unsupported scheme.")
		return nil, false
	}
	var limited *limits.LimitedError
	switch {
	case errors.Is(err, errUnauthorized):
		challenge(c, false, "The username or password is wrong.")
		return nil, false
	case errors.As(err, &limited):
		AbortTooManyAttempts(c, limited)
		return nil, false
	case errors.Is(err, models.ErrUnavailable):
		a.Log.Error("authentication failed: database unavailable", "request_id", GetRequestID(c), "err", err)
		AbortUnavailable(c)
		return nil, false
	case err != nil:
		a.Log.Error("authentication failed", "request_id", GetRequestID(c), "err", err)
		AbortWithProblem(c, Problem{Status: http.StatusInternalServerError,
			Detail: "An unexpected error occurred. Request id: " + GetRequestID(c)})
		return nil, false
	}
	if p.UserID == "" {
		AbortWithProblem(c, Problem{Status: http.StatusForbidden, Title: "User token required",
			Detail: "This token was issued to a client without a user; this route acts for a user."})
		return nil, false
	}
	c.Set(principalKey, p)
	return p, true
}

var errUnauthorized = errors.New("unauthorized")

func (a *Authenticator) basic(ctx context.Context, addr, cred string) (*Principal, error) {
	username, password, ok := parseBasic(cred)
	if !ok {
		return nil, errUnauthorized
	}
	userID, err := a.VerifyPassword(ctx, PasswordAttempt{Username: username, Password: password, Address: addr, Via: "basic"})
	if errors.Is(err, models.ErrNotFound) {
		return nil, errUnauthorized
	}
	if err != nil {
		return nil, err
	}
	return &Principal{UserID: userID, Scopes: models.Scopes, Basic: true}, nil
}

// VerifyPassword returns the id of the user with that username and
// password, or models.ErrNotFound, or a *limits.LimitedError without checking
// anything when the address or the account has failed too often (see
// Guard), or the Guard's error (models.ErrUnavailable when its store is
// down) instead of an answer it could not limit. A pair verified in the
// last minute is answered from the credential cache; otherwise it costs one
// argon2id hash. Basic auth, the login page and the password grant all use
// it, so every user password is limited and logged the same way.
func (a *Authenticator) VerifyPassword(ctx context.Context, at PasswordAttempt) (string, error) {
	account := limits.UserAccount(at.Username)
	// The limit comes before the cache too: a cache hit would otherwise
	// confirm a guess that matches a password used in the last minute.
	le, err := a.Limits.Check(ctx, at.Address, account)
	if err != nil {
		return "", err
	}
	if le != nil {
		return "", le
	}
	key := a.Cache.Key(at.Username, at.Password)
	userID, ok := a.Cache.Get(key)
	a.Metrics.CacheLookup("credentials", ok)
	if ok {
		return userID, nil
	}
	gen := a.Cache.Generation()
	u, ok, err := checkPassword(ctx, a.Users, a.Passwords, at.Username, at.Password)
	if err != nil {
		return "", err
	}
	if !ok {
		who := slog.String("username_hash", Pseudonym(a.LogKey, at.Username))
		if u != nil {
			who = slog.String("user_id", u.ID)
		}
		lo, err := a.Limits.Fail(ctx, at.Address, account)
		LogFailure(ctx, a.Log, EventLoginFailed, lo,
			slog.String("via", at.Via), slog.String("address", at.Address), who)
		if err != nil {
			return "", err // a guess not paid for is not answered: see Guard
		}
		return "", models.ErrNotFound
	}
	a.Cache.Put(key, u.ID, gen)
	return u.ID, nil
}

// CheckPassword verifies a username and password and returns the user, or
// models.ErrNotFound for an unknown user or a wrong password alike. It
// neither limits nor logs; requests go through VerifyPassword.
func CheckPassword(ctx context.Context, users models.UserRepository, pw *models.Passwords, username, password string) (*models.User, error) {
	u, ok, err := checkPassword(ctx, users, pw, username, password)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, models.ErrNotFound
	}
	return u, nil
}

// checkPassword reports whether password is the user's; u is the user when
// the username exists, right password or not. An unknown user costs the
// same one argon2id hash as a wrong password (CheckDummy), so timing does
// not reveal which usernames exist.
func checkPassword(ctx context.Context, users models.UserRepository, pw *models.Passwords, username, password string) (u *models.User, ok bool, err error) {
	u, err = users.GetByUsername(ctx, username)
	if errors.Is(err, models.ErrNotFound) {
		return nil, pw.CheckDummy(password), nil
	}
	if err != nil {
		return nil, false, err
	}
	return u, pw.Check(u.PasswordHash, password), nil
}

func (a *Authenticator) bearer(ctx context.Context, token string) (*Principal, error) {
	if a.Tokens == nil || token == "" {
		return nil, errUnauthorized
	}
	t, err := a.Tokens.VerifyAccessToken(ctx, token)
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

// challenge answers 401 with both challenges of API.md §1: Bearer (with
// error="invalid_token" when a bearer token was rejected) and Basic.
func challenge(c *gin.Context, badToken bool, detail string) {
	bearer := `Bearer realm="` + Realm + `"`
	if badToken {
		bearer += `, error="invalid_token"`
	}
	h := c.Writer.Header()
	h.Add("WWW-Authenticate", bearer)
	h.Add("WWW-Authenticate", `Basic realm="`+Realm+`"`)
	AbortWithProblem(c, Problem{Status: http.StatusUnauthorized, Title: "Unauthorized", Detail: detail})
}
