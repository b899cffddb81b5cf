package controllers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"beerlocker/httperr"
	"beerlocker/middleware"
	"beerlocker/models"
	"beerlocker/store/redis"
	"beerlocker/store/redis/redistest"
	"beerlocker/store/sqlite"
)

// An outage of the database (or of Redis, with REDIS_URL) is answered 503
// with Retry-After on every surface, each in its own error format: a
// problem on API routes, temporarily_unavailable at the OAuth endpoints,
// the error page in the browser. A credential that cannot be checked is
// answered 503 too, never 401 or invalid_client.

// TestUnavailable sets up a user, her tokens, two apps and a signed-in
// browser on a working database, then sends the same credentials and
// cookies to a server whose database cannot be reached.
func TestUnavailable(t *testing.T) {
	up := newTestEnv(t)
	o := setUpOutage(t, up)
	// The same Config, so the session cookies and CSRF tokens are valid.
	down := newTestEnvWith(t, unavailableStore())
	cases := append(outageCases(o), outageCase{
		name: "GET /account", want: outagePage,
		send: func(e *testEnv) *response { return o.signedIn.at(e).get("/account") },
	})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantUnavailable(t, tc.send(down.in(t)), tc.want)
		})
	}
}

// TestUnavailableWhenRedisStops is the real outage: codes, tokens and
// limits in a redis-server of this test's own, which is stopped once
// everything is set up. Redis being down fails even the credential checks, since the limits
// live there, and empties the token cache, so a refresh token read a
// moment ago is not served from memory. Sealed access tokens, which need
// no Redis, keep working.
func TestUnavailableWhenRedisStops(t *testing.T) {
	srv := redistest.Start(t)
	primary, err := sqlite.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { primary.Close() })
	rs, err := redis.Open(context.Background(), srv.URL(), redis.Options{Prefix: redistest.Prefix()})
	if err != nil {
		t.Fatalf("redis.Open: %v", err)
	}
	t.Cleanup(func() { rs.Close() })
	store := rs.Compose(primary)
	redisStores.Store(store, rs) // newTestEnvConfig wires the limits and the listener
	e := newTestEnvWith(t, store)
	o := setUpOutage(t, e)
	// The refresh token, stored in Redis, is read through the token cache.
	wantStatus(t, e.postForm("/api/oauth2/introspect", &o.app, url.Values{"token": {o.refresh}}), http.StatusOK)
	if e.deps.TokenCache.Len() == 0 {
		t.Fatal("no token is cached: the test would not show that the outage empties the cache")
	}

	srv.Stop()
	// The listener sees its connection drop and empties the cache.
	waitUntil(t, "the bearer cache is emptied", func() bool {
		return !rs.Listening() && e.deps.TokenCache.Len() == 0
	})
	for _, tc := range outageCases(o) {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "API with Bearer" {
				// A sealed access token needs nothing from Redis, and the
				// beers are in the primary: the API keeps answering.
				// Nothing can be revoked meanwhile (every revoking
				// surface checks a credential, and the limits are in
				// Redis), and a revocation elsewhere reaches this
				// instance through the primary within TOKEN_CACHE_TTL.
				wantStatus(t, tc.send(e.in(t)), http.StatusOK)
				return
			}
			wantUnavailable(t, tc.send(e.in(t)), tc.want)
		})
	}
	// What needs only the database still works: the account page reads
	// consents and clients, which Redis does not hold, and says that the
	// personal access tokens, which it does, cannot be shown.
	page := o.signedIn.get("/account")
	wantStatus(t, page, http.StatusOK)
	wantBodyContains(t, page, "Your personal access tokens cannot be shown right now.")
	wantProblem(t, e.request("GET", "/readyz", nil), http.StatusServiceUnavailable)
}

// outage is what the requests of an outage test send, set up while the
// store answers.
type outage struct {
	basic          string // alice's Basic header
	access         string // alice's access token for app, with beers:read
	refresh        string // its refresh token
	app            client // confidential: password and refresh_token
	tv             client // public: the device grant
	signedIn, anon *browser
	csrf           string // signedIn's CSRF token
	loginCSRF      string // anon's CSRF token, from the login form
}

