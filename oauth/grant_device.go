package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"beerlocker/models"
)

// grantDevice answers a device's poll of the token endpoint (RFC 8628
// §3.4–3.5): one of the §3.5 errors until the user has approved, then the
// tokens, once.
func (s *Server) grantDevice(ctx context.Context, client *models.Client, form url.Values) (*tokenResponse, error) {
	value := form.Get("device_code")
	if value == "" {
		return nil, errInvalidRequest("device_code is required.")
	}
	requested, oerr := s.parseResources(form[resourceParam])
	if oerr != nil {
		return nil, oerr
	}
	hash := HashSecret(value)
	now := s.now()
	// Another client's device code is unknown to this one: the store
	// matches the client too, so its poll is not even recorded.
	dc, tooSoon, err := s.Store.DeviceCodes.Poll(ctx, hash, client.ID, now)
	if errors.Is(err, models.ErrNotFound) {
		return nil, errInvalidGrant("The device code is invalid, or was issued to another client.")
	}
	if err != nil {
		return nil, err
	}
	switch {
	case dc.Used:
		return nil, errInvalidGrant("The device code was already used.")
	case dc.Expired(now):
		return nil, errDevice("expired_token", "The device code has expired; start again.")
	case tooSoon:
		// RFC 8628 §3.5: the interval grows by 5 s for this and every
		// later request; Poll has grown the stored one to match.
		return nil, errDevice("slow_down", fmt.Sprintf("Polling too fast; wait %d seconds between requests.", int(dc.Interval/time.Second)))
	case dc.Status == models.DevicePending:
		return nil, errDevice("authorization_pending", "The user has not decided yet.")
	case dc.Status == models.DeviceDenied:
		return nil, errDevice("access_denied", "The user denied the request.")
	}
	// Approved. The tokens are stored before the code is used up, as in
	// grantCode: of concurrent polls that got this far, Redeem lets exactly
	// one keep its tokens, and if the user revoked the app meanwhile (which
	// deletes the code and the tokens) Redeem fails too, so no tokens
	// outlive a lost race or a revocation.
	audience, oerr := narrowAudience(dc.Audience, requested)
	if oerr != nil {
		return nil, oerr
	}
	resp, err := s.issue(ctx, client, dc.UserID, dc.Scopes, dc.Scopes, audience,
		family{id: models.NewID(now), authTime: dc.AuthTime, audience: dc.Audience.Effective(), ends: dc.GrantEndsAt}, client.AllowsGrant(models.GrantRefreshToken))
	if err != nil {
		return nil, err
	}
	if err := s.addIDToken(ctx, resp, client, dc.UserID, dc.Scopes, dc.AuthTime, ""); err != nil {
		s.discard(ctx, resp)
		return nil, err
	}
	if _, err := s.Store.DeviceCodes.Redeem(ctx, hash, client.ID, now); err != nil {
		s.discard(ctx, resp)
		switch {
		case errors.Is(err, models.ErrConflict):
			return nil, errInvalidGrant("The device code was already used.")
		case errors.Is(err, models.ErrNotFound): // expired or revoked since the poll
			return nil, errInvalidGrant("The device code is no longer valid.")
		}
		return nil, err
	}
	return resp, nil
}

// errDevice is one of the token endpoint errors RFC 8628 §3.5 adds:
// authorization_pending, slow_down, access_denied and expired_token, all 400.
func errDevice(code, desc string) *Error {
	return &Error{Code: code, Description: desc, Status: http.StatusBadRequest}
}
