package app

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"beerlocker/accounts"
	"beerlocker/clientmeta"
	"beerlocker/controllers"
	"beerlocker/grants"
	"beerlocker/keys"
	"beerlocker/limits"
	"beerlocker/metrics"
	"beerlocker/middleware"
	"beerlocker/models"
	"beerlocker/oauth"
	"beerlocker/pages"
	"beerlocker/revoked"
	"beerlocker/store/cache"
)

// Options are what the assembled service needs to know of its deployment.
type Options struct {
	PublicURL string              // the issuer and base of absolute links
	Secret    []byte              // root of the session, cache and signing-key encryption keys
	Argon2    models.Argon2Params // password hashing cost
	// TokenCacheTTL bounds how long a bearer token, a client's record or a
	// page of beers is served from memory, and so how long another
	// instance's revocation or change can go unseen here; 0 turns the
	// caches off.
	TokenCacheTTL time.Duration
	// OneWriter is set when this process is the only one writing the
	// database (the embedded SQLite): every write passes through this
	// instance's caches, so pages of beers can be served from memory
	// without a reader ever seeing one older than its own last write.
	OneWriter bool
	// Metrics records what the server does; nil records nothing.
	Metrics *metrics.Metrics
	// Limits bound failed passwords and client secrets per address and per
	// account, and registrations per address (API.md §8); the zero value
	// means limits.DefaultLimits, and a zero Register its Register.
	Limits limits.Limits
	// LimitBuckets returns the store of one set of the Limits' buckets
	// ("address", "account" or "register", shaped r), such as Redis shared
	// by every instance; nil keeps them in this process's memory.
	LimitBuckets func(name string, r limits.Rate) limits.Buckets
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client address (TRUSTED_PROXIES); none by default.
	TrustedProxies []netip.Prefix
	// RevocationChannel is set when a revocation channel links the
	// instances (Redis, which Run listens to with Caches): a password
	// changed at another instance then reaches this one's credential
	// cache through it, and a cached credential is answered from memory.
	// Unset, every hit of the cache reads the user's stored password hash
	// instead, so a change anywhere counts at once.
	RevocationChannel bool
	// SigningKeyActivationDelay is how long a rotated-in signing key is
	// published before it signs; 0 signs at once (tests).
	SigningKeyActivationDelay time.Duration
	// SigningKeyRotation is how often the signing keys rotate by
	// themselves (Run's upkeep); 0 never.
	SigningKeyRotation time.Duration
	// RefreshReuseGrace: see oauth.Server.RefreshReuseGrace.
	RefreshReuseGrace time.Duration
	// ClientMetadata configures the fetching of client metadata documents
	// (API.md §10); its zero value is production's.
	ClientMetadata clientmeta.Options
	Log            *slog.Logger
	// LogOutput is where Log writes (a logbuf.Writer in the service); the
	// access log writes its lines there too. nil: no access log.
	LogOutput io.Writer
	Now       func() time.Time
}

// clientMetadataOptions are o's, on o's clock unless they name one.
func clientMetadataOptions(o Options) clientmeta.Options {
	opts := o.ClientMetadata
	if opts.Now == nil {
		opts.Now = o.Now
	}
	return opts
}

// App is the service assembled: the router, and the parts Run and the
// tests reach.
type App struct {
	controllers.Services
	Router *gin.Engine
	// TokenCache is the bearer token cache, nil when TokenCacheTTL is 0;
	// a Redis token store's revocation listener empties it.
	TokenCache *cache.Tokens
	Passwords  *models.Passwords // the password hasher
	Guard      *limits.Guard     // the brute-force limits every surface shares
	// Revoked is what ends sealed access tokens, nil when access tokens
	// are stored; Run refreshes it from the database.
	Revoked *revoked.List
	// Caches are what a revocation channel's listener empties: the bearer
	// cache, if any, and the credential cache.
	Caches Caches
}

