// Package limitstest is the conformance suite of limits.Buckets. Every
// store of a Guard's buckets (the in-memory Limiter, Redis) calls Run, so
// the refill arithmetic and the Guard's guarantees hold whichever keeps
// the buckets.
package limitstest

import (
	"beerlocker/limits"
	"context"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"
)

// Open returns an empty set of buckets shaped r that reads time from now,
// apart from every other set Open returned.
type Open func(t *testing.T, r limits.Rate, now func() time.Time) limits.Buckets

// Clock is a clock a test moves by hand.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a Clock at a fixed instant.
func NewClock() *Clock { return &Clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Tolerance is how far a store's token count may be from the exact one: a
// store may keep time in milliseconds and compute in another order than
// golang.org/x/time/rate does.
const Tolerance = 1e-6

// Near reports whether two token counts agree within Tolerance.
func Near(a, b float64) bool { return math.Abs(a-b) <= Tolerance }

// Run runs the suite, with buckets from open.
func Run(t *testing.T, open Open) {
	t.Run("Buckets/NewKeyIsFull", func(t *testing.T) { testNewKeyIsFull(t, open) })
	t.Run("Buckets/TakeWithoutDebt", func(t *testing.T) { testTakeWithoutDebt(t, open) })
	t.Run("Buckets/Refill", func(t *testing.T) { testRefill(t, open) })
	t.Run("Buckets/Debt", func(t *testing.T) { testDebt(t, open) })
	t.Run("Buckets/KeysApart", func(t *testing.T) { testKeysApart(t, open) })
	t.Run("Buckets/ConcurrentTakes", func(t *testing.T) { testConcurrentTakes(t, open) })
	t.Run("Guard/LockoutBound", func(t *testing.T) { testGuardLockoutBound(t, open) })
	t.Run("Guard/Debt", func(t *testing.T) { testGuardDebt(t, open) })
	t.Run("Guard/LockoutReported", func(t *testing.T) { testGuardLockoutReported(t, open) })
}

func tokens(t *testing.T, b limits.Buckets, key string) float64 {
	t.Helper()
	n, err := b.Tokens(context.Background(), key)
	if err != nil {
		t.Fatalf("Tokens(%q): %v", key, err)
	}
	return n
}

func take(t *testing.T, b limits.Buckets, key string, n int, debt bool) (before, after float64) {
	t.Helper()
	before, after, err := b.Take(context.Background(), key, n, debt)
	if err != nil {
		t.Fatalf("Take(%q, %d, %v): %v", key, n, debt, err)
	}
	return before, after
}

func wantTokens(t *testing.T, b limits.Buckets, key string, want float64, when string) {
	t.Helper()
	if got := tokens(t, b, key); !Near(got, want) {
		t.Errorf("%s: %s holds %v tokens, want %v", when, key, got, want)
	}
}

func wantTake(t *testing.T, b limits.Buckets, key string, n int, debt bool, wantBefore, wantAfter float64) {
	t.Helper()
	before, after := take(t, b, key, n, debt)
	if !Near(before, wantBefore) || !Near(after, wantAfter) {
		t.Errorf("Take(%q, %d, debt %v) = %v → %v, want %v → %v", key, n, debt, before, after, wantBefore, wantAfter)
	}
}

func testNewKeyIsFull(t *testing.T, open Open) {
	b := open(t, limits.Rate{Burst: 3, PerMinute: 6}, NewClock().Now)
	wantTokens(t, b, "k", 3, "a key never taken from")
	wantTake(t, b, "fresh", 1, false, 3, 2)
}

func testTakeWithoutDebt(t *testing.T, open Open) {
	clock := NewClock()
	b := open(t, limits.Rate{Burst: 3, PerMinute: 6}, clock.Now)
	for i := range 3 {
		wantTake(t, b, "k", 1, false, float64(3-i), float64(2-i))
	}
	wantTake(t, b, "k", 1, false, 0, 0) // empty stays empty
	clock.Advance(5 * time.Second)      // half a token
	wantTake(t, b, "k", 1, false, 0.5, 0.5)
	clock.Advance(10 * time.Second)
	// 1.5 tokens, 2 asked: only the whole token is given.
	wantTake(t, b, "k", 2, false, 1.5, 0.5)
	clock.Advance(time.Hour)
	wantTake(t, b, "k", 10, false, 3, 0) // at most the burst
}

func testRefill(t *testing.T, open Open) {
	clock := NewClock()
	b := open(t, limits.Rate{Burst: 3, PerMinute: 6}, clock.Now)
	take(t, b, "k", 3, false)
	for i, want := range []float64{0.1, 0.25, 1, 2.9, 3, 3} {
		clock.Advance([]time.Duration{time.Second, 1500 * time.Millisecond, 7500 * time.Millisecond,
			19 * time.Second, time.Second, time.Hour}[i])
		wantTokens(t, b, "k", want, fmt.Sprintf("step %d", i+1))
	}
	// Reading changes nothing: the bucket still refills from where it was.
	take(t, b, "k", 3, false)
	clock.Advance(2 * time.Second)
	wantTokens(t, b, "k", 0.2, "after a read")
	wantTokens(t, b, "k", 0.2, "after two reads")
}

func testDebt(t *testing.T, open Open) {
	clock := NewClock()
	b := open(t, limits.Rate{Burst: 3, PerMinute: 6}, clock.Now)
	wantTake(t, b, "k", 3, true, 3, 0)
	wantTake(t, b, "k", 2, true, 0, -2)
	wantTake(t, b, "k", 5, true, -2, -5) // at most the burst, even in debt
	clock.Advance(10 * time.Second)
	wantTokens(t, b, "k", -4, "after one refill period")
	wantTake(t, b, "k", 1, false, -4, -4) // without debt, nothing is taken
	clock.Advance(70 * time.Second)
	wantTokens(t, b, "k", 3, "after the debt is paid off and the bucket refilled")
}

func testKeysApart(t *testing.T, open Open) {
	clock := NewClock()
	r := limits.Rate{Burst: 3, PerMinute: 6}
	b, other := open(t, r, clock.Now), open(t, r, clock.Now)
	take(t, b, "user:alice", 3, true)
	wantTokens(t, b, "user:bob", 3, "another key")
	wantTokens(t, other, "user:alice", 3, "the same key in another set")
}

// testConcurrentTakes: concurrent takes are atomic. Of 200 takes on a
// bucket of 50 that does not refill meanwhile, exactly 50 find a token, and
// debt charges every one.
func testConcurrentTakes(t *testing.T, open Open) {
	const burst, takers = 50, 200
	b := open(t, limits.Rate{Burst: burst, PerMinute: 1}, NewClock().Now)
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	errs := make(chan error, 2*takers)
	for range takers {
		wg.Add(2)
		go func() {
			defer wg.Done()
			before, _, err := b.Take(context.Background(), "k", 1, false)
			if err != nil {
				errs <- err
				return
			}
			if before >= 1 {
				mu.Lock()
				won++
				mu.Unlock()
			}
		}()
		go func() {
			defer wg.Done()
			if _, _, err := b.Take(context.Background(), "d", 1, true); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Take: %v", err)
	}
	if won != burst {
		t.Errorf("%d of %d concurrent takes found a token in a bucket of %d", won, takers, burst)
	}
	wantTokens(t, b, "k", 0, "after the race")
	wantTokens(t, b, "d", burst-takers, "after the race with debt")
}

func guard(t *testing.T, open Open, l limits.Limits, now func() time.Time) *limits.Guard {
	return limits.NewGuardWith(l, open(t, l.Address, now), open(t, l.Account, now), nil)
}

func check(t *testing.T, g *limits.Guard, addr, account string) *limits.LimitedError {
	t.Helper()
	le, err := g.Check(context.Background(), addr, account)
	if err != nil {
		t.Fatalf("Check(%s, %s): %v", addr, account, err)
	}
	return le
}

func fail(t *testing.T, g *limits.Guard, addr, account string) limits.Lockout {
	t.Helper()
	lo, err := g.Fail(context.Background(), addr, account)
	if err != nil {
		t.Fatalf("Fail(%s, %s): %v", addr, account, err)
	}
	return lo
}

// testGuardLockoutBound is the guarantee of Guard without HTTP: attackers
// cannot keep an owner on a clean address out, and an owner who mistyped
// waits at most LockoutBound however long the attack goes on.
func testGuardLockoutBound(t *testing.T, open Open) {
	clock := NewClock()
	l := limits.Limits{Address: limits.Rate{Burst: 5, PerMinute: 10}, Account: limits.Rate{Burst: 3, PerMinute: 6}, MaxKeys: 1000}
	g := guard(t, open, l, clock.Now)
	acct := limits.UserAccount("Alice")
	attackers := 0
	attack := func() {
		for range 10 { // fresh addresses: each gets its checks
			attackers++
			addr := fmt.Sprintf("10.0.%d.%d", attackers/250, attackers%250)
			if check(t, g, addr, acct) == nil {
				fail(t, g, addr, acct)
			}
		}
	}
	attack()
	if le := check(t, g, "10.0.0.1", limits.UserAccount("alice")); le == nil {
		t.Fatal("an attacker that failed is still checked on the locked account (and usernames ignore case)")
	}
	if le := check(t, g, "203.0.113.9", acct); le != nil {
		t.Fatalf("the owner on a clean address is refused: %v", le)
	}
	fail(t, g, "203.0.113.9", acct) // a typo
	le := check(t, g, "203.0.113.9", acct)
	if le == nil || le.Wait > l.LockoutBound() {
		t.Fatalf("after a typo on a locked account: %v, want a refusal of at most %s", le, l.LockoutBound())
	}
	for waited := time.Duration(0); waited < le.Wait; waited += time.Second {
		clock.Advance(time.Second)
		attack()
	}
	if le := check(t, g, "203.0.113.9", acct); le != nil {
		t.Fatalf("after Retry-After under attack the owner is still refused: %v", le)
	}
}

// testGuardDebt: failures that were in flight together are all charged,
// so concurrency does not buy an address extra guesses.
func testGuardDebt(t *testing.T, open Open) {
	clock := NewClock()
	l := limits.Limits{Address: limits.Rate{Burst: 5, PerMinute: 60}, Account: limits.Rate{Burst: 100, PerMinute: 60}, MaxKeys: 1000}
	g := guard(t, open, l, clock.Now)
	for i := range 25 { // 25 checks passed at once, then all failed
		fail(t, g, "192.0.2.1", limits.UserAccount(fmt.Sprint("u", i)))
	}
	le := check(t, g, "192.0.2.1", "")
	if le == nil || (le.Wait-21*time.Second).Abs() > time.Millisecond {
		t.Fatalf("after 25 failures on a burst of 5 at 1/s: %v, want a wait of 21s", le)
	}
}

// testGuardLockoutReported: Fail reports the failure that empties a
// bucket, once.
func testGuardLockoutReported(t *testing.T, open Open) {
	l := limits.Limits{Address: limits.Rate{Burst: 4, PerMinute: 1}, Account: limits.Rate{Burst: 2, PerMinute: 1}, MaxKeys: 1000}
	g := guard(t, open, l, NewClock().Now)
	acct := limits.ClientAccount("app")
	for i, want := range []limits.Lockout{{}, {Account: true}, {Address: true}, {}} {
		if got := fail(t, g, "192.0.2.7", acct); got != want {
			t.Errorf("failure %d: Lockout = %+v, want %+v", i+1, got, want)
		}
	}
}
