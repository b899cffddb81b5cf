package controllers

import (
	"crypto/hmac"
	"crypto/sha256"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"beerlocker/limits"
	"beerlocker/metrics"
	"beerlocker/middleware"
	"beerlocker/models"
	"beerlocker/oauth"
	"beerlocker/store/cache"
	"beerlocker/templates"
)

// Config is what the HTTP layer needs to know about its deployment.
type Config struct {
	PublicURL string              // the issuer and base of absolute links
	Secret    []byte              // root of the session and cache keys
	Argon2    models.Argon2Params // password hashing cost
	// TokenCacheTTL bounds how long a bearer token is served from memory,
	// and so how long another instance's revocation can go unseen here;
	// 0 turns the cache off.
	TokenCacheTTL time.Duration
	// Metrics records what the server does; nil records nothing.
	Metrics *metrics.Metrics
	// Limits bound failed passwords and client secrets per address and per
	// account (API.md §8); the zero value means limits.DefaultLimits.
	Limits limits.Limits
	// LimitBuckets returns the store of one dimension of the Limits
	// ("address" or "account", shaped r), such as Redis shared by every
	// instance; nil keeps them in this process's memory.
	LimitBuckets func(name string, r limits.Rate) limits.Buckets
	Log          *slog.Logger
	Now          func() time.Time
}

// NewDeps wires the handlers' dependencies on top of a store.
func NewDeps(cfg Config, store *models.Store) (Deps, error) {
	m := cfg.Metrics
	if m != nil {
		store = metrics.WrapStore(store, m)
	}
	var tc *cache.Tokens
	if cfg.TokenCacheTTL > 0 {
		store, tc = cache.Wrap(store, cfg.TokenCacheTTL, 50_000, cfg.Now)
		tc.Observe = func(hit bool) { m.CacheLookup("tokens", hit) }
	}
	passwords := &models.Passwords{Params: cfg.Argon2}
	creds := middleware.NewCredentialCache(DeriveKey(cfg.Secret, "credential cache"), 60*time.Second, 10_000, cfg.Now)
	pages, err := templates.Parse()
	if err != nil {
		return Deps{}, err
	}
	lim := cfg.Limits
	if lim == (limits.Limits{}) {
		lim = limits.DefaultLimits
	}
	// One Guard for every surface: an address's failures count together
	// whether they were Basic, the login form, the password grant or a
	// client secret.
	guard := limits.NewGuard(lim, cfg.Now, m)
	if cfg.LimitBuckets != nil {
		guard = limits.NewGuardWith(lim, cfg.LimitBuckets("address", lim.Address), cfg.LimitBuckets("account", lim.Account), m)
	}
	auth := &middleware.Authenticator{Metrics: m, Users: store.Users, Passwords: passwords, Cache: creds, Limits: guard,
		LogKey: DeriveKey(cfg.Secret, "log pseudonyms"), Log: cfg.Log}
	server := &oauth.Server{
		Metrics: m, Store: store, Credentials: auth, Limits: guard, Pages: pages, Issuer: cfg.PublicURL, Log: cfg.Log, Now: cfg.Now,
		AccessTTL: oauth.DefaultAccessTTL, RefreshTTL: oauth.DefaultRefreshTTL,
	}
	auth.Tokens = server
	return Deps{
		Config:     cfg,
		Store:      store,
		TokenCache: tc,
		Auth:       auth,
		Accounts:   &Accounts{Store: store, Passwords: passwords, Cache: creds, Now: cfg.Now},
		OAuth:      server,
		Pages:      pages,
		Sessions: middleware.Sessions(DeriveKey(cfg.Secret, "session signing"), DeriveKey(cfg.Secret, "session encryption"),
			strings.HasPrefix(cfg.PublicURL, "https://")),
		Log: cfg.Log,
		Now: cfg.Now,
	}, nil
}

// DeriveKey returns a 32-byte subkey of the secret for one purpose, so
// that no two uses share a key.
func DeriveKey(secret []byte, purpose string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("beerlocker " + purpose))
	return m.Sum(nil)
}