// New builds every part of the service on top of store, each from the
// parts it uses, in dependency order: nothing is patched in after.
func New(o Options, store *models.Store) (*App, error) {
	m := o.Metrics
	if m != nil {
		store = metrics.WrapStore(store, m)
	}
	var tc *cache.Tokens
	if o.TokenCacheTTL > 0 {
		store, tc = cache.Wrap(store, o.TokenCacheTTL, 50_000, o.Now)
		tc.Observe = func(hit bool) { m.CacheLookup("tokens", hit) }
		var cc *cache.Clients
		store, cc = cache.WrapClients(store, o.TokenCacheTTL, 10_000, o.Now)
		cc.Observe = func(hit bool) { m.CacheLookup("clients", hit) }
	}
	// Access tokens are sealed, not stored, where a revocation made
	// elsewhere reaches this instance within TokenCacheTTL as it reaches
	// the bearer cache, or where there is no elsewhere (one writer).
	var revokedList *revoked.List
	if o.TokenCacheTTL > 0 || o.OneWriter {
		revokedList = revoked.NewList(store.Revocations, o.Now)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := revokedList.Load(ctx)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("read the revocations: %w", err)
		}
		store = revoked.Wrap(store, revokedList)
	}
	var beerPages *cache.Pages
	if o.TokenCacheTTL > 0 && o.OneWriter {
		store, beerPages = cache.WrapBeerPages(store, o.TokenCacheTTL, 2_000, o.Now)
		beerPages.Observe = func(hit bool) { m.CacheLookup("beer_pages", hit) }
	}
	lim := o.Limits
	if lim == (limits.Limits{}) {
		lim = limits.DefaultLimits
	}
	// One Guard for every surface: an address's failures count together
	// whether they were Basic, the login form, the password grant or a
	// client secret.
	guard := limits.NewGuard(lim, o.Now, m)
	if lim.Register == (limits.Rate{}) {
		lim.Register = limits.DefaultLimits.Register
	}
	register := limits.NewThrottle(lim.Register, limits.NewLimiter(lim.Register, lim.MaxKeys, o.Now), m)
	if o.LimitBuckets != nil {
		guard = limits.NewGuardWith(lim, o.LimitBuckets("address", lim.Address), o.LimitBuckets("account", lim.Account), m)
		register = limits.NewThrottle(lim.Register, o.LimitBuckets("register", lim.Register), m)
	}

	hasher := &models.Passwords{Params: o.Argon2}
	stored := store.Users
	if o.RevocationChannel {
		stored = nil
	}
	creds := accounts.NewCredentialCache(DeriveKey(o.Secret, "credential cache"), 60*time.Second, 10_000, o.Now, stored)
	verifier := accounts.NewVerifier(accounts.VerifierConfig{Users: store.Users, Passwords: hasher, Cache: creds,
		Limits: guard, LogKey: DeriveKey(o.Secret, "log pseudonyms"), Log: o.Log, Observer: m})
	ender := grants.NewEnder(store, o.Log)
	renderer, err := pages.NewRenderer(store.Users, o.Log, o.Now)
	if err != nil {
		return nil, err
	}
	signingKeys, err := keys.New(store.SigningKeys, keys.Config{Secret: o.Secret,
		ActivationDelay: o.SigningKeyActivationDelay, Rotation: o.SigningKeyRotation, Log: o.Log, Now: o.Now})
	if err != nil {
		return nil, err
	}
	server := &oauth.Server{
		Metrics: m, Store: store, Credentials: verifier, Limits: guard, Registrations: register, Pages: renderer, Issuer: o.PublicURL, Log: o.Log, Now: o.Now,
		Keys: signingKeys, AccessTTL: oauth.DefaultAccessTTL, RefreshTTL: oauth.DefaultRefreshTTL,
		Documents: clientmeta.New(clientMetadataOptions(o)), RefreshReuseGrace: o.RefreshReuseGrace,
	}
	if revokedList != nil {
		if server.Sealer, err = oauth.NewSealer(DeriveKey(o.Secret, "access tokens")); err != nil {
			return nil, err
		}
		server.Revoked = revokedList
		server.Opened = cache.NewBounded[string, *models.Token](time.Minute, 10_000, o.Now)
	}
	logOutput := o.LogOutput
	if logOutput == nil {
		logOutput = io.Discard
	}
	services := controllers.Services{
		PublicURL: o.PublicURL, TrustedProxies: o.TrustedProxies, Store: store, Metrics: m, Log: o.Log, LogOutput: logOutput, Now: o.Now,
		BeerPages: beerPages,
		Auth: middleware.NewAuthenticator(verifier, server,
			middleware.Resource{Audience: models.AudienceAPI, MetadataURL: server.ResourceMetadataURL(models.AudienceAPI)}, o.Log, m),
		MCPAuth: middleware.NewAuthenticator(verifier, server,
			middleware.Resource{Audience: models.AudienceMCP, MetadataURL: server.ResourceMetadataURL(models.AudienceMCP)}, o.Log, m),
		Sessions: middleware.Sessions(middleware.SessionConfig{Store: store.Sessions, Key: DeriveKey(o.Secret, "session csrf"),
			Secure: strings.HasPrefix(o.PublicURL, "https://"), Now: o.Now, Fail: renderer.Fail}),
		Accounts: accounts.NewService(store.Users, hasher, creds, ender, register, o.Now),
		Verifier: verifier,
		Grants:   ender,
		OAuth:    server,
		Pages:    renderer,
		Keys:     signingKeys,
	}
	return &App{Services: services, Router: controllers.NewRouter(services), TokenCache: tc, Passwords: hasher, Guard: guard,
		Revoked: revokedList, Caches: Caches{tokens: tc, credentials: creds, revoked: revokedList, log: o.Log}}, nil
}

