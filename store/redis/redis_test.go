package redis_test

import (
	"context"
	"testing"
	"time"

	"beerlocker/models"
	"beerlocker/store/cache"
	"beerlocker/store/redis"
	"beerlocker/store/redis/redistest"
	"beerlocker/store/sqlite"
	"beerlocker/store/storetest"
)

// TestConformance runs the whole suite on the embedded database with its
// codes, tokens and device codes in a real redis-server, through the
// bearer cache with a revocation listener, as the service runs it. Each
// subtest gets a fresh key prefix on one server.
func TestConformance(t *testing.T) {
	srv := redistest.Start(t)
	storetest.Run(t, func(t *testing.T) *models.Store {
		s, _ := openComposed(t, srv)
		return s
	})
}

// openComposed opens SQLite in a temporary directory and Redis under a
// fresh prefix, composes them, wraps them in the bearer cache and listens
// for revocations, as run.go does.
func openComposed(t *testing.T, srv *redistest.Server) (*models.Store, *cache.Tokens) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	primary, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	rs := mustOpen(t, srv, redistest.Prefix())
	composed := rs.Compose(primary)
	wrapped, tc := cache.Wrap(composed, time.Minute, 1000, time.Now)
	done := make(chan struct{})
	go func() { defer close(done); rs.Listen(ctx, tc) }()
	t.Cleanup(func() {
		cancel()
		<-done
		if err := composed.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return wrapped, tc
}

func mustOpen(t *testing.T, srv *redistest.Server, prefix string) *redis.Store {
	t.Helper()
	s, err := redis.Open(context.Background(), srv.URL(), redis.Options{Prefix: prefix})
	if err != nil {
		t.Fatalf("redis.Open: %v", err)
	}
	return s
}
