package redis_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"beerlocker/models"
	"beerlocker/store/cache"
	"beerlocker/store/redis"
	"beerlocker/store/redis/redistest"
)

func hash() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// TestKeysVanishAfterTheirTTL creates a token, a code and a device code
// that live 300 ms from now, checks their keys carry that TTL (the codes'
// plus a 200 ms grace), and waits for Redis to drop them by itself: no
// sweep runs here.
func TestKeysVanishAfterTheirTTL(t *testing.T) {
	srv := redistest.Start(t)
	prefix := redistest.Prefix()
	const grace = 200 * time.Millisecond
	s, err := redis.Open(context.Background(), srv.URL(), redis.Options{Prefix: prefix, Grace: grace})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	now := time.Now()
	const life = 300 * time.Millisecond
	tk := &models.Token{Hash: hash(), Kind: models.AccessToken, ClientID: "blci_a", UserID: "u1",
		FamilyID: "f1", CreatedAt: now, ExpiresAt: now.Add(life)}
	code := &models.Code{Hash: hash(), ClientID: "blci_a", UserID: "u1", RedirectURI: "https://a.example/cb",
		CreatedAt: now, ExpiresAt: now.Add(life)}
	dev := &models.DeviceCode{Hash: hash(), UserCodeHash: hash(), ClientID: "blci_a", Interval: 5 * time.Second,
		CreatedAt: now, ExpiresAt: now.Add(life)}
	if err := s.Tokens.Create(ctx, tk); err != nil {
		t.Fatal(err)
	}
	if err := s.Codes.Create(ctx, code); err != nil {
		t.Fatal(err)
	}
	if err := s.DeviceCodes.Create(ctx, dev); err != nil {
		t.Fatal(err)
	}
	if err := s.DeviceCodes.Decide(ctx, dev.Hash, models.DeviceDecision{UserID: "u1", Status: models.DeviceApproved}, now); err != nil {
		t.Fatal(err)
	}
	rc := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
	defer rc.Close()
	tokenKeys := []string{"t:" + tk.Hash, "tu:u1", "tc:blci_a", "tf:f1"}
	codeKeys := []string{"c:" + code.Hash, "d:" + dev.Hash, "dn:" + dev.UserCodeHash, "cu:u1", "cc:blci_a", "du:u1", "dc:blci_a"}
	for _, k := range tokenKeys {
		ttl, err := rc.PTTL(ctx, prefix+k).Result()
		if err != nil || ttl <= 0 || ttl > life {
			t.Errorf("PTTL %s = %v, %v; want in (0, %v]", k, ttl, err, life)
		}
	}
	for _, k := range codeKeys {
		ttl, err := rc.PTTL(ctx, prefix+k).Result()
		if err != nil || ttl <= life-100*time.Millisecond || ttl > life+grace {
			t.Errorf("PTTL %s = %v, %v; want about %v + %v", k, ttl, err, life, grace)
		}
	}
	keys := append(tokenKeys, codeKeys...)
	deadline := time.Now().Add(5 * time.Second)
	for {
		n, err := rc.Exists(ctx, prefixed(prefix, keys)...).Result()
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d keys still exist 5 s after a 300 ms TTL", n, len(keys))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := s.Tokens.Get(ctx, tk.Hash, now); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("Tokens.Get after expiry: %v, want ErrNotFound", err)
	}
	if _, err := s.Codes.Get(ctx, code.Hash, now); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("Codes.Get after expiry: %v, want ErrNotFound", err)
	}
	// The sweep still finds the expiry entries and counts them.
	if n, err := s.Tokens.DeleteExpired(ctx, time.Now()); err != nil || n != 1 {
		t.Errorf("Tokens.DeleteExpired = %d, %v; want 1", n, err)
	}
}

func prefixed(prefix string, keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = prefix + k
	}
	return out
}

