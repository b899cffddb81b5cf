package limits

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"
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

// wait returns how long a bucket of this shape holding tokens takes to
// hold level (at most the burst); 0 if it does now.
func (r Rate) wait(tokens, level float64) time.Duration {
	missing := min(level, float64(r.Burst)) - tokens
	if missing <= 0 {
		return 0
	}
	return time.Duration(missing * float64(r.every()))
}

// Limits configures the limits: a Guard's, how many failed credentials
// are answered before 429, and a Throttle's on registrations.
type Limits struct {
	Address Rate // failures from one client address, whatever the account
	Account Rate // failures against one account (a username or a client_id)
	// Register is the registrations from one client address, every attempt
	// counting (Throttle).
	Register Rate
	// MaxKeys bounds how many addresses, and separately how many accounts,
	// are remembered at once by each in-memory set of buckets.
	MaxKeys int
}

// DefaultLimits protect a real deployment. One address may fail 20 times at
// once and then once every 3 s, across every account and surface; one
// account may fail 10 times, then once every 10 s, whoever tries. With these
// numbers a single address gets at most about 20 guesses a minute in all,
// and a busy NAT of honest users rarely reaches the burst. One address may
// attempt 10 registrations at once, then one a minute (API.md §8): enough
// for a family or a classroom, too few to enumerate usernames in bulk.
// 100,000 keys per dimension cost about 20 MB at most (see
// TestLimiterMemoryBounded).
var DefaultLimits = Limits{
	Address:  Rate{Burst: 20, PerMinute: 20},
	Account:  Rate{Burst: 10, PerMinute: 6},
	Register: Rate{Burst: 10, PerMinute: 1},
	MaxKeys:  100_000,
}

// LockoutBound is the longest a user with the right password waits because
// of failures against the account, when the user's own address has failed
// recently (see Guard). A user whose address has not failed recently is
// never refused because of the account; an attacker on other addresses
// can change neither.
func (l Limits) LockoutBound() time.Duration {
	return time.Duration(l.Address.Burst) * l.Address.every()
}

// MaxWait is the longest Retry-After a Guard answers: an address bucket in
// its deepest debt, one burst below zero (see Buckets.Take), refilling to
// full. That is twice LockoutBound: 2 minutes with DefaultLimits; the
// configuration keeps it within MaxLockout.
func (l Limits) MaxWait() time.Duration { return 2 * l.LockoutBound() }

// MaxLockout is the longest Retry-After API.md §8 allows any limit.
const MaxLockout = 10 * time.Minute

// InFlight is how many attempts per client address, and per account, a
// Guard lets be checked at once in one process (see Guard.Begin); more
// wait their turn. Two keeps an honest client's parallel requests going
// while a parallel guesser gains at most one check over a sequential one.
const InFlight = 2

// QueueTimeout is how long an attempt waits for its turn (Guard.Begin)
// before it gives up with ErrBusy. Turns are quick, the time of one check,
// unless the checks in flight are stuck: on a database that does not
// answer, a store call takes up to 5 s, and an attempt that waited for two
// of them and then made its own would take 15 s to be answered 503. Three
// seconds keeps a wait and its own call within the outage bound of the
// system tests, and is far more than a turn takes otherwise.
const QueueTimeout = 3 * time.Second

// ErrBusy is returned by Guard.Begin when the attempts before it did not
// end within QueueTimeout. Nothing was checked; the answer is a 503 with
// Retry-After, as for a database that does not answer.
var ErrBusy = errors.New("limits: too many credential checks in flight")

