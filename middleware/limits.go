package middleware

import (
	"crypto/sha256"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/time/rate"

	"beerlocker/metrics"
)

// Rate is the shape of a token bucket of failed attempts: Burst failures
// at once, then one more every 60/PerMinute seconds.
type Rate struct {
	Burst     int
	PerMinute float64
}

// every is the time one token takes to come back.
func (r Rate) every() time.Duration {
	return time.Duration(float64(time.Minute) / r.PerMinute)
}

// Limits configures a Guard (API.md §8, the 429 paragraph).
type Limits struct {
	Address Rate // failures from one client address, whatever the account
	Account Rate // failures against one account (a username or a client_id)
	// MaxKeys bounds how many addresses, and separately how many accounts,
	// are remembered at once.
	MaxKeys int
}

// DefaultLimits protect a real deployment. One address may fail 20 times at
// once and then once every 3 s, across every account and surface; one
// account may fail 10 times, then once every 10 s, whoever tries. With these
// numbers a single address gets at most about 20 guesses a minute in all,
// and a busy NAT of honest users rarely reaches the burst. 100,000 keys per
// dimension cost about 20 MB at most (see TestLimiterMemoryBounded).
var DefaultLimits = Limits{
	Address: Rate{Burst: 20, PerMinute: 20},
	Account: Rate{Burst: 10, PerMinute: 6},
	MaxKeys: 100_000,
}

// LockoutBound is the longest a user with the right password waits because
// of failures against the account, when the user's own address has failed
// recently (see Guard). A user whose address has not failed recently is
// never refused because of the account; an attacker on other addresses
// can change neither.
func (l Limits) LockoutBound() time.Duration {
	return time.Duration(l.Address.Burst) * l.Address.every()
}

// A Guard limits failed credential checks in two dimensions: per client
// address and per account. Every place a secret is checked asks Check
// first and calls Fail on a wrong credential; a right credential costs
// nothing. A nil *Guard allows everything.
//
// The address dimension stops one address from guessing: once its bucket is
// empty, nothing from it is checked (429) until a token comes back.
//
// The account dimension is harder: if an empty account bucket refused
// everyone, an attacker failing once per refill from anywhere would lock the
// owner out for as long as the attack lasts. So an empty account bucket
// refuses only addresses that have failed recently; an address whose bucket
// is full (no failure left unrefilled) is still checked, and a failure
// there costs the address its whole burst (going into debt if needed). So:
//
//   - A legitimate user on another address who has not failed recently is
//     never refused because of anyone else's failures; the password is
//     checked (argon2id still runs) and a right one is accepted.
//   - A user who has failed recently waits until the own address's bucket
//     is full again, however long the attack goes on: at most
//     Limits.LockoutBound (Address.Burst refill periods, 60 s with the
//     defaults) after the user's last failure, unless that address has
//     failed more than Address.Burst times in a row. Retry-After says so.
//     (Users behind one NAT share its bucket: "another address" means one
//     the attacker does not use.)
//   - Against a locked account, each attacking address gets one guess per
//     LockoutBound instead of Address.PerMinute, so a distributed attack on
//     one account is slowed by a factor of Address.Burst; the account's own
//     refill adds Account.PerMinute guesses a minute in all.
//
// The address dimension goes into debt (rate.Limiter.ReserveN), so requests
// that were in flight together and all failed are all paid for, and an
// address's long-run rate of checked guesses stays at most Address.PerMinute
// whatever its concurrency. The account dimension never goes below zero, so
// an account is usable by recently-failing addresses again within one refill
// period (10 s by default) after an attack stops.
type Guard struct {
	limits  Limits
	address *Limiter
	account *Limiter
	// Metrics counts failures and refusals; nil counts nothing.
	Metrics *metrics.Metrics
}

// NewGuard returns a Guard with the limits l, reading time from now.
func NewGuard(l Limits, now func() time.Time) *Guard {
	return &Guard{
		limits:  l,
		address: NewLimiter(l.Address, l.MaxKeys, now),
		account: NewLimiter(l.Account, l.MaxKeys, now),
	}
}

// UserAccount is the account key of a username: case does not matter, as
// with usernames everywhere.
func UserAccount(username string) string { return "user:" + strings.ToLower(username) }

// ClientAccount is the account key of an OAuth client.
func ClientAccount(clientID string) string { return "client:" + clientID }

// addressKey is the key of a client address. An IPv6 host usually holds a
// whole /64, so all of it counts as one address; anything unparseable is
// used as it is.
func addressKey(addr string) string {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return addr
	}
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}

// LimitedError is returned instead of checking a credential when there
// were too many failures; Wait is how long until a check may succeed.
type LimitedError struct{ Wait time.Duration }

func (e *LimitedError) Error() string {
	return "too many failed attempts; retry after " + e.InWords()
}

// RetryAfter is the Retry-After value: whole seconds, at least 1.
func (e *LimitedError) RetryAfter() int {
	return max(1, int(math.Ceil(e.Wait.Seconds())))
}

// InWords is the wait for messages: "1 second", "30 seconds".
func (e *LimitedError) InWords() string {
	if n := e.RetryAfter(); n != 1 {
		return strconv.Itoa(n) + " seconds"
	}
	return "1 second"
}

