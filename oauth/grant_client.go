package oauth

import (
	"context"
	"net/url"

	"beerlocker/models"
)

// grantClientCredentials issues a token to the client itself, with no
// user (RFC 6749 §4.4). Public clients cannot register this grant.
func (s *Server) grantClientCredentials(ctx context.Context, client *models.Client, form url.Values) (*tokenResponse, error) {
	if client.Public {
		return nil, errUnauthorizedClient("Public clients cannot use client_credentials.")
	}
	scopes, oerr := resolveScope(form.Get("scope"), models.AllScopes())
	if oerr != nil {
		return nil, oerr
	}
	audience, oerr := s.grantAudience(form[resourceParam])
	if oerr != nil {
		return nil, oerr
	}
	// RFC 6749 §4.4.3: no refresh token; the client can always ask again.
	return s.issue(ctx, client, "", scopes, nil, audience, family{id: models.NewID(s.Now()), audience: audience}, false)
}
