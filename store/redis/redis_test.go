package redis_test

import (
	"context"
	"testing"
	"time"

	"beerlocker/models"
	"beerlocker/store/cache"
	"beerlocker/store/mongo/mongotest"
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
		return compose(t, srv, openSQLite(t))
	})
}

// TestConformanceOnMongo runs the suite with MongoDB (the in-process
// FerretDB, or MONGODB_TEST_URI) as the primary store: the cascades into
// Redis lean on the primary's own deletions, which differ by backend.
func TestConformanceOnMongo(t *testing.T) {
	srv := redistest.Start(t)
	uri := mongotest.URI(t)
	storetest.Run(t, func(t *testing.T) *models.Store {
		return compose(t, srv, mongotest.Store(t, uri))
	})
}

// openSQLite opens the embedded database in a temporary directory.
func openSQLite(t *testing.T) *models.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// compose puts primary's codes, tokens and device codes in Redis under a
// fresh prefix, wraps the result in the bearer cache and listens for
// revocations, as run.go does.
func compose(t *testing.T, srv *redistest.Server, primary *models.Store) *models.Store {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	rs := mustOpen(t, srv, redistest.Prefix())
	composed := rs.Compose(primary)
	wrapped, tc := cache.Wrap(composed, time.Minute, 1000, time.Now)
	done := make(chan struct{})
	go func() { defer close(done); rs.Listen(ctx, tc) }()
	t.Cleanup(func() {
		cancel()
		<-done
		rs.Close()
	})
	return wrapped
}

func mustOpen(t *testing.T, srv *redistest.Server, prefix string) *redis.Store {
	t.Helper()
	s, err := redis.Open(context.Background(), srv.URL(), redis.Options{Prefix: prefix})
	if err != nil {
		t.Fatalf("redis.Open: %v", err)
	}
	return s
}
