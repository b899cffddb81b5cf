// Package limitstest is the conformance suite of limits.Buckets. Every
// store of a Guard's buckets (the in-memory Limiter, Redis) calls Run, so
// the refill arithmetic and the Guard's guarantees hold whichever keeps
// the buckets.
package limitstest

import (
	"beerlocker/limits"
	"context"
	"errors"
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
// the in-memory Limiter does.
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
	t.Run("Guard/DebtBounded", func(t *testing.T) { testGuardDebtBounded(t, open) })
	t.Run("Guard/InFlight", func(t *testing.T) { testGuardInFlight(t, open) })
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

// testDebt: debt goes below zero, but never by more than one burst: what
// would go deeper is forgiven, so a bucket is full again at most two
// bursts' refill after its last take (API.md §8: lockouts are bounded).
func testDebt(t *testing.T, open Open) {
	clock := NewClock()
	b := open(t, limits.Rate{Burst: 3, PerMinute: 6}, clock.Now)
	wantTake(t, b, "k", 3, true, 3, 0)
	wantTake(t, b, "k", 2, true, 0, -2)
	wantTake(t, b, "k", 5, true, -2, -3) // at most one burst of debt
	wantTake(t, b, "k", 1, true, -3, -3)
	clock.Advance(10 * time.Second)
	wantTokens(t, b, "k", -2, "after one refill period")
	wantTake(t, b, "k", 1, false, -2, -2) // without debt, nothing is taken
	wantTake(t, b, "k", 1, true, -2, -3)
	clock.Advance(59 * time.Second)
	wantTokens(t, b, "k", 2.9, "a second before two bursts' refill")
	clock.Advance(time.Second)
	wantTokens(t, b, "k", 3, "after the deepest debt is paid off and the bucket refilled")
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
// 90 takes with debt charge every one (going 40 into debt, short of the
// floor of one burst, which would hide a lost take).
func testConcurrentTakes(t *testing.T, open Open) {
	const burst, takers, debtors = 50, 200, 90
	b := open(t, limits.Rate{Burst: burst, PerMinute: 1}, NewClock().Now)
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	errs := make(chan error, 2*takers)
	for i := range takers {
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
		go func(i int) {
			defer wg.Done()
			if i >= debtors {
				return
			}
			if _, _, err := b.Take(context.Background(), "d", 1, true); err != nil {
				errs <- err
			}
		}(i)
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
	wantTokens(t, b, "d", burst-debtors, "after the race with debt")
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

// begin begins an attempt for account from addr; a refusal is returned as
// the *LimitedError, with a nil Attempt.
func begin(t *testing.T, g *limits.Guard, addr, account string) (*limits.Attempt, *limits.LimitedError) {
	t.Helper()
	a, err := g.Begin(context.Background(), addr, account)
	var le *limits.LimitedError
	if errors.As(err, &le) {
		return nil, le
	}
	if err != nil {
		t.Fatalf("Begin(%s, %s): %v", addr, account, err)
	}
	return a, nil
}

// fail begins an attempt for account from addr and fails it; it returns
// the Lockout, or the refusal when the attempt was not admitted.
func fail(t *testing.T, g *limits.Guard, addr, account string) (limits.Lockout, *limits.LimitedError) {
	t.Helper()
	a, le := begin(t, g, addr, account)
	if le != nil {
		return limits.Lockout{}, le
	}
	defer a.Done()
	lo, err := a.Fail(context.Background())
	if err != nil {
		t.Fatalf("Fail(%s, %s): %v", addr, account, err)
	}
	return lo, nil
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
			fail(t, g, fmt.Sprintf("10.0.%d.%d", attackers/250, attackers%250), acct)
		}
	}
	attack()
	if le := check(t, g, "10.0.0.1", limits.UserAccount("alice")); le == nil {
		t.Fatal("an attacker that failed is still checked on the locked account (and usernames ignore case)")
	}
	if le := check(t, g, "203.0.113.9", acct); le != nil {
		t.Fatalf("the owner on a clean address is refused: %v", le)
	}
	if _, le := fail(t, g, "203.0.113.9", acct); le != nil { // a typo
		t.Fatalf("the owner's typo on a clean address was not checked: %v", le)
	}
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
// so concurrency does not buy an address extra guesses: two attempts that
// both passed the check, on a bucket of one token, both cost their token.
func testGuardDebt(t *testing.T, open Open) {
	clock := NewClock()
	l := limits.Limits{Address: limits.Rate{Burst: 5, PerMinute: 60}, Account: limits.Rate{Burst: 100, PerMinute: 60}, MaxKeys: 1000}
	g := guard(t, open, l, clock.Now)
	for i := range 4 {
		if _, le := fail(t, g, "192.0.2.1", limits.UserAccount(fmt.Sprint("u", i))); le != nil {
			t.Fatalf("failure %d of a burst of 5 refused: %v", i+1, le)
		}
	}
	a1, le1 := begin(t, g, "192.0.2.1", limits.UserAccount("x"))
	a2, le2 := begin(t, g, "192.0.2.1", limits.UserAccount("y"))
	if le1 != nil || le2 != nil {
		t.Fatalf("two attempts in flight on the last token: %v, %v; want both admitted (InFlight = %d)", le1, le2, limits.InFlight)
	}
	for _, a := range []*limits.Attempt{a1, a2} {
		if _, err := a.Fail(context.Background()); err != nil {
			t.Fatal(err)
		}
		a.Done()
	}
	le := check(t, g, "192.0.2.1", "")
	if le == nil || (le.Wait-2*time.Second).Abs() > time.Millisecond {
		t.Fatalf("after 6 failures on a burst of 5 at 1/s: %v, want a wait of 2s", le)
	}
}

// testGuardDebtBounded: the worst case of debt, guesses at a locked account
// from a clean address that were in flight together at two instances
// (two Guards on the same buckets), each costing the whole burst, leaves
// the address one burst in debt and no more: the wait is Limits.MaxWait,
// however many there were.
func testGuardDebtBounded(t *testing.T, open Open) {
	clock := NewClock()
	l := limits.Limits{Address: limits.Rate{Burst: 5, PerMinute: 60}, Account: limits.Rate{Burst: 1, PerMinute: 1}, MaxKeys: 1000}
	address, account := open(t, l.Address, clock.Now), open(t, l.Account, clock.Now)
	instances := []*limits.Guard{limits.NewGuardWith(l, address, account, nil), limits.NewGuardWith(l, address, account, nil)}
	acct := limits.UserAccount("alice")
	fail(t, instances[0], "198.51.100.1", acct) // locks the account
	for range 3 {
		var attempts []*limits.Attempt
		for _, g := range instances {
			for range limits.InFlight {
				a, le := begin(t, g, "192.0.2.1", acct)
				if le != nil {
					t.Fatalf("a clean address refused on a locked account: %v", le)
				}
				attempts = append(attempts, a)
			}
		}
		for _, a := range attempts {
			if _, err := a.Fail(context.Background()); err != nil {
				t.Fatal(err)
			}
			a.Done()
		}
		le := check(t, instances[0], "192.0.2.1", acct)
		if le == nil || le.Wait > l.MaxWait() {
			t.Fatalf("after %d guesses at a locked account in flight together: %v, want a refusal of at most MaxWait, %s", len(attempts), le, l.MaxWait())
		}
		clock.Advance(le.Wait)
	}
}

// testGuardInFlight: attempts are admitted in turn. With InFlight attempts
// for one account under way, the next waits, whatever its address, until
// one ends; once the failures before it are recorded, it is refused.
func testGuardInFlight(t *testing.T, open Open) {
	l := limits.Limits{Address: limits.Rate{Burst: 100, PerMinute: 1}, Account: limits.Rate{Burst: limits.InFlight, PerMinute: 1}, MaxKeys: 1000}
	g := guard(t, open, l, NewClock().Now)
	acct := limits.UserAccount("alice")
	var held []*limits.Attempt
	for i := range limits.InFlight {
		a, le := begin(t, g, fmt.Sprintf("192.0.2.%d", i+1), acct)
		if le != nil {
			t.Fatalf("attempt %d refused: %v", i+1, le)
		}
		held = append(held, a)
	}
	// Another address, the same account: it waits.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := g.Begin(ctx, "192.0.2.99", acct); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Begin with %d attempts in flight = %v, want it to wait until its context ends", limits.InFlight, err)
	}
	// Another account from a held address: it waits as well.
	ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if a, err := g.Begin(ctx, "192.0.2.1", limits.UserAccount("bob")); err != nil {
		t.Fatalf("Begin from an address with one attempt in flight = %v, want it admitted", err)
	} else {
		a.Done()
	}

	// From a held address, whose failures are about to lock the account.
	type result struct {
		a   *limits.Attempt
		err error
	}
	next := make(chan result, 1)
	go func() {
		a, err := g.Begin(context.Background(), "192.0.2.1", acct)
		next <- result{a, err}
	}()
	select {
	case r := <-next:
		t.Fatalf("Begin returned %v, %v while %d attempts were in flight", r.a, r.err, limits.InFlight)
	case <-time.After(50 * time.Millisecond):
	}
	for _, a := range held { // all fail, then all end
		if _, err := a.Fail(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	for _, a := range held {
		a.Done()
	}
	r := <-next
	var le *limits.LimitedError
	if r.a != nil {
		r.a.Done()
	}
	if !errors.As(r.err, &le) {
		t.Fatalf("the waiting attempt, after the failures before it locked the account: %v, %v; want a *LimitedError", r.a, r.err)
	}
	if a, err := g.Begin(context.Background(), "203.0.113.1", acct); err != nil {
		t.Errorf("a clean address after the attempts ended: %v, want it admitted (nothing left in flight)", err)
	} else {
		a.Done()
	}
}

// testGuardLockoutReported: Fail reports the failure that empties a
// bucket, once.
func testGuardLockoutReported(t *testing.T, open Open) {
	l := limits.Limits{Address: limits.Rate{Burst: 4, PerMinute: 1}, Account: limits.Rate{Burst: 2, PerMinute: 1}, MaxKeys: 1000}
	g := guard(t, open, l, NewClock().Now)
	for i, tc := range []struct {
		account string
		want    limits.Lockout
	}{
		{limits.ClientAccount("app"), limits.Lockout{}},
		{limits.ClientAccount("app"), limits.Lockout{Account: true}},
		{limits.ClientAccount("other"), limits.Lockout{}},
		{limits.ClientAccount("other"), limits.Lockout{Address: true, Account: true}},
	} {
		got, le := fail(t, g, "192.0.2.7", tc.account)
		if le != nil {
			t.Fatalf("failure %d refused: %v", i+1, le)
		}
		if got != tc.want {
			t.Errorf("failure %d: Lockout = %+v, want %+v", i+1, got, tc.want)
		}
	}
	if _, le := fail(t, g, "192.0.2.7", limits.ClientAccount("third")); le == nil {
		t.Error("a fifth failure from an emptied address was checked")
	}
}
