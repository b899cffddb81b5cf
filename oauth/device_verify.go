package oauth

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"beerlocker/httperr"
	"beerlocker/middleware"
	"beerlocker/models"
	"beerlocker/pages"
	"beerlocker/security"
)

// The verification page of the device flow (RFC 8628 §3.3): GET /device
// asks the signed-in user for the code the device shows, POST /device
// checks it and shows the same consent page as the authorization
// endpoint, and the Allow or Deny of that page posts back to /device.

// wrongUserCode is the one message for a code that is malformed, unknown,
// expired or already answered: which of these it was helps only a guesser.
const wrongUserCode = "That code is not valid. Check the code on your device and try again; codes expire after 10 minutes."

// deviceTx is a device request on the consent page, pending in the
// session that saw the page.
type deviceTx struct {
	Hash     string   `json:"d"` // of the device code
	ClientID string   `json:"c"`
	Scopes   []string `json:"s"`
}

// deviceAccount is the Guard's account key for user codes entered by one
// user: apart from the user's password, so guessing codes does not lock
// the account's sign-in, and the other way round.
func deviceAccount(userID string) string { return "device-user:" + userID }

// DevicePage handles GET /device: the code form, pre-filled from
// ?user_code= (verification_uri_complete). Signing in comes first.
func (s *Server) DevicePage() gin.HandlerFunc {
	return func(c *gin.Context) {
		if _, ok := s.deviceUser(c); !ok {
			return
		}
		code := c.Query("user_code")
		if len(code) > 4*models.UserCodeLen {
			code = ""
		}
		s.Pages.DeviceForm(c, http.StatusOK, code, "")
	}
}

// DeviceSubmit handles POST /device: a code entered on the form, or, with
// decision=allow|deny and tx, the answer of the consent page. Both need
// the session's CSRF token.
func (s *Server) DeviceSubmit() gin.HandlerFunc {
	return func(c *gin.Context) {
		if !s.Pages.ReadForm(c) {
			return
		}
		form := c.Request.PostForm
		if middleware.SessionUserID(c, s.Now()) == "" || !middleware.ValidCSRF(c, form.Get("csrf_token")) {
			s.Pages.Error(c, http.StatusForbidden, "This request could not be verified",
				"Your session ended or the form did not come from this site. Open the device page again and start over.")
			return
		}
		user, ok := s.deviceUser(c)
		if !ok {
			return
		}
		if form.Has("decision") {
			s.deviceDecide(c, user, form)
			return
		}
		s.deviceEnter(c, user, form)
	}
}

// deviceEnter checks an entered user code and shows the consent page.
func (s *Server) deviceEnter(c *gin.Context, user *models.User, form url.Values) {
	ctx := c.Request.Context()
	typed := form.Get("user_code")
	if len(typed) > 4*models.UserCodeLen {
		typed = typed[:4*models.UserCodeLen]
	}
	// API.md §8 and RFC 8628 §5.1: user codes are short, so wrong ones
	// are limited per address and per account, and codes sent together
	// are checked in turn (limits.Guard.Begin).
	addr := c.ClientIP()
	attempt, err := s.Limits.Begin(ctx, addr, deviceAccount(user.ID))
	if err != nil {
		if a := httperr.Of(err); a.Kind == httperr.Limited {
			a.SetRetryAfter(c.Writer.Header())
			s.Pages.DeviceForm(c, a.Status, typed, a.Message)
			return
		}
		s.Pages.Fail(c, err)
		return
	}
	defer attempt.Done()
	dc, client, err := s.lookupUserCode(ctx, typed)
	if errors.Is(err, models.ErrNotFound) {
		lo, err := attempt.Fail(ctx)
		security.LogFailure(ctx, s.Log, security.EventUserCodeFailed, lo,
			slog.String("user_id", user.ID), slog.String("address", addr))
		if err != nil {
			s.Pages.Fail(c, err) // a guess not paid for is not answered
			return
		}
		s.Pages.DeviceForm(c, http.StatusBadRequest, typed, wrongUserCode)
		return
	}
	if err != nil {
		s.Pages.Fail(c, err)
		return
	}
	// RFC 8628 §5.4: whoever started the flow may be a phisher who asked
	// the user to "enter this code", typed or in a link, for an app the
	// user trusts. So a remembered consent never skips the page: the user
	// always sees the app and the code to compare with the device's.
	s.showDeviceConsent(c, client, dc)
}