func setUpOutage(t *testing.T, e *testEnv) *outage {
	t.Helper()
	e.mustRegister("dev", "devs password")
	e.mustRegister("alice", "alices password")
	dev := basic("dev", "devs password")
	o := &outage{
		basic: basic("alice", "alices password"),
		app: e.mustCreateClient(dev, map[string]any{"name": "Beer Buddy",
			"grant_types": []string{"password", "refresh_token"}}),
		tv: e.mustCreateClient(dev, map[string]any{"name": "Beer TV", "public": true,
			"grant_types": []string{deviceGrant}}),
	}
	tk := e.mustToken(&o.app, passwordForm("alice", "alices password", "beers:read"))
	o.access, o.refresh = tk.AccessToken, tk.RefreshToken
	// Both credentials work, and the token is now in the bearer cache.
	wantStatus(t, e.request("GET", "/api/beers", nil, o.basic), http.StatusOK)
	wantStatus(t, e.request("GET", "/api/beers", nil, bearer(o.access)), http.StatusOK)
	o.signedIn = e.newBrowser()
	o.signedIn.mustLogIn("alice", "alices password")
	o.csrf = o.signedIn.csrfToken("/account")
	o.anon = e.newBrowser()
	o.loginCSRF = o.anon.csrfToken("/login")
	return o
}

// outageKind is the error format of a surface.
type outageKind int

const (
	outageProblem outageKind = iota // RFC 9457, on API routes
	outageOAuth                     // RFC 6749 §5.2, at the OAuth endpoints
	outagePage                      // the HTML error page
)

// outageCase is one request of a representative operation of a surface.
type outageCase struct {
	name string
	want outageKind
	send func(e *testEnv) *response
}

// outageCases are requests that must be answered 503 whether the
// database or Redis is down: each needs both, if only to check the
// credential it carries against the limits.
func outageCases(o *outage) []outageCase {
	return []outageCase{
		{"API with Basic", outageProblem, func(e *testEnv) *response {
			return e.request("GET", "/api/beers", nil, o.basic)
		}},
		{"API with Bearer", outageProblem, func(e *testEnv) *response {
			return e.request("GET", "/api/beers", nil, bearer(o.access))
		}},
		{"token", outageOAuth, func(e *testEnv) *response {
			return e.postForm("/api/oauth2/token", &o.app, refreshForm(o.refresh, ""))
		}},
		{"revoke", outageOAuth, func(e *testEnv) *response {
			return e.postForm("/api/oauth2/revoke", &o.app, revokeForm(o.refresh, ""))
		}},
		{"introspect", outageOAuth, func(e *testEnv) *response {
			return e.postForm("/api/oauth2/introspect", &o.app, url.Values{"token": {o.access}})
		}},
		{"device authorization", outageOAuth, func(e *testEnv) *response {
			return e.postForm("/api/oauth2/device_authorization", &o.tv, url.Values{"client_id": {o.tv.ID}})
		}},
		{"POST /login", outagePage, func(e *testEnv) *response {
			return o.anon.at(e).post("/login", url.Values{"username": {"alice"}, "password": {"alices password"},
				"csrf_token": {o.loginCSRF}})
		}},
		{"POST /account/apps/{client_id}/revoke", outagePage, func(e *testEnv) *response {
			return o.signedIn.at(e).post("/account/apps/"+o.app.ID+"/revoke", url.Values{"csrf_token": {o.csrf}})
		}},
		{"POST /device", outagePage, func(e *testEnv) *response {
			return o.signedIn.at(e).post("/device", url.Values{"user_code": {"BCDF-GHJK"}, "csrf_token": {o.csrf}})
		}},
	}
}

