package oauth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"slices"
	"time"

	"beerlocker/models"
)

// IDTokenTTL is an ID token's lifetime (API.md §9: at most 1 h).
const IDTokenTTL = time.Hour

// idTokenClaims are the claims of an ID token (OpenID Connect Core §2,
// API.md §9).
type idTokenClaims struct {
	Issuer            string `json:"iss"`
	Subject           string `json:"sub"`
	Audience          string `json:"aud"`
	AuthorizedParty   string `json:"azp"`
	Expiry            int64  `json:"exp"`
	IssuedAt          int64  `json:"iat"`
	AuthTime          int64  `json:"auth_time,omitempty"`
	Nonce             string `json:"nonce,omitempty"`
	AccessTokenHash   string `json:"at_hash"`
	PreferredUsername string `json:"preferred_username,omitempty"`
}

// addIDToken adds an ID token to resp when the grant's scope includes
// openid; authTime is when the user last entered a password, nonce the
// authorization request's ("" on refresh). Without openid the flow stays
// plain OAuth 2.0.
func (s *Server) addIDToken(ctx context.Context, resp *tokenResponse, client *models.Client, userID string, scopes []string, authTime time.Time, nonce string) error {
	if s.Keys == nil || userID == "" || !slices.Contains(scopes, models.ScopeOpenID) {
		return nil
	}
	now := s.Now()
	claims := idTokenClaims{
		Issuer: s.Issuer, Subject: userID, Audience: client.ID, AuthorizedParty: client.ID,
		Expiry: now.Add(IDTokenTTL).Unix(), IssuedAt: now.Unix(), Nonce: nonce,
		AccessTokenHash: accessTokenHash(resp.AccessToken),
	}
	if !authTime.IsZero() {
		claims.AuthTime = authTime.Unix()
	}
	if slices.Contains(scopes, models.ScopeProfile) {
		user, err := s.Store.Users.Get(ctx, userID)
		if errors.Is(err, models.ErrNotFound) {
			return errInvalidGrant("The grant's user no longer exists.")
		}
		if err != nil {
			return err
		}
		claims.PreferredUsername = user.Username
	}
	token, err := s.Keys.Sign(ctx, client.IDTokenAlg(), claims)
	if err != nil {
		return err
	}
	resp.IDToken = token
	return nil
}

// accessTokenHash is at_hash (OpenID Connect Core §3.1.3.6): the left half
// of the SHA-256 of the access token, base64url, for the RS256 and ES256
// the keys sign with.
func accessTokenHash(accessToken string) string {
	sum := sha256.Sum256([]byte(accessToken))
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
}
