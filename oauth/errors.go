package oauth

import (
	"beerlocker/httperr"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
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
// error that is not an *Error is answered as the httperr table says, with
// the OAuth code that fits its row.
func (s *Server) writeError(c *gin.Context, err error) {
	e, ok := err.(*Error)
	if !ok {
		e = tableError(c, s.Log, err)
	}
	noStore(c)
	if e.basic {
		httperr.ChallengeClient(c.Writer.Header())
	}
	if e.retryAfter > 0 {
		c.Header("Retry-After", strconv.Itoa(e.retryAfter))
	}
	c.AbortWithStatusJSON(e.Status, errorBody{Error: e.Code, Description: e.Description})
}

// tableError is the OAuth error of a domain error, from the httperr
// table, with its cause logged as the table says.
func tableError(c *gin.Context, log *slog.Logger, err error) *Error {
	a := httperr.Of(err)
	a.LogCause(c.Request.Context(), log, httperr.RequestID(c.Request.Context()), c.FullPath(), err)
	return errorOf(a)
}

// errorOf is the OAuth error of a row of the httperr table.
func errorOf(a httperr.Answer) *Error {
	e := &Error{Code: "invalid_request", Description: a.Message, Status: a.Status, retryAfter: a.RetryAfter}
	switch a.Kind {
	case httperr.Limited, httperr.TooLarge, httperr.Invalid:
		// RFC 6749 has no code for a lockout; invalid_request is what the
		// API promises (API.md §8).
	case httperr.Canceled:
		// The client went away: nobody reads the answer, whose status
		// (499) is the table's, for the access log.
	case httperr.Unavailable:
		// RFC 6749 defines temporarily_unavailable only for the
		// authorization endpoint's redirect (§4.1.2.1); §5.2 has no such
		// code for the token endpoint. Answering 503 with it there (and at
		// revocation and introspection) is the common practice: clients
		// treat it as retryable, which server_error does not promise.
		e.Code = "temporarily_unavailable"
	default:
		// A repository's not found or conflict that a grant did not turn
		// into invalid_grant is a bug here, not the client's fault.
		e.Code, e.Status, e.Description, e.retryAfter = "server_error", http.StatusInternalServerError, "An unexpected error occurred.", 0
	}
	return e
}
