package accounts

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"beerlocker/limits"
	"beerlocker/models"
)

// brokenBuckets are buckets whose store is down.
type brokenBuckets struct{}

var errBroken = fmt.Errorf("buckets: %w", models.ErrUnavailable)

func (brokenBuckets) Tokens(context.Context, string) (float64, error) { return 0, errBroken }

func (brokenBuckets) Take(context.Context, string, int, bool) (float64, float64, error) {
	return 0, 0, errBroken
}

// TestVerifyPasswordFailsClosed: with the Guard's store down, no password
// is checked (Users is nil here: a lookup would panic) and the error is
// ErrUnavailable, which every surface answers with 503.
func TestVerifyPasswordFailsClosed(t *testing.T) {
	l := limits.Limits{Address: limits.Rate{Burst: 2, PerMinute: 1}, Account: limits.Rate{Burst: 2, PerMinute: 1}, MaxKeys: 10}
	v := NewVerifier(VerifierConfig{Limits: limits.NewGuardWith(l, brokenBuckets{}, brokenBuckets{}, nil)})
	_, err := v.VerifyPassword(context.Background(), PasswordAttempt{Username: "alice", Password: "pw", Address: "192.0.2.1", Via: "basic"})
	if !errors.Is(err, models.ErrUnavailable) {
		t.Errorf("VerifyPassword error = %v, want one wrapping ErrUnavailable", err)
	}
}
