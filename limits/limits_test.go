package limits

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"

	"beerlocker/models"
)

// fakeClock is a clock a test moves by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// TestDefaultLimits checks that the production defaults are neither so
// loose they protect nothing nor so tight that honest users trip them.
func TestDefaultLimits(t *testing.T) {
	l := DefaultLimits
	for name, r := range map[string]Rate{"address": l.Address, "account": l.Account} {
		if r.Burst < 3 || r.Burst > 50 {
			t.Errorf("%s burst = %d: below 3 locks out honest typos, above 50 is a free guessing round", name, r.Burst)
		}
		if r.PerMinute < 1 || r.PerMinute > 60 {
			t.Errorf("%s refill = %v/min, want 1 to 60", name, r.PerMinute)
		}
	}
	if l.Account.PerMinute > l.Address.PerMinute {
		t.Errorf("an account refills faster (%v/min) than an address (%v/min)", l.Account.PerMinute, l.Address.PerMinute)
	}
	// Guesses one account takes in a day from one address: its burst, then
	// the account's refill plus one per LockoutBound (see Guard).
	perDay := float64(l.Account.Burst) + 24*60*(l.Account.PerMinute+float64(time.Minute)/float64(l.LockoutBound()))
	if perDay > 20_000 {
		t.Errorf("one address may guess %.0f passwords a day against one account, want at most 20000", perDay)
	}
	if b := l.LockoutBound(); b < 10*time.Second || b > 2*time.Minute {
		t.Errorf("LockoutBound = %s: want an honest user's wait after a typo between 10 s and 2 min", b)
	}
	if every := l.Account.every(); every > 30*time.Second {
		t.Errorf("a locked account regains a try only every %s, want at most 30 s", every)
	}
	if l.MaxKeys < 10_000 || l.MaxKeys > 1_000_000 {
		t.Errorf("MaxKeys = %d, want 10k to 1M: fewer is flushed by a small spray, more costs too much memory", l.MaxKeys)
	}
}

// TestRateWait: the wait until a bucket holds a level, which Retry-After
// promises, from its tokens.
func TestRateWait(t *testing.T) {
	r := Rate{Burst: 3, PerMinute: 6} // a token every 10 s
	for _, tc := range []struct {
		tokens, level float64
		want          time.Duration
	}{
		{0, 1, 10 * time.Second},
		{1, 1, 0},
		{2.5, 1, 0},
		{0.5, 1, 5 * time.Second},
		{-2, 1, 30 * time.Second},  // in debt
		{-2, 10, 50 * time.Second}, // above the burst: until full
		{3, 3, 0},
	} {
		if got := r.wait(tc.tokens, tc.level); got != tc.want {
			t.Errorf("wait(%v tokens, level %v) = %s, want %s", tc.tokens, tc.level, got, tc.want)
		}
	}
}

func TestLimiterReadCreatesNoBucket(t *testing.T) {
	l := NewLimiter(Rate{Burst: 3, PerMinute: 6}, 100, newFakeClock().Now)
	if n, err := l.Tokens(context.Background(), "k"); n != 3 || err != nil {
		t.Fatalf("a new key: %v tokens, %v; want the burst, 3", n, err)
	}
	if l.Len() != 0 {
		t.Fatal("reading a key created a bucket")
	}
}

// TestLimiterEvictsLeastRecentlyFailed: at capacity, the bucket that failed
// longest ago goes, not the one being attacked now.
func TestLimiterEvictsLeastRecentlyFailed(t *testing.T) {
	clock := newFakeClock()
	l := NewLimiter(Rate{Burst: 5, PerMinute: 1}, 3, clock.Now)
	for _, k := range []string{"a", "b", "c", "a", "d"} {
		l.Take(context.Background(), k, 1, false)
	}
	if l.Len() != 3 {
		t.Fatalf("Len = %d, want 3", l.Len())
	}
	for k, want := range map[string]float64{"a": 3, "b": 5, "c": 4, "d": 4} {
		if got, _ := l.Tokens(context.Background(), k); got != want {
			t.Errorf("%s: %v tokens, want %v", k, got, want)
		}
	}
}

func randomKey(r *rand.ChaCha8, b []byte) string {
	_, _ = r.Read(b)
	return hex.EncodeToString(b)
}

