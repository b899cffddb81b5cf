package controllers

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"beerlocker/accounts"
	"beerlocker/grants"
	"beerlocker/keys"
	"beerlocker/metrics"
	"beerlocker/middleware"
	"beerlocker/models"
	"beerlocker/oauth"
	"beerlocker/pages"
	"beerlocker/problem"
	"beerlocker/store/cache"
)

// Services are the parts the HTTP surface is built from; package app
// constructs them. NewRouter hands each handler only the parts it uses.
type Services struct {
	PublicURL string // the issuer and base of absolute links
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client address (API.md §8).
	TrustedProxies []netip.Prefix
	Store          *models.Store // the repositories, already wrapped for metrics and caching
	// BeerPages serves repeated reads of a beer list page from memory; nil
	// reads every page from the store. The store's beer writes evict it.
	BeerPages *cache.Pages
	Metrics   *metrics.Metrics // nil records nothing
	Log       *slog.Logger
	// LogOutput is where Log writes; the access log writes its lines
	// there too, in Log's JSON format (middleware.AccessLog).
	LogOutput io.Writer
	Now       func() time.Time

	Auth     *middleware.Authenticator // Basic and Bearer on API routes
	MCPAuth  *middleware.Authenticator // Bearer tokens for the MCP endpoint
	Sessions gin.HandlerFunc           // the browser session, on pages and the OAuth flows' pages only
	Accounts *accounts.Service
	Verifier *accounts.Verifier // users' own passwords, on the login form
	Grants   *grants.Ender
	OAuth    *oauth.Server
	Pages    *pages.Renderer
	Keys     *keys.Manager // the OpenID Connect signing keys
}

// clock is the time source of handlers.
type clock func() time.Time

// storeNow is the clock at the precision stores keep, so a response
// written from memory equals the same object read back.
func (c clock) storeNow() time.Time { return c().UTC().Truncate(time.Millisecond) }

// NewRouter builds the engine with the whole HTTP surface. It leaves Gin's
// process-wide mode alone; app.Run sets release mode once, at start.
func NewRouter(s Services) *gin.Engine {
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.ContextWithFallback = true
	trustProxies(r, s.TrustedProxies)
	if s.Metrics != nil {
		r.Use(s.Metrics.Middleware())
	}
	r.Use(middleware.RequestID(), middleware.AccessLog(s.LogOutput), middleware.Recover(s.Log),
		middleware.SecurityHeaders(strings.HasPrefix(s.PublicURL, "https://")))
	r.NoRoute(func(c *gin.Context) {
		problem.Abort(c, problem.Problem{Status: http.StatusNotFound, Detail: "No route matches this path."})
	})
	r.NoMethod(func(c *gin.Context) {
		problem.Abort(c, problem.Problem{Status: http.StatusMethodNotAllowed,
			Detail: "This route does not accept the method " + c.Request.Method + "."})
	})
	addRoutes(r, s)
	return r
}

// trustProxies sets where c.ClientIP, the address every limit counts,
// comes from (API.md §8): the connection's peer, unless that is one of
// proxies; then X-Forwarded-For's right-most entry that is not one of
// proxies. A proxy appends the address of whoever connected to it, so a
// client can put what it likes to the left of that, never to its right;
// and a peer that is not a trusted proxy has its X-Forwarded-For ignored,
// or any client could pick its address. X-Real-IP is never read.
func trustProxies(r *gin.Engine, proxies []netip.Prefix) {
	r.ForwardedByClientIP = true
	r.RemoteIPHeaders = []string{"X-Forwarded-For"}
	cidrs := make([]string, len(proxies))
	for i, p := range proxies {
		cidrs[i] = p.String()
	}
	if err := r.SetTrustedProxies(cidrs); err != nil {
		// A netip.Prefix always prints as a CIDR that Gin parses.
		panic(fmt.Sprintf("controllers: trusted proxies %q: %v", cidrs, err))
	}
}

