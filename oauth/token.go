package oauth

import (
	"context"
	"net/url"

	"github.com/gin-gonic/gin"

	"beerlocker/limits"
	"beerlocker/models"
)

// Token handles POST /api/oauth2/token (RFC 6749 §3.2): it authenticates
// the client, then runs the grant.
func (s *Server) Token() gin.HandlerFunc { return jsonEndpoint(s, s.token) }

func (s *Server) token(c *gin.Context) (*tokenResponse, error) {
	form, cred, err := readClientForm(c)
	if err != nil {
		return nil, err
	}
	grant := form.Get("grant_type")
	if grant == "" {
		return nil, errInvalidRequest("grant_type is required.")
	}
	ctx := c.Request.Context()
	if username := form.Get("username"); grant == models.GrantPassword && username != "" {
		// Two secrets are checked here, the client's and then the user's;
		// one Retry-After must cover both.
		le, err := s.Limits.Check(ctx, c.ClientIP(), limits.UserAccount(username))
		if err != nil {
			return nil, err
		}
		if le != nil {
			lc, err := s.Limits.Check(ctx, c.ClientIP(), limits.ClientAccount(cred.id))
			if err != nil {
				return nil, err
			}
			if lc != nil && lc.Wait > le.Wait {
				le = lc
			}
			return nil, le
		}
	}
	client, err := s.authenticateClient(ctx, c.ClientIP(), cred)
	if err != nil {
		return nil, err
	}
	switch grant {
	case models.GrantAuthorizationCode, models.GrantRefreshToken, models.GrantClientCredentials, models.GrantPassword,
		models.GrantDeviceCode:
	default:
		return nil, errUnsupportedGrantType("This server does not support the grant type " + quoteParam(grant) + ".")
	}
	if !client.AllowsGrant(grant) {
		return nil, errUnauthorizedClient("This client did not register the grant type " + grant + ".")
	}
	resp, err := s.runGrant(ctx, c, grant, client, form)
	if err == nil {
		s.Metrics.TokenIssued(grant)
	}
	return resp, err
}

// runGrant runs the grant the client asked for and is allowed.
func (s *Server) runGrant(ctx context.Context, c *gin.Context, grant string, client *models.Client, form url.Values) (*tokenResponse, error) {
	switch grant {
	case models.GrantAuthorizationCode:
		return s.grantCode(ctx, client, form)
	case models.GrantRefreshToken:
		return s.grantRefresh(ctx, client, form)
	case models.GrantClientCredentials:
		return s.grantClientCredentials(ctx, client, form)
	case models.GrantDeviceCode:
		return s.grantDevice(ctx, client, form)
	default:
		return s.grantPassword(ctx, c.ClientIP(), client, form)
	}
}

// quoteParam quotes a request value for an error description, cut short.
func quoteParam(v string) string {
	if len(v) > 60 {
		v = v[:60] + "…"
	}
	return `"` + v + `"`
}
