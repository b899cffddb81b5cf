package oauth

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"
	"github.com/go-jose/go-jose/v4/jwt"

	"beerlocker/keys"
	"beerlocker/middleware"
	"beerlocker/models"
	"beerlocker/pages"
)

// logoutRequest is an RP-Initiated Logout request (OpenID Connect
// RP-Initiated Logout 1.0 §2), checked: the app it names, if any, and
// where to send the browser afterwards, if anywhere.
type logoutRequest struct {
	client   *models.Client // nil when the request named no app
	redirect string         // a registered post_logout_redirect_uri, or ""
	state    string
}

// EndSession handles GET and POST /api/oauth2/logout (API.md §9). A
// signed-in user confirms on a page whose form posts back here with the
// session's CSRF token; only that post ends the session, so a link or a
// foreign page's form can at most show the question. With nobody signed
// in there is nothing to end. The browser is only ever sent to a
// post_logout_redirect_uri the named app registered.
func (s *Server) EndSession() gin.HandlerFunc {
	return func(c *gin.Context) {
		params, ok := s.authorizeParams(c) // the query of a GET, the form of a POST
		if !ok {
			return
		}
		l, ok := s.parseLogout(c, params)
		if !ok {
			return
		}
		if middleware.SessionUserID(c, s.Now()) != "" {
			confirmed := c.Request.Method == http.MethodPost && params.Has("csrf_token")
			if !confirmed {
				s.Pages.ConfirmLogout(c, pages.LogoutRequest{Action: EndSessionPath, Client: l.client,
					PostLogoutRedirectURI: l.redirect, State: l.state})
				return
			}
			if !s.Pages.CheckCSRF(c) {
				return // 403, the session untouched
			}
			if err := middleware.LogOut(c); err != nil {
				s.Pages.Fail(c, err)
				return
			}
		}
		c.Header("Cache-Control", "no-store")
		c.Redirect(http.StatusSeeOther, l.afterwards())
	}
}

// afterwards is where the browser goes once nobody is signed in: the
// app's post_logout_redirect_uri with its state, or the signed-out page.
func (l *logoutRequest) afterwards() string {
	if l.redirect == "" {
		return pages.SignedOutPath
	}
	u, err := url.Parse(l.redirect)
	if err != nil { // registered URIs were validated; cannot happen
		return pages.SignedOutPath
	}
	if l.state != "" {
		q := u.Query()
		q.Set("state", l.state)
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// parseLogout checks a logout request. Anything wrong is answered with the
// error page, 400, and never redirected: a post_logout_redirect_uri is
// followed only when it is registered by the app that the client_id or
// the id_token_hint names.
func (s *Server) parseLogout(c *gin.Context, params url.Values) (*logoutRequest, bool) {
	for _, name := range []string{"id_token_hint", "client_id", "post_logout_redirect_uri", "state"} {
		if len(params[name]) > 1 {
			s.Pages.Error(c, http.StatusBadRequest, "This app sent a malformed logout request", name+" was given more than once.")
			return nil, false
		}
	}
	ctx := c.Request.Context()
	clientID := params.Get("client_id")
	if hint := params.Get("id_token_hint"); hint != "" {
		hinted, err := s.hintedClient(ctx, hint)
		if err != nil {
			s.Pages.Fail(c, err)
			return nil, false
		}
		if hinted == "" || (clientID != "" && clientID != hinted) {
			s.Pages.Error(c, http.StatusBadRequest, "This app sent an invalid logout request",
				"The id_token_hint is not an ID token this server issued to the app named.")
			return nil, false
		}
		clientID = hinted
	}
	l := &logoutRequest{redirect: params.Get("post_logout_redirect_uri"), state: params.Get("state")}
	if clientID != "" {
		client, err := s.lookupClient(ctx, clientID, c.ClientIP())
		var docErr *clientDocumentError
		if errors.Is(err, models.ErrNotFound) || errors.As(err, &docErr) {
			s.Pages.Error(c, http.StatusBadRequest, "Unknown app", "No app with this client_id is registered here, so there is nowhere safe to send you afterwards.")
			return nil, false
		}
		if err != nil {
			s.Pages.Fail(c, err)
			return nil, false
		}
		l.client = client
	}
	switch {
	case l.redirect == "":
	case l.client == nil:
		s.Pages.Error(c, http.StatusBadRequest, "This app sent an invalid logout request",
			"A post_logout_redirect_uri needs the client_id or id_token_hint of the app that registered it, so you are not sent there.")
		return nil, false
	case !l.client.AcceptsPostLogoutRedirectURI(l.redirect):
		s.Pages.Error(c, http.StatusBadRequest, "This app sent an unregistered address",
			"The post_logout_redirect_uri is not one the app registered, so you are not sent there.")
		return nil, false
	}
	return l, true
}

// hintedClient returns the app an id_token_hint was issued to, or "" when
// it is not an ID token this server signed for exactly one app. An
// expired one counts (RP-Initiated Logout 1.0 §2: the user may come back
// long after it expired). Without signing keys there are no ID tokens.
func (s *Server) hintedClient(ctx context.Context, hint string) (string, error) {
	if s.Keys == nil {
		return "", nil
	}
	var claims struct {
		jwt.Claims
		AuthorizedParty string `json:"azp"`
	}
	err := s.Keys.Verify(ctx, hint, &claims)
	if errors.Is(err, keys.ErrInvalidToken) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if claims.Issuer != s.Issuer || claims.Subject == "" || len(claims.Audience) == 0 {
		return "", nil
	}
	client := claims.AuthorizedParty
	if client == "" && len(claims.Audience) == 1 {
		client = claims.Audience[0]
	}
	if client == "" || !claims.Audience.Contains(client) {
		return "", nil
	}
	return client, nil
}
