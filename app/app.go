// Package app is the service put together: its configuration, the one
// place where every part is constructed and wired (New), and Run, the
// whole program, which main calls with the process's environment.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"beerlocker/clientmeta"
	"beerlocker/limits"
	"beerlocker/logbuf"
	"beerlocker/metrics"
	"beerlocker/models"
	"beerlocker/revoked"
	"beerlocker/store/mongo"
	"beerlocker/store/redis"
	"beerlocker/store/sqlite"

	"github.com/gin-gonic/gin"
)

// shutdownGrace bounds how long in-flight requests may finish after a
// shutdown signal.
const shutdownGrace = 15 * time.Second

// sweepEvery is how often expired codes, tokens and sessions are
// deleted. Queries ignore expired rows anyway; the sweep only reclaims
// space.
const sweepEvery = time.Minute

// Run is the whole program; main only supplies the process's environment,
// and tests drive it in process. It serves until ctx is cancelled, then
// shuts down gracefully. With the subcommand "seed" it creates the demo
// user and app and exits; with "rotate-keys" it rotates the signing keys
// and exits.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	args = args[1:]
	var command string
	if len(args) > 0 && (args[0] == "seed" || args[0] == "rotate-keys") {
		command, args = args[0], args[1:]
	}
	cfg, err := ParseConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	switch command {
	case "seed":
		return seed(ctx, cfg, stdout)
	case "rotate-keys":
		return rotateKeys(ctx, cfg, stdout)
	}
	// Log lines are buffered and written in batches (logbuf), flushed at
	// return, whatever the path.
	logOut := logbuf.New(stdout, logbuf.DefaultInterval)
	defer logOut.Close()
	log := slog.New(slog.NewJSONHandler(logOut, nil))
	// Gin's mode is process-wide; the program sets it once, here.
	gin.SetMode(gin.ReleaseMode)

	secret, err := cfg.secretKey()
	if err != nil {
		return err
	}
	store, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer store.Close()
	var tokenStore *redis.Store // nil without REDIS_URL
	if cfg.RedisURL != "" {
		if tokenStore, err = openRedis(ctx, cfg, log); err != nil {
			return err
		}
		defer tokenStore.Close()
		store = tokenStore.Compose(store)
	}

	var m *metrics.Metrics
	if cfg.MetricsAddr != "off" {
		m = metrics.New()
	}
	proxies, err := cfg.Proxies()
	if err != nil {
		return err
	}
	a, err := New(Options{
		PublicURL: cfg.PublicURL, Secret: secret, Argon2: models.DefaultArgon2, Log: log, LogOutput: logOut, Now: time.Now,
		OneWriter:      cfg.MongoURI == "",
		TrustedProxies: proxies,
		TokenCacheTTL:  cfg.TokenCacheTTL, Limits: cfg.Limits, Metrics: m,
		LimitBuckets: limitBuckets(tokenStore), RevocationChannel: tokenStore != nil,
		SigningKeyActivationDelay: cfg.SigningKeyActivationDelay, SigningKeyRotation: cfg.SigningKeyRotation,
		ClientMetadata:    clientmeta.Options{AllowHTTPLoopback: cfg.ClientMetadataAllowHTTPLoopback},
		RefreshReuseGrace: cfg.RefreshReuseGrace,
	}, store)
	if cfg.ClientMetadataAllowHTTPLoopback {
		log.Warn("CLIENT_METADATA_ALLOW_HTTP_LOOPBACK is set: client metadata documents are fetched from loopback addresses too; never set it in production")
	}
	if err != nil {
		return err
	}
	// The signing keys are read (and, on a first start, created) before
	// the service listens, so that keys it cannot decrypt stop it here,
	// with the reason, rather than fail every token request.
	if err := a.Keys.Maintain(ctx); err != nil {
		return err
	}
	go a.Keys.Run(ctx)
	if tokenStore != nil {
		// Even without a bearer cache: the credential cache relies on it.
		go tokenStore.Listen(ctx, a.Caches)
	}
	srv := &http.Server{
		Handler:           a.Router,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on ADDR %s: %w", cfg.Addr, err)
	}
	log.Info("listening", "addr", ln.Addr().String(), "public_url", cfg.PublicURL)
	if m != nil {
		// A separate listener, on loopback by default, so that metrics are
		// not public by accident.
		mln, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("listen on METRICS_ADDR %s: %w", cfg.MetricsAddr, err)
		}
		msrv := &http.Server{Handler: m.Handler(), ReadHeaderTimeout: 5 * time.Second}
		defer msrv.Close()
		go msrv.Serve(mln)
		log.Info("metrics listening", "addr", mln.Addr().String())
	}

	go sweep(ctx, store, log)
	if a.Revoked != nil {
		// Another instance's revocations are read every TOKEN_CACHE_TTL,
		// the bound the bearer cache keeps; with one writer there is no
		// other instance, and the reads only forget expired revocations.
		every := sweepEvery
		if cfg.MongoURI != "" {
			every = cfg.TokenCacheTTL
		}
		go refreshRevocations(ctx, a.Revoked, every, log)
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	select {
	case err := <-serveErr:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-serveErr; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}

// openStore opens MongoDB when a URI is configured, else the embedded
// database in DATA_DIR.
func openStore(ctx context.Context, cfg Config, log *slog.Logger) (*models.Store, error) {
	openCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if cfg.MongoURI != "" {
		s, err := mongo.Open(openCtx, cfg.MongoURI, cfg.MongoDatabase, mongo.Options{Log: log})
		if err != nil {
			return nil, fmt.Errorf("MONGODB_URI: %w", err)
		}
		log.Info("database", "backend", "mongodb", "database", cfg.MongoDatabase)
		return s, nil
	}
	s, err := sqlite.Open(openCtx, cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("embedded database in DATA_DIR %s: %w", cfg.DataDir, err)
	}
	log.Info("database", "backend", "sqlite", "data_dir", cfg.DataDir)
	return s, nil
}

// openRedis connects to REDIS_URL, where codes, tokens, device codes and
// rate limits then live.
func openRedis(ctx context.Context, cfg Config, log *slog.Logger) (*redis.Store, error) {
	s, err := redis.Open(ctx, cfg.RedisURL, redis.Options{Log: log})
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	log.Info("token store", "backend", "redis")
	return s, nil
}

// limitBuckets keeps the rate limits in Redis when there is one, so that
// every instance counts the same failures; nil keeps them in memory.
func limitBuckets(s *redis.Store) func(string, limits.Rate) limits.Buckets {
	if s == nil {
		return nil
	}
	return func(name string, r limits.Rate) limits.Buckets { return s.Buckets(name, r, time.Now) }
}

// The listener rereads the revocations of sealed tokens through Caches.
var _ redis.Rereader = Caches{}

// everyUntil runs do every period until ctx ends.
func everyUntil(ctx context.Context, period time.Duration, do func()) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			do()
		}
	}
}