// Caches are an instance's in-memory copies of credentials, as a
// revocation listener (redis.Store.Listen) empties them: a revoked token
// leaves the bearer cache, and a user whose tokens were revoked (a
// password change, an account deletion) leaves the credential cache too.
type Caches struct {
	tokens      *cache.Tokens // nil when TokenCacheTTL is 0
	credentials *accounts.CredentialCache
	revoked     *revoked.List // nil when access tokens are stored
	log         *slog.Logger
}

// Reread reads the revocations another instance announced, before the
// listener acknowledges them (redis.Rereader): once per message, however
// many events it carries.
func (c Caches) Reread() {
	if c.revoked == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.revoked.Refresh(ctx); err != nil && c.log != nil {
		c.log.Warn("reading the revocations another instance announced failed; they count within TOKEN_CACHE_TTL", "err", err)
	}
}

// EvictHash drops one token.
func (c Caches) EvictHash(hash string) {
	if c.tokens != nil {
		c.tokens.EvictHash(hash)
	}
}

// EvictFamily drops every token of a grant.
func (c Caches) EvictFamily(family string) {
	if c.tokens != nil {
		c.tokens.EvictFamily(family)
	}
}

// EvictUser drops every token and every verified password of the user.
func (c Caches) EvictUser(userID string) {
	if c.tokens != nil {
		c.tokens.EvictUser(userID)
	}
	c.credentials.Invalidate(userID)
}

// EvictClient drops every token of a client, or only those of one user.
func (c Caches) EvictClient(clientID, userID string) {
	if c.tokens != nil {
		c.tokens.EvictClient(clientID, userID)
	}
}

// EvictAll empties both caches.
func (c Caches) EvictAll() {
	if c.tokens != nil {
		c.tokens.EvictAll()
	}
	c.credentials.InvalidateAll()
}

// DeriveKey returns a 32-byte subkey of the secret for one purpose, so
// that no two uses share a key.
func DeriveKey(secret []byte, purpose string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("beerlocker " + purpose))
	return m.Sum(nil)
}
