package oauth

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"beerlocker/models"
)

// Revoke handles POST /api/oauth2/revoke (RFC 7009). The client must
// authenticate; a token that is unknown or was issued to another client
// is answered 200 all the same and nothing is revoked (§2.2), so the
// endpoint cannot be used to probe for tokens.
func (s *Server) Revoke() gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := s.revoke(c); err != nil {
			s.writeError(c, err)
			return
		}
		noStore(c)
		c.Status(http.StatusOK)
	}
}

func (s *Server) revoke(c *gin.Context) error {
	form, _, client, err := s.authenticatedForm(c)
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	value := form.Get("token")
	if value == "" {
		return errInvalidRequest("token is required.")
	}
	// token_type_hint only speeds up a lookup (§2.1); one lookup by hash
	// finds either kind, so the hint is not needed.
	t, err := s.lookupToken(ctx, value)
	if errors.Is(err, models.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if t.ClientID != client.ID {
		return nil
	}
	if t.Kind == models.RefreshToken {
		// §2.1: revoking a refresh token also revokes the access tokens of
		// the same grant: the whole family goes.
		return s.Store.Tokens.RevokeFamily(ctx, t.FamilyID)
	}
	return s.Store.Tokens.Revoke(ctx, t.Hash)
}
