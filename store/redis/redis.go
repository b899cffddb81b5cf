// Package redis keeps the hot, short-lived OAuth data in Redis: authorization
// codes, access and refresh tokens (with their families), device codes and
// the rate limiter's buckets; and, beside the other tokens, the users'
// personal access tokens. Users, beers, clients and consents stay in the
// primary store (MongoDB or the embedded database); Compose joins the two
// into one models.Store.
//
// Layout. Every key starts with the store's prefix (P, "beerlocker:" by
// default) and holds only hashes of secrets, never a secret:
//
//	P t:<hash>      token (a Redis hash)        P tx  tokens by expiry (zset)
//	P tu:<user>     tokens of a user (zset)     P tc:<client>  of a client
//	P tf:<family>   tokens of a family (zset)
//	P c:<hash>      authorization code          P cx  codes by expiry
//	P cu:<user>     codes of a user             P cc:<client>  of a client
//	P d:<hash>      device code                 P dx  device codes by expiry
//	P dn:<userhash> user code → device hash     P du:<user> decided by a user
//	P dc:<client>   device codes of a client
//	P p:<hash>      personal access token       P px  by expiry
//	P pu:<user>     personal tokens of a user
//	P rl:<name>:<hash>  rate-limit bucket
//
// An object's key lives ExpiresAt−CreatedAt from when it is written, which
// is its remaining life because the server writes objects as it creates
// them (codes and device codes a grace period longer: see DefaultGrace);
// Redis then drops it by itself. Reads still compare ExpiresAt with
// the caller's now, so correctness never rests on when Redis expires a key.
// The index sets are scored by expiry: they outlive their longest member,
// lose expired members whenever they gain one, and DeleteExpired (the
// server's sweep) removes what the expiry sets list.
//
// Atomicity. Every operation that must be atomic (code redemption, refresh
// rotation with reuse detection, device-code decisions and redemption,
// revoking a family, a user or a client with their indexes) is one Lua
// script, which Redis runs without interleaving any other command. We
// chose scripts over WATCH/MULTI because the races the conformance suite
// plays (1000 trials of concurrent redemption) make optimistic
// transactions retry under contention, while a script decides each race
// in one round trip with no retry loop; and the cascades must read index
// members and delete what they name, which MULTI cannot do in one step.
// The scripts name keys they derive from others, so the store needs a
// standalone Redis (or one behind Sentinel), not Redis Cluster.
package redis

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/logging"

	"beerlocker/models"
)

// DefaultPrefix starts every key and channel name.
const DefaultPrefix = "beerlocker:"

// Options configure Open.
type Options struct {
	// Prefix starts every key and channel; DefaultPrefix when empty.
	// Tests give each store a prefix of its own on one server.
	Prefix string
	// Log receives the revocation listener's warnings; nil discards them.
	Log *slog.Logger
	// AckWait bounds how long a revocation waits for every instance to
	// confirm it evicted its cache (see Listen); 250 ms when zero.
	AckWait time.Duration
	// Grace is how long the keys of authorization codes and device codes
	// outlive the codes; DefaultGrace when zero.
	Grace time.Duration
}

// DefaultGrace keeps a used or expired code as long as the other backends
// keep its row, until the next sweep (a minute): a code replayed just
// after its expiry is still recognised as used, and its tokens revoked
// (RFC 6749 §4.1.2), and a device that polls late hears expired_token
// (RFC 8628 §3.5) rather than invalid_grant. Reads compare the expiry
// themselves, so the grace never makes a code valid longer.
const DefaultGrace = time.Minute

// Store is a connection to Redis and the repositories kept there.
type Store struct {
	client  *goredis.Client
	prefix  string
	grace   time.Duration
	log     *slog.Logger
	revoked *revocations

	Codes       models.CodeRepository
	Tokens      models.TokenRepository
	DeviceCodes models.DeviceCodeRepository
}

// A Store is also the Database of the repositories it holds.
var _ models.Database = (*Store)(nil)

// Open connects to the Redis that rawURL names and checks that it answers.
// The URL is redis://[user:password@]host:port[/db] (rediss:// for TLS);
// with a master_name parameter it names Sentinels instead
// (redis://host1:26379?addr=host2:26379&master_name=mymaster), and the
// client follows failovers. go-redis's other parameters (dial_timeout,
// read_timeout, pool_size, ...) are accepted in the query too.
func Open(ctx context.Context, rawURL string, opt Options) (*Store, error) {
	client, err := newClient(rawURL)
	if err != nil {
		return nil, err
	}
	s := newStore(client, opt)
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := s.Ping(pctx); err != nil {
		client.Close()
		return nil, err
	}
	return s, nil
}

func newClient(rawURL string) (*goredis.Client, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("redis: REDIS_URL is not a URL")
	}
	q := u.Query()
	if q.Has("master_name") {
		o, err := goredis.ParseFailoverURL(rawURL)
		if err != nil {
			return nil, fmt.Errorf("redis: REDIS_URL: %v", redactURLError(err, rawURL))
		}
		t := timeouts{&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.MaxRetries, &o.DialerRetries, &o.DialerRetryTimeout}
		t.setDefaults(q)
		o.DisableIdentity = true
		return goredis.NewFailoverClient(o), nil
	}
	o, err := goredis.ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("redis: REDIS_URL: %v", redactURLError(err, rawURL))
	}
	t := timeouts{&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.MaxRetries, &o.DialerRetries, &o.DialerRetryTimeout}
	t.setDefaults(q)
	o.DisableIdentity = true // CLIENT SETINFO is not in every Redis we support
	return goredis.NewClient(o), nil
}