// wantUnavailable checks a 503 answered because the store is unavailable:
// Retry-After, no challenge and no redirect, the surface's error format,
// and nothing of the underlying error.
func wantUnavailable(t testing.TB, r *response, kind outageKind) {
	t.Helper()
	wantStatus(t, r, http.StatusServiceUnavailable)
	if got, want := r.Header.Get("Retry-After"), strconv.Itoa(httperr.RetryAfterUnavailable); got != want {
		t.Errorf("Retry-After = %q, want %q", got, want)
	}
	if got := r.Header.Values("WWW-Authenticate"); len(got) > 0 {
		t.Errorf("WWW-Authenticate = %q, want none: no credential was refused", got)
	}
	wantNoLocation(t, r)
	if containsAny(string(r.body), "test store", "sqlite", "redis:", "refused") {
		t.Errorf("the body names the error: %s", r.body)
	}
	switch kind {
	case outageProblem:
		p := wantProblem(t, r, http.StatusServiceUnavailable)
		if p["title"] != "Service unavailable" {
			t.Errorf("title = %v, want Service unavailable", p["title"])
		}
		id := r.Header.Get(middleware.RequestIDHeader)
		if d, _ := p["detail"].(string); id == "" || !strings.Contains(d, id) {
			t.Errorf("detail = %q, want it to name the request id %q", d, id)
		}
	case outageOAuth:
		wantOAuthError(t, r, http.StatusServiceUnavailable, "temporarily_unavailable")
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("Content-Type = %q, want application/json", ct)
		}
		if got := r.Header.Get("Pragma"); got != "no-cache" {
			t.Errorf("Pragma = %q, want no-cache", got)
		}
		if d, _ := r.json(t)["error_description"].(string); d == "" {
			t.Error("error_description is empty")
		}
	case outagePage:
		wantErrorPage(t, r, http.StatusServiceUnavailable)
		wantBodyContains(t, r, "Service unavailable")
		if got := r.Header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("Cache-Control = %q, want no-store", got)
		}
	}
}

// in returns a view of the env that reports to t, for use in a subtest.
func (e *testEnv) in(t testing.TB) *testEnv {
	v := *e
	v.t = t
	return &v
}

// at returns the browser, with its cookies, browsing e and reporting to
// e's test. The cookie jar does not tell ports apart, so the session of
// one test server is the session of another on the same host.
func (b *browser) at(e *testEnv) *browser {
	v := *b
	v.t, v.e = e.t, e
	return &v
}

// waitUntil polls cond until it holds, and fails the test if it does not
// within 10 s: long enough for any machine, and only reached on a bug.
func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("still waiting, after 10 s, until %s", what)
		}
	}
}

// errDown is what the repositories of unavailableStore answer, as a store
// does when its database cannot be reached.
var errDown = fmt.Errorf("test store: connection refused: %w", models.ErrUnavailable)

// unavailableStore returns a store whose database cannot be reached: every
// call fails with an error wrapping models.ErrUnavailable.
func unavailableStore() *models.Store {
	return &models.Store{Users: downUsers{}, Beers: downBeers{}, Clients: downClients{}, Consents: downConsents{},
		Codes: downCodes{}, Tokens: downTokens{}, DeviceCodes: downDeviceCodes{}, Sessions: downSessions{}, DB: downDB{},
		Revocations: downRevocations{}}
}

// downRevocations went down after the service read them at start (which
// it must, or it does not start): there were none, and nothing more can
// be read or recorded.
type downRevocations struct{}

func (downRevocations) Add(context.Context, *models.Revocation) error { return errDown }
func (downRevocations) ListSince(_ context.Context, since, _ time.Time) ([]*models.Revocation, error) {
	if since.IsZero() {
		return nil, nil // the read at start
	}
	return nil, errDown
}
func (downRevocations) DeleteExpired(context.Context, time.Time) (int64, error) { return 0, errDown }

type downDB struct{}

func (downDB) Ping(context.Context) error { return errDown }
func (downDB) Close() error               { return nil }

type downUsers struct{}

func (downUsers) Create(context.Context, *models.User) error { return errDown }
func (downUsers) Get(context.Context, string) (*models.User, error) {
	return nil, errDown
}
func (downUsers) GetByUsername(context.Context, string) (*models.User, error) {
	return nil, errDown
}
func (downUsers) UpdatePassword(context.Context, string, string, time.Time) (*models.User, error) {
	return nil, errDown
}
func (downUsers) Delete(context.Context, string) error { return errDown }

type downBeers struct{}