// A Guard limits failed credential checks in two dimensions: per client
// address and per account. Every place a secret is checked begins an
// Attempt first (Begin), calls its Fail on a wrong credential and its Done
// when answered; a right credential costs nothing. A nil *Guard allows
// everything.
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
//     defaults) after the user's last failure, or Limits.MaxWait if that
//     address has gone into debt. Retry-After says so.
//     (Users behind one NAT share its bucket: "another address" means one
//     the attacker does not use.)
//   - Against a locked account, each attacking address gets one guess per
//     LockoutBound instead of Address.PerMinute, so a distributed attack on
//     one account is slowed by a factor of Address.Burst; the account's own
//     refill adds Account.PerMinute guesses a minute in all.
//
// Concurrent attempts are admitted in turn (Begin): in one process, at most
// InFlight attempts per address and InFlight per account are between their
// Check and their outcome at once, and the others wait, in order of
// arrival, until one has recorded its failure (or found its credential
// right) and ended. Checking first and recording after, with nothing in
// between, was a race that guesses sent together won: 60 at once were all
// checked where sequentially the burst was. Now a parallel guesser gains at
// most InFlight−1 checks over a sequential one. The bound is per process:
// n instances sharing buckets admit n×InFlight at once. (Reserving a token
// before the check and giving it back on success would be exact across
// instances, but an honest client with more requests in flight at once
// than the account's burst, say a load test with 32 connections, would get
// 429s for a credential it had right: the reservations of its own requests
// would empty the bucket. Waiting costs it only the check's time.)
//
// The address dimension may go into debt (Buckets.Take), so that attempts
// in flight together are all paid for and a guess at a locked account
// costs the whole burst however full the bucket was; but never by more
// than one burst, so a lockout ends: no Retry-After is over Limits.MaxWait.
// The account dimension never goes below zero, so an account is usable by
// recently-failing addresses again within one refill period (10 s by
// default) after an attack stops.
//
// The buckets live in memory (NewGuard) or in a shared store such as Redis
// (NewGuardWith), so that every instance counts the same failures. A guard
// whose store fails refuses rather than checks: Check and Fail then return
// the store's error (wrapping models.ErrUnavailable when it cannot be
// reached), and the caller answers 503 without looking at the credential.
// Checking unlimited while the store is down would hand an attacker who can
// make it fail an unlimited guessing round.
type Guard struct {
	limits  Limits
	address Buckets
	account Buckets
	obs     Observer
	// addresses and accounts admit attempts in turn, InFlight at a time,
	// each waiting at most queueTimeout (QueueTimeout; shorter in tests).
	addresses, accounts gate
	queueTimeout        time.Duration
}

// Observer counts what a Guard does; *metrics.Metrics is one. Its
// methods must accept being called on a nil receiver when the observer is
// a nil pointer.
type Observer interface {
	// AuthFailure counts a wrong credential of kind "user", "client" or
	// another account prefix.
	AuthFailure(kind string)
	// RateLimited counts a check refused by dimension "address" or "account".
	RateLimited(dimension string)
}

// NewGuard returns a Guard with the limits l whose buckets are kept in
// memory (a Limiter per dimension, of at most l.MaxKeys keys), reading time
// from now, and reporting to obs (nil for nobody).
func NewGuard(l Limits, now func() time.Time, obs Observer) *Guard {
	return NewGuardWith(l, NewLimiter(l.Address, l.MaxKeys, now), NewLimiter(l.Account, l.MaxKeys, now), obs)
}

// NewGuardWith returns a Guard with the limits l whose buckets are address,
// shaped l.Address, and account, shaped l.Account, reporting to obs (nil
// for nobody). l.MaxKeys is not used: bounding the buckets is their own
// business.
func NewGuardWith(l Limits, address, account Buckets, obs Observer) *Guard {
	if obs == nil {
		obs = noObserver{}
	}
	return &Guard{limits: l, address: address, account: account, obs: obs,
		addresses: newGate(), accounts: newGate(), queueTimeout: QueueTimeout}
}

type noObserver struct{}

func (noObserver) AuthFailure(string) {}
func (noObserver) RateLimited(string) {}