// timeouts are the connection settings whose go-redis defaults suit a
// batch job better than a request path: with Redis down, go-redis would
// retry a command 3 times and each dial 5 times, about 1.7 s before a
// request gets its 503. Ours answer in a fraction of that, and still
// retry once, which is what a pooled connection broken by a Redis
// restart needs. A value given in REDIS_URL's query wins.
type timeouts struct {
	dial, read, write  *time.Duration
	retries, dialTries *int
	dialRetryBackoff   *time.Duration
}

func (t timeouts) setDefaults(q url.Values) {
	set := func(name string, apply func()) {
		if !q.Has(name) {
			apply()
		}
	}
	set("dial_timeout", func() { *t.dial = 2 * time.Second })
	set("read_timeout", func() { *t.read = 2 * time.Second })
	set("write_timeout", func() { *t.write = 2 * time.Second })
	set("max_retries", func() { *t.retries = 1 })
	set("dialer_retries", func() { *t.dialTries = 1 })
	set("dialer_retry_timeout", func() { *t.dialRetryBackoff = 50 * time.Millisecond })
}

// redactURLError keeps a password in the URL out of the error.
func redactURLError(err error, rawURL string) string {
	msg := err.Error()
	if u, perr := url.Parse(rawURL); perr == nil && u.User != nil {
		if p, ok := u.User.Password(); ok && p != "" {
			msg = strings.ReplaceAll(msg, p, "xxxxx")
		}
	}
	return msg
}

// go-redis v9 (v9.23.0) has one logger for the whole process
// (goredis.SetLogger) and no per-client option, so no store's Log may
// become it: that store would log every other client's messages too.
// go-redis's messages are turned off instead, when this package loads.
// Left on, they go to stderr as plain text, past the service's JSON log,
// and what they report (dial failures, pool and Sentinel notices) already
// reaches the log as ErrUnavailable (503s), /readyz and the revocation
// listener's warnings. A program that wants them calls goredis.SetLogger
// after this package's init.
func init() { goredis.SetLogger(&logging.VoidLogger{}) }

func newStore(client *goredis.Client, opt Options) *Store {
	prefix := opt.Prefix
	if prefix == "" {
		prefix = DefaultPrefix
	}
	log := opt.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	grace := opt.Grace
	if grace <= 0 {
		grace = DefaultGrace
	}
	s := &Store{client: client, prefix: prefix, log: log, grace: grace}
	s.revoked = newRevocations(s, opt.AckWait)
	s.Codes = &codes{s}
	s.Tokens = &tokens{s}
	s.DeviceCodes = &devices{s}
	return s
}

// Client is the connection, for tests that look at the keys.
func (s *Store) Client() *goredis.Client { return s.client }

// Ping returns nil when Redis answers, else an ErrUnavailable.
func (s *Store) Ping(ctx context.Context) error {
	return translate("ping", s.client.Ping(ctx).Err())
}

// Close closes the connection.
func (s *Store) Close() error { return s.client.Close() }

// translate maps go-redis errors onto the models' errors: a missing key is
// ErrNotFound; a connection that fails, times out or reaches a Redis that
// cannot serve (loading, a replica, a lost master) is ErrUnavailable, so
// the API answers 503 rather than pretending a token is unknown.
func translate(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, goredis.Nil):
		return models.ErrNotFound
	case errors.Is(err, models.ErrNotFound), errors.Is(err, models.ErrConflict), errors.Is(err, models.ErrUnavailable):
		return err
	}
	var rerr goredis.Error
	if errors.As(err, &rerr) && !transient(rerr.Error()) {
		return fmt.Errorf("redis: %s: %w", op, err) // a script or command bug: 500
	}
	return fmt.Errorf("redis: %s: %w: %w", op, models.ErrUnavailable, err)
}

// transient reports a Redis error reply that means "not now" rather than
// "wrong": the server is loading, read-only after a failover, without a
// master, busy with a script, or full (maxmemory with noeviction).
func transient(msg string) bool {
	for _, p := range []string{"LOADING", "READONLY", "MASTERDOWN", "BUSY", "TRYAGAIN", "CLUSTERDOWN", "NOREPLICAS", "OOM"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

//go:embed lua/*.lua
var luaFiles embed.FS

// script loads lua/<name>.lua after lua/lib.lua, the helpers every script
// shares. Scripts run by EVALSHA, falling back to EVAL once after a
// restart that forgot them.
func script(name string) *goredis.Script {
	lib, err := luaFiles.ReadFile("lua/lib.lua")
	if err != nil {
		panic(err)
	}
	src, err := luaFiles.ReadFile("lua/" + name + ".lua")
	if err != nil {
		panic(err)
	}
	return goredis.NewScript(string(lib) + "\n" + string(src))
}

// run runs a script with the store's prefix as ARGV[1].
func (s *Store) run(ctx context.Context, sc *goredis.Script, keys []string, args ...any) *goredis.Cmd {
	return sc.Run(ctx, s.client, keys, append([]any{s.prefix}, args...)...)
}

// key builds a key name under the prefix.
func (s *Store) key(parts ...string) string { return s.prefix + strings.Join(parts, "") }

// ms is a time as Redis keeps it: Unix milliseconds.
func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

// life is how long an object's key lives: ExpiresAt−CreatedAt, at least 1 ms.
func life(created, expires time.Time) int64 { return max(ms(expires)-ms(created), 1) }

func joinScopes(s []string) string { return strings.Join(s, " ") }

func splitScopes(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, " ")
}