// addRoutes lists the whole HTTP surface: the API (API.md §1–§5), the
// authorization server (§6), the browser pages (§7) and the OpenID
// Connect provider's keys (§9).
func addRoutes(r *gin.Engine, s Services) {
	auth, store, log, now := s.Auth, s.Store, s.Log, clock(s.Now)

	r.GET("/healthz", healthz)
	r.GET("/readyz", readyz(store, log))
	r.GET("/openapi.json", openAPI)

	// Basic credentials a browser cached are not a foreign page's to use
	// (API.md §8); the OAuth endpoints, registered apart, authenticate
	// clients, not users.
	api := r.Group("/api", middleware.RefuseCrossSiteBasic(s.PublicURL))
	api.POST("/users", registerUser(s.Accounts, log))
	api.GET("/users/me", auth.Require(models.ScopeProfile), getMe(store.Users, log))
	api.PATCH("/users/me", auth.RequireBasic(), changePassword(s.Accounts, log))
	api.DELETE("/users/me", auth.RequireBasic(), deleteMe(s.Accounts, log))
	api.POST("/users/me/tokens", auth.RequireBasic(), createPersonalToken(s.OAuth, auth, log))
	api.GET("/users/me/tokens", auth.RequireBasic(), listPersonalTokens(store.PersonalTokens, log))
	api.DELETE("/users/me/tokens/:id", auth.RequireBasic(), deletePersonalToken(s.OAuth, log))

	api.POST("/beers", auth.Require(models.ScopeBeersWrite), createBeer(store.Beers, log, now))
	api.GET("/beers", auth.Require(models.ScopeBeersRead), listBeers(store.Beers, s.BeerPages, log))
	api.GET("/beers/:id", auth.Require(models.ScopeBeersRead), getBeer(store.Beers, log))
	api.PUT("/beers/:id", auth.Require(models.ScopeBeersWrite), updateBeer(store.Beers, log, now, true))
	api.PATCH("/beers/:id", auth.Require(models.ScopeBeersWrite), updateBeer(store.Beers, log, now, false))
	api.DELETE("/beers/:id", auth.Require(models.ScopeBeersWrite), deleteBeer(store.Beers, log))

	api.POST("/clients", auth.Require(models.ScopeClients), createClient(store.Clients, log, now))
	api.GET("/clients", auth.Require(models.ScopeClients), listClients(store.Clients, log))
	api.GET("/clients/:client_id", auth.Require(models.ScopeClients), getClient(store.Clients, log))
	api.PATCH("/clients/:client_id", auth.Require(models.ScopeClients), updateClient(store.Clients, log, now))
	api.DELETE("/clients/:client_id", auth.Require(models.ScopeClients), deleteClient(s.Grants, log))
	api.POST("/clients/:client_id/secret", auth.Require(models.ScopeClients), rotateClientSecret(store.Clients, log, now))

	o := s.OAuth
	// The endpoints browsers may call from any origin (API.md §10), each
	// with its preflight.
	cors := middleware.CORS()
	for _, path := range []string{oauth.MetadataPath, oauth.OpenIDConfigurationPath, keys.JWKSPath,
		oauth.ProtectedResourceMetadataPath + oauth.APIResourcePath, oauth.ProtectedResourceMetadataPath + oauth.MCPResourcePath,
		oauth.TokenPath, oauth.RevocationPath, oauth.RegistrationPath, oauth.MCPResourcePath} {
		r.OPTIONS(path, cors, func(c *gin.Context) { c.Status(http.StatusNoContent) })
	}
	r.GET(oauth.MetadataPath, cors, o.Metadata())
	r.GET(oauth.OpenIDConfigurationPath, cors, o.OpenIDConfiguration())
	r.GET(oauth.ProtectedResourceMetadataPath+oauth.APIResourcePath, cors, o.ProtectedResourceMetadata(models.AudienceAPI))
	r.GET(oauth.ProtectedResourceMetadataPath+oauth.MCPResourcePath, cors, o.ProtectedResourceMetadata(models.AudienceMCP))
	r.GET(keys.JWKSPath, cors, jwks(s.Keys, log))
	r.GET(oauth.UserInfoPath, o.UserInfo())
	r.POST(oauth.UserInfoPath, o.UserInfo())
	r.GET(oauth.AuthorizePath, s.Sessions, o.Authorize())
	r.POST(oauth.AuthorizePath, s.Sessions, o.Authorize())
	r.POST(oauth.AuthorizeDecisionPath, s.Sessions, o.Decide())
	r.GET(oauth.EndSessionPath, s.Sessions, o.EndSession())
	r.POST(oauth.EndSessionPath, s.Sessions, o.EndSession())
	r.POST(oauth.TokenPath, cors, o.Token())
	r.POST(oauth.RevocationPath, cors, o.Revoke())
	r.POST(oauth.RegistrationPath, cors, o.Register())
	r.POST(oauth.IntrospectionPath, o.Introspect())
	r.POST(oauth.DeviceAuthorizationPath, o.DeviceAuthorization())
	r.GET(oauth.DevicePath, s.Sessions, o.DevicePage())
	r.POST(oauth.DevicePath, s.Sessions, o.DeviceSubmit())

	// The MCP endpoint (§10); its GET and DELETE, which a stateless server
	// does not serve, are the SDK's to answer (405).
	mcpHandler := mcpEndpoint(store.Beers, now, s.PublicURL, s.OAuth.ResourceMetadataURL(models.AudienceMCP), log)
	for _, method := range []string{http.MethodPost, http.MethodGet, http.MethodDelete} {
		r.Handle(method, oauth.MCPResourcePath, cors, s.MCPAuth.RequireBearer(), mcpHandler)
	}

	p := s.Pages
	browser := r.Group("", s.Sessions)
	browser.GET("/", p.Home())
	browser.GET("/login", p.LoginPage())
	browser.POST("/login", p.LogIn(s.Verifier))
	browser.POST("/logout", p.LogOut())
	browser.GET(pages.SignedOutPath, p.SignedOut())
	browser.GET("/register", p.RegisterPage())
	browser.POST("/register", p.Register(s.Accounts))
	browser.GET("/account", p.Account(store.Consents, store.Clients, store.PersonalTokens))
	browser.POST("/account/tokens", p.CreatePersonalToken(s.OAuth, s.Verifier, store.Consents, store.Clients, store.PersonalTokens))
	browser.POST("/account/tokens/:id/revoke", p.RevokePersonalToken(s.OAuth))
	browser.POST("/account/apps/:client_id/revoke", p.RevokeApp(s.Grants, store.Consents, store.Clients))
	browser.GET(pages.DemoCallbackPath, p.DemoCallback(s.PublicURL))
}
