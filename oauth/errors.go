package oauth

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"beerlocker/middleware"
	"beerlocker/models"
)

// Error is an OAuth error response (RFC 6749 §5.2, §4.1.2.1).
type Error struct {
	Code        string
	Description string
	Status      int
	// basic is set on invalid_client when the client used HTTP Basic: the
	// 401 then carries a Basic challenge (RFC 6749 §5.2).
	basic bool
	// retryAfter is set on rate-limited answers, in seconds.
	retryAfter int
}

func (e *Error) Error() string { return e.Code + ": " + e.Description }

func errInvalidRequest(desc string) *Error {
	return &Error{Code: "invalid_request", Description: desc, Status: http.StatusBadRequest}
}

func errInvalidClient(desc string, basic bool) *Error {
	return &Error{Code: "invalid_client", Description: desc, Status: http.StatusUnauthorized, basic: basic}
}

func errInvalidGrant(desc string) *Error {
	return &Error{Code: "invalid_grant", Description: desc, Status: http.StatusBadRequest}
}

func errUnauthorizedClient(desc string) *Error {
	return &Error{Code: "unauthorized_client", Description: desc, Status: http.StatusBadRequest}
}

func errUnsupportedGrantType(desc string) *Error {
	return &Error{Code: "unsupported_grant_type", Description: desc, Status: http.StatusBadRequest}
}

func errInvalidScope(desc string) *Error {
	return &Error{Code: "invalid_scope", Description: desc, Status: http.StatusBadRequest}
}

// errorBody is the JSON shape of RFC 6749 §5.2.
type errorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

// noStore marks a response that carries tokens or token errors as never
// to be cached (RFC 6749 §5.1).
func noStore(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.Header("Pragma", "no-cache")
}

// writeError answers an endpoint error in the RFC 6749 §5.2 shape. An
// error that is not an *Error is logged and answered as server_error.
func (s *Server) writeError(c *gin.Context, err error) {
	e, ok := err.(*Error)
	if !ok && errors.Is(err, models.ErrUnavailable) {
		// RFC 6749 defines temporarily_unavailable only for the
		// authorization endpoint's redirect (§4.1.2.1); §5.2 has no such
		// code for the token endpoint. Answering 503 with it there (and at
		// revocation and introspection) is the common practice: clients
		// treat it as retryable, which server_error does not promise.
		s.Log.Error("oauth endpoint failed: database unavailable", "request_id", middleware.GetRequestID(c), "route", c.FullPath(), "err", err)
		e, ok = &Error{Code: "temporarily_unavailable", Description: "The service is temporarily unavailable; try again shortly.",
			Status: http.StatusServiceUnavailable, retryAfter: middleware.RetryAfterUnavailable}, true
	}
	if !ok {
		s.Log.Error("oauth endpoint failed", "request_id", middleware.GetRequestID(c), "route", c.FullPath(), "err", err)
		e = &Error{Code: "server_error", Description: "An unexpected error occurred.", Status: http.StatusInternalServerError}
	}
	noStore(c)
	if e.basic {
		c.Header("WWW-Authenticate", `Basic realm="beerlocker"`)
	}
	if e.retryAfter > 0 {
		c.Header("Retry-After", strconv.Itoa(e.retryAfter))
	}
	c.AbortWithStatusJSON(e.Status, errorBody{Error: e.Code, Description: e.Description})
}