// Deps are what the handlers need, passed in explicitly.
type Deps struct {
	Config
	Store *models.Store
	// TokenCache is the bearer token cache, nil when TokenCacheTTL is 0;
	// a Redis token store's revocation listener empties it.
	TokenCache *cache.Tokens
	Auth       *middleware.Authenticator
	Accounts   *Accounts
	OAuth      *oauth.Server
	Pages      *templates.Set
	Sessions   gin.HandlerFunc // the browser session, on pages and /authorize only
	Log        *slog.Logger
	Now        func() time.Time
}

// now is the clock at the precision stores keep, so a response written
// from memory equals the same object read back.
func (d Deps) now() time.Time { return d.Now().UTC().Truncate(time.Millisecond) }

// NewRouter builds the engine with the whole HTTP surface.
func NewRouter(d Deps) *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.ContextWithFallback = true
	// Client addresses come from the connection; X-Forwarded-For is trusted
	// from no one unless configured, or any client could pick its address.
	_ = r.SetTrustedProxies(nil)
	if d.Config.Metrics != nil {
		r.Use(d.Config.Metrics.Middleware())
	}
	r.Use(middleware.RequestID(), middleware.AccessLog(d.Log), middleware.Recover(d.Log), middleware.SecurityHeaders(strings.HasPrefix(d.PublicURL, "https://")))
	r.NoRoute(func(c *gin.Context) {
		middleware.AbortWithProblem(c, middleware.Problem{Status: http.StatusNotFound, Detail: "No route matches this path."})
	})
	r.NoMethod(func(c *gin.Context) {
		middleware.AbortWithProblem(c, middleware.Problem{Status: http.StatusMethodNotAllowed,
			Detail: "This route does not accept the method " + c.Request.Method + "."})
	})
	addRoutes(r, d)
	return r
}

func addRoutes(r *gin.Engine, d Deps) {
	auth := d.Auth

	r.GET("/healthz", healthz)
	r.GET("/readyz", readyz(d))
	r.GET("/openapi.json", openAPI)

	api := r.Group("/api")
	api.POST("/users", registerUser(d))
	api.GET("/users/me", auth.Require(models.ScopeProfile), getMe(d))
	api.PATCH("/users/me", auth.RequireBasic(), changePassword(d))
	api.DELETE("/users/me", auth.RequireBasic(), deleteMe(d))

	api.POST("/beers", auth.Require(models.ScopeBeersWrite), createBeer(d))
	api.GET("/beers", auth.Require(models.ScopeBeersRead), listBeers(d))
	api.GET("/beers/:id", auth.Require(models.ScopeBeersRead), getBeer(d))
	api.PUT("/beers/:id", auth.Require(models.ScopeBeersWrite), updateBeer(d, true))
	api.PATCH("/beers/:id", auth.Require(models.ScopeBeersWrite), updateBeer(d, false))
	api.DELETE("/beers/:id", auth.Require(models.ScopeBeersWrite), deleteBeer(d))

	api.POST("/clients", auth.Require(models.ScopeClients), createClient(d))
	api.GET("/clients", auth.Require(models.ScopeClients), listClients(d))
	api.GET("/clients/:client_id", auth.Require(models.ScopeClients), getClient(d))
	api.PATCH("/clients/:client_id", auth.Require(models.ScopeClients), updateClient(d))
	api.DELETE("/clients/:client_id", auth.Require(models.ScopeClients), deleteClient(d))
	api.POST("/clients/:client_id/secret", auth.Require(models.ScopeClients), rotateClientSecret(d))

	oauth := d.OAuth
	r.GET("/.well-known/oauth-authorization-server", oauth.Metadata())
	api.GET("/oauth2/authorize", d.Sessions, oauth.Authorize())
	api.POST("/oauth2/authorize", d.Sessions, oauth.Decide())
	api.POST("/oauth2/token", oauth.Token())
	api.POST("/oauth2/revoke", oauth.Revoke())
	api.POST("/oauth2/introspect", oauth.Introspect())
	api.POST("/oauth2/device_authorization", oauth.DeviceAuthorization())
	r.GET("/device", d.Sessions, oauth.DevicePage())
	r.POST("/device", d.Sessions, oauth.DeviceSubmit())
	addPageRoutes(r, d)
}
