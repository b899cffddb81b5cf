package limits_test

import (
	"testing"
	"time"

	"beerlocker/limits"
	"beerlocker/limits/limitstest"
)

// TestLimiterConformance runs the Buckets suite on the in-memory Limiter.
func TestLimiterConformance(t *testing.T) {
	limitstest.Run(t, func(t *testing.T, r limits.Rate, now func() time.Time) limits.Buckets {
		return limits.NewLimiter(r, 1000, now)
	})
}