// Buckets is a set of token buckets of one Rate, keyed by string: one
// dimension of a Guard. A key that was never taken from, or has refilled
// and been forgotten, holds a full bucket. Limiter keeps buckets in memory;
// store/redis keeps them in Redis for every instance to share. Both refill
// as golang.org/x/time/rate does: Burst tokens at most, PerMinute/60 more
// every second, continuously, and nothing while the clock goes back.
// Implementations are safe for concurrent use.
type Buckets interface {
	// Tokens returns how many tokens key's bucket holds now. It returns an
	// error wrapping models.ErrUnavailable when the store cannot be reached.
	Tokens(ctx context.Context, key string) (float64, error)
	// Take removes n tokens (at most the burst) from key's bucket in one
	// atomic step and returns the tokens before and after. With debt the
	// bucket may go below zero, as with rate.Limiter.ReserveN, and must
	// refill that far first, but never below minus the burst: what it
	// cannot take then is forgiven, so a bucket is full again at most two
	// bursts' refill after it was last taken from. Without debt, it gives
	// only the whole tokens it holds, so a bucket holding less than one is
	// left as it is. Errors are those of Tokens.
	Take(ctx context.Context, key string, n int, debt bool) (before, after float64, err error)
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
// were too many failures, or instead of registering when there were too
// many registrations; Wait is how long until a retry may succeed.
type LimitedError struct {
	Wait time.Duration
	Of   Limited // what there were too many of
}

// Limited names what a LimitedError's limit counts.
type Limited int

const (
	Failures      Limited = iota // failed credentials (Guard)
	Registrations                // registrations (Throttle)
)

func (e *LimitedError) Error() string {
	if e.Of == Registrations {
		return "too many registrations; retry after " + e.InWords()
	}
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
// when it may be. When the buckets cannot be read it returns their error
// and no verdict; the credential must not be checked then (see Guard).
// Check alone admits nothing: a credential is checked inside an Attempt
// (Begin), whose Check comes after the attempts before it have ended.
func (g *Guard) Check(ctx context.Context, addr, account string) (*LimitedError, error) {
	if g == nil {
		return nil, nil
	}
	r := g.limits.Address
	tokens, err := g.address.Tokens(ctx, addressKey(addr))
	if err != nil {
		return nil, fmt.Errorf("limits: read address bucket: %w", err)
	}
	full := float64(r.Burst)
	if tokens >= full {
		return nil, nil // a clean address is checked even on a locked account
	}
	locked := false
	if account != "" {
		left, err := g.account.Tokens(ctx, account)
		if err != nil {
			return nil, fmt.Errorf("limits: read account bucket: %w", err)
		}
		locked = left < 1
	}
	switch {
	case locked:
		// The account may refill sooner, but an attacker can take that
		// token first; a full address is what is sure to be checked, so
		// Retry-After promises that.
		g.obs.RateLimited("account")
		return &LimitedError{Wait: r.wait(tokens, full)}, nil
	case tokens < 1:
		g.obs.RateLimited("address")
		return &LimitedError{Wait: r.wait(tokens, 1)}, nil
	}
	return nil, nil
}

// Begin starts an attempt to check a credential for account (UserAccount,
// ClientAccount or another prefix; "" for none) from addr. It waits while
// InFlight attempts from addr, or InFlight at account, are under way in
// this process, then runs Check: a refusal is returned as the
// *LimitedError, and a store that cannot be read as its error, and then
// nothing may be checked. Otherwise the caller checks the credential,
// calls the Attempt's Fail if it was wrong, and its Done in every case,
// once the answer is decided. An error is also returned when ctx ends
// while waiting, and ErrBusy when the wait exceeds QueueTimeout. A nil
// Guard begins a nil Attempt, which does nothing.
func (g *Guard) Begin(ctx context.Context, addr, account string) (*Attempt, error) {
	if g == nil {
		return nil, nil
	}
	a := &Attempt{g: g, addr: addr, account: account}
	// One deadline for both waits: an attempt waits QueueTimeout at most.
	deadline := time.NewTimer(g.queueTimeout)
	defer deadline.Stop()
	leave, err := g.addresses.enter(ctx, addressKey(addr), deadline.C)
	if err == nil {
		a.leave = append(a.leave, leave)
		if account != "" {
			leave, err = g.accounts.enter(ctx, account, deadline.C)
			if err == nil {
				a.leave = append(a.leave, leave)
			}
		}
	}
	if err != nil {
		a.Done()
		if errors.Is(err, ErrBusy) {
			g.obs.RateLimited("in_flight")
		}
		return nil, err
	}
	le, err := g.Check(ctx, addr, account)
	if err == nil && le != nil {
		err = le
	}
	if err != nil {
		a.Done()
		return nil, err
	}
	return a, nil
}

// An Attempt is one credential being checked, admitted by Guard.Begin.
type Attempt struct {
	g             *Guard
	addr, account string
	leave         []func()
}

// Lockout tells which buckets a failure emptied.
type Lockout struct{ Address, Account bool }

// Fail records that the attempt's credential was wrong. When the buckets
// cannot be updated it returns their error, with the failure perhaps
// recorded only in part; the caller answers as for Begin's error, not as
// for a wrong credential, so a guess is never answered without being paid
// for.
func (a *Attempt) Fail(ctx context.Context) (Lockout, error) {
	if a == nil {
		return Lockout{}, nil
	}
	g := a.g
	var lo Lockout
	kind, _, _ := strings.Cut(a.account, ":") // "user" or "client"
	g.obs.AuthFailure(kind)
	cost := 1
	if a.account != "" {
		// One step both reads and charges the account: Take without debt
		// leaves a bucket holding less than one token as it is.
		before, after, err := g.account.Take(ctx, a.account, 1, false)
		if err != nil {
			return lo, fmt.Errorf("limits: charge account bucket: %w", err)
		}
		if before < 1 {
			cost = g.limits.Address.Burst // a guess at a locked account: see Guard
		}
		lo.Account = before >= 1 && after < 1
	}
	before, after, err := g.address.Take(ctx, addressKey(a.addr), cost, true)
	if err != nil {
		return lo, fmt.Errorf("limits: charge address bucket: %w", err)
	}
	lo.Address = before >= 1 && after < 1
	return lo, nil
}

// Done ends the attempt, letting the next one waiting for its address or
// account begin. It must be called once, after Fail if Fail is called.
func (a *Attempt) Done() {
	if a == nil {
		return
	}
	for _, leave := range a.leave {
		leave()
	}
	a.leave = nil
}

// gate admits at most InFlight holders per key at once; the others wait,
// in order of arrival. A key has an entry only while someone holds or
// waits for it, so memory follows the requests in flight.
type gate struct {
	mu    sync.Mutex
	slots map[bucketKey]*slot
}

type slot struct {
	held  chan struct{} // one value per holder: InFlight at most
	users int           // holders and waiters; the slot goes at zero
}

func newGate() gate { return gate{slots: make(map[bucketKey]*slot)} }

// enter waits for a place at key and returns the function that gives it
// up, or ctx's error if ctx ends first, or ErrBusy if deadline fires first.
func (g *gate) enter(ctx context.Context, key string, deadline <-chan time.Time) (leave func(), err error) {
	k := keyOf(key)
	g.mu.Lock()
	s := g.slots[k]
	if s == nil {
		s = &slot{held: make(chan struct{}, InFlight)}
		g.slots[k] = s
	}
	s.users++
	g.mu.Unlock()
	leave = func() {
		<-s.held
		g.release(k, s)
	}
	// A free place is taken whatever ctx says: only waiting ends with it.
	select {
	case s.held <- struct{}{}:
		return leave, nil
	default:
	}
	select {
	case s.held <- struct{}{}: // blocked senders are woken in order
		return leave, nil
	case <-ctx.Done():
		g.release(k, s)
		return nil, fmt.Errorf("limits: waiting for the attempts before this one: %w", ctx.Err())
	case <-deadline:
		g.release(k, s)
		return nil, ErrBusy
	}
}

func (g *gate) release(k bucketKey, s *slot) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if s.users--; s.users == 0 {
		delete(g.slots, k)
	}
}

// A Throttle limits attempts per client address in which every attempt
// counts, whether it succeeds or not: registrations (API.md §8), where a
// success is itself what is to be limited, and where a failure (a taken
// username) tells as much as a success. It takes a token from the
// address's bucket for each attempt and refuses one when none is left;
// tokens are whole and never borrowed, so concurrent attempts cannot
// exceed the burst, and Retry-After is at most one refill period. A nil
// *Throttle allows everything.
type Throttle struct {
	rate    Rate
	buckets Buckets
	obs     Observer
}

// NewThrottle returns a Throttle of buckets shaped r, reporting refusals
// to obs (nil for nobody) as limit "register".
func NewThrottle(r Rate, buckets Buckets, obs Observer) *Throttle {
	if obs == nil {
		obs = noObserver{}
	}
	return &Throttle{rate: r, buckets: buckets, obs: obs}
}

// Allow counts an attempt from addr and returns nil, or a *LimitedError
// when addr has no attempt left, or the buckets' error (wrapping
// models.ErrUnavailable when their store is down); in both cases the
// attempt must not go ahead.
func (t *Throttle) Allow(ctx context.Context, addr string) error {
	if t == nil {
		return nil
	}
	before, _, err := t.buckets.Take(ctx, addressKey(addr), 1, false)
	if err != nil {
		return fmt.Errorf("limits: take registration bucket: %w", err)
	}
	if before < 1 {
		t.obs.RateLimited("register")
		return &LimitedError{Wait: t.rate.wait(before, 1), Of: Registrations}
	}
	return nil
}

// Limiter is the in-memory Buckets, for one instance: it holds at most max
// buckets, and makes room by dropping the bucket that failed least
// recently. A key without a bucket has a full one, so a bucket is created
// only by a failure, and dropping a full bucket loses nothing.
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
	rate Rate
	max  int
	now  func() time.Time

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
	tokens     float64   // held at last
	last       time.Time // when tokens last changed
}