// TestRevocationEvictsEveryInstanceBeforeReturning has two instances (two
// stores, two caches, two listeners) on one Redis: once a revocation at A
// returns, B's cache no longer holds the token, with no waiting.
func TestRevocationEvictsEveryInstanceBeforeReturning(t *testing.T) {
	srv := redistest.Start(t)
	prefix := redistest.Prefix()
	a, _, _ := listening(t, srv, prefix)
	b, bCache, _ := listening(t, srv, prefix)
	ctx := t.Context()
	now := time.Now()

	for i, revoke := range []func(tk *models.Token) error{
		func(tk *models.Token) error { return a.Tokens.Revoke(ctx, tk.Hash) },
		func(tk *models.Token) error { return a.Tokens.RevokeFamily(ctx, tk.FamilyID) },
		func(tk *models.Token) error { return a.Tokens.RevokeUser(ctx, tk.UserID) },
	} {
		tk := &models.Token{Hash: hash(), Kind: models.AccessToken, ClientID: "blci_a", UserID: models.NewID(now),
			FamilyID: models.NewID(now), CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := a.Tokens.Create(ctx, tk); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Tokens.Get(ctx, tk.Hash, now); err != nil {
			t.Fatal(err)
		}
		if _, ok := bCache.Get(tk.Hash); !ok {
			t.Fatalf("case %d: B did not cache the token", i)
		}
		if err := revoke(tk); err != nil {
			t.Fatalf("case %d: revoke: %v", i, err)
		}
		if _, ok := bCache.Get(tk.Hash); ok {
			t.Errorf("case %d: B's cache still holds the token when the revocation at A returned", i)
		}
		if _, err := b.Tokens.Get(ctx, tk.Hash, now); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("case %d: B's Tokens.Get after revocation: %v, want ErrNotFound", i, err)
		}
	}

	// A rotation is not a revocation, but B must not keep saying "not
	// rotated" from its cache: introspection would call the token active.
	rt := &models.Token{Hash: hash(), Kind: models.RefreshToken, ClientID: "blci_a", UserID: "u1",
		FamilyID: models.NewID(now), CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := a.Tokens.Create(ctx, rt); err != nil {
		t.Fatal(err)
	}
	if got, err := b.Tokens.Get(ctx, rt.Hash, now); err != nil || got.Rotated {
		t.Fatalf("B's Tokens.Get before rotation = %+v, %v", got, err)
	}
	if err := a.Tokens.Rotate(ctx, rt.Hash, now); err != nil {
		t.Fatal(err)
	}
	if got, err := b.Tokens.Get(ctx, rt.Hash, now); err != nil || !got.Rotated {
		t.Errorf("B's Tokens.Get right after the rotation at A = %+v, %v; want Rotated", got, err)
	}
}

// TestUsedCodeOutlivesItsExpiry: a code replayed after it expired, but
// within the grace, is still known as used (so its tokens get revoked).
func TestUsedCodeOutlivesItsExpiry(t *testing.T) {
	srv := redistest.Start(t)
	s, err := redis.Open(context.Background(), srv.URL(), redis.Options{Prefix: redistest.Prefix(), Grace: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	now := time.Now()
	code := &models.Code{Hash: hash(), ClientID: "blci_a", UserID: "u1", RedirectURI: "https://a.example/cb",
		CreatedAt: now, ExpiresAt: now.Add(100 * time.Millisecond)}
	if err := s.Codes.Create(ctx, code); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Codes.Consume(ctx, code.Hash, now); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if _, err := s.Codes.Consume(ctx, code.Hash, time.Now()); !errors.Is(err, models.ErrConflict) {
		t.Errorf("Codes.Consume 300 ms after a 100 ms code expired: %v, want ErrConflict", err)
	}
}

// listening opens an instance's view: store, bearer cache and listener.
func listening(t *testing.T, srv *redistest.Server, prefix string) (*models.Store, *cache.Tokens, *redis.Store) {
	t.Helper()
	rs := mustOpen(t, srv, prefix)
	primary := &models.Store{Tokens: rs.Tokens, Codes: rs.Codes, DeviceCodes: rs.DeviceCodes, DB: rs}
	wrapped, tc := cache.Wrap(primary, time.Hour, 100, time.Now)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); rs.Listen(ctx, tc) }()
	t.Cleanup(func() { cancel(); <-done; rs.Close() })
	waitListening(t, rs)
	return wrapped, tc, rs
}

// waitListening waits until the store's listener has subscribed.
func waitListening(t *testing.T, rs *redis.Store) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !rs.Listening() {
		if time.Now().After(deadline) {
			t.Fatal("the revocation listener did not subscribe within 5 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestOutage: with Redis down every operation is ErrUnavailable (a 503),
// never ErrNotFound, and the listener empties the cache; after Redis
// comes back the listener resubscribes by itself.
func TestOutage(t *testing.T) {
	srv := redistest.Start(t)
	s, tc, rs := listening(t, srv, redistest.Prefix())
	ctx := t.Context()
	now := time.Now()
	tk := &models.Token{Hash: hash(), Kind: models.AccessToken, ClientID: "blci_a", UserID: "u1",
		CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := s.Tokens.Create(ctx, tk); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Tokens.Get(ctx, tk.Hash, now); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	stopped := time.Now()
	deadline := time.Now().Add(10 * time.Second)
	for tc.Len() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the cache still holds tokens 10 s after Redis went away")
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("cache emptied %v after Redis stopped", time.Since(stopped))
	checks := map[string]error{
		"Ping":          s.Ping(ctx),
		"Tokens.Get":    errOf(s.Tokens.Get(ctx, tk.Hash, now)),
		"Tokens.Revoke": s.Tokens.Revoke(ctx, tk.Hash),
		"Tokens.Rotate": s.Tokens.Rotate(ctx, tk.Hash, now),
		"Codes.Consume": errOf(s.Codes.Consume(ctx, hash(), now)),
	}
	for name, err := range checks {
		if !errors.Is(err, models.ErrUnavailable) {
			t.Errorf("%s with Redis down: %v, want ErrUnavailable", name, err)
		}
	}
	srv.Start()
	restarted := time.Now()
	deadline = time.Now().Add(10 * time.Second)
	for s.Ping(ctx) != nil || !rs.Listening() {
		if time.Now().After(deadline) {
			t.Fatal("no recovery within 10 s of Redis coming back")
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("recovered %v after Redis restarted", time.Since(restarted))
}

func errOf[T any](_ T, err error) error { return err }

// TestStoreLogIsNotGoRedisLog: go-redis has one logger for the whole
// process, and a store's logger must not become it, or one store would
// log what goes wrong with another's connection. Here a second client
// fails to dial; the first store's logger, listening at debug level, hears
// nothing of it.
func TestStoreLogIsNotGoRedisLog(t *testing.T) {
	srv := redistest.Start(t)
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, err := redis.Open(context.Background(), srv.URL(), redis.Options{Prefix: redistest.Prefix(), Log: log})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	if b, err := redis.Open(context.Background(), "redis://"+closed+"/0", redis.Options{}); err == nil {
		b.Close()
		t.Fatalf("redis.Open(%s) succeeded with nothing listening", closed)
	}
	if logs.Len() != 0 {
		t.Errorf("the first store's logger got another client's messages:\n%s", logs.String())
	}
}
