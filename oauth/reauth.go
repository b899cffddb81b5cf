package oauth

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/go-jose/go-jose/v4/jwt"

	"beerlocker/keys"
	"beerlocker/models"
	"beerlocker/pages"
)

// When an authorization request sends the browser to the login page, the
// request it returns to carries reauthParam: when the server asked, in
// Unix milliseconds. A session begun since then satisfies prompt=login,
// max_age and an id_token_hint for another account, so the request does
// not ask again, in a loop, once the user has signed in. Whoever writes
// the link could set it, but only to skip a sign-in they could as well
// skip by leaving prompt=login out; the app itself checks auth_time in
// the ID token. It counts for reauthWindow, the time to sign in.
const (
	reauthParam  = "beerlocker_login_requested"
	reauthWindow = 10 * time.Minute
)

// signInAgain returns why the signed-in user must enter their password
// before this request is answered (OpenID Connect Core §3.1.2.1), or ""
// when they need not. authTime is when the session's user last did.
func (s *Server) signInAgain(q url.Values, req *authRequest, userID string, authTime time.Time) pages.LoginReason {
	now := s.now()
	if ms, err := strconv.ParseInt(q.Get(reauthParam), 10, 64); err == nil {
		asked := time.UnixMilli(ms)
		if !authTime.Before(asked) && now.Sub(asked) < reauthWindow {
			return ""
		}
	}
	switch {
	case req.hintSubject != "" && req.hintSubject != userID:
		return pages.ReasonOtherAccount
	case req.prompt.login:
		return pages.ReasonPromptLogin
	case req.maxAge >= 0 && int64(now.Sub(authTime)/time.Second) > req.maxAge:
		return pages.ReasonMaxAge
	}
	return ""
}

// sendToLogin sends the browser to the login page, which returns to the
// request q, and pre-fills the username the app hinted at. A request that
// could ask for a sign-in again returns marked with reauthParam.
func (s *Server) sendToLogin(c *gin.Context, q url.Values, req *authRequest, why pages.LoginReason) {
	back := url.Values{}
	for k, v := range q {
		back[k] = v
	}
	if req.prompt.login || req.maxAge >= 0 || req.hintSubject != "" {
		back.Set(reauthParam, strconv.FormatInt(s.now().UnixMilli(), 10))
	}
	pages.RedirectToLoginWith(c, pages.Login{ReturnTo: AuthorizePath + "?" + back.Encode(),
		Username: s.hintedUsername(c.Request.Context(), req), Reason: why})
}

// hintedUsername is the username to pre-fill: login_hint, or else the
// username of the id_token_hint's user; "" when there is neither.
func (s *Server) hintedUsername(ctx context.Context, req *authRequest) string {
	if req.loginHint != "" || req.hintSubject == "" {
		return req.loginHint
	}
	if u, err := s.Store.Users.Get(ctx, req.hintSubject); err == nil {
		return u.Username
	}
	return "" // only a convenience: a deleted user or a failed read pre-fills nothing
}

// hintedSubject returns the user an id_token_hint names: it must be an ID
// token this server signed for this client, expired or not (OpenID
// Connect Core §3.1.2.1). Anything else is invalid_request; a store that
// cannot be read is the error. Without signing keys there are no ID
// tokens, and the hint is ignored.
func (s *Server) hintedSubject(ctx context.Context, hint string, client *models.Client) (string, *Error, error) {
	if hint == "" || s.Keys == nil {
		return "", nil, nil
	}
	var claims jwt.Claims
	err := s.Keys.Verify(ctx, hint, &claims)
	if err != nil && !errors.Is(err, keys.ErrInvalidToken) {
		return "", nil, err
	}
	if err != nil || claims.Issuer != s.Issuer || !claims.Audience.Contains(client.ID) || claims.Subject == "" {
		return "", errInvalidRequest("id_token_hint is not an ID token this server issued to this app."), nil
	}
	return claims.Subject, nil, nil
}
