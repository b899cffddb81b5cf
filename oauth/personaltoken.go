package oauth

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"beerlocker/accounts"
	"beerlocker/models"
	"beerlocker/security"
)

// Personal access tokens (API.md §11) are tokens users make for their own
// scripts, in place of their password: a Bearer token on the REST API,
// limited to its scopes, no app in between. They are issued and checked
// here, beside the other tokens, so that VerifyAccessToken stays the one
// place a Bearer token is judged.

// prefixPersonalToken marks a personal access token's value.
const prefixPersonalToken = "blpat_"

// maxPersonalTokenLen bounds what is hashed and looked up: the prefix and
// 43 base64url characters.
const maxPersonalTokenLen = 64

// CreatePersonalToken makes a token named name for userID's scripts,
// with scopes, working for days days, and returns its value, shown only
// this once, and the token as stored (its hash, never the value).
// passwordHash is the hash the user's password matched when it was
// checked for this request: a password change ends every token (API.md
// §11), and one that lands between that check and the insert must end
// this one too. So the token stands only if, read again once the token
// exists, the user still has that hash. Either the change's deletion of
// the user's tokens comes after the insert, and deletes it, or the second
// read comes after the change, and sees it.
// Errors: a *models.ValidationError, models.ErrConflict at the per-user
// limit, accounts.ErrPasswordChanged, the store's.
func (s *Server) CreatePersonalToken(ctx context.Context, userID, passwordHash, name string, scopes []string, days int) (string, *models.PersonalToken, error) {
	if err := models.ValidatePersonalToken(name, scopes, days); err != nil {
		return "", nil, err
	}
	value, hash := newSecret(prefixPersonalToken)
	now := s.now()
	t := &models.PersonalToken{ID: models.NewID(now), UserID: userID, Name: name, Hash: hash, Scopes: models.CanonicalScopes(scopes),
		CreatedAt: now, ExpiresAt: now.Add(time.Duration(days) * 24 * time.Hour)}
	if err := s.Store.PersonalTokens.Create(ctx, t); err != nil {
		return "", nil, err
	}
	u, err := s.Store.Users.Get(ctx, userID)
	if err == nil && passwordHash != "" && u.PasswordHash == passwordHash {
		security.Log(ctx, s.Log, security.EventPersonalTokenCreated, slog.String("user_id", userID), slog.String("token_id", t.ID))
		return value, t, nil
	}
	if err == nil || errors.Is(err, models.ErrNotFound) {
		err = accounts.ErrPasswordChanged
	}
	// Never seen by anyone, so gone at once; what cannot be deleted now
	// the password change or the sweep deletes.
	if derr := s.Store.PersonalTokens.Delete(ctx, userID, t.ID); derr != nil && !errors.Is(derr, models.ErrNotFound) {
		err = errors.Join(err, derr)
	}
	return "", nil, err
}

// RevokePersonalToken deletes the user's token with that id, or returns
// models.ErrNotFound (also for another user's token).
func (s *Server) RevokePersonalToken(ctx context.Context, userID, id string) error {
	if err := s.Store.PersonalTokens.Delete(ctx, userID, id); err != nil {
		return err
	}
	security.Log(ctx, s.Log, security.EventPersonalTokenRevoked, slog.String("user_id", userID), slog.String("token_id", id))
	return nil
}

// verifyPersonalToken returns the live personal access token with that
// value as the access token it stands for: the user's, with its scopes,
// at the REST API only. Its use is recorded to the hour.
func (s *Server) verifyPersonalToken(ctx context.Context, value string, resource models.Audience) (*models.Token, error) {
	if resource != models.AudienceAPI || len(value) > maxPersonalTokenLen {
		return nil, models.ErrNotFound
	}
	pt, err := s.Store.PersonalTokens.GetByHash(ctx, HashSecret(value), s.Now())
	if err != nil {
		return nil, err
	}
	s.recordPersonalUse(ctx, pt)
	return &models.Token{Hash: pt.Hash, Kind: models.AccessToken, UserID: pt.UserID, Scopes: pt.Scopes,
		CreatedAt: pt.CreatedAt, ExpiresAt: pt.ExpiresAt, Audience: models.AudienceAPI}, nil
}

func isPersonalToken(value string) bool { return strings.HasPrefix(value, prefixPersonalToken) }
