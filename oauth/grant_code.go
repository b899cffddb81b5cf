package oauth

import (
	"context"
	"errors"
	"net/url"

	"beerlocker/models"
)

// grantCode redeems an authorization code (RFC 6749 §4.1.3).
func (s *Server) grantCode(ctx context.Context, client *models.Client, form url.Values) (*tokenResponse, error) {
	value := form.Get("code")
	if value == "" {
		return nil, errInvalidRequest("code is required.")
	}
	verifier := form.Get("code_verifier")
	if verifier != "" && !validVerifier(verifier) {
		return nil, errInvalidRequest("code_verifier must be 43–128 characters of A–Z a–z 0–9 - . _ ~ (RFC 7636 §4.1).")
	}
	hash := HashSecret(value)
	code, err := s.Store.Codes.Consume(ctx, hash, s.Now())
	switch {
	case errors.Is(err, models.ErrConflict):
		// RFC 6749 §4.1.2: a code used twice is refused, and the tokens
		// already issued from it are revoked; they carry its hash as family.
		if rerr := s.Store.Tokens.RevokeFamily(ctx, hash); rerr != nil {
			return nil, rerr
		}
		return nil, errInvalidGrant("The authorization code was already used; the tokens issued from it are revoked.")
	case errors.Is(err, models.ErrNotFound):
		return nil, errInvalidGrant("The authorization code is invalid or expired.")
	case err != nil:
		return nil, err
	}
	if code.ClientID != client.ID {
		return nil, errInvalidGrant("The authorization code was issued to another client.")
	}
	if !redirectMatches(code.RedirectURI, form.Get("redirect_uri"), client) {
		return nil, errInvalidGrant("redirect_uri does not match the one of the authorization request.")
	}
	switch {
	case code.CodeChallenge == "" && verifier != "":
		// RFC 9700 §2.1.1: refuse a verifier for a code issued without a
		// challenge, so PKCE cannot be downgraded.
		return nil, errInvalidGrant("code_verifier was sent, but the authorization request had no code_challenge.")
	case code.CodeChallenge != "" && verifier == "":
		return nil, errInvalidGrant("code_verifier is required for this code (PKCE).")
	case code.CodeChallenge != "" && !verifierMatches(verifier, code.CodeChallenge):
		return nil, errInvalidGrant("code_verifier does not match the code_challenge.")
	}
	return s.issue(ctx, client, code.UserID, code.Scopes, code.Scopes, hash, client.AllowsGrant(models.GrantRefreshToken))
}

// redirectMatches applies RFC 6749 §4.1.3: when the authorization request
// named a redirect_uri, the token request must repeat it exactly. When it
// named none (the client has one), the parameter may be left out or be
// that one URI.
func redirectMatches(used, presented string, client *models.Client) bool {
	if used != "" {
		return presented == used
	}
	return presented == "" || (len(client.RedirectURIs) == 1 && presented == client.RedirectURIs[0])
}
