// Package httperr is the one table that turns a domain error into an HTTP
// answer: its status, its Retry-After, the words a person reads and the
// level its cause is logged at. Three writers draw the answer, each in its
// own shape: problem+json on API routes (package problem), RFC 6749 §5.2
// JSON at the OAuth endpoints (package oauth) and the HTML error page in
// the browser (package pages). None of them decides a status itself for
// the errors listed here, so an outage is a 503 with Retry-After and a
// lockout a 429 with Retry-After on every surface alike.
//
// It also writes the WWW-Authenticate challenges (API.md §1, RFC 6750
// §3, RFC 6749 §5.2), so the realm is named in one place.
package httperr

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"beerlocker/limits"
	"beerlocker/models"
)

// RetryAfterUnavailable is the Retry-After, in seconds, of a 503 answered
// because the database is unavailable (models.ErrUnavailable): about the
// time a store takes to notice the database is back.
const RetryAfterUnavailable = 5

// Kind names a row of the table.
type Kind int

// The rows of the table, from the most to the least specific.
const (
	Internal    Kind = iota // anything unrecognised: 500, logged as an error
	Invalid                 // *models.ValidationError: 400 with the fields
	NotFound                // models.ErrNotFound: 404
	Conflict                // models.ErrConflict: 409
	TooLarge                // *http.MaxBytesError: 413
	Limited                 // *limits.LimitedError: 429 with Retry-After
	Unavailable             // models.ErrUnavailable: 503 with Retry-After
	Canceled                // the client went away: nothing to answer
)

// Answer is how one error is answered.
type Answer struct {
	Kind   Kind
	Status int
	// RetryAfter is the Retry-After header in whole seconds; 0 sends none.
	RetryAfter int
	// Title and Message are the words for people: a problem's title and
	// detail, an HTML page's heading and text. OAuth errors keep their own
	// error codes and use Message as the error_description.
	Title, Message string
	// Log says whether the cause is logged, and Level at which level.
	// Expected outcomes (a missing object, a lockout) are not logged here;
	// their own security events say what matters.
	Log   bool
	Level slog.Level
	// Fields are the invalid fields of an Invalid answer.
	Fields []models.FieldError
}

// Of looks err up in the table.
func Of(err error) Answer {
	var ve *models.ValidationError
	var le *limits.LimitedError
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &ve):
		return Answer{Kind: Invalid, Status: http.StatusBadRequest, Title: "Validation failed",
			Message: "One or more fields are invalid.", Fields: ve.Fields}
	case errors.As(err, &le) && le.Of == limits.Registrations:
		return Answer{Kind: Limited, Status: http.StatusTooManyRequests, RetryAfter: le.RetryAfter(),
			Title:   "Too many registrations",
			Message: "Too many registrations were attempted from this address. Try again in " + le.InWords() + "."}
	case errors.As(err, &le):
		return Answer{Kind: Limited, Status: http.StatusTooManyRequests, RetryAfter: le.RetryAfter(),
			Title:   "Too many failed attempts",
			Message: "Too many failed attempts from this address or for this account. Try again in " + le.InWords() + "."}
	case errors.Is(err, limits.ErrBusy):
		// Checks in flight for the same address or account did not end in
		// time (see limits.QueueTimeout): answered as an outage is, which
		// it usually is, in other words.
		return Answer{Kind: Unavailable, Status: http.StatusServiceUnavailable, RetryAfter: RetryAfterUnavailable,
			Title:   "Service busy",
			Message: "Beer Locker is busy checking other requests from this address or for this account. Try again in a few seconds.",
			Log:     true, Level: slog.LevelWarn}
	case errors.Is(err, models.ErrUnavailable):
		return Answer{Kind: Unavailable, Status: http.StatusServiceUnavailable, RetryAfter: RetryAfterUnavailable,
			Title:   "Service unavailable",
			Message: "Beer Locker cannot reach its database right now. Try again in a few seconds.",
			Log:     true, Level: slog.LevelWarn}
	case errors.As(err, &tooBig):
		return Answer{Kind: TooLarge, Status: http.StatusRequestEntityTooLarge, Title: "Request too large",
			Message: "The request body is larger than this endpoint accepts."}
	case errors.Is(err, models.ErrNotFound):
		return Answer{Kind: NotFound, Status: http.StatusNotFound, Title: "Not found", Message: "No such object."}
	case errors.Is(err, models.ErrConflict):
		return Answer{Kind: Conflict, Status: http.StatusConflict, Title: "Conflict",
			Message: "The request conflicts with the current state."}
	case errors.Is(err, context.Canceled):
		// The client hung up; a status is written only for the access log.
		return Answer{Kind: Canceled, Status: 499, Title: "Client closed request", Message: "The request was cancelled.",
			Log: true, Level: slog.LevelDebug}
	}
	return Answer{Kind: Internal, Status: http.StatusInternalServerError, Title: "Internal Server Error",
		Message: "An unexpected error occurred.", Log: true, Level: slog.LevelError}
}

// LogCause logs err at the answer's level when the table says to, with the
// request id and route, and never the request's credentials.
func (a Answer) LogCause(ctx context.Context, log *slog.Logger, requestID, route string, err error) {
	if !a.Log || log == nil {
		return
	}
	msg := "request failed"
	switch {
	case errors.Is(err, limits.ErrBusy):
		msg = "request failed: too many credential checks in flight"
	case a.Kind == Unavailable:
		msg = "request failed: database unavailable"
	}
	log.Log(ctx, a.Level, msg, "request_id", requestID, "route", route, "err", err)
}
