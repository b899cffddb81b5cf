package controllers_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"beerlocker/app"
	"beerlocker/limits"
	"beerlocker/metrics"
	"beerlocker/models"
	"beerlocker/store/sqlite"
)

// testEnv is the real router over a real embedded database, served by a
// real HTTP server.
type testEnv struct {
	t      testing.TB
	clock  *testClock
	deps   *app.App
	router http.Handler
	server *httptest.Server
	client *http.Client
	logs   *logBuffer // the JSON log of everything the env served
}

func newTestEnv(t testing.TB) *testEnv {
	t.Helper()
	return newTestEnvWith(t, openTestStore(t))
}

// openTestStore opens a fresh embedded database, closed when the test ends.
func openTestStore(t testing.TB) *models.Store {
	t.Helper()
	if onMongo(t) {
		return openMongoStore(t)
	}
	store, err := sqlite.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { store.Close() })
	if onRedis(t) {
		return composeRedis(t, store)
	}
	return store
}

func newTestEnvWith(t testing.TB, store *models.Store) *testEnv {
	t.Helper()
	return newTestEnvAt(t, store, "http://localhost:3000")
}

// newTestEnvAt serves the router as if from publicURL.
func newTestEnvAt(t testing.TB, store *models.Store, publicURL string) *testEnv {
	t.Helper()
	return newTestEnvConfig(t, store, publicURL, testLimits)
}

// testLimits keep the brute-force limits on in every test, but generous
// enough for the tests that fail on purpose; limits_test.go sets tight ones.
var testLimits = limits.Limits{
	Address:  limits.Rate{Burst: 1000, PerMinute: 6000},
	Account:  limits.Rate{Burst: 1000, PerMinute: 6000},
	Register: limits.Rate{Burst: 1000, PerMinute: 6000},
	MaxKeys:  10_000,
}

// newLiveEnv serves the router with its own address as PUBLIC_URL, as
// clients that check the issuer or the resource against the URL they
// called (the MCP SDKs) need.
func newLiveEnv(t testing.TB, configure ...func(*app.Options)) *testEnv {
	t.Helper()
	return newTestEnvConfig(t, openTestStore(t), "", testLimits, configure...)
}

// newTestEnvConfig serves the router as if from publicURL ("" for the
// server's own URL), with limits; each of configure then changes the
// Config.
func newTestEnvConfig(t testing.TB, store *models.Store, publicURL string, limits limits.Limits, configure ...func(*app.Options)) *testEnv {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	if publicURL == "" {
		publicURL = "http://" + srv.Listener.Addr().String()
	}
	clock := &testClock{}
	logs := &logBuffer{}
	cfg := app.Options{
		PublicURL: publicURL,
		Secret:    []byte("test secret key, thirty-two bytes long!"),
		Argon2:    models.TestArgon2,
		// As in production, so revocation tests prove the cache evicts.
		TokenCacheTTL: 5 * time.Second,
		// As in production on the embedded database: every beer write
		// passes through this instance, which caches pages of beers.
		OneWriter: !onMongo(t),
		Limits:    limits,
		Metrics:   metrics.New(),
		Log:       slog.New(slog.NewJSONHandler(logs, nil)),
		LogOutput: logs,
		Now:       clock.Now,
	}
	for _, f := range configure {
		f(&cfg)
	}
	listen := wireRedis(t, store, &cfg)
	deps, err := app.New(cfg, store)
	if err != nil {
		t.Fatal(err)
	}
	listen(deps)
	router := deps.Router
	srv.Config.Handler = router
	srv.Start()
	t.Cleanup(srv.Close)
	client := &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return &testEnv{t: t, clock: clock, deps: deps, router: router, server: srv, client: client, logs: logs}
}

// from returns a view of the env whose requests (and browsers) come from
// the client address ip: they go straight to the router with that
// RemoteAddr, since every connection to the test server is from 127.0.0.1.
func (e *testEnv) from(ip string) *testEnv {
	v := *e
	v.client = &http.Client{
		Transport:     routerTransport{h: e.router, remoteAddr: net.JoinHostPort(ip, "40000")},
		CheckRedirect: e.client.CheckRedirect,
	}
	return &v
}

