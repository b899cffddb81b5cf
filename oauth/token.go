package oauth

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"beerlocker/models"
)

// Token handles POST /api/oauth2/token (RFC 6749 §3.2): it authenticates
// the client, then runs the grant.
func (s *Server) Token() gin.HandlerFunc {
	return func(c *gin.Context) {
		resp, err := s.token(c)
		if err != nil {
			s.writeError(c, err)
			return
		}
		noStore(c)
		c.JSON(http.StatusOK, resp)
	}
}

func (s *Server) token(c *gin.Context) (*tokenResponse, error) {
	form, err := readForm(c)
	if err != nil {
		return nil, err
	}
	cred, oerr := readClientCredentials(c.GetHeader("Authorization"), form)
	if oerr != nil {
		return nil, oerr
	}
	grant := form.Get("grant_type")
	if grant == "" {
		return nil, errInvalidRequest("grant_type is required.")
	}
	ctx := c.Request.Context()
	client, err := s.authenticateClient(ctx, cred)
	if err != nil {
		return nil, err
	}
	switch grant {
	case models.GrantAuthorizationCode, models.GrantRefreshToken, models.GrantClientCredentials, models.GrantPassword:
	default:
		return nil, errUnsupportedGrantType("This server does not support the grant type " + quoteParam(grant) + ".")
	}
	if !client.AllowsGrant(grant) {
		return nil, errUnauthorizedClient("This client did not register the grant type " + grant + ".")
	}
	switch grant {
	case models.GrantAuthorizationCode:
		return s.grantCode(ctx, client, form)
	case models.GrantRefreshToken:
		return s.grantRefresh(ctx, client, form)
	case models.GrantClientCredentials:
		return s.grantClientCredentials(ctx, client, form)
	default:
		return s.grantPassword(ctx, client, form)
	}
}

// quoteParam quotes a request value for an error description, cut short.
func quoteParam(v string) string {
	if len(v) > 60 {
		v = v[:60] + "…"
	}
	return `"` + v + `"`
}
