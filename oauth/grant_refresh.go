package oauth

import (
	"context"
	"errors"
	"log/slog"
	"net/url"

	"beerlocker/httperr"
	"beerlocker/models"
	"beerlocker/security"
)

// grantRefresh exchanges a refresh token for new tokens (RFC 6749 §6),
// rotating it: each refresh token works once.
func (s *Server) grantRefresh(ctx context.Context, client *models.Client, form url.Values) (*tokenResponse, error) {
	value := form.Get("refresh_token")
	if value == "" {
		return nil, errInvalidRequest("refresh_token is required.")
	}
	hash := HashSecret(value)
	old, err := s.Store.Tokens.Get(ctx, hash, s.Now())
	if errors.Is(err, models.ErrNotFound) {
		return nil, errInvalidGrant("The refresh token is invalid, expired or revoked.")
	}
	if err != nil {
		return nil, err
	}
	if old.Kind != models.RefreshToken || old.ClientID != client.ID {
		return nil, errInvalidGrant("The refresh token is invalid, expired or revoked.")
	}
	// API.md §11: within the grace after its rotation, the same client
	// (checked above) may present the token again and get fresh tokens;
	// the window counts from the rotation, so a reuse does not extend it.
	graced := old.Rotated && s.withinReuseGrace(old)
	if old.Rotated && !graced {
		return nil, s.refreshReused(ctx, old)
	}
	scopes := old.Scopes
	if form.Get("scope") != "" {
		var oerr *Error
		if scopes, oerr = resolveScope(form.Get("scope"), old.Scopes); oerr != nil {
			return nil, oerr
		}
	}
	// API.md §10: a refresh without resource keeps the grant's audience;
	// one with resource may narrow the access token's, never widen it.
	audience, oerr := s.requestedAudience(form[resourceParam], old.Audience)
	if oerr != nil {
		return nil, oerr
	}
	// RFC 6749 §6: the new refresh token keeps the old one's scope and
	// audience; only the access token is narrowed. The new tokens are stored before the
	// old one is rotated: a concurrent use that loses the rotation then
	// revokes the family after they exist, so they cannot escape it.
	resp, err := s.issue(ctx, client, old.UserID, scopes, old.Scopes, audience,
		family{id: old.FamilyID, since: old.GrantStart(), authTime: old.AuthTime, audience: old.Audience.Effective(), ends: old.GrantEndsAt}, true)
	if err != nil {
		return nil, err
	}
	// OpenID Connect Core §12.2: a refreshed ID token keeps sub and
	// auth_time, and carries no nonce.
	if err := s.addIDToken(ctx, resp, client, old.UserID, scopes, old.AuthTime, ""); err != nil {
		s.discard(ctx, resp)
		return nil, err
	}
	s.recordUse(ctx, old.UserID, client.ID) // API.md §11: a refresh counts
	if graced {
		s.refreshGraced(ctx, old)
		return resp, nil
	}
	switch err := s.Store.Tokens.Rotate(ctx, hash, s.Now()); {
	case errors.Is(err, models.ErrConflict):
		// Lost a race with another use: a reuse, graced or not, decided by
		// the rotation the winner recorded.
		if rotated, err := s.Store.Tokens.Get(ctx, hash, s.Now()); err == nil && s.withinReuseGrace(rotated) {
			s.refreshGraced(ctx, old)
			return resp, nil
		}
		return nil, s.refreshReused(ctx, old)
	case err != nil:
		s.discard(ctx, resp)
		if errors.Is(err, models.ErrNotFound) {
			return nil, errInvalidGrant("The refresh token is invalid, expired or revoked.")
		}
		return nil, err
	}
	return resp, nil
}

// discard revokes the tokens of resp, issued for a rotation that failed.
func (s *Server) discard(ctx context.Context, resp *tokenResponse) {
	for _, v := range []string{resp.AccessToken, resp.RefreshToken} {
		if err := s.Store.Tokens.Revoke(ctx, HashSecret(v)); err != nil {
			s.Log.Error("revoke the tokens of a failed rotation", "request_id", httperr.RequestID(ctx), "err", err)
		}
	}
}

// withinReuseGrace reports whether a rotated refresh token is still within
// RefreshReuseGrace of its rotation. A token rotated before its rotation
// time was kept never is.
func (s *Server) withinReuseGrace(t *models.Token) bool {
	return s.RefreshReuseGrace > 0 && t.Rotated && !t.RotatedAt.IsZero() &&
		s.Now().Before(t.RotatedAt.Add(s.RefreshReuseGrace))
}

// refreshGraced records a reuse that the grace answered: it is still a
// reuse, which the security log shows, but the family lives on.
func (s *Server) refreshGraced(ctx context.Context, old *models.Token) {
	security.Log(ctx, s.Log, security.EventRefreshGraced,
		slog.String("client_id", old.ClientID), slog.String("user_id", old.UserID))
}

// refreshReused answers the reuse of a rotated refresh token. RFC 6819
// §5.2.2.3 and RFC 9700 §4.14.2: either the legitimate client or an
// attacker holds a stolen token, and the server cannot tell which, so the
// whole family is revoked.
func (s *Server) refreshReused(ctx context.Context, old *models.Token) error {
	if err := s.Store.Tokens.RevokeFamily(ctx, old.FamilyID); err != nil {
		return err
	}
	ids := []slog.Attr{slog.String("client_id", old.ClientID), slog.String("user_id", old.UserID)}
	security.Log(ctx, s.Log, security.EventRefreshReused, ids...)
	security.Log(ctx, s.Log, security.EventFamilyRevoked, append(ids, slog.String("reason", "refresh_token_reused"))...)
	return errInvalidGrant("The refresh token was already used; every token of this grant is revoked.")
}
