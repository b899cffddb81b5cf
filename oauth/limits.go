package oauth

import (
	"context"
	"log/slog"
	"net/http"

	"beerlocker/limits"
	"beerlocker/middleware"
)

// errTooManyAttempts answers a credential the Guard would not let be
// checked (API.md §8): 429 with Retry-After, in the RFC 6749 §5.2 shape.
// RFC 6749 has no code for it; invalid_request is what the API promises.
func errTooManyAttempts(le *limits.LimitedError) *Error {
	return &Error{Code: "invalid_request", Status: http.StatusTooManyRequests, retryAfter: le.RetryAfter(),
		Description: "Too many failed attempts from this address or for this account. Try again in " + le.InWords() + "."}
}

// clientAuthFailed records a failed client authentication in the Guard
// and the security log, and returns answer, or the Guard's error when it
// could not record the failure: a guess not paid for is not answered.
func (s *Server) clientAuthFailed(ctx context.Context, addr, clientID, reason string, answer *Error) error {
	lo, err := s.Limits.Fail(ctx, addr, limits.ClientAccount(clientID))
	middleware.LogFailure(ctx, s.Log, middleware.EventClientAuthFailed, lo,
		slog.String("client_id", clientID), slog.String("address", addr), slog.String("reason", reason))
	if err != nil {
		return err
	}
	return answer
}