// Check returns a *LimitedError when a credential for account (UserAccount
// or ClientAccount; "" for none) from addr must not be checked now, and nil
// when it may be.
func (g *Guard) Check(addr, account string) *LimitedError {
	if g == nil {
		return nil
	}
	a := addressKey(addr)
	tokens := g.address.Tokens(a)
	full := float64(g.limits.Address.Burst)
	locked := account != "" && g.account.Tokens(account) < 1
	switch {
	case tokens >= 1 && !locked:
		return nil
	case tokens >= full:
		return nil // a clean address is checked even on a locked account
	case locked:
		// The account may refill sooner, but an attacker can take that
		// token first; a full address is what is sure to be checked, so
		// Retry-After promises that.
		g.Metrics.RateLimited("account")
		return &LimitedError{Wait: g.address.Wait(a, full)}
	}
	g.Metrics.RateLimited("address")
	return &LimitedError{Wait: g.address.Wait(a, 1)}
}

// Lockout tells which buckets a failure emptied.
type Lockout struct{ Address, Account bool }

// Fail records a wrong credential for account from addr.
func (g *Guard) Fail(addr, account string) Lockout {
	if g == nil {
		return Lockout{}
	}
	var lo Lockout
	kind, _, _ := strings.Cut(account, ":") // "user" or "client"
	g.Metrics.AuthFailure(kind)
	a := addressKey(addr)
	cost := 1
	if account != "" {
		if g.account.Tokens(account) < 1 {
			cost = g.limits.Address.Burst // a guess at a locked account: see Guard
		} else {
			before, after := g.account.Take(account, 1, false)
			lo.Account = before >= 1 && after < 1
		}
	}
	before, after := g.address.Take(a, cost, true)
	lo.Address = before >= 1 && after < 1
	return lo
}

// Limiter is a set of token buckets keyed by string, in bounded memory: it
// holds at most max buckets, and makes room by dropping the bucket that
// failed least recently. A key without a bucket has a full one, so a bucket
// is created only by a failure, and dropping a full bucket loses nothing.
// Keys are stored as a 16-byte SHA-256 prefix, so a long key costs no more
// than a short one. It is safe for concurrent use.
//
// Memory is bounded because every insertion first evicts when len == max,
// and the map and the list always hold the same buckets; each bucket is a
// fixed-size struct (about 200 bytes with its map slot).
//
// An attacker could flush a bucket by failing under max other keys, but
// each of those failures is itself charged to the attacker's address.
type Limiter struct {
	rate  Rate
	limit rate.Limit
	max   int
	now   func() time.Time

	mu      sync.Mutex
	buckets map[bucketKey]*bucket
	// head is a sentinel of the circular list of buckets, most recently
	// failed first.
	head bucket
}

type bucketKey [16]byte

type bucket struct {
	key        bucketKey
	prev, next *bucket
	lim        *rate.Limiter
}

// NewLimiter returns a Limiter of buckets shaped r, holding at most maxKeys.
func NewLimiter(r Rate, maxKeys int, now func() time.Time) *Limiter {
	l := &Limiter{rate: r, limit: rate.Limit(r.PerMinute / 60), max: max(maxKeys, 1), now: now,
		buckets: make(map[bucketKey]*bucket)}
	l.head.prev, l.head.next = &l.head, &l.head
	return l
}

func keyOf(key string) bucketKey {
	sum := sha256.Sum256([]byte(key))
	return bucketKey(sum[:16])
}

// Tokens returns how many failures key may have now without being refused.
func (l *Limiter) Tokens(key string) float64 {
	k := keyOf(key)
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[k]
	if !ok {
		return float64(l.rate.Burst)
	}
	return b.lim.TokensAt(l.now())
}

// Wait returns how long until key holds at least level tokens (at most the
// burst); 0 if it does now.
func (l *Limiter) Wait(key string, level float64) time.Duration {
	missing := min(level, float64(l.rate.Burst)) - l.Tokens(key)
	if missing <= 0 {
		return 0
	}
	return time.Duration(missing * float64(l.rate.every()))
}

// Take removes n tokens (at most the burst) from key's bucket, creating it
// if needed, and returns the tokens before and after. With debt the bucket
// may go below zero and must refill that far first; without, it stops at
// what it held.
func (l *Limiter) Take(key string, n int, debt bool) (before, after float64) {
	k := keyOf(key)
	n = min(n, l.rate.Burst)
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b, ok := l.buckets[k]
	if ok {
		l.unlink(b)
	} else {
		if len(l.buckets) >= l.max {
			oldest := l.head.prev
			l.unlink(oldest)
			delete(l.buckets, oldest.key)
		}
		b = &bucket{key: k, lim: rate.NewLimiter(l.limit, l.rate.Burst)}
		l.buckets[k] = b
	}
	l.pushFront(b)
	before = b.lim.TokensAt(now)
	switch {
	case debt:
		b.lim.ReserveN(now, n)
	case before >= float64(n):
		b.lim.AllowN(now, n)
	case before >= 1:
		b.lim.AllowN(now, int(before))
	}
	return before, b.lim.TokensAt(now)
}

// Len returns how many buckets are held.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

func (l *Limiter) unlink(b *bucket) {
	b.prev.next, b.next.prev = b.next, b.prev
	b.prev, b.next = nil, nil
}

func (l *Limiter) pushFront(b *bucket) {
	b.prev, b.next = &l.head, l.head.next
	l.head.next.prev = b
	l.head.next = b
}

// AbortTooManyAttempts answers an API request refused by a Guard: 429, a
// problem, and Retry-After.
func AbortTooManyAttempts(c *gin.Context, le *LimitedError) {
	c.Header("Retry-After", strconv.Itoa(le.RetryAfter()))
	AbortWithProblem(c, Problem{Status: http.StatusTooManyRequests, Title: "Too many failed attempts",
		Detail: "Too many failed sign-in attempts from this address or for this account. Try again in " + le.InWords() + "."})
}