// lookupUserCode finds the pending device request for a typed user code
// and its client. Anything that is not one is models.ErrNotFound.
func (s *Server) lookupUserCode(ctx context.Context, typed string) (*models.DeviceCode, *models.Client, error) {
	code, ok := models.NormalizeUserCode(typed)
	if !ok {
		return nil, nil, models.ErrNotFound
	}
	dc, err := s.Store.DeviceCodes.GetByUserCode(ctx, HashSecret(code), s.Now())
	if err != nil {
		return nil, nil, err
	}
	if dc.Status != models.DevicePending {
		return nil, nil, models.ErrNotFound
	}
	client, err := s.Store.Clients.Get(ctx, dc.ClientID)
	if err != nil {
		return nil, nil, err
	}
	return dc, client, nil
}

// showDeviceConsent parks a device request, pending in this session
// under a fresh transaction id, and shows the consent page with the user
// code.
func (s *Server) showDeviceConsent(c *gin.Context, client *models.Client, dc *models.DeviceCode) {
	txID, err := s.park(c, pendingDevice, &deviceTx{Hash: dc.Hash, ClientID: client.ID, Scopes: dc.Scopes})
	if err != nil {
		s.Pages.Fail(c, err)
		return
	}
	code, _ := models.NormalizeUserCode(c.Request.PostForm.Get("user_code"))
	s.Pages.ShowConsent(c, pages.Consent{Action: DevicePath, Client: client, Scopes: dc.Scopes,
		TxID: txID, UserCode: models.FormatUserCode(code)})
}

// deviceDecide applies the Allow or Deny of the consent page. The
// transaction must be pending in this very session, and not yet decided.
func (s *Server) deviceDecide(c *gin.Context, user *models.User, form url.Values) {
	decision := form.Get("decision")
	if decision != "allow" && decision != "deny" {
		s.Pages.Error(c, http.StatusBadRequest, "Malformed form", "The form must say allow or deny.")
		return
	}
	tx := &deviceTx{}
	if err := s.take(c, pendingDevice, form.Get("tx"), tx); errors.Is(err, errNoPending) {
		s.Pages.Error(c, http.StatusForbidden, "This request has expired",
			"The request is unknown, expired or already answered. Open the device page again and enter the code.")
		return
	} else if err != nil {
		s.Pages.Fail(c, err)
		return
	}
	client, err := s.Store.Clients.Get(c.Request.Context(), tx.ClientID)
	if errors.Is(err, models.ErrNotFound) {
		s.Pages.Error(c, http.StatusBadRequest, "This app no longer exists", "The app was deleted while you were deciding.")
		return
	}
	if err != nil {
		s.Pages.Fail(c, err)
		return
	}
	granted, ok := tickedScopes(form, tx.Scopes)
	if !ok {
		s.Pages.Error(c, http.StatusBadRequest, "Malformed form", "The form ticked a scope the device did not ask for.")
		return
	}
	until, ok := chosenEnd(form, s.now())
	if !ok {
		s.Pages.Error(c, http.StatusBadRequest, "Malformed form", "The form chose a lifetime the page does not offer.")
		return
	}
	if len(granted) == 0 {
		decision = "deny" // API.md §11: nothing ticked is a Deny
	}
	switch decision {
	case "allow":
		// The consent is remembered first, so the tokens the device gets
		// are always listed, and revocable, on the account page.
		if _, err := s.Store.Consents.Grant(c.Request.Context(), user.ID, client.ID, granted, until, s.now()); err != nil {
			s.Pages.Fail(c, err)
			return
		}
		s.finishDevice(c, user, client, tx.Hash, models.DeviceDecision{Status: models.DeviceApproved, Scopes: granted, GrantEndsAt: until})
	case "deny":
		s.finishDevice(c, user, client, tx.Hash, models.DeviceDecision{Status: models.DeviceDenied})
	}
}

// finishDevice records the decision and tells the user to go back to the
// device.
func (s *Server) finishDevice(c *gin.Context, user *models.User, client *models.Client, hash string, d models.DeviceDecision) {
	d.UserID, d.AuthTime = user.ID, middleware.SessionAuthTime(c)
	status := d.Status
	err := s.Store.DeviceCodes.Decide(c.Request.Context(), hash, d, s.now())
	if errors.Is(err, models.ErrNotFound) || errors.Is(err, models.ErrConflict) {
		s.Pages.Error(c, http.StatusBadRequest, "This code can no longer be used",
			"The code expired or was already answered. Start again on your device to get a new code.")
		return
	}
	if err != nil {
		s.Pages.Fail(c, err)
		return
	}
	s.Pages.DeviceDone(c, status == models.DeviceApproved, client.Name)
}

// deviceUser returns the signed-in user. Without one it sends the browser
// to log in and come back (to the empty form after a post, whose body
// cannot survive the login), and returns false.
func (s *Server) deviceUser(c *gin.Context) (*models.User, bool) {
	back := c.Request.URL.RequestURI()
	if c.Request.Method == http.MethodPost {
		back = DevicePath
	}
	u := s.Pages.SignedInUser(c, back)
	return u, u != nil
}
