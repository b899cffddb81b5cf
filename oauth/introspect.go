package oauth

import (
	"errors"

	"github.com/gin-gonic/gin"

	"beerlocker/models"
)

// introspection is the RFC 7662 §2.2 response of an active token.
type introspection struct {
	Active    bool   `json:"active"`
	Scope     string `json:"scope,omitempty"`
	ClientID  string `json:"client_id,omitempty"`
	Username  string `json:"username,omitempty"`
	Subject   string `json:"sub,omitempty"`
	TokenType string `json:"token_type,omitempty"`
	Exp       int64  `json:"exp,omitempty"`
	Iat       int64  `json:"iat,omitempty"`
	Issuer    string `json:"iss,omitempty"`
	// Audience is where the token is valid (RFC 8707; RFC 7662 §2.2 aud),
	// always a list of resource identifiers.
	Audience []string `json:"aud,omitempty"`
}

// Introspect handles POST /api/oauth2/introspect (RFC 7662). Only
// confidential clients may call it, and a client learns only about tokens
// issued to itself: anything else is {"active": false}, like an unknown,
// expired, revoked or rotated token (§2.2 leaves that choice to the server).
func (s *Server) Introspect() gin.HandlerFunc { return jsonEndpoint(s, s.introspect) }

func (s *Server) introspect(c *gin.Context) (*introspection, error) {
	form, cred, client, err := s.authenticatedForm(c)
	if err != nil {
		return nil, err
	}
	ctx := c.Request.Context()
	if client.Public {
		return nil, errInvalidClient("Only confidential clients may introspect tokens.", cred.basic)
	}
	value := form.Get("token")
	if value == "" {
		return nil, errInvalidRequest("token is required.")
	}
	t, err := s.lookupToken(ctx, value)
	if errors.Is(err, models.ErrNotFound) {
		return &introspection{}, nil
	}
	if err != nil {
		return nil, err
	}
	if t.ClientID != client.ID || t.Rotated {
		return &introspection{}, nil
	}
	out := &introspection{
		Active: true, Scope: models.ScopeString(t.Scopes), ClientID: t.ClientID, Subject: t.UserID,
		Exp: t.ExpiresAt.Unix(), Iat: t.CreatedAt.Unix(), Issuer: s.Issuer, Audience: s.audienceURLs(t.Audience),
	}
	// RFC 7662 §2.2: token_type is the token's type as in RFC 6749 §5.1,
	// Bearer for an access token. A refresh token has no such type (RFC
	// 6749 §7.1 types access tokens only; "refresh_token" is a
	// token_type_hint of RFC 7009 §2.1), so the member is left out.
	if t.Kind == models.AccessToken {
		out.TokenType = "Bearer"
	}
	if t.UserID != "" {
		u, err := s.Store.Users.Get(ctx, t.UserID)
		if errors.Is(err, models.ErrNotFound) {
			return &introspection{}, nil
		}
		if err != nil {
			return nil, err
		}
		out.Username = u.Username
	}
	return out, nil
}
