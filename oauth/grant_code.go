package oauth

import (
	"context"
	"errors"
	"log/slog"
	"net/url"

	"beerlocker/models"
	"beerlocker/security"
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
	code, err := s.Store.Codes.Get(ctx, hash, s.Now())
	if err != nil {
		return nil, s.codeRefused(ctx, client, "", hash, err)
	}
	if code.ClientID != client.ID {
		return nil, errInvalidGrant("The authorization code was issued to another client.")
	}
	if !redirectMatches(code, form.Get("redirect_uri")) {
		return nil, errInvalidGrant("redirect_uri does not match the one of the authorization request.")
	}
	// API.md §6: the registration is checked again, so a code sent to a
	// redirect URI its owner has removed since buys nothing.
	if !client.AcceptsRedirectURI(code.RedirectURI) {
		return nil, errInvalidGrant("The redirect URI the code was sent to is no longer registered for this client.")
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
	audience, oerr := s.requestedAudience(form[resourceParam], code.Audience)
	if oerr != nil {
		return nil, oerr
	}
	// The tokens are stored before the code is used up, in the code's
	// family: if a concurrent redemption wins, or wins and then sees this
	// one as a replay, revoking the family always finds these tokens.
	resp, err := s.issue(ctx, client, code.UserID, code.Scopes, code.Scopes, audience,
		family{id: hash, authTime: code.AuthTime, audience: code.Audience.Effective(), ends: code.GrantEndsAt}, client.AllowsGrant(models.GrantRefreshToken))
	if err != nil {
		return nil, err
	}
	if err := s.addIDToken(ctx, resp, client, code.UserID, code.Scopes, code.AuthTime, code.Nonce); err != nil {
		s.discard(ctx, resp)
		return nil, err
	}
	if _, err := s.Store.Codes.Consume(ctx, hash, s.Now()); err != nil {
		s.discard(ctx, resp)
		return nil, s.codeRefused(ctx, client, code.UserID, hash, err)
	}
	return resp, nil
}

// codeRefused answers a code that cannot be redeemed by client; userID is
// the code's user when known. RFC 6749 §4.1.2: a code used twice is
// refused, and every token issued from it is revoked; they carry the code's
// hash as their family.
func (s *Server) codeRefused(ctx context.Context, client *models.Client, userID, hash string, err error) error {
	switch {
	case errors.Is(err, models.ErrConflict):
		if rerr := s.Store.Tokens.RevokeFamily(ctx, hash); rerr != nil {
			return rerr
		}
		ids := []slog.Attr{slog.String("client_id", client.ID)}
		if userID != "" {
			ids = append(ids, slog.String("user_id", userID))
		}
		security.Log(ctx, s.Log, security.EventCodeReplayed, ids...)
		security.Log(ctx, s.Log, security.EventFamilyRevoked, append(ids, slog.String("reason", "code_replayed"))...)
		return errInvalidGrant("The authorization code was already used; the tokens issued from it are revoked.")
	case errors.Is(err, models.ErrNotFound):
		return errInvalidGrant("The authorization code is invalid or expired.")
	}
	return err
}

// redirectMatches applies RFC 6749 §4.1.3: the token request repeats the
// redirect URI the code was sent to, exactly (a loopback port included).
// When the authorization request named none, it may be left out too.
func redirectMatches(code *models.Code, presented string) bool {
	return presented == code.RedirectURI || (code.RedirectURIOmitted && presented == "")
}