// NewLimiter returns a Limiter of buckets shaped r, holding at most maxKeys.
func NewLimiter(r Rate, maxKeys int, now func() time.Time) *Limiter {
	l := &Limiter{rate: r, max: max(maxKeys, 1), now: now, buckets: make(map[bucketKey]*bucket)}
	l.head.prev, l.head.next = &l.head, &l.head
	return l
}

func keyOf(key string) bucketKey {
	sum := sha256.Sum256([]byte(key))
	return bucketKey(sum[:16])
}

// Tokens returns how many tokens key's bucket holds now; it never fails.
func (l *Limiter) Tokens(_ context.Context, key string) (float64, error) {
	k := keyOf(key)
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[k]
	if !ok {
		return float64(l.rate.Burst), nil
	}
	return l.level(b, l.now()), nil
}

// level is what b holds at now: what it held, plus the refill since, at
// most the burst. A clock that went back refills nothing.
func (l *Limiter) level(b *bucket, now time.Time) float64 {
	elapsed := max(now.Sub(b.last), 0)
	return min(float64(l.rate.Burst), b.tokens+elapsed.Seconds()*l.rate.PerMinute/60)
}

// Take removes n tokens from key's bucket, creating it if needed, as
// Buckets.Take says; it never fails.
func (l *Limiter) Take(_ context.Context, key string, n int, debt bool) (before, after float64, err error) {
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
		b = &bucket{key: k, tokens: float64(l.rate.Burst), last: now}
		l.buckets[k] = b
	}
	l.pushFront(b)
	before = l.level(b, now)
	after = before
	switch {
	case debt:
		after = max(before-float64(n), -float64(l.rate.Burst))
	case before >= float64(n):
		after = before - float64(n)
	case before >= 1:
		after = before - math.Floor(before)
	}
	if after != before {
		b.tokens, b.last = after, now
	}
	return before, after, nil
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
