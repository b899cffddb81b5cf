package middleware_test

import (
	"testing"
	"time"

	"beerlocker/middleware"
	"beerlocker/middleware/limitstest"
)

// TestLimiterConformance runs the Buckets suite on the in-memory Limiter.
func TestLimiterConformance(t *testing.T) {
	limitstest.Run(t, func(t *testing.T, r middleware.Rate, now func() time.Time) middleware.Buckets {
		return middleware.NewLimiter(r, 1000, now)
	})
}
