package oauth

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"beerlocker/httperr"
	"beerlocker/models"
)

// userInfo is the UserInfo response (OpenID Connect Core §5.3.2, API.md §9).
type userInfo struct {
	Subject           string `json:"sub"`
	PreferredUsername string `json:"preferred_username,omitempty"`
	UpdatedAt         int64  `json:"updated_at,omitempty"`
}

// UserInfo handles GET and POST /api/oauth2/userinfo: the claims about the
// user a Bearer token with openid was issued for. Only the Authorization
// header carries the token (RFC 6750 §2.1); a token in a query string
// ends up in logs.
func (s *Server) UserInfo() gin.HandlerFunc {
	return func(c *gin.Context) {
		noStore(c)
		// RFC 7235 §2.1: the scheme is case-insensitive, as on the API.
		scheme, token, _ := strings.Cut(c.GetHeader("Authorization"), " ")
		token = strings.TrimSpace(token)
		if !strings.EqualFold(scheme, "Bearer") || token == "" {
			s.userInfoRefused(c, "A Bearer access token is required.")
			return
		}
		// UserInfo is below /api, so it is part of the REST API's resource
		// (API.md §10): a token meant only for /mcp is refused here too.
		t, err := s.VerifyAccessToken(c.Request.Context(), token, models.AudienceAPI)
		if errors.Is(err, models.ErrNotFound) || (err == nil && t.UserID == "") {
			s.userInfoRefused(c, "The access token is invalid, expired or revoked, or has no user.")
			return
		}
		if err != nil {
			s.writeError(c, err)
			return
		}
		if !slices.Contains(t.Scopes, models.ScopeOpenID) {
			httperr.ChallengeScope(c.Writer.Header(), models.ScopeOpenID, s.ResourceMetadataURL(models.AudienceAPI))
			c.JSON(http.StatusForbidden, errorBody{Error: "insufficient_scope", Description: "The access token was not issued with the openid scope."})
			return
		}
		user, err := s.Store.Users.Get(c.Request.Context(), t.UserID)
		if errors.Is(err, models.ErrNotFound) {
			s.userInfoRefused(c, "The access token's user no longer exists.")
			return
		}
		if err != nil {
			s.writeError(c, err)
			return
		}
		info := userInfo{Subject: user.ID}
		if slices.Contains(t.Scopes, models.ScopeProfile) {
			info.PreferredUsername = user.Username
			info.UpdatedAt = user.UpdatedAt.Unix()
		}
		c.JSON(http.StatusOK, info)
	}
}

// userInfoRefused answers a missing or bad token: 401 with the RFC 6750
// §3.1 invalid_token challenge.
func (s *Server) userInfoRefused(c *gin.Context, desc string) {
	httperr.ChallengeBearer(c.Writer.Header(), true, s.ResourceMetadataURL(models.AudienceAPI))
	c.JSON(http.StatusUnauthorized, errorBody{Error: "invalid_token", Description: desc})
}