func (downBeers) Create(context.Context, *models.Beer) error { return errDown }
func (downBeers) Get(context.Context, string, string) (*models.Beer, error) {
	return nil, errDown
}
func (downBeers) List(context.Context, string, models.Page) ([]*models.Beer, string, error) {
	return nil, "", errDown
}
func (downBeers) Update(context.Context, string, string, models.BeerUpdate, time.Time) (*models.Beer, error) {
	return nil, errDown
}
func (downBeers) Delete(context.Context, string, string) error { return errDown }

type downClients struct{}

func (downClients) Create(context.Context, *models.Client) error { return errDown }
func (downClients) Get(context.Context, string) (*models.Client, error) {
	return nil, errDown
}
func (downClients) GetOwned(context.Context, string, string) (*models.Client, error) {
	return nil, errDown
}
func (downClients) List(context.Context, string) ([]*models.Client, error) { return nil, errDown }
func (downClients) Update(context.Context, string, string, models.ClientUpdate, time.Time) (*models.Client, error) {
	return nil, errDown
}
func (downClients) Delete(context.Context, string, string) error { return errDown }
func (downClients) DeleteUnapproved(context.Context, time.Time) (int64, error) {
	return 0, errDown
}

type downConsents struct{}

func (downConsents) Grant(context.Context, string, string, []string, time.Time, time.Time) (*models.Consent, error) {
	return nil, errDown
}
func (downConsents) Touch(context.Context, string, string, time.Time) error { return errDown }
func (downConsents) Get(context.Context, string, string) (*models.Consent, error) {
	return nil, errDown
}
func (downConsents) List(context.Context, string) ([]*models.Consent, error) { return nil, errDown }
func (downConsents) Delete(context.Context, string, string) error            { return errDown }

type downCodes struct{}

func (downCodes) Create(context.Context, *models.Code) error { return errDown }
func (downCodes) Get(context.Context, string, time.Time) (*models.Code, error) {
	return nil, errDown
}
func (downCodes) Consume(context.Context, string, time.Time) (*models.Code, error) {
	return nil, errDown
}
func (downCodes) DeleteUser(context.Context, string) error                { return errDown }
func (downCodes) DeleteExpired(context.Context, time.Time) (int64, error) { return 0, errDown }

type downTokens struct{}

func (downTokens) Create(context.Context, ...*models.Token) error { return errDown }
func (downTokens) Get(context.Context, string, time.Time) (*models.Token, error) {
	return nil, errDown
}
func (downTokens) Rotate(context.Context, string, time.Time) error         { return errDown }
func (downTokens) Revoke(context.Context, string) error                    { return errDown }
func (downTokens) RevokeFamily(context.Context, string) error              { return errDown }
func (downTokens) RevokeUser(context.Context, string) error                { return errDown }
func (downTokens) DeleteExpired(context.Context, time.Time) (int64, error) { return 0, errDown }

type downDeviceCodes struct{}

func (downDeviceCodes) Create(context.Context, *models.DeviceCode) error { return errDown }
func (downDeviceCodes) GetByUserCode(context.Context, string, time.Time) (*models.DeviceCode, error) {
	return nil, errDown
}
func (downDeviceCodes) Decide(context.Context, string, models.DeviceDecision, time.Time) error {
	return errDown
}
func (downDeviceCodes) Poll(context.Context, string, string, time.Time) (*models.DeviceCode, bool, error) {
	return nil, false, errDown
}
func (downDeviceCodes) Redeem(context.Context, string, string, time.Time) (*models.DeviceCode, error) {
	return nil, errDown
}
func (downDeviceCodes) DeleteExpired(context.Context, time.Time) (int64, error) { return 0, errDown }
func (downDeviceCodes) DeleteUser(context.Context, string) error                { return errDown }

type downSessions struct{}

func (downSessions) Create(context.Context, *models.Session) error { return errDown }
func (downSessions) Get(context.Context, string, time.Time) (*models.Session, error) {
	return nil, errDown
}
func (downSessions) Delete(context.Context, string) error                    { return errDown }
func (downSessions) DeleteUser(context.Context, string) error                { return errDown }
func (downSessions) Park(context.Context, *models.PendingConsent) error      { return errDown }
func (downSessions) DeleteExpired(context.Context, time.Time) (int64, error) { return 0, errDown }
func (downSessions) Take(context.Context, string, string, string, time.Time) (*models.PendingConsent, error) {
	return nil, errDown
}
