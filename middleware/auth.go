package middleware

import (
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

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
	Users     models.UserRepository
	Passwords *models.Passwords
	Cache     *CredentialCache
	Tokens    TokenVerifier // nil refuses every bearer token
	Log       *slog.Logger
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
		p, err = a.basic(c.Request.Context(), cred)
	case strings.EqualFold(scheme, "Bearer"):
		p, err = a.bearer(c.Request.Context(), strings.TrimSpace(cred))
		if errors.Is(err, errUnauthorized) {
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
	switch {
	case errors.Is(err, errUnauthorized):
		challenge(c, false, "The username or password is wrong.")
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

func (a *Authenticator) basic(ctx context.Context, cred string) (*Principal, error) {
	username, password, ok := parseBasic(cred)
	if !ok {
		return nil, errUnauthorized
	}
	userID, err := a.VerifyPassword(ctx, username, password)
	if errors.Is(err, models.ErrNotFound) {
		return nil, errUnauthorized
	}
	if err != nil {
		return nil, err
	}
	return &Principal{UserID: userID, Scopes: models.Scopes, Basic: true}, nil
}

// VerifyPassword returns the id of the user with that username and
// password, or models.ErrNotFound. A pair verified in the last minute is
// answered from the credential cache; otherwise it costs one argon2id hash.
// The password grant uses it too.
func (a *Authenticator) VerifyPassword(ctx context.Context, username, password string) (string, error) {
	key := a.Cache.Key(username, password)
	if userID, ok := a.Cache.Get(key); ok {
		return userID, nil
	}
	gen := a.Cache.Generation()
	u, err := CheckPassword(ctx, a.Users, a.Passwords, username, password)
	if err != nil {
		return "", err
	}
	a.Cache.Put(key, u.ID, gen)
	return u.ID, nil
}

// CheckPassword verifies a username and password and returns the user, or
// models.ErrNotFound for an unknown user or a wrong password alike. An
// unknown user costs the same argon2id work as a wrong password, so timing
// does not reveal which usernames exist.
func CheckPassword(ctx context.Context, users models.UserRepository, pw *models.Passwords, username, password string) (*models.User, error) {
	u, err := users.GetByUsername(ctx, username)
	if errors.Is(err, models.ErrNotFound) {
		pw.CheckDummy(password)
		return nil, models.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if !pw.Check(u.PasswordHash, password) {
		return nil, models.ErrNotFound
	}
	return u, nil
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