// refreshRevocations reads the revocations every period until ctx ends.
func refreshRevocations(ctx context.Context, l *revoked.List, period time.Duration, log *slog.Logger) {
	everyUntil(ctx, period, func() {
		if err := l.Refresh(ctx); err != nil && ctx.Err() == nil {
			log.Warn("reading the revocations failed", "err", err)
		}
	})
}

// sweep deletes expired codes, device codes, tokens, personal access
// tokens, browser sessions, consent pages and revocations, and the
// self-registered apps nobody approved, every sweepEvery until ctx ends.
func sweep(ctx context.Context, store *models.Store, log *slog.Logger) {
	everyUntil(ctx, sweepEvery, func() {
		now := time.Now()
		codes, err1 := store.Codes.DeleteExpired(ctx, now)
		tokens, err2 := store.Tokens.DeleteExpired(ctx, now)
		devices, err3 := store.DeviceCodes.DeleteExpired(ctx, now)
		sessions, err4 := store.Sessions.DeleteExpired(ctx, now)
		revocations, err5 := store.Revocations.DeleteExpired(ctx, now)
		// API.md §10: an app that registered itself and that no user
		// approved within a day is deleted.
		unapproved, err6 := store.Clients.DeleteUnapproved(ctx, now.Add(-models.SelfRegisteredTTL))
		personal, err7 := store.PersonalTokens.DeleteExpired(ctx, now)
		if err := errors.Join(err1, err2, err3, err4, err5, err6, err7); err != nil && ctx.Err() == nil {
			log.Warn("sweep of expired codes, tokens, sessions, revocations and unapproved apps failed", "err", err)
			return
		}
		if codes+tokens+devices+sessions+revocations+unapproved+personal > 0 {
			log.Info("swept expired", "codes", codes, "tokens", tokens, "device_codes", devices, "sessions", sessions,
				"revocations", revocations, "unapproved_apps", unapproved, "personal_tokens", personal)
		}
	})
}
