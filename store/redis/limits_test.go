package redis_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"beerlocker/accounts"
	"beerlocker/limits"
	"beerlocker/limits/limitstest"
	"beerlocker/middleware"
	"beerlocker/models"
	"beerlocker/store/redis"
	"beerlocker/store/redis/redistest"
)

// TestBucketsConformance runs the Buckets suite, Guard guarantees
// included, on buckets in a real redis-server.
func TestBucketsConformance(t *testing.T) {
	s := mustOpen(t, redistest.Start(t), redistest.Prefix())
	var sets atomic.Int64
	limitstest.Run(t, func(t *testing.T, r limits.Rate, now func() time.Time) limits.Buckets {
		return s.Buckets(fmt.Sprint("set", sets.Add(1)), r, now)
	})
}

// TestBucketsMatchLimiter plays one random sequence of reads, takes with
// and without debt and clock moves on the Redis buckets and on the
// in-memory Limiter, and requires the same tokens at every step.
func TestBucketsMatchLimiter(t *testing.T) {
	s := mustOpen(t, redistest.Start(t), redistest.Prefix())
	ctx := context.Background()
	for i, r := range []limits.Rate{
		limits.DefaultLimits.Address,
		limits.DefaultLimits.Account,
		{Burst: 3, PerMinute: 7},
		{Burst: 1, PerMinute: 0.5},
	} {
		t.Run(fmt.Sprintf("burst %d at %v per minute", r.Burst, r.PerMinute), func(t *testing.T) {
			clock := limitstest.NewClock()
			mem := limits.NewLimiter(r, 100, clock.Now)
			red := s.Buckets(fmt.Sprint("match", i), r, clock.Now)
			rng := rand.New(rand.NewPCG(1, uint64(i)))
			keys := []string{"user:alice", "client:app", "192.0.2.1"}
			for step := range 2000 {
				key := keys[rng.IntN(len(keys))]
				// Up to two refill periods, in whole milliseconds: Redis
				// keeps time no finer.
				clock.Advance(time.Duration(rng.IntN(int(2*60_000/r.PerMinute))) * time.Millisecond)
				var got, want [2]float64
				var op string
				if rng.IntN(3) == 0 {
					op = "Tokens"
					got[0] = mustTokens(t, red, key)
					want[0], _ = mem.Tokens(ctx, key)
				} else {
					n, debt := 1+rng.IntN(r.Burst+1), rng.IntN(2) == 0
					op = fmt.Sprintf("Take(%d, debt %v)", n, debt)
					var err error
					if got[0], got[1], err = red.Take(ctx, key, n, debt); err != nil {
						t.Fatal(err)
					}
					want[0], want[1], _ = mem.Take(ctx, key, n, debt)
				}
				if !limitstest.Near(got[0], want[0]) || !limitstest.Near(got[1], want[1]) {
					t.Fatalf("step %d, %s %s: Redis %v, memory %v", step, key, op, got, want)
				}
			}
		})
	}
}

