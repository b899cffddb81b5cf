package oauth

import (
	"context"
	"log/slog"

	"beerlocker/limits"
	"beerlocker/security"
)

// clientAuthFailed records a failed client authentication, the attempt,
// in the Guard and the security log, and returns answer, or the Guard's
// error when it could not record the failure: a guess not paid for is not
// answered.
func (s *Server) clientAuthFailed(ctx context.Context, attempt *limits.Attempt, addr, clientID, reason string, answer *Error) error {
	lo, err := attempt.Fail(ctx)
	security.LogFailure(ctx, s.Log, security.EventClientAuthFailed, lo,
		slog.String("client_id", clientID), slog.String("address", addr), slog.String("reason", reason))
	if err != nil {
		return err
	}
	return answer
}