// TestLimiterMemoryBounded sprays 100,000 random 256-byte keys: the limiter
// keeps at most its max, and memory grows by no more than max small
// buckets, whatever the keys' length.
func TestLimiterMemoryBounded(t *testing.T) {
	clock := newFakeClock()
	const max, spray = 2000, 100_000
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	start := heap()
	g := NewGuard(Limits{Address: Rate{Burst: 5, PerMinute: 1}, Account: Rate{Burst: 5, PerMinute: 1}, MaxKeys: max}, clock.Now, nil)
	address, account := g.address.(*Limiter), g.account.(*Limiter)
	buf := make([]byte, 128)
	rng := rand.NewChaCha8([32]byte{1})
	for i := range spray {
		a, err := g.Begin(context.Background(), fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255), UserAccount(randomKey(rng, buf)))
		if err != nil {
			t.Fatal(err)
		}
		a.Fail(context.Background())
		a.Done()
		if n := account.Len(); n > max {
			t.Fatalf("after %d keys the limiter holds %d, want at most %d", i+1, n, max)
		}
	}
	if address.Len() != max || account.Len() != max {
		t.Errorf("Len = %d addresses, %d accounts; want both full at %d", address.Len(), account.Len(), max)
	}
	grown := int64(heap()) - int64(start)
	// The keys would take 25 MB if kept; buckets take about 200 B.
	if limit := int64(2 * max * 400); grown > limit {
		t.Errorf("heap grew %d bytes for 2×%d buckets, want at most %d", grown, max, limit)
	}
	runtime.KeepAlive(g)
	t.Logf("heap grew %d bytes for 2×%d buckets (%d B each)", grown, max, grown/(2*max))
}

func TestAddressKey(t *testing.T) {
	for _, tc := range []struct{ a, b string }{
		{"2001:db8:1:2:aaaa::1", "2001:db8:1:2:bbbb::2"}, // one /64
		{"::ffff:192.0.2.1", "192.0.2.1"},
	} {
		if addressKey(tc.a) != addressKey(tc.b) {
			t.Errorf("%s and %s are counted apart", tc.a, tc.b)
		}
	}
	if addressKey("2001:db8:1:2::1") == addressKey("2001:db8:1:3::1") || addressKey("192.0.2.1") == addressKey("192.0.2.2") {
		t.Error("distinct addresses share a bucket")
	}
}

func TestLimitedErrorRetryAfter(t *testing.T) {
	for wait, want := range map[time.Duration]int{0: 1, time.Millisecond: 1, time.Second: 1, 1001 * time.Millisecond: 2, time.Minute: 60} {
		if got := (&LimitedError{Wait: wait}).RetryAfter(); got != want {
			t.Errorf("RetryAfter(%s) = %d, want %d", wait, got, want)
		}
	}
}

func TestNilGuardAllows(t *testing.T) {
	var g *Guard
	ctx := context.Background()
	if le, err := g.Check(ctx, "a", "b"); le != nil || err != nil {
		t.Errorf("a nil Guard's Check = %v, %v", le, err)
	}
	a, err := g.Begin(ctx, "a", "b")
	if err != nil {
		t.Errorf("a nil Guard's Begin = %v", err)
	}
	if lo, err := a.Fail(ctx); lo != (Lockout{}) || err != nil {
		t.Errorf("a nil Guard's Attempt's Fail = %+v, %v", lo, err)
	}
	a.Done()
}

// brokenBuckets are buckets whose store is down.
type brokenBuckets struct{}

var errBroken = fmt.Errorf("test store: %w", models.ErrUnavailable)

func (brokenBuckets) Tokens(context.Context, string) (float64, error) { return 0, errBroken }

func (brokenBuckets) Take(context.Context, string, int, bool) (float64, float64, error) {
	return 0, 0, errBroken
}

// takesBroken are buckets that can be read but not charged.
type takesBroken struct{ *Limiter }

func (takesBroken) Take(context.Context, string, int, bool) (float64, float64, error) {
	return 0, 0, errBroken
}

// TestGuardFailsClosed: when either dimension's store is down, Check,
// Begin and Fail return its error, never a verdict that lets the
// credential be checked unlimited.
func TestGuardFailsClosed(t *testing.T) {
	ctx := context.Background()
	l := Limits{Address: Rate{Burst: 2, PerMinute: 1}, Account: Rate{Burst: 2, PerMinute: 1}, MaxKeys: 10}
	for _, tc := range []struct {
		name             string
		address, account Buckets
		// drain empties the address bucket first, so Check reads the account.
		drain bool
	}{
		{name: "address store down", address: brokenBuckets{}, account: NewLimiter(l.Account, 10, time.Now)},
		{name: "account store down", address: NewLimiter(l.Address, 10, time.Now), account: brokenBuckets{}, drain: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewGuardWith(l, tc.address, tc.account, nil)
			if tc.drain {
				if _, _, err := tc.address.Take(ctx, addressKey("192.0.2.1"), 1, true); err != nil {
					t.Fatal(err)
				}
			}
			le, err := g.Check(ctx, "192.0.2.1", UserAccount("alice"))
			if !errors.Is(err, models.ErrUnavailable) || le != nil {
				t.Errorf("Check = %v, %v; want no verdict and an error wrapping ErrUnavailable", le, err)
			}
			if a, err := g.Begin(ctx, "192.0.2.1", UserAccount("alice")); !errors.Is(err, models.ErrUnavailable) || a != nil {
				t.Errorf("Begin = %v, %v; want no attempt and an error wrapping ErrUnavailable", a, err)
			}
		})
	}
	for _, tc := range []struct {
		name             string
		address, account Buckets
	}{
		{"address store fails to charge", takesBroken{NewLimiter(l.Address, 10, time.Now)}, NewLimiter(l.Account, 10, time.Now)},
		{"account store fails to charge", NewLimiter(l.Address, 10, time.Now), takesBroken{NewLimiter(l.Account, 10, time.Now)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := NewGuardWith(l, tc.address, tc.account, nil).Begin(ctx, "192.0.2.1", UserAccount("alice"))
			if err != nil {
				t.Fatal(err)
			}
			defer a.Done()
			if _, err := a.Fail(ctx); !errors.Is(err, models.ErrUnavailable) {
				t.Errorf("Fail error = %v, want one wrapping ErrUnavailable", err)
			}
		})
	}
}