func mustTokens(t *testing.T, b limits.Buckets, key string) float64 {
	t.Helper()
	n, err := b.Tokens(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestBucketsSharedByInstances: two instances (two connections) race for
// one account's bucket; the script decides every take, so exactly Burst
// find a token.
func TestBucketsSharedByInstances(t *testing.T) {
	srv := redistest.Start(t)
	prefix := redistest.Prefix()
	clock := limitstest.NewClock() // stopped: no refill during the race
	r := limits.Rate{Burst: 50, PerMinute: 1}
	one := mustOpen(t, srv, prefix).Buckets("account", r, clock.Now)
	two := mustOpen(t, srv, prefix).Buckets("account", r, clock.Now)
	var wg sync.WaitGroup
	var won atomic.Int64
	errs := make(chan error, 200)
	for i := range 200 {
		b := one
		if i%2 == 1 {
			b = two
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			before, _, err := b.Take(context.Background(), limits.UserAccount("alice"), 1, false)
			if err != nil {
				errs <- err
				return
			}
			if before >= 1 {
				won.Add(1)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if won.Load() != 50 {
		t.Errorf("%d of 200 takes from two instances found a token in a bucket of 50", won.Load())
	}
	if n := mustTokens(t, two, limits.UserAccount("alice")); n != 0 {
		t.Errorf("the bucket holds %v tokens after the race, want 0", n)
	}
}

// TestBucketsKeys: a bucket's key names a hash, never the username or the
// address; it lives exactly until the bucket would be full again; and a
// read creates nothing.
func TestBucketsKeys(t *testing.T) {
	srv := redistest.Start(t)
	prefix := redistest.Prefix()
	s := mustOpen(t, srv, prefix)
	ctx := context.Background()
	clock := limitstest.NewClock()
	lim := limits.Limits{Address: limits.Rate{Burst: 3, PerMinute: 6}, Account: limits.Rate{Burst: 2, PerMinute: 6}}
	g := limits.NewGuardWith(lim, s.Buckets("address", lim.Address, clock.Now), s.Buckets("account", lim.Account, clock.Now), nil)
	if _, err := g.Check(ctx, "192.0.2.77", limits.UserAccount("Alice.Example")); err != nil {
		t.Fatal(err)
	}
	if keys := s.Client().Keys(ctx, prefix+"*").Val(); len(keys) != 0 {
		t.Fatalf("a check created keys %q", keys)
	}
	a, err := g.Begin(ctx, "192.0.2.77", limits.UserAccount("Alice.Example"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Fail(ctx); err != nil {
		t.Fatal(err)
	}
	a.Done()
	keys := s.Client().Keys(ctx, prefix+"*").Val()
	if len(keys) != 2 {
		t.Fatalf("keys after one failure = %q, want one per dimension", keys)
	}
	shape := regexp.MustCompile("^" + regexp.QuoteMeta(prefix) + "rl:(address|account):[0-9a-f]{32}$")
	for _, k := range keys {
		if !shape.MatchString(k) {
			t.Errorf("key %q, want %srl:<dimension>:<32 hex digits>", k, prefix)
		}
		raw := k
		for _, f := range s.Client().HGetAll(ctx, k).Val() {
			raw += " " + f
		}
		for _, secret := range []string{"alice", "192.0.2.77", "user:"} {
			if strings.Contains(strings.ToLower(raw), secret) {
				t.Errorf("key %q holds %q", raw, secret)
			}
		}
	}
	// One token out of a bucket refilling one every 10 s: it is full, and
	// forgotten, 10 s later. Going 4 into debt: 10 s per missing token.
	b := s.Buckets("ttl", limits.Rate{Burst: 3, PerMinute: 6}, clock.Now)
	for _, tc := range []struct {
		n    int
		debt bool
		want time.Duration
	}{{1, false, 10 * time.Second}, {3, true, 40 * time.Second}} {
		if _, _, err := b.Take(ctx, "k", tc.n, tc.debt); err != nil {
			t.Fatal(err)
		}
		ttl := s.Client().PTTL(ctx, ttlKey(t, s, prefix+"rl:ttl:")).Val()
		if ttl > tc.want || ttl < tc.want-time.Second {
			t.Errorf("after taking %d (debt %v): PTTL = %s, want %s", tc.n, tc.debt, ttl, tc.want)
		}
	}
}

func ttlKey(t *testing.T, s *redis.Store, prefix string) string {
	t.Helper()
	keys := s.Client().Keys(context.Background(), prefix+"*").Val()
	if len(keys) != 1 {
		t.Fatalf("keys under %s = %q, want one", prefix, keys)
	}
	return keys[0]
}

// TestGuardRedisDown: with Redis stopped the Guard fails closed: Check and
// Fail return an error wrapping models.ErrUnavailable, and an API request
// with a password is answered 503 without the password being checked (the
// Authenticator here has no users to check it against). Once Redis is back
// the Guard answers again.
func TestGuardRedisDown(t *testing.T) {
	srv := redistest.Start(t)
	s := mustOpen(t, srv, redistest.Prefix())
	ctx := context.Background()
	l := limits.DefaultLimits
	g := limits.NewGuardWith(l, s.Buckets("address", l.Address, time.Now), s.Buckets("account", l.Account, time.Now), nil)
	log := slog.New(slog.DiscardHandler)
	auth := middleware.NewAuthenticator(accounts.NewVerifier(accounts.VerifierConfig{Limits: g, Log: log}), nil, middleware.Resource{Audience: models.AudienceAPI}, log, nil)
	gin.SetMode(gin.ReleaseMode)
	router := gin.New()
	router.GET("/api/users/me", auth.Require("beers:read"), func(c *gin.Context) { c.Status(http.StatusOK) })

	inFlight, err := g.Begin(ctx, "192.0.2.2", limits.UserAccount("bob")) // begun before the outage
	if err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	if le, err := g.Check(ctx, "192.0.2.1", limits.UserAccount("alice")); !errors.Is(err, models.ErrUnavailable) || le != nil {
		t.Errorf("Check with Redis down = %v, %v; want no verdict and ErrUnavailable", le, err)
	}
	if a, err := g.Begin(ctx, "192.0.2.1", limits.UserAccount("alice")); !errors.Is(err, models.ErrUnavailable) || a != nil {
		t.Errorf("Begin with Redis down = %v, %v; want no attempt and ErrUnavailable", a, err)
	}
	if _, err := inFlight.Fail(ctx); !errors.Is(err, models.ErrUnavailable) {
		t.Errorf("Fail with Redis down: %v, want ErrUnavailable", err)
	}
	inFlight.Done()
	req := httptest.NewRequest("GET", "/api/users/me", nil)
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("alice:secret")))
	rec := httptest.NewRecorder()
	router.ServeHTTP(rec, req)
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" ||
		rec.Header().Get("Content-Type") != "application/problem+json" {
		t.Errorf("Basic with Redis down: %d, Retry-After %q, %s; want a 503 problem with Retry-After",
			rec.Code, rec.Header().Get("Retry-After"), rec.Header().Get("Content-Type"))
	}

	srv.Start()
	if le, err := g.Check(ctx, "192.0.2.1", limits.UserAccount("alice")); le != nil || err != nil {
		t.Errorf("Check with Redis back = %v, %v; want nil", le, err)
	}
}
