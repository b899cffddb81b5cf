package oauth

import (
	"context"
	"errors"
	"net/url"
	"time"

	"beerlocker/accounts"
	"beerlocker/models"
)

// grantPassword exchanges a user's own username and password, sent from
// addr, for tokens (RFC 6749 §4.3), for clients that registered this grant.
// RFC 6749 §4.3.2: the server "MUST protect the endpoint against brute
// force attacks": VerifyPassword applies the Guard.
func (s *Server) grantPassword(ctx context.Context, addr string, client *models.Client, form url.Values) (*tokenResponse, error) {
	username, password := form.Get("username"), form.Get("password")
	if username == "" || password == "" {
		return nil, errInvalidRequest("username and password are required.")
	}
	scopes, oerr := resolveScope(form.Get("scope"), models.AllScopes())
	if oerr != nil {
		return nil, oerr
	}
	audience, oerr := s.grantAudience(form[resourceParam])
	if oerr != nil {
		return nil, oerr
	}
	userID, err := s.Credentials.VerifyPassword(ctx, accounts.PasswordAttempt{
		Username: username, Password: password, Address: addr, Via: "password_grant"})
	if errors.Is(err, models.ErrNotFound) {
		return nil, errInvalidGrant("The username or password is wrong.")
	}
	if err != nil {
		return nil, err
	}
	if err := s.rememberPasswordConsent(ctx, userID, client.ID, scopes); err != nil {
		return nil, err
	}
	return s.issue(ctx, client, userID, scopes, scopes, audience, family{id: models.NewID(s.Now()), audience: audience},
		client.AllowsGrant(models.GrantRefreshToken))
}

// rememberPasswordConsent records that the user consented to the client
// for scopes by giving it the password, before any token is issued, so the
// app is listed on the account page with the tokens it holds and Revoke
// there ends them (API.md §7). A consent that already covers the scopes is
// left alone: a repeated grant then costs a read, not a write.
func (s *Server) rememberPasswordConsent(ctx context.Context, userID, clientID string, scopes []string) error {
	consent, err := s.Store.Consents.Get(ctx, userID, clientID)
	if err == nil && models.HasScopes(consent.Scopes, scopes) {
		return nil
	}
	if err != nil && !errors.Is(err, models.ErrNotFound) {
		return err
	}
	_, err = s.Store.Consents.Grant(ctx, userID, clientID, scopes, time.Time{}, s.now())
	if errors.Is(err, models.ErrNotFound) {
		return errInvalidGrant("The grant's user or client no longer exists.")
	}
	return err
}