// TestGateForgetsIdleKeys: a key of the gates is held only while attempts
// are under way or waiting, so their memory follows the requests in
// flight, not the keys ever seen.
func TestGateForgetsIdleKeys(t *testing.T) {
	g := NewGuard(Limits{Address: Rate{Burst: 5, PerMinute: 1}, Account: Rate{Burst: 5, PerMinute: 1}, MaxKeys: 10}, time.Now, nil)
	ctx := context.Background()
	var held []*Attempt
	for i := range 50 {
		a, err := g.Begin(ctx, fmt.Sprintf("192.0.2.%d", i), UserAccount(fmt.Sprint("u", i)))
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, a)
	}
	if n := len(g.addresses.slots) + len(g.accounts.slots); n != 100 {
		t.Fatalf("%d keys held for 50 attempts in flight, want 100", n)
	}
	waiting, cancel := context.WithCancel(ctx)
	cancel()
	for range InFlight - 1 {
		a, err := g.Begin(ctx, "192.0.2.0", UserAccount("u0"))
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, a)
	}
	if _, err := g.Begin(waiting, "192.0.2.0", UserAccount("u0")); !errors.Is(err, context.Canceled) {
		t.Fatalf("Begin past InFlight with a cancelled context = %v, want context.Canceled", err)
	}
	for _, a := range held {
		a.Done()
	}
	if n := len(g.addresses.slots) + len(g.accounts.slots); n != 0 {
		t.Errorf("%d keys still held after every attempt ended, want 0", n)
	}
}

// TestBeginWithEndedContext: a request whose context has ended (its client
// hung up) but that need not wait is admitted as before, so that what it
// was doing fails, or not, as it would have without the gates; only
// waiting ends with the context.
func TestBeginWithEndedContext(t *testing.T) {
	g := NewGuard(Limits{Address: Rate{Burst: 5, PerMinute: 1}, Account: Rate{Burst: 5, PerMinute: 1}, MaxKeys: 10}, time.Now, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for range 100 {
		a, err := g.Begin(ctx, "192.0.2.1", UserAccount("alice"))
		if err != nil {
			t.Fatalf("Begin with an ended context and a free place = %v, want it admitted", err)
		}
		a.Done()
	}
}

// countingObserver counts what a Guard reports.
type countingObserver struct {
	mu      sync.Mutex
	limited map[string]int
}

func (o *countingObserver) AuthFailure(string) {}

func (o *countingObserver) RateLimited(limit string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.limited[limit]++
}

// TestBeginBusy: an attempt that cannot begin within the queue timeout,
// because the attempts in flight before it are stuck (a database that does
// not answer), gives up with ErrBusy instead of waiting on, so that its
// answer, a 503, comes in bounded time; the wait counts once for both
// dimensions, and the refusal is reported as limit "in_flight".
func TestBeginBusy(t *testing.T) {
	obs := &countingObserver{limited: map[string]int{}}
	g := NewGuard(Limits{Address: Rate{Burst: 5, PerMinute: 1}, Account: Rate{Burst: 5, PerMinute: 1}, MaxKeys: 10}, time.Now, obs)
	g.queueTimeout = 100 * time.Millisecond
	ctx := context.Background()
	var held []*Attempt
	for i := range InFlight {
		a, err := g.Begin(ctx, fmt.Sprintf("192.0.2.%d", i), UserAccount("alice"))
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, a)
	}
	start := time.Now()
	if _, err := g.Begin(ctx, "192.0.2.99", UserAccount("alice")); !errors.Is(err, ErrBusy) {
		t.Fatalf("Begin behind %d stuck attempts = %v, want ErrBusy", InFlight, err)
	}
	if waited := time.Since(start); waited < g.queueTimeout || waited > 10*g.queueTimeout {
		t.Errorf("gave up after %s, want about the queue timeout, %s", waited, g.queueTimeout)
	}
	if obs.limited["in_flight"] != 1 {
		t.Errorf("reported %v, want one in_flight", obs.limited)
	}
	for _, a := range held {
		a.Done()
	}
	if a, err := g.Begin(ctx, "192.0.2.99", UserAccount("alice")); err != nil {
		t.Errorf("Begin once the stuck attempts ended = %v, want it admitted", err)
	} else {
		a.Done()
	}
	if n := len(g.addresses.slots) + len(g.accounts.slots); n != 0 {
		t.Errorf("%d keys still held after every attempt ended, want 0", n)
	}
}
