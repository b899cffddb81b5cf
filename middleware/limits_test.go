package middleware

import (
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"
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

func TestLimiterBucket(t *testing.T) {
	clock := newFakeClock()
	l := NewLimiter(Rate{Burst: 3, PerMinute: 6}, 100, clock.Now)
	if got := l.Tokens("k"); got != 3 {
		t.Fatalf("a new key has %v tokens, want the burst, 3", got)
	}
	if l.Len() != 0 {
		t.Fatal("reading a key created a bucket")
	}
	for i := range 3 {
		before, after := l.Take("k", 1, false)
		if before != float64(3-i) || after != float64(2-i) {
			t.Fatalf("take %d: %v → %v, want %d → %d", i+1, before, after, 3-i, 2-i)
		}
	}
	if before, after := l.Take("k", 1, false); before != 0 || after != 0 {
		t.Fatalf("take from empty without debt: %v → %v, want 0 → 0", before, after)
	}
	if w := l.Wait("k", 1); w != 10*time.Second {
		t.Errorf("Wait(1) = %s, want 10s (6/min)", w)
	}
	clock.Advance(10 * time.Second)
	if got := l.Tokens("k"); got != 1 {
		t.Errorf("after 10 s: %v tokens, want 1", got)
	}
	// With debt every failure is paid for.
	l.Take("k", 3, true)
	if w := l.Wait("k", 1); w != 30*time.Second {
		t.Errorf("after going 2 into debt: Wait(1) = %s, want 30s", w)
	}
	if w := l.Wait("k", 10); w != 50*time.Second {
		t.Errorf("Wait(above the burst) = %s, want the wait until full, 50s", w)
	}
}

// TestLimiterEvictsLeastRecentlyFailed: at capacity, the bucket that failed
// longest ago goes, not the one being attacked now.
func TestLimiterEvictsLeastRecentlyFailed(t *testing.T) {
	clock := newFakeClock()
	l := NewLimiter(Rate{Burst: 5, PerMinute: 1}, 3, clock.Now)
	for _, k := range []string{"a", "b", "c", "a", "d"} {
		l.Take(k, 1, false)
	}
	if l.Len() != 3 {
		t.Fatalf("Len = %d, want 3", l.Len())
	}
	for k, want := range map[string]float64{"a": 3, "b": 5, "c": 4, "d": 4} {
		if got := l.Tokens(k); got != want {
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
	g := NewGuard(Limits{Address: Rate{Burst: 5, PerMinute: 1}, Account: Rate{Burst: 5, PerMinute: 1}, MaxKeys: max}, clock.Now)
	buf := make([]byte, 128)
	rng := rand.NewChaCha8([32]byte{1})
	for i := range spray {
		g.Fail(fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255), UserAccount(randomKey(rng, buf)))
		if n := g.account.Len(); n > max {
			t.Fatalf("after %d keys the limiter holds %d, want at most %d", i+1, n, max)
		}
	}
	if g.address.Len() != max || g.account.Len() != max {
		t.Errorf("Len = %d addresses, %d accounts; want both full at %d", g.address.Len(), g.account.Len(), max)
	}
	grown := int64(heap()) - int64(start)
	// The keys would take 25 MB if kept; buckets take about 200 B.
	if limit := int64(2 * max * 400); grown > limit {
		t.Errorf("heap grew %d bytes for 2×%d buckets, want at most %d", grown, max, limit)
	}
	runtime.KeepAlive(g)
	t.Logf("heap grew %d bytes for 2×%d buckets (%d B each)", grown, max, grown/(2*max))
}

// TestGuardLockoutBound is the guarantee of Guard without HTTP: attackers
// cannot keep an owner on a clean address out, and an owner who mistyped
// waits at most LockoutBound however long the attack goes on.
func TestGuardLockoutBound(t *testing.T) {
	clock := newFakeClock()
	l := Limits{Address: Rate{Burst: 5, PerMinute: 10}, Account: Rate{Burst: 3, PerMinute: 6}, MaxKeys: 1000}
	g := NewGuard(l, clock.Now)
	acct := UserAccount("Alice")
	attackers := 0
	attack := func() {
		for range 10 { // fresh addresses: each gets its checks
			attackers++
			addr := fmt.Sprintf("10.0.%d.%d", attackers/250, attackers%250)
			if g.Check(addr, acct) == nil {
				g.Fail(addr, acct)
			}
		}
	}
	attack()
	if le := g.Check("10.0.0.1", UserAccount("alice")); le == nil {
		t.Fatal("an attacker that failed is still checked on the locked account (and usernames ignore case)")
	}
	if le := g.Check("203.0.113.9", acct); le != nil {
		t.Fatalf("the owner on a clean address is refused: %v", le)
	}
	g.Fail("203.0.113.9", acct) // a typo
	le := g.Check("203.0.113.9", acct)
	if le == nil || le.Wait > l.LockoutBound() {
		t.Fatalf("after a typo on a locked account: %v, want a refusal of at most %s", le, l.LockoutBound())
	}
	for waited := time.Duration(0); waited < le.Wait; waited += time.Second {
		clock.Advance(time.Second)
		attack()
	}
	if le := g.Check("203.0.113.9", acct); le != nil {
		t.Fatalf("after Retry-After under attack the owner is still refused: %v", le)
	}
}

// TestGuardDebt: failures that were in flight together are all charged,
// so concurrency does not buy an address extra guesses.
func TestGuardDebt(t *testing.T) {
	clock := newFakeClock()
	l := Limits{Address: Rate{Burst: 5, PerMinute: 60}, Account: Rate{Burst: 100, PerMinute: 60}, MaxKeys: 1000}
	g := NewGuard(l, clock.Now)
	for i := range 25 { // 25 checks passed at once, then all failed
		g.Fail("192.0.2.1", UserAccount(fmt.Sprint("u", i)))
	}
	le := g.Check("192.0.2.1", "")
	if le == nil || le.Wait != 21*time.Second {
		t.Fatalf("after 25 failures on a burst of 5 at 1/s: %v, want a wait of 21s", le)
	}
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
	if g.Check("a", "b") != nil || g.Fail("a", "b") != (Lockout{}) {
		t.Error("a nil Guard limits")
	}
}