// routerTransport answers requests with a handler, in process.
type routerTransport struct {
	h          http.Handler
	remoteAddr string
}

func (rt routerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	in := req.Clone(req.Context())
	in.RemoteAddr = rt.remoteAddr
	in.RequestURI = req.URL.RequestURI()
	if in.Body == nil {
		in.Body = http.NoBody
	}
	rec := httptest.NewRecorder()
	rt.h.ServeHTTP(rec, in)
	resp := rec.Result()
	resp.Request = req
	return resp, nil
}

// logBuffer is the log destination of a testEnv, which handlers on many
// goroutines share.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testClock is the real time plus an offset a test can move forward, so
// expiry is tested without sleeping.
type testClock struct{ offset atomic.Int64 }

func (c *testClock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

func (c *testClock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// response is a finished HTTP exchange with its body read.
type response struct {
	*http.Response
	body []byte
}

func (r *response) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, r.body)
	}
	return m
}

// request sends method path with an optional JSON body and headers given
// as "Name: value" strings.
func (e *testEnv) request(method, path string, body any, headers ...string) *response {
	e.t.Helper()
	var rd io.Reader
	var contentType string
	switch b := body.(type) {
	case nil:
	case string:
		rd, contentType = strings.NewReader(b), "application/json"
	case []byte:
		rd, contentType = bytes.NewReader(b), "application/json"
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd, contentType = bytes.NewReader(j), "application/json"
	}
	req, err := http.NewRequest(method, e.server.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	checkResponse(e.t, req, resp, b)
	return &response{Response: resp, body: b}
}

func basic(username, password string) string {
	return "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(username+":"+password))
}

// mustRegister registers a user through the API and returns its id.
func (e *testEnv) mustRegister(username, password string) string {
	e.t.Helper()
	r := e.request("POST", "/api/users", map[string]string{"username": username, "password": password})
	if r.StatusCode != http.StatusCreated {
		e.t.Fatalf("register %s: status = %d, want 201: %s", username, r.StatusCode, r.body)
	}
	return r.json(e.t)["id"].(string)
}

// mustCreateBeer adds a beer through the API and returns it.
func (e *testEnv) mustCreateBeer(auth string, name string, quantity int) map[string]any {
	e.t.Helper()
	r := e.request("POST", "/api/beers", map[string]any{"name": name, "type": "Ale", "quantity": quantity}, auth)
	if r.StatusCode != http.StatusCreated {
		e.t.Fatalf("create beer: status = %d, want 201: %s", r.StatusCode, r.body)
	}
	return r.json(e.t)
}

func wantStatus(t testing.TB, r *response, want int) {
	t.Helper()
	if r.StatusCode != want {
		t.Fatalf("%s %s: status = %d, want %d; body: %s", r.Request.Method, r.Request.URL.Path, r.StatusCode, want, r.body)
	}
}

// wantProblem checks an RFC 9457 problem response.
func wantProblem(t testing.TB, r *response, status int) map[string]any {
	t.Helper()
	wantStatus(t, r, status)
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type = %q, want application/problem+json", ct)
	}
	p := r.json(t)
	if p["status"] != float64(status) || p["title"] == "" || p["type"] == nil {
		t.Errorf("problem body = %v, want type, title and status %d", p, status)
	}
	if strings.Contains(string(r.body), "goroutine") || strings.Contains(string(r.body), ".go:") {
		t.Errorf("problem body leaks a stack trace: %s", r.body)
	}
	return p
}

// problemFields returns the field names of a validation problem, in order.
func problemFields(p map[string]any) []string {
	var out []string
	errs, _ := p["errors"].([]any)
	for _, e := range errs {
		out = append(out, e.(map[string]any)["field"].(string))
	}
	return out
}
