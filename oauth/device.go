package oauth

import (
	"crypto/rand"
	"errors"
	"net/url"
	"time"

	"github.com/gin-gonic/gin"

	"beerlocker/models"
)

// Device authorization grant (RFC 8628), API.md §6 "Device authorization".
const (
	// DeviceTTL is how long a device code and its user code live: the
	// expires_in of the device authorization response.
	DeviceTTL = 600 * time.Second
	// DefaultDeviceInterval is the least time between two polls of the
	// token endpoint, unless Server.DeviceInterval says otherwise.
	DefaultDeviceInterval = 5 * time.Second
	// DevicePath is the verification URI's path, on the issuer.
	DevicePath = "/device"

	prefixDeviceCode = "bldc_"
	// userCodeTries bounds the retries after a user code collides with a
	// live one. With 20^8 codes even a million live ones collide once in
	// 25,000 tries, so a third try failing means something else is wrong.
	userCodeTries = 3
)

// deviceAuthResponse is the device authorization response (RFC 8628 §3.2).
type deviceAuthResponse struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete"`
	ExpiresIn               int    `json:"expires_in"`
	Interval                int    `json:"interval"`
}

// DeviceAuthorization handles POST /api/oauth2/device_authorization
// (RFC 8628 §3.1): a client that registered the device grant gets a
// device code to poll with and a user code for the user to enter at
// verification_uri.
func (s *Server) DeviceAuthorization() gin.HandlerFunc { return jsonEndpoint(s, s.deviceAuthorization) }

func (s *Server) deviceAuthorization(c *gin.Context) (*deviceAuthResponse, error) {
	// RFC 8628 §3.1: the client authenticates as at the token endpoint.
	form, _, client, err := s.authenticatedForm(c)
	if err != nil {
		return nil, err
	}
	ctx := c.Request.Context()
	if !client.AllowsGrant(models.GrantDeviceCode) {
		return nil, errUnauthorizedClient("This client did not register the grant type " + models.GrantDeviceCode + ".")
	}
	scopes, oerr := resolveScope(form.Get("scope"), models.AllScopes())
	if oerr != nil {
		return nil, oerr
	}
	audience, oerr := s.grantAudience(form[resourceParam])
	if oerr != nil {
		return nil, oerr
	}
	now := s.now()
	interval := s.deviceInterval()
	for range userCodeTries {
		deviceCode, hash := newSecret(prefixDeviceCode)
		userCode := newUserCode()
		err := s.Store.DeviceCodes.Create(ctx, &models.DeviceCode{
			Hash: hash, UserCodeHash: HashSecret(userCode), ClientID: client.ID, Scopes: scopes,
			Status: models.DevicePending, Interval: interval, CreatedAt: now, ExpiresAt: now.Add(DeviceTTL),
			Audience: audience,
		})
		if errors.Is(err, models.ErrConflict) {
			continue // the user code is taken by a live code: draw another
		}
		if err != nil {
			return nil, err
		}
		shown := models.FormatUserCode(userCode)
		uri := s.Issuer + DevicePath
		return &deviceAuthResponse{
			DeviceCode: deviceCode, UserCode: shown,
			VerificationURI:         uri,
			VerificationURIComplete: uri + "?" + url.Values{"user_code": {shown}}.Encode(),
			ExpiresIn:               int(DeviceTTL / time.Second),
			Interval:                int(interval / time.Second),
		}, nil
	}
	return nil, errors.New("oauth: no free user code after several tries")
}

// deviceInterval is the polling interval devices are given: whole seconds,
// since that is how the response states it, and at least one.
func (s *Server) deviceInterval() time.Duration {
	if s.DeviceInterval <= 0 {
		return DefaultDeviceInterval
	}
	return max(s.DeviceInterval.Truncate(time.Second), time.Second)
}

// newUserCode returns a fresh user code in its stored form: UserCodeLen
// characters of models.UserCodeAlphabet from crypto/rand. RFC 8628 §6.1:
// bytes of 240 and above are drawn again, so that every character is
// equally likely (256 is not a multiple of 20).
func newUserCode() string {
	const alphabet = models.UserCodeAlphabet
	const limit = 256 - 256%len(alphabet)
	code := make([]byte, 0, models.UserCodeLen)
	var buf [16]byte
	for len(code) < models.UserCodeLen {
		if _, err := rand.Read(buf[:]); err != nil {
			panic("oauth: crypto/rand failed: " + err.Error())
		}
		for _, b := range buf {
			if int(b) < limit && len(code) < models.UserCodeLen {
				code = append(code, alphabet[int(b)%len(alphabet)])
			}
		}
	}
	return string(code)
}
