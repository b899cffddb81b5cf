package oauth

import (
	"context"
	"slices"
	"strings"
	"time"

	"beerlocker/models"
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
// Errors: a *models.ValidationError, models.ErrConflict at the per-user
// limit, the store's.
func (s *Server) CreatePersonalToken(ctx context.Context, userID, name string, scopes []string, days int) (string, *models.PersonalToken, error) {
	if err := models.ValidatePersonalToken(name, scopes, days); err != nil {
		return "", nil, err
	}
	value, hash := newSecret(prefixPersonalToken)
	now := s.now()
	var canonical []string // the scope order of the API, once each
	for _, sc := range models.PersonalTokenScopes() {
		if slices.Contains(scopes, sc) {
			canonical = append(canonical, sc)
		}
	}
	t := &models.PersonalToken{ID: models.NewID(now), UserID: userID, Name: name, Hash: hash, Scopes: canonical,
		CreatedAt: now, ExpiresAt: now.Add(time.Duration(days) * 24 * time.Hour)}
	if err := s.Store.PersonalTokens.Create(ctx, t); err != nil {
		return "", nil, err
	}
	return value, t, nil
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
