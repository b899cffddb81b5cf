//go:build linux

package e2e

// TestGarbageSoak (issue 7, item 3) sends seeded random and malformed
// requests to every route of the real binary and checks that the service
// survives them: no 5xx, no dropped connection for a well-formed request,
// bounded memory, /readyz healthy afterwards, and a known user's data
// unchanged.
//
// Short mode (the test command): 3000 requests. Long mode (`make soak`):
// -soak.n=20000. Request i is a function of (seed, i) only, so a failure
// names the seed and the request index; replay it with
//
//	go test -run TestGarbageSoak -v ./e2e -args -soak.seed=S [-soak.only=I]
//
// (ids the server generates, such as beer ids, differ between runs.)

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"beerlocker/e2e/e2etest"
)

var (
	soakSeed    = flag.Int64("soak.seed", 0, "TestGarbageSoak: seed of the random requests (0: time-based)")
	soakN       = flag.Int("soak.n", 3000, "TestGarbageSoak: number of requests (make soak: 20000)")
	soakWorkers = flag.Int("soak.workers", 8, "TestGarbageSoak: concurrent senders")
	soakOnly    = flag.Int("soak.only", -1, "TestGarbageSoak: send only request number I (replay one failure)")
	soakMaxRSS  = flag.Int("soak.maxrss", 200, "TestGarbageSoak: bound on the server's resident memory, MiB")
)

// soakFixture is what the requests are made of: two users with beers,
// clients and tokens, and a browser session of the scratch user. Requests
// may change anything of the scratch user; the known user's data must come
// out unchanged.
type soakFixture struct {
	base, addr string

	knownUser, knownPass     string
	knownBeers               []string
	knownClient, knownSecret string
	knownToken               string

	scratchUser, scratchPass     string
	scratchBeers                 []string
	scratchClient, scratchSecret string
	victimClients                []string // scratch clients that requests may delete or rotate
	scratchToken, scratchRefresh string
	scratchMCPToken              string // the scratch user's token for /mcp, every beer scope
	victimToken, victimRefresh   string // scratch tokens that requests may revoke
	ccToken                      string // a client_credentials token (no user)
	sessionCookie                string // "name=value" of the scratch user's logged-in session
	csrf                         string // the CSRF token of that session
	anonCookie, anonCSRF         string // a session that is not logged in

	routes []soakRoute
}

// soakRoute is one route of the API, with the kind of body it takes.
type soakRoute struct {
	path    string // with {id} or {client_id}
	methods []string
	body    string // "json-beer", "json-user", ... or "" (no body)
}

// knownRoutes are the routes of API.md with the bodies they take. Routes
// of docs/openapi.json that are not listed here are added with generic
// bodies, so a new route is soaked too.
var knownRoutes = []soakRoute{
	{"/api/users", []string{"POST"}, "json-user"},
	{"/api/users/me", []string{"GET", "PATCH", "DELETE"}, "json-password"},
	{"/api/beers", []string{"GET", "POST"}, "json-beer"},
	{"/api/beers/{id}", []string{"GET", "PUT", "PATCH", "DELETE"}, "json-beer"},
	{"/api/clients", []string{"GET", "POST"}, "json-client"},
	{"/api/clients/{client_id}", []string{"GET", "PATCH", "DELETE"}, "json-client"},
	{"/api/clients/{client_id}/secret", []string{"POST"}, ""},
	{"/.well-known/oauth-authorization-server", []string{"GET"}, ""},
	{"/.well-known/jwks.json", []string{"GET"}, ""},
	{"/api/oauth2/authorize", []string{"GET", "POST"}, "form-authorize"},
	{"/api/oauth2/authorize/decision", []string{"POST"}, "form-decide"},
	{"/api/oauth2/token", []string{"POST"}, "form-token"},
	{"/api/oauth2/revoke", []string{"POST"}, "form-revoke"},
	{"/api/oauth2/introspect", []string{"POST"}, "form-revoke"},
	{"/api/oauth2/device_authorization", []string{"POST"}, "form-token"},
	{"/api/oauth2/register", []string{"POST"}, "json-client"}, // RFC 7591 metadata is client-shaped
	{"/mcp", []string{"POST", "GET", "DELETE"}, "json-rpc"},
	{"/device", []string{"GET", "POST"}, "form-device"},
	{"/", []string{"GET"}, ""},
	{"/login", []string{"GET", "POST"}, "form-login"},
	{"/logout", []string{"POST"}, "form-csrf"},
	{"/register", []string{"GET", "POST"}, "form-login"},
	{"/account", []string{"GET"}, ""},
	{"/account/apps/{client_id}/revoke", []string{"POST"}, "form-csrf"},
	{"/demo/callback", []string{"GET"}, ""},
	{"/healthz", []string{"GET"}, ""},
	{"/readyz", []string{"GET"}, ""},
	{"/openapi.json", []string{"GET"}, ""},
}

// loadRoutes merges docs/openapi.json into knownRoutes.
func loadRoutes(t *testing.T) []soakRoute {
	routes := slices.Clone(knownRoutes)
	b, err := os.ReadFile(filepath.Join(e2etest.RepoRoot(t), "docs", "openapi.json"))
	if err != nil {
		t.Logf("docs/openapi.json: %v; using the routes of API.md only", err)
		return routes
	}
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("docs/openapi.json: %v", err)
	}
	for path, ops := range doc.Paths {
		var methods []string
		for m := range ops {
			switch m {
			case "get", "put", "post", "delete", "patch", "head", "options":
				methods = append(methods, strings.ToUpper(m))
			}
		}
		sort.Strings(methods)
		i := slices.IndexFunc(routes, func(r soakRoute) bool { return r.path == path })
		if i < 0 {
			routes = append(routes, soakRoute{path, methods, "json-any"})
			continue
		}
		for _, m := range methods {
			if !slices.Contains(routes[i].methods, m) {
				routes[i].methods = append(routes[i].methods, m)
			}
		}
	}
	sort.Slice(routes, func(i, j int) bool { return routes[i].path < routes[j].path })
	return routes
}

func TestGarbageSoak(t *testing.T) {
	seed := *soakSeed
	if seed == 0 {
		seed = time.Now().UnixNano()
	}
	n := *soakN
	t.Logf("soak seed %d, %d requests, %d workers (replay: go test -run TestGarbageSoak -v ./e2e -args -soak.seed=%d -soak.n=%d)",
		seed, n, *soakWorkers, seed, n)

	dir := t.TempDir()
	srv := startBinary(t, dir, soakEnv())
	fx := setupSoakFixture(t, srv.Base)
	fx.addr = srv.Addr
	fx.routes = loadRoutes(t)

	// The known user's data, as the API shows it before the soak.
	knownAuth := map[string]string{"Authorization": basicAuth(fx.knownUser, fx.knownPass)}
	snapshot := func(auth map[string]string) map[string]string {
		out := map[string]string{}
		for _, p := range []string{"/api/beers?limit=100", "/api/users/me", "/api/clients"} {
			out[p] = string(mustAPICall(t, 200, "GET", fx.base+p, "", "", auth))
		}
		return out
	}
	before := snapshot(knownAuth)

	// Memory, sampled while the soak runs.
	var maxRSS atomic.Int64
	rssStart, err := srv.RSS()
	if err != nil {
		t.Fatal(err)
	}
	maxRSS.Store(rssStart)
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stopSampling:
				return
			case <-tick.C:
			}
			if rss, err := srv.RSS(); err == nil && rss > maxRSS.Load() {
				maxRSS.Store(rss)
			}
		}
	}()

	stats := newSoakStats()
	client := &http.Client{
		Timeout: 120 * time.Second,
		Transport: &http.Transport{
			DisableCompression:    true,
			MaxIdleConnsPerHost:   2 * *soakWorkers,
			ResponseHeaderTimeout: 90 * time.Second,
			ExpectContinueTimeout: time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	defer client.CloseIdleConnections()
	jobs := make(chan int)
	var wg sync.WaitGroup
	start := time.Now()
	for range *soakWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				g := &soakGen{fx: fx, rng: rand.New(rand.NewPCG(uint64(seed), uint64(i)))}
				req := g.request()
				stats.record(i, req, sendSoak(client, fx, req))
			}
		}()
	}
	if *soakOnly >= 0 {
		jobs <- *soakOnly
	} else {
		for i := range n {
			jobs <- i
			if srv.Exited() {
				break
			}
			if (i+1)%max(n/5, 1) == 0 {
				rss, _ := srv.RSS()
				t.Logf("%d requests sent in %s, RSS %.1f MiB (peak %.1f MiB)", i+1,
					time.Since(start).Round(time.Millisecond), mib(rss), mib(maxRSS.Load()))
			}
		}
	}
	close(jobs)
	wg.Wait()
	elapsed := time.Since(start)
	close(stopSampling)
	<-sampled
	if srv.Exited() {
		t.Fatalf("the server exited during the soak (%v); stderr:\n%s", srv.waitErr, tailText(srv.Stderr(), 4000))
	}
	rssEnd, _ := srv.RSS()

	t.Logf("sent %d requests in %s (%.0f/s): %d over net/http, %d raw (%d of them malformed HTTP)",
		stats.total, elapsed.Round(time.Millisecond), float64(stats.total)/elapsed.Seconds(), stats.viaHTTP, stats.raw, stats.malformed)
	t.Logf("statuses: %s", stats.histogram())
	t.Logf("5xx: %d; dropped connections or errors on well-formed requests: %d; malformed requests closed without a response: %d; responses cut by a reset after Connection: close: %d; 501/505 from net/http's own HTTP parser for an unsupported transfer coding or version: %d",
		stats.fiveXX, stats.dropped, stats.closedMalformed, stats.resetAfterClose, stats.protocol5xx)
	t.Logf("server RSS: %.1f MiB at start, %.1f MiB peak, %.1f MiB at the end (bound %d MiB)",
		mib(rssStart), mib(maxRSS.Load()), mib(rssEnd), *soakMaxRSS)

	for _, f := range stats.firstFailures() {
		t.Error(f)
	}
	if stats.failures > 0 {
		t.Errorf("%d of %d requests failed (first ones above); seed %d", stats.failures, stats.total, seed)
	}
	if peak := maxRSS.Load(); peak > int64(*soakMaxRSS)<<20 {
		t.Errorf("server RSS peaked at %.1f MiB, over the %d MiB bound", mib(peak), *soakMaxRSS)
	}

	// Afterwards: ready, and the known user's data is unchanged. The soaked
	// process is checked with the known user's bearer token (bearer tokens
	// are not a guessable credential, so no brute-force limit applies);
	// brute-force limits may still be refusing Basic for the known user,
	// whose password the soak guessed at, so the Basic check runs on a
	// fresh process on the same data.
	st, body, _, err := apiCall("GET", fx.base+"/readyz", "", "", nil)
	if err != nil || st != 200 {
		t.Fatalf("/readyz after the soak: %d %s %v", st, body, err)
	}
	compareSnapshot(t, "after the soak (bearer token, same process)", before,
		snapshotRetrying(t, fx.base, map[string]string{"Authorization": "Bearer " + fx.knownToken}))
	srv.Stop()
	// A panic is a bug even when the response was already under way and
	// the client saw no 5xx. Other errors are shown (a client that goes
	// away mid-request can log one) but do not fail the soak.
	if panics := srv.LogMessages("panic", 3); len(panics) > 0 {
		t.Errorf("the server panicked during the soak:\n%s", strings.Join(panics, "\n"))
	}
	if lines := srv.LogLines([]string{"ERROR"}, 5); len(lines) > 0 {
		t.Logf("the server logged errors during the soak (first %d):\n%s", len(lines), strings.Join(lines, "\n"))
	}
	srv2 := startBinary(t, dir, soakEnv())
	after := map[string]string{}
	for p := range before {
		after[p] = string(mustAPICall(t, 200, "GET", srv2.Base+p, "", "", knownAuth))
	}
	compareSnapshot(t, "after the soak (Basic, restarted process)", before, after)
	srv2.Stop()
}

// soakEnv is the environment of the soaked server. Every request comes
// from 127.0.0.1, so with the default brute-force and registration limits
// nearly every credential and registration would soon be answered 429
// before reaching the code that parses and checks it; the soak raises the
// limits (README, configuration) so that garbage gets that far. 429 stays an acceptable answer, and the
// final check of the known user does not depend on the limits: it uses a
// bearer token, then Basic on a fresh process.
func soakEnv() map[string]string {
	return map[string]string{
		"RATE_LIMIT_ADDRESS_BURST": "1000", "RATE_LIMIT_ADDRESS_PER_MINUTE": "6000",
		"RATE_LIMIT_ACCOUNT_BURST": "1000", "RATE_LIMIT_ACCOUNT_PER_MINUTE": "6000",
		"RATE_LIMIT_REGISTER_BURST": "1000", "RATE_LIMIT_REGISTER_PER_MINUTE": "6000",
	}
}

// snapshotRetrying reads the known user's data, waiting out a 429
// (Retry-After) for at most two minutes.
func snapshotRetrying(t *testing.T, base string, auth map[string]string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, p := range []string{"/api/beers?limit=100", "/api/users/me", "/api/clients"} {
		deadline := time.Now().Add(2 * time.Minute)
		for {
			st, b, h, err := apiCall("GET", base+p, "", "", auth)
			if err != nil {
				t.Fatalf("GET %s: %v", p, err)
			}
			if st == 429 && time.Now().Before(deadline) {
				wait, _ := strconv.Atoi(h.Get("Retry-After"))
				time.Sleep(time.Duration(min(max(wait, 1), 30)) * time.Second)
				continue
			}
			if st != 200 {
				t.Fatalf("GET %s: status %d: %s", p, st, b)
			}
			out[p] = string(b)
			break
		}
	}
	return out
}

func compareSnapshot(t *testing.T, when string, before, after map[string]string) {
	t.Helper()
	for p, b := range before {
		if after[p] != b {
			t.Errorf("%s: the known user's GET %s changed:\nbefore: %s\nafter:  %s", when, p, b, after[p])
		}
	}
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

func tailText(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// setupSoakFixture creates the two users, their beers, clients, tokens
// and sessions over the public API.
func setupSoakFixture(t *testing.T, base string) *soakFixture {
	fx := &soakFixture{base: base,
		knownUser: "soak_known", knownPass: "known user's password",
		scratchUser: "soak_scratch", scratchPass: "scratch user's password",
	}
	for _, u := range [][2]string{{fx.knownUser, fx.knownPass}, {fx.scratchUser, fx.scratchPass}} {
		body, _ := json.Marshal(map[string]string{"username": u[0], "password": u[1]})
		mustAPICall(t, 201, "POST", base+"/api/users", "application/json", string(body), nil)
	}
	known := map[string]string{"Authorization": basicAuth(fx.knownUser, fx.knownPass)}
	scratch := map[string]string{"Authorization": basicAuth(fx.scratchUser, fx.scratchPass)}
	newBeer := func(auth map[string]string, i int) string {
		body := fmt.Sprintf(`{"name":"Soak beer %d","type":"Tripel","quantity":%d}`, i, i*3)
		var b struct{ ID string }
		json.Unmarshal(mustAPICall(t, 201, "POST", base+"/api/beers", "application/json", body, auth), &b)
		return b.ID
	}
	for i := range 5 {
		fx.knownBeers = append(fx.knownBeers, newBeer(known, i))
	}
	for i := range 10 {
		fx.scratchBeers = append(fx.scratchBeers, newBeer(scratch, i))
	}
	newClient := func(auth map[string]string, name string) (string, string) {
		body := fmt.Sprintf(`{"name":%q,"redirect_uris":["http://127.0.0.1:9/cb","https://app.example/cb"],`+
			`"grant_types":["authorization_code","refresh_token","client_credentials","password"]}`, name)
		var c struct{ ClientID, ClientSecret string }
		b := mustAPICall(t, 201, "POST", base+"/api/clients", "application/json", body, auth)
		if err := json.Unmarshal(b, &struct {
			ClientID     *string `json:"client_id"`
			ClientSecret *string `json:"client_secret"`
		}{&c.ClientID, &c.ClientSecret}); err != nil {
			t.Fatal(err)
		}
		return c.ClientID, c.ClientSecret
	}
	fx.knownClient, fx.knownSecret = newClient(known, "Known app")
	fx.scratchClient, fx.scratchSecret = newClient(scratch, "Scratch app")
	for i := range 3 {
		id, _ := newClient(scratch, fmt.Sprintf("Victim app %d", i))
		fx.victimClients = append(fx.victimClients, id)
	}
	token := func(clientID, secret string, form url.Values) (string, string) {
		var tok struct {
			AccessToken  string `json:"access_token"`
			RefreshToken string `json:"refresh_token"`
		}
		b := mustAPICall(t, 200, "POST", base+"/api/oauth2/token", "application/x-www-form-urlencoded", form.Encode(),
			map[string]string{"Authorization": basicAuth(clientID, secret)})
		json.Unmarshal(b, &tok)
		return tok.AccessToken, tok.RefreshToken
	}
	allScopes := "profile beers:read beers:write clients"
	fx.knownToken, _ = token(fx.knownClient, fx.knownSecret, url.Values{"grant_type": {"password"},
		"username": {fx.knownUser}, "password": {fx.knownPass}, "scope": {allScopes}})
	fx.scratchToken, fx.scratchRefresh = token(fx.scratchClient, fx.scratchSecret, url.Values{"grant_type": {"password"},
		"username": {fx.scratchUser}, "password": {fx.scratchPass}, "scope": {allScopes}})
	fx.victimToken, fx.victimRefresh = token(fx.scratchClient, fx.scratchSecret, url.Values{"grant_type": {"password"},
		"username": {fx.scratchUser}, "password": {fx.scratchPass}})
	fx.ccToken, _ = token(fx.scratchClient, fx.scratchSecret, url.Values{"grant_type": {"client_credentials"}})
	var mcpResource struct{ Resource string }
	json.Unmarshal(mustAPICall(t, 200, "GET", base+"/.well-known/oauth-protected-resource/mcp", "", "", nil), &mcpResource)
	fx.scratchMCPToken, _ = token(fx.scratchClient, fx.scratchSecret, url.Values{"grant_type": {"password"},
		"username": {fx.scratchUser}, "password": {fx.scratchPass}, "scope": {"beers:read beers:write"}, "resource": {mcpResource.Resource}})

	// A browser session: one anonymous (GET /login), one logged in.
	jar, _ := cookiejar.New(nil)
	cookieClient := &http.Client{Jar: jar, Timeout: 60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	csrfRe := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)
	getPage := func(path string) string {
		resp, err := cookieClient.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		m := csrfRe.FindSubmatch(b)
		if resp.StatusCode != 200 || m == nil {
			t.Fatalf("GET %s: %d, no CSRF token: %s", path, resp.StatusCode, tailText(string(b), 500))
		}
		return string(m[1])
	}
	cookieHeader := func() string {
		u, _ := url.Parse(base)
		var parts []string
		for _, c := range jar.Cookies(u) {
			parts = append(parts, c.Name+"="+c.Value)
		}
		return strings.Join(parts, "; ")
	}
	fx.anonCSRF = getPage("/login")
	fx.anonCookie = cookieHeader()
	resp, err := cookieClient.PostForm(base+"/login", url.Values{"csrf_token": {fx.anonCSRF},
		"username": {fx.scratchUser}, "password": {fx.scratchPass}, "return_to": {"/account"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 303 {
		t.Fatalf("POST /login: %d, want 303", resp.StatusCode)
	}
	fx.csrf = getPage("/account")
	fx.sessionCookie = cookieHeader()
	return fx
}

// soakReq is one generated request.
type soakReq struct {
	desc string // what it is, for failure messages

	method, target string // target: the request-target (path and query)
	host           string // Host header ("" = the server's address)
	header         [][2]string
	body           []byte

	raw        bool   // sent over a raw connection
	rawBytes   []byte // the whole request as sent, when raw
	malformed  bool   // not valid HTTP: a 4xx or a closed connection is fine
	protocol5x bool   // net/http itself answers 501 or 505 (unsupported transfer coding or version)
	closeWrite bool   // half-close after writing (the request is incomplete on purpose)
}

// soakGen generates request i from its own random source.
type soakGen struct {
	fx  *soakFixture
	rng *rand.Rand

	knownValid bool // the request carries the known user's valid credentials
}

func (g *soakGen) pct(p int) bool { return g.rng.IntN(100) < p }

func pick[T any](g *soakGen, xs ...T) T { return xs[g.rng.IntN(len(xs))] }

func (g *soakGen) hex(n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[g.rng.IntN(16)]
	}
	return string(b)
}

// junk returns n random bytes; printable ASCII only when ascii.
func (g *soakGen) junk(n int, ascii bool) string {
	b := make([]byte, n)
	for i := range b {
		if ascii {
			b[i] = byte(0x21 + g.rng.IntN(0x7e-0x21))
		} else {
			b[i] = byte(g.rng.IntN(256))
		}
	}
	return string(b)
}

// weirdString returns a short string meant to upset a parser.
func (g *soakGen) weirdString() string {
	return pick(g, "", " ", "a", "\x00", "\xff\xfe", "\xc3\x28", "\xed\xa0\x80", "é", "😀", "\u202e", "'\"<>&",
		"../../etc/passwd", "%00", "%zz", "%", "${jndi:x}", "{{.}}", "null", "-1", "1e999", "NaN",
		strings.Repeat("A", 200), strings.Repeat("é", 101), "\r\nX-Injected: 1", "a\tb", g.junk(8, false), g.junk(12, true))
}

var soakMethods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "PROPFIND", "get", "Post", "FOO", "X-EVIL-VERB"}

func (g *soakGen) request() *soakReq {
	fx := g.fx
	r := &soakReq{}
	var route soakRoute
	if g.pct(6) {
		route = soakRoute{path: g.randomPath(), methods: []string{pick(g, soakMethods...)}, body: "json-any"}
	} else {
		route = fx.routes[g.rng.IntN(len(fx.routes))]
	}
	r.method = pick(g, route.methods...)
	if g.pct(12) {
		r.method = pick(g, soakMethods...)
	}
	path := g.fillPath(route.path)
	if g.pct(20) {
		path = g.mutatePath(path)
	}
	query := g.query(route)
	r.target = path
	if query != "" {
		r.target += "?" + query
	}
	authKind := g.auth(r)
	if route.body == "json-rpc" && authKind == "none" && g.pct(70) {
		// Most MCP requests carry a token for /mcp, so the tools are soaked too.
		authKind = "scratch-mcp-bearer"
		r.header = append(r.header, [2]string{"Authorization", "Bearer " + fx.scratchMCPToken})
	}
	g.knownValid = authKind == "known-basic" || authKind == "known-bearer"
	g.body(r, route)
	g.headers(r)
	if route.body == "json-rpc" && g.pct(80) {
		// What MCP's Streamable HTTP transport requires, so most reach the tools.
		r.header = append(r.header, [2]string{"Accept", "application/json, text/event-stream"})
		if g.pct(50) {
			r.header = append(r.header, [2]string{"MCP-Protocol-Version", pick(g, "2025-06-18", "2025-11-25", "2026-07-28", "2024-11-05", "1999-01-01", "")})
		}
	}
	if g.knownValid {
		g.protectKnown(r, route)
	}
	g.protectScratch(r, route)
	r.desc = fmt.Sprintf("%s %s auth=%s body=%s", r.method, clip(r.target, 120), authKind, clip(string(r.body), 80))

	// Bodies over 32 KiB go raw: a server may answer early (413, 401) and
	// close without reading them, and net/http's client then reports its
	// failed write instead of the answer; on a raw connection the answer
	// is read while the body is still being written.
	switch {
	case g.pct(8):
		g.malform(r)
	case len(r.body) > 32<<10 || g.pct(12) || !httpSafe(r):
		g.serializeRaw(r, false)
		r.malformed = !wellFormed(r)
		r.desc += " [raw]"
	default:
		r.malformed = !wellFormed(r)
	}
	if r.malformed && !strings.Contains(r.desc, "[raw: ") {
		r.desc += " [not valid HTTP]"
	}
	return r
}

// wellFormed says whether r is valid HTTP/1.1 (RFC 9112): a token method,
// an origin-form target of URI characters with valid percent-encoding, and
// header fields without control characters.
func wellFormed(r *soakReq) bool {
	if !validToken(r.method) || !strings.HasPrefix(r.target, "/") || strings.HasPrefix(r.target, "//") {
		return false
	}
	return validTarget(r.target) && validHeaders(r)
}

// validTarget checks the characters and percent-encoding of a target.
func validTarget(target string) bool {
	for i := 0; i < len(target); i++ {
		c := target[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("\"<>\\^`{|}#", c) >= 0 {
			return false
		}
		if c == '%' && (i+2 >= len(target) || !isHex(target[i+1]) || !isHex(target[i+2])) {
			return false
		}
	}
	return true
}

// validHeaders checks the header fields' names and values.
func validHeaders(r *soakReq) bool {
	for _, h := range r.header {
		if !validToken(h[0]) {
			return false
		}
		for i := 0; i < len(h[1]); i++ {
			if c := h[1][i]; c < ' ' && c != '\t' || c == 0x7f {
				return false
			}
		}
	}
	return true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func clip(s string, n int) string {
	if len(s) > n {
		s = s[:n] + fmt.Sprintf("…(%d bytes)", len(s))
	}
	return strconv.Quote(s)
}

// protectKnown keeps requests with the known user's valid credentials from
// changing its data on purpose: they may read anything, but any other
// method gets a body API.md says must be refused, and DELETE, secret
// rotation and app revocation are sent as the scratch user instead.
func (g *soakGen) protectKnown(r *soakReq, route soakRoute) {
	switch strings.ToUpper(r.method) {
	case "GET", "HEAD", "OPTIONS", "TRACE", "PROPFIND":
		return
	}
	if strings.EqualFold(r.method, "DELETE") || strings.Contains(r.target, "secret") || strings.Contains(r.target, "revoke") ||
		strings.Contains(r.target, "oauth2") || !strings.HasPrefix(r.target, "/api/") {
		for i, h := range r.header {
			if strings.EqualFold(h[0], "Authorization") {
				r.header[i][1] = basicAuth(g.fx.scratchUser, g.fx.scratchPass)
			}
		}
		g.knownValid = false
		return
	}
	g.invalidJSON(r, route)
}

// protectScratch keeps the scratch user usable: no request deletes it or
// changes its password (whatever credentials it carries).
func (g *soakGen) protectScratch(r *soakReq, route soakRoute) {
	path, _, _ := strings.Cut(r.target, "?")
	if path != "/api/users/me" {
		return
	}
	switch strings.ToUpper(r.method) {
	case "DELETE":
		r.header = slices.DeleteFunc(r.header, func(h [2]string) bool { return strings.EqualFold(h[0], "Authorization") })
		r.header = append(r.header, [2]string{"Authorization", basicAuth("nobody_"+g.hex(6), "not a password")})
	case "PATCH", "PUT", "POST":
		g.invalidJSON(r, route)
	}
}

// fillPath substitutes path parameters.
func (g *soakGen) fillPath(p string) string {
	fx := g.fx
	id := func() string {
		switch g.rng.IntN(6) {
		case 0, 1:
			return pick(g, fx.scratchBeers...)
		case 2:
			return pick(g, fx.knownBeers...)
		case 3:
			return g.hex(pick(g, 1, 16, 32, 64))
		default:
			return url.PathEscape(g.weirdString())
		}
	}
	cid := func() string {
		switch g.rng.IntN(6) {
		case 0, 1:
			return pick(g, fx.victimClients...)
		case 2:
			return fx.knownClient // the scratch client stays usable
		case 3:
			return "blci_" + g.hex(20)
		default:
			return url.PathEscape(g.weirdString())
		}
	}
	p = strings.ReplaceAll(p, "{id}", id())
	p = strings.ReplaceAll(p, "{client_id}", cid())
	if p == "" {
		p = "/"
	}
	return p
}

func (g *soakGen) randomPath() string {
	var b strings.Builder
	for range 1 + g.rng.IntN(5) {
		b.WriteString("/")
		b.WriteString(pick(g, "api", "beers", "users", "me", "oauth2", "clients", "..", ".", "", "%2e%2e", "%2F",
			"admin", ".git", "wp-login.php", "index.html", g.hex(8), url.PathEscape(g.weirdString())))
	}
	return b.String()
}

// mutatePath adds dot segments, double slashes, percent-encoding, case
// changes, trailing slashes or length.
func (g *soakGen) mutatePath(p string) string {
	switch g.rng.IntN(10) {
	case 0:
		return "/api/../" + strings.TrimPrefix(p, "/")
	case 1:
		return strings.Replace(p, "/", "/./", 1+g.rng.IntN(3))
	case 2:
		return "/" + p // leading double slash
	case 3:
		return p + "/"
	case 4:
		return strings.ToUpper(p)
	case 5:
		var b strings.Builder // percent-encode some bytes, even unreserved ones
		for i := 0; i < len(p); i++ {
			if p[i] != '/' && g.pct(30) {
				fmt.Fprintf(&b, "%%%02X", p[i])
			} else {
				b.WriteByte(p[i])
			}
		}
		return b.String()
	case 6:
		return p + "/" + strings.Repeat("x", 1+g.rng.IntN(20000))
	case 7:
		return p + pick(g, "%00", "%zz", "%", "%c0%ae", "%ff", ";jsessionid=1", "#frag", "/..", "/../..", "//")
	case 8:
		return strings.ReplaceAll(p, "/", pick(g, "//", "/%2f", "\\"))
	default:
		return p + "/" + url.PathEscape(g.weirdString())
	}
}

// query builds a query string, with repeated and malformed parameters.
func (g *soakGen) query(route soakRoute) string {
	if !g.pct(45) && route.path != "/api/oauth2/authorize" && route.path != "/device" {
		return ""
	}
	fx := g.fx
	keys := []string{"limit", "cursor", "response_type", "client_id", "redirect_uri", "scope", "state",
		"code_challenge", "code_challenge_method", "prompt", "return_to", "user_code", "access_token", "x"}
	var parts []string
	if route.path == "/api/oauth2/authorize" && g.pct(60) {
		// A plausible authorization request, then noise.
		parts = append(parts, "response_type="+pick(g, "code", "token", "", "code%20token"),
			"client_id="+url.QueryEscape(pick(g, fx.scratchClient, fx.knownClient, "nope", g.weirdString())),
			"redirect_uri="+url.QueryEscape(pick(g, "http://127.0.0.1:9/cb", "https://app.example/cb", "https://evil.example/cb", "javascript:alert(1)", "")),
			"scope="+url.QueryEscape(pick(g, "beers:read", "profile beers:read beers:write clients", "admin", "", g.weirdString())),
			"state="+url.QueryEscape(g.weirdString()),
			"code_challenge="+pick(g, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "", "short", g.hex(43)),
			"code_challenge_method="+pick(g, "S256", "plain", "", "s256"))
	}
	for range g.rng.IntN(6) {
		k := pick(g, keys...)
		v := pick(g, "1", "0", "-1", "100", "101", "99999999999999999999", "abc", "", "%zz", "%", "a%00b",
			url.QueryEscape(g.weirdString()), "/account", "//evil.example", "https://evil.example", "/\\evil", g.hex(40))
		for range 1 + g.rng.IntN(3) { // repeated parameters
			parts = append(parts, k+"="+v)
		}
	}
	if g.pct(5) {
		parts = append(parts, strings.Repeat("a=b&", 1+g.rng.IntN(4000)))
	}
	if g.pct(5) {
		parts = append(parts, pick(g, ";", "&&&", "=", "==", "a;b=c", "%ZZ=1"))
	}
	g.rng.Shuffle(len(parts), func(i, j int) { parts[i], parts[j] = parts[j], parts[i] })
	return strings.Join(parts, "&")
}

// auth adds an Authorization header (or none) and says which kind.
func (g *soakGen) auth(r *soakReq) string {
	fx := g.fx
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	kind, value := "none", ""
	switch g.rng.IntN(22) {
	case 0, 1, 2, 3:
		kind, value = "scratch-basic", basicAuth(fx.scratchUser, fx.scratchPass)
	case 4, 5, 6:
		kind, value = "scratch-bearer", "Bearer "+fx.scratchToken
	case 7:
		kind, value = "known-basic", basicAuth(fx.knownUser, fx.knownPass)
	case 8:
		kind, value = "known-bearer", "Bearer "+fx.knownToken
	case 9:
		kind, value = "wrong-password", basicAuth(pick(g, fx.knownUser, "nobody_"+g.hex(6), g.weirdString()), g.weirdString())
	case 10:
		kind, value = "cc-bearer", "Bearer "+fx.ccToken
	case 11:
		kind, value = "bad-base64", "Basic "+pick(g, "!!!!", "YWJj", "YWJ", "YQ===", "====", "Zm9v\x00YmFy", g.junk(20, true), b64(":"), b64("nocolon"), b64("\xff\xfe:\xff"), b64("user:pa\x00ss"), b64(":"+fx.scratchPass))
	case 12:
		kind, value = "odd-scheme", pick(g, "Basic", "Basic ", "Basic  "+b64(fx.scratchUser+":"+fx.scratchPass), "basic "+b64(fx.scratchUser+":"+fx.scratchPass),
			"BASIC "+b64("x:y"), "Bearer", "Bearer ", "bearer "+fx.scratchToken, "Bearer  "+fx.scratchToken, "Bearer "+fx.scratchToken+" extra",
			"Digest username=\"a\", realm=\"b\"", "Negotiate YIIB", "Token abc", "OAuth oauth_token=\"x\"", "Basic a Bearer b", " ", "\t", ",,,")
	case 13:
		kind, value = "random-bearer", "Bearer "+pick(g, "blat_"+g.hex(43), "blrt_"+fx.scratchRefresh, g.junk(30, true), "blat_", strings.Repeat("x", 5000))
	case 14:
		n := pick(g, 1000, 8000, 30000, 60000)
		kind, value = "long", pick(g, "Bearer ", "Basic ")+strings.Repeat(pick(g, "A", "x", "="), n)
	case 15:
		kind, value = "long-basic-user", "Basic "+b64(strings.Repeat("u", pick(g, 100, 5000, 40000))+":"+g.weirdString())
	case 17, 18:
		kind, value = "scratch-mcp-bearer", "Bearer "+fx.scratchMCPToken
	case 16:
		kind = "two-headers"
		r.header = append(r.header, [2]string{"Authorization", "Bearer " + fx.scratchToken})
		value = basicAuth(fx.scratchUser, fx.scratchPass)
	}
	if value != "" {
		r.header = append(r.header, [2]string{"Authorization", value})
	}
	return kind
}

// body sets a body and Content-Type for the route.
func (g *soakGen) body(r *soakReq, route soakRoute) {
	if strings.HasPrefix(route.body, "json") && !isSafeMethod(r.method) || g.pct(5) {
		g.jsonBody(r, route)
		return
	}
	if strings.HasPrefix(route.body, "form") && r.method != "GET" || g.pct(5) {
		g.formBody(r, route)
		return
	}
	if g.pct(5) {
		r.body = []byte(g.junk(g.rng.IntN(2000), false))
		g.contentType(r, pick(g, "", "application/octet-stream", "application/json"))
	}
}

func isSafeMethod(m string) bool {
	switch strings.ToUpper(m) {
	case "GET", "HEAD", "OPTIONS", "TRACE":
		return true
	}
	return false
}

func (g *soakGen) contentType(r *soakReq, ct string) {
	if ct != "" {
		r.header = append(r.header, [2]string{"Content-Type", ct})
	}
}

// validJSON is a body that a route might accept.
func (g *soakGen) validJSON(kind string) string {
	fx := g.fx
	m := map[string]any{}
	switch kind {
	case "json-user":
		m["username"] = pick(g, "g_"+g.hex(8), "G."+g.hex(5), fx.knownUser, "SOAK_KNOWN", "ab", strings.Repeat("u", 65))
		m["password"] = pick(g, "password-"+g.hex(6), "short", strings.Repeat("p", 129))
	case "json-password":
		m["password"] = pick(g, "new password "+g.hex(4), "x")
	case "json-beer":
		if g.pct(80) {
			m["name"] = pick(g, "Beer "+g.hex(4), "", strings.Repeat("n", 101), "Ünïcödé 🍺", "a\x00b")
		}
		if g.pct(60) {
			m["type"] = pick(g, "IPA", "", strings.Repeat("t", 101))
		}
		if g.pct(80) {
			m["quantity"] = pick[any](g, 0, 1, 6, 1000000, 1000001, -1, 1.5, "3", nil, 1e300, true)
		}
	case "json-client":
		m["name"] = pick(g, "App "+g.hex(4), "", strings.Repeat("n", 300))
		m["redirect_uris"] = pick[any](g, []string{"http://127.0.0.1:9/cb"}, []string{"https://x.example/cb#frag"},
			[]string{"http://evil.example/cb"}, []string{"com.example.app:/cb"}, []string{"javascript:alert(1)"}, []string{},
			slices.Repeat([]string{"https://a.example/cb"}, 11), "https://x.example/cb", nil)
		if g.pct(50) {
			m["public"] = pick[any](g, true, false, "yes", 1)
		}
		if g.pct(50) {
			m["grant_types"] = pick[any](g, []string{"client_credentials"}, []string{"password", "refresh_token"},
				[]string{"implicit"}, []string{}, []string{"urn:ietf:params:oauth:grant-type:device_code"}, "password")
		}
	case "json-rpc":
		// A JSON-RPC message of MCP: mostly tool calls, with the beer
		// bodies' odd values as arguments.
		m["jsonrpc"] = pick[any](g, "2.0", "2.0", "2.0", "1.0", nil)
		if g.pct(90) {
			m["id"] = pick[any](g, 1, "a", g.rng.IntN(1<<30), nil, 1.5, []int{1}, map[string]int{"x": 1})
		}
		m["method"] = pick[any](g, "tools/call", "tools/call", "tools/call", "tools/list", "initialize", "ping",
			"notifications/initialized", "server/discover", "resources/list", "prompts/get", "", 7)
		args := map[string]any{}
		if g.pct(70) {
			args["id"] = pick[any](g, g.fillPath("{id}"), "", g.weirdString(), 12, nil)
		}
		for _, f := range []string{"name", "type"} {
			if g.pct(50) {
				args[f] = pick[any](g, "Beer "+g.hex(4), "", strings.Repeat("n", 101), "a\x00b", 3, nil)
			}
		}
		if g.pct(50) {
			args["quantity"] = pick[any](g, 0, 6, 1000001, -1, 1.5, "3", nil, 1e300, true)
		}
		if g.pct(30) {
			args[pick(g, "limit", "cursor")] = pick[any](g, 0, 1, 100, 101, "x", g.weirdString(), nil)
		}
		m["params"] = pick[any](g, map[string]any{"name": pick[any](g, "list_beers", "get_beer", "add_beer", "update_beer", "delete_beer", "drop_table", "", nil, 3),
			"arguments": pick[any](g, args, args, args, "not an object", nil, []any{1})},
			map[string]any{"protocolVersion": "2025-06-18", "capabilities": map[string]any{}, "clientInfo": map[string]any{"name": "soak", "version": "1"}},
			nil, "params", []any{})
	default:
		m[pick(g, "name", "username", "password", "quantity", "x")] = g.weirdString()
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// jsonBody: valid, invalid or garbage JSON, with a plausible or odd
// Content-Type.
func (g *soakGen) jsonBody(r *soakReq, route soakRoute) {
	switch g.rng.IntN(10) {
	case 0, 1, 2, 3:
		r.body = []byte(g.validJSON(route.body))
	case 4, 5, 6:
		g.invalidJSON(r, route)
		return
	default:
		r.body = []byte(g.garbageJSON(route.body))
	}
	ct := "application/json"
	if g.pct(25) {
		ct = pick(g, "application/json; charset=utf-8", "APPLICATION/JSON", "application/json; charset=iso-8859-1",
			"application/json; charset=utf-16", "application/json;;", "application/json; a=\"unterminated",
			"text/plain", "", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "*/*", "application/jsonx")
	}
	g.contentType(r, ct)
	if g.pct(8) {
		g.gzipClaim(r)
	}
}

// garbageJSON is syntactically odd JSON that may or may not be valid.
func (g *soakGen) garbageJSON(kind string) string {
	valid := g.validJSON(kind)
	switch g.rng.IntN(9) {
	case 0:
		return "\xef\xbb\xbf" + valid // BOM
	case 1:
		return strings.Replace(valid, `"`, "\"\xff", 1) // invalid UTF-8 in a key
	case 2:
		return `{"name":"` + "\xc3\x28\xa0\xa1" + `","quantity":1}`
	case 3:
		return `{"name":"a","name":"b","quantity":2,"quantity":3}`
	case 4:
		return `{"name":"\ud800","quantity":1}` // lone surrogate
	case 5:
		return `{"quantity":1` + strings.Repeat("0", 400) + `}`
	case 6:
		return "  \n\t" + valid + "\n\n"
	case 7:
		return `{"name":null,"type":null,"quantity":null}`
	default:
		return strings.ToUpper(valid)
	}
}

// invalidJSON gives a body that every JSON route must refuse (API.md §2):
// wrong or missing Content-Type, malformed JSON, an unknown field, a
// non-object, trailing data, an empty or over-1-MiB body.
func (g *soakGen) invalidJSON(r *soakReq, route soakRoute) {
	r.header = slices.DeleteFunc(r.header, func(h [2]string) bool { return strings.EqualFold(h[0], "Content-Type") })
	valid := g.validJSON(route.body)
	ct := "application/json"
	switch g.rng.IntN(10) {
	case 0:
		ct = pick(g, "", "text/plain", "application/x-www-form-urlencoded", "application/xml", "application/jsonx", "text/json", "multipart/form-data")
		r.body = []byte(valid)
	case 1:
		r.body = []byte(valid[:g.rng.IntN(len(valid)-1)]) // truncated before the closing brace
	case 2:
		r.body = []byte(`{"zz_unknown":1,` + valid[1:])
	case 3:
		d := pick(g, 100, 1000, 10000, 100000)
		r.body = []byte(strings.Repeat("[", d) + strings.Repeat("]", d))
	case 4:
		d := pick(g, 100, 1000, 20000)
		r.body = []byte(strings.Repeat(`{"a":`, d) + "1" + strings.Repeat("}", d))
	case 5:
		r.body = []byte(valid + pick(g, " {}", "x", " 1", "\x00", "]"))
	case 6:
		r.body = nil
	case 7:
		r.body = []byte(`{"name":"` + strings.Repeat("a", (1<<20)+g.rng.IntN(1<<20)) + `"}`)
	case 8:
		r.body = []byte(pick(g, `{'name':'x'}`, `{"quantity":NaN}`, `{"name":"x",}`, `{name:"x"}`, `{"name":"x" // c`+"\n}", "\xff\xfe{", `"just a string"`, `[]`, `null`, `12`))
	default:
		r.body = []byte(`{"name":` + strings.Repeat("[", 50000) + "\xff")
	}
	g.contentType(r, ct)
}

// gzipClaim says Content-Encoding: gzip, with a real or a fake gzip body.
func (g *soakGen) gzipClaim(r *soakReq) {
	r.header = append(r.header, [2]string{"Content-Encoding", pick(g, "gzip", "deflate", "br", "gzip, gzip", "x-unknown")})
	if g.pct(50) {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(r.body)
		zw.Close()
		r.body = buf.Bytes()
	}
}

// formBody builds a form for the route, plausible or broken.
func (g *soakGen) formBody(r *soakReq, route soakRoute) {
	fx := g.fx
	v := url.Values{}
	set := func(k string, vals ...string) {
		if g.pct(85) {
			v.Set(k, pick(g, vals...))
		}
	}
	switch route.body {
	case "form-token":
		set("grant_type", "password", "client_credentials", "refresh_token", "authorization_code",
			"urn:ietf:params:oauth:grant-type:device_code", "implicit", "", g.weirdString())
		set("username", fx.scratchUser, fx.knownUser, "nobody", g.weirdString())
		set("password", fx.scratchPass, "wrong password", g.weirdString())
		set("scope", "beers:read", "profile beers:read beers:write clients", "admin", "", "beers:read beers:read", g.weirdString())
		set("refresh_token", "blrt_"+g.hex(43), g.weirdString())
		set("code", "blac_"+g.hex(43), g.weirdString())
		set("redirect_uri", "http://127.0.0.1:9/cb", g.weirdString())
		set("code_verifier", g.hex(50), "short", g.weirdString())
		set("device_code", g.hex(40), g.weirdString())
		if g.pct(30) {
			v.Set("client_id", pick(g, fx.scratchClient, fx.knownClient, g.weirdString()))
			v.Set("client_secret", pick(g, fx.scratchSecret, "blcs_"+g.hex(43), g.weirdString()))
		}
		if g.pct(30) && !hasHeader(r, "Authorization") {
			r.header = append(r.header, [2]string{"Authorization", pick(g, basicAuth(fx.scratchClient, fx.scratchSecret),
				basicAuth(fx.scratchClient, "wrong"), basicAuth(fx.knownClient, g.weirdString()), basicAuth(g.weirdString(), g.weirdString()))})
		}
	case "form-revoke":
		set("token", fx.victimRefresh, fx.victimToken, "blat_"+g.hex(43), g.weirdString(), strings.Repeat("t", 100000))
		set("token_type_hint", "access_token", "refresh_token", "bogus")
		if !hasHeader(r, "Authorization") && g.pct(70) {
			r.header = append(r.header, [2]string{"Authorization", pick(g, basicAuth(fx.scratchClient, fx.scratchSecret),
				basicAuth(fx.scratchClient, "wrong"), basicAuth(g.weirdString(), ""))})
		}
		if g.pct(20) {
			v.Set("client_id", pick(g, fx.scratchClient, g.weirdString()))
			v.Set("client_secret", pick(g, fx.scratchSecret, g.weirdString()))
		}
	case "form-authorize":
		set("response_type", "code", "token", "", g.weirdString())
		set("client_id", fx.scratchClient, fx.knownClient, "nope", g.weirdString())
		set("redirect_uri", "http://127.0.0.1:9/cb", "https://evil.example/cb", "", g.weirdString())
		set("scope", "openid profile beers:read", "beers:read", "admin", "", g.weirdString())
		set("state", g.weirdString())
		set("nonce", g.weirdString())
		set("prompt", "none", "login", "consent", "none login", g.weirdString())
		set("max_age", "0", "60", "-1", "abc", g.weirdString())
		set("login_hint", fx.knownUser, g.weirdString())
		set("id_token_hint", "eyJhbGciOiJSUzI1NiJ9.e30.c2ln", g.weirdString())
		set("code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "short", g.hex(43))
		set("code_challenge_method", "S256", "plain", "")
	case "form-decide", "form-device":
		set("tx", g.hex(32), "", g.weirdString())
		set("csrf_token", fx.csrf, fx.anonCSRF, g.weirdString())
		set("decision", "allow", "deny", "", g.weirdString())
		set("user_code", "BCDF-GHJK", "bcdfghjk", g.weirdString())
	case "form-login":
		set("csrf_token", fx.csrf, fx.anonCSRF, g.weirdString())
		set("username", fx.scratchUser, "g_"+g.hex(8), "nobody", g.weirdString())
		set("password", fx.scratchPass, "password-"+g.hex(8), g.weirdString())
		set("return_to", "/account", "//evil.example", "https://evil.example", "/\\evil.example", "javascript:alert(1)", g.weirdString())
	default:
		set("csrf_token", fx.csrf, fx.anonCSRF, g.weirdString())
		set(g.weirdString(), g.weirdString())
	}
	if strings.HasPrefix(route.body, "form-") && route.body != "form-token" && route.body != "form-revoke" && g.pct(60) {
		r.header = append(r.header, [2]string{"Cookie", pick(g, fx.sessionCookie, fx.anonCookie)})
	}
	body := v.Encode()
	switch g.rng.IntN(10) {
	case 0:
		body += "&" + pick(g, "%zz=1", "a=%", "=", "&&", "a=b;c=d", "grant_type=password&grant_type=client_credentials", "\xff=\xfe", "a=\x00")
	case 1:
		body += "&x=" + strings.Repeat("y", pick(g, 10000, 70000, 2<<20))
	case 2:
		body = g.junk(g.rng.IntN(500), false)
	}
	r.body = []byte(body)
	ct := "application/x-www-form-urlencoded"
	if g.pct(15) {
		ct = pick(g, "", "application/json", "text/plain", "application/x-www-form-urlencoded; charset=utf-16",
			"multipart/form-data; boundary=zz", "multipart/form-data", "application/x-www-form-urlencoded;;;=")
	}
	g.contentType(r, ct)
	if g.pct(5) {
		g.gzipClaim(r)
	}
}

func hasHeader(r *soakReq, name string) bool {
	return slices.ContainsFunc(r.header, func(h [2]string) bool { return strings.EqualFold(h[0], name) })
}

// headers adds odd but valid headers.
func (g *soakGen) headers(r *soakReq) {
	fx := g.fx
	for range g.rng.IntN(4) {
		var h [2]string
		switch g.rng.IntN(16) {
		case 0:
			h = [2]string{"Cookie", pick(g, fx.sessionCookie, fx.anonCookie, "beerlocker_session="+g.junk(40, true),
				"beerlocker_session="+strings.Repeat("A", 4000), "a=b; a=c; ;;", strings.TrimSuffix(fx.sessionCookie, fx.sessionCookie[len(fx.sessionCookie)-3:])+"AAA")}
		case 1:
			h = [2]string{"X-Forwarded-For", pick(g, "1.2.3.4", "::1", "garbage, , 999.1.1.1", strings.Repeat("1.1.1.1, ", 500))}
		case 2:
			h = [2]string{"Accept", pick(g, "*/*", "application/json", "text/html", "application/problem+json;q=abc", "", "x/y/z")}
		case 3:
			h = [2]string{"Accept-Encoding", pick(g, "gzip", "br, zstd", "*;q=0", "identity;q=0", "gzip;q=abc")}
		case 4:
			h = [2]string{"X-Junk", strings.Repeat(pick(g, "a", "é", "\xff"), pick(g, 100, 4000, 30000))}
		case 5:
			h = [2]string{"Origin", pick(g, "https://evil.example", "null", "http://127.0.0.1")}
		case 6:
			h = [2]string{"Referer", pick(g, "https://evil.example/x?code=1", g.weirdString())}
		case 7:
			h = [2]string{"Range", pick(g, "bytes=0-0", "bytes=-1", "bytes=5-1", "lines=1-2")}
		case 8:
			h = [2]string{"If-None-Match", pick(g, "*", `"abc"`, "W/")}
		case 9:
			h = [2]string{"Connection", pick(g, "close", "keep-alive", "Upgrade", "X-Junk")}
		case 10:
			h = [2]string{"Upgrade", pick(g, "websocket", "h2c", "HTTP/2.0")}
		case 11:
			h = [2]string{"X-Request-Id", pick(g, g.hex(16), strings.Repeat("r", 5000), "../../x", "\xff\xfe")}
		case 12:
			h = [2]string{"Content-Type", pick(g, "application/json", "text/plain; charset=\xff")}
		case 13:
			h = [2]string{"Expect", pick(g, "100-continue", "200-ok")}
		case 14:
			h = [2]string{"X-" + g.hex(6), g.junk(g.rng.IntN(100), true)}
		default:
			for range g.rng.IntN(300) {
				r.header = append(r.header, [2]string{"X-Many-" + g.hex(4), g.hex(8)})
			}
			continue
		}
		r.header = append(r.header, h)
	}
	if g.pct(5) {
		r.host = pick(g, "evil.example", "localhost:3000", "[::1]:3000", "127.0.0.1", "a.b.c.d.e.f.g")
	}
}

// httpSafe says whether net/http's client can send r as it is (else it
// goes over a raw connection).
func httpSafe(r *soakReq) bool {
	if !validToken(r.method) || strings.HasPrefix(r.target, "//") || r.method == "CONNECT" {
		return false
	}
	for i := 0; i < len(r.target); i++ {
		if c := r.target[i]; c <= ' ' || c >= 0x7f || c == '#' || c == '\\' {
			return false
		}
	}
	for _, h := range r.header {
		if !validToken(h[0]) || strings.ContainsAny(h[1], "\r\n\x00") || strings.EqualFold(h[0], "Host") || strings.EqualFold(h[0], "Expect") {
			return false
		}
		for i := 0; i < len(h[1]); i++ {
			if c := h[1][i]; c < ' ' && c != '\t' || c == 0x7f {
				return false
			}
		}
	}
	return true
}

func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// serializeRaw writes r as HTTP/1.1 bytes (well-formed, apart from what
// malform did to the fields).
func (g *soakGen) serializeRaw(r *soakReq, chunked bool) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\n", r.method, r.target)
	host := r.host
	if host == "" {
		host = g.fx.addr
	}
	fmt.Fprintf(&b, "Host: %s\r\n", host)
	for _, h := range r.header {
		if strings.EqualFold(h[0], "Expect") {
			continue // no interim 100 responses on raw connections
		}
		fmt.Fprintf(&b, "%s: %s\r\n", h[0], h[1])
	}
	switch {
	case chunked:
		b.WriteString("Transfer-Encoding: chunked\r\n\r\n")
		rest := r.body
		for len(rest) > 0 {
			n := min(len(rest), 1+g.rng.IntN(4096))
			fmt.Fprintf(&b, "%x\r\n%s\r\n", n, rest[:n])
			rest = rest[n:]
		}
		b.WriteString("0\r\n\r\n")
	default:
		if len(r.body) > 0 || !isSafeMethod(r.method) {
			fmt.Fprintf(&b, "Content-Length: %d\r\n", len(r.body))
		}
		b.WriteString("\r\n")
		b.Write(r.body)
	}
	r.raw = true
	r.rawBytes = b.Bytes()
}

// malform turns r into a request that is not valid HTTP/1.1 (or an odd
// but valid one), sent raw.
func (g *soakGen) malform(r *soakReq) {
	r.malformed = true
	var what string
	switch g.rng.IntN(22) {
	case 0:
		what = "chunked body (valid)"
		r.malformed = !wellFormed(r)
		g.serializeRaw(r, true)
	case 1:
		what = "request line without version"
		g.serializeRaw(r, false)
		r.rawBytes = bytes.Replace(r.rawBytes, []byte(" HTTP/1.1\r\n"), []byte("\r\n"), 1)
	case 2:
		what = "bad version"
		v := pick(g, "HTTP/9.9", "HTTP/2.0", "HTTP/0.9", "http/1.1", "HTTP/1.1x", "HTTP/1", "HTTX/1.1", "HTTP/1.10")
		g.serializeRaw(r, false)
		r.rawBytes = bytes.Replace(r.rawBytes, []byte(" HTTP/1.1\r\n"), []byte(" "+v+"\r\n"), 1)
		r.protocol5x = true
	case 3:
		what = "bad method"
		r.method = pick(g, "G ET", "GET\x00", "", "\x16\x03\x01\x02\x00", "GÉT", strings.Repeat("M", 70000), "<script>")
		g.serializeRaw(r, false)
	case 4:
		what = "no Host"
		g.serializeRaw(r, false)
		r.rawBytes = regexp.MustCompile(`(?m)^Host: [^\r]*\r\n`).ReplaceAll(r.rawBytes, nil)
	case 5:
		what = "two Host headers"
		r.header = append(r.header, [2]string{"Host", "evil.example"})
		g.serializeRaw(r, false)
	case 6:
		what = "header line without colon"
		r.header = append(r.header, [2]string{"Bad Header", "x"})
		g.serializeRaw(r, false)
		r.rawBytes = bytes.Replace(r.rawBytes, []byte("Bad Header: x"), []byte(pick(g, "Bad Header", "NoColon", ": empty name", " leading-space: x", "Tab\t: x")), 1)
	case 7:
		what = "control bytes in a header"
		r.header = append(r.header, [2]string{"X-Ctl", pick(g, "a\x00b", "a\rb", "a\x7fb", "a\x01")})
		g.serializeRaw(r, false)
	case 8:
		what = "conflicting Content-Length"
		r.header = append(r.header, [2]string{"Content-Length", pick(g, "0", "5", "-1", "abc", "1, 2", "99999999999999999999")})
		g.serializeRaw(r, false)
		r.closeWrite = true
	case 9:
		what = "unsupported Transfer-Encoding"
		r.header = append(r.header, [2]string{"Transfer-Encoding", pick(g, "gzip", "chunked, gzip", "identity", "x-custom", "chunked, chunked")})
		g.serializeRaw(r, false)
		r.protocol5x = true
		r.closeWrite = true
	case 10:
		what = "broken chunked body"
		r.header = append(r.header, [2]string{"Transfer-Encoding", "chunked"})
		g.serializeRaw(r, false)
		// Replace the Content-Length framing by a broken chunk.
		setRawHeader(r, "")
		i := bytes.Index(r.rawBytes, []byte("\r\n\r\n"))
		r.rawBytes = append(r.rawBytes[:i+4:i+4], []byte(pick(g, "zz\r\nabc\r\n0\r\n\r\n", "5\r\nabc\r\n", "ffffffffffffffffffff\r\nx", "3;ext=\x00\r\nabc\r\n0\r\n\r\n", "3\r\nabcde\r\n0\r\n\r\n", "-1\r\n"))...)
		r.closeWrite = true
	case 11:
		what = "Content-Length larger than the body"
		g.serializeRaw(r, false)
		setRawHeader(r, fmt.Sprintf("Content-Length: %d", len(r.body)+1+g.rng.IntN(1000)))
		r.closeWrite = true
	case 12:
		what = "headers never end"
		g.serializeRaw(r, false)
		i := bytes.Index(r.rawBytes, []byte("\r\n\r\n"))
		r.rawBytes = r.rawBytes[:i+2]
		r.closeWrite = true
	case 13:
		what = "huge request line"
		r.target = "/api/beers?" + strings.Repeat("q=1&", 20000)
		g.serializeRaw(r, false)
	case 14:
		what = "huge headers"
		for range 100 {
			r.header = append(r.header, [2]string{"X-Big-" + g.hex(6), strings.Repeat("b", 1000)})
		}
		g.serializeRaw(r, false)
	case 15:
		what = "bare LF line endings"
		g.serializeRaw(r, false)
		i := bytes.Index(r.rawBytes, []byte("\r\n\r\n"))
		head := bytes.ReplaceAll(r.rawBytes[:i+4], []byte("\r\n"), []byte("\n"))
		r.rawBytes = append(head, r.rawBytes[i+4:]...)
	case 16:
		what = "obs-fold header"
		g.serializeRaw(r, false)
		r.rawBytes = bytes.Replace(r.rawBytes, []byte("\r\n"), []byte("\r\nX-Folded: a\r\n  continued\r\n"), 1)
	case 17:
		what = "non-ASCII or control bytes in the target"
		r.target = "/api/beers/" + pick(g, "\xff\xfe", "é", "a b", "a\x00b", "a\x7fb", "%%%", "?\xff=\xfe")
		g.serializeRaw(r, false)
	case 18:
		what = "HTTP/2 preface or TLS hello"
		r.raw = true
		r.rawBytes = []byte(pick(g, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03"+g.junk(64, false), g.junk(200, false)))
		r.protocol5x = true
		r.closeWrite = true
	case 19:
		what = "absolute-form, asterisk or authority target (valid)"
		switch g.rng.IntN(3) {
		case 0:
			r.target = "http://" + pick(g, g.fx.addr, "evil.example") + r.target
		case 1:
			r.method, r.target = "OPTIONS", "*"
		default:
			r.method, r.target = "CONNECT", g.fx.addr
			r.body = nil
		}
		r.malformed = !validToken(r.method) || !validTarget(r.target) || !validHeaders(r)
		g.serializeRaw(r, false)
	case 20:
		what = "HTTP/1.0 without Host (valid)"
		r.malformed = !wellFormed(r)
		g.serializeRaw(r, false)
		r.rawBytes = bytes.Replace(r.rawBytes, []byte(" HTTP/1.1\r\n"), []byte(" HTTP/1.0\r\n"), 1)
		r.rawBytes = regexp.MustCompile(`(?m)^Host: [^\r]*\r\n`).ReplaceAll(r.rawBytes, nil)
	default:
		what = "Content-Length and Transfer-Encoding both"
		r.header = append(r.header, [2]string{"Transfer-Encoding", "chunked"})
		g.serializeRaw(r, false)
		r.closeWrite = true
	}
	r.desc += fmt.Sprintf(" [raw: %s; sent as %s %s]", what, clip(r.method, 20), clip(r.target, 60))
}

var contentLengthLine = regexp.MustCompile(`(?m)^Content-Length: [^\r]*\r\n`)

// setRawHeader removes the Content-Length lines of r.rawBytes and puts
// line (unless empty) right after the request line.
func setRawHeader(r *soakReq, line string) {
	b := contentLengthLine.ReplaceAll(r.rawBytes, nil)
	if line != "" {
		i := bytes.Index(b, []byte("\r\n"))
		b = slices.Concat(b[:i+2], []byte(line+"\r\n"), b[i+2:])
	}
	r.rawBytes = b
}

// soakResult is what came back.
type soakResult struct {
	status          int
	resetAfterClose bool   // see readSoakResponse
	body            string // the start of it, for 5xx
	err             error
}

// sendSoak sends r and returns the status or the transport error.
func sendSoak(client *http.Client, fx *soakFixture, r *soakReq) soakResult {
	if r.raw {
		return sendRaw(fx.addr, r)
	}
	req, err := http.NewRequest(r.method, fx.base+"/", bytes.NewReader(r.body))
	if err != nil {
		return soakResult{err: fmt.Errorf("building the request: %w", err)}
	}
	path, query, _ := strings.Cut(r.target, "?")
	req.URL.Opaque, req.URL.RawQuery = path, query
	if r.body == nil {
		req.Body, req.ContentLength = nil, 0
	}
	for _, h := range r.header {
		req.Header.Add(h[0], h[1])
	}
	if r.host != "" {
		req.Host = r.host
	}
	resp, err := client.Do(req)
	if err != nil {
		return soakResult{err: err}
	}
	defer resp.Body.Close()
	return readSoakResponse(r, resp)
}

// readSoakResponse reads the body. When the server has said it closes the
// connection (Connection: close) without reading all of a request body,
// as net/http does after a request it cannot parse or after a handler that
// did not need the body, the kernel may reset the connection before the
// client has read the end of the response: such a response was given, and
// counts as received (stats.resetAfterClose).
func readSoakResponse(r *soakReq, resp *http.Response) soakResult {
	b, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	res := soakResult{status: resp.StatusCode, body: string(b[:min(len(b), 300)])}
	if err != nil {
		if resp.Close && resp.StatusCode < 500 && errors.Is(err, syscall.ECONNRESET) &&
			(len(r.body) > 0 || r.malformed) {
			res.resetAfterClose = true
			return res
		}
		res.err = fmt.Errorf("reading the body: %w", err)
	}
	return res
}

// sendRaw writes r.rawBytes on a new connection while reading the
// response.
func sendRaw(addr string, r *soakReq) soakResult {
	conn, err := net.DialTimeout("tcp", addr, 30*time.Second)
	if err != nil {
		return soakResult{err: fmt.Errorf("dial: %w", err)}
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(90 * time.Second))
	go func() {
		// The server may answer and close before reading everything.
		if _, err := conn.Write(r.rawBytes); err == nil && r.closeWrite {
			conn.(*net.TCPConn).CloseWrite()
		}
	}()
	br := bufio.NewReader(conn)
	method := strings.ToUpper(r.method)
	if method != "HEAD" {
		method = "GET" // anything but HEAD: the response has a body
	}
	resp, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil {
		return soakResult{err: fmt.Errorf("no response: %w", err)}
	}
	defer resp.Body.Close()
	return readSoakResponse(r, resp)
}

// soakStats counts outcomes and keeps the first failures.
type soakStats struct {
	mu                               sync.Mutex
	total, viaHTTP, raw, malformed   int
	fiveXX, dropped, closedMalformed int
	protocol5xx, failures            int
	resetAfterClose                  int
	statuses                         map[int]int
	failed                           []string
}

func newSoakStats() *soakStats { return &soakStats{statuses: map[int]int{}} }

func (s *soakStats) record(i int, r *soakReq, res soakResult) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.total++
	if r.raw {
		s.raw++
	} else {
		s.viaHTTP++
	}
	if r.malformed {
		s.malformed++
	}
	fail := func(format string, args ...any) {
		s.failures++
		if len(s.failed) < 20 {
			s.failed = append(s.failed, fmt.Sprintf("request %d: %s: %s", i, r.desc, fmt.Sprintf(format, args...)))
		}
	}
	if res.status != 0 {
		s.statuses[res.status]++
	}
	if res.resetAfterClose {
		s.resetAfterClose++
	}
	switch {
	case res.status == 0 && r.malformed && !isTimeout(res.err):
		s.closedMalformed++ // the server hung up on a request that is not HTTP: fine
	case res.status == 0:
		s.dropped++
		fail("no response to a well-formed request: %v", res.err)
	case r.malformed && r.protocol5x && (res.status == 501 || res.status == 505):
		s.protocol5xx++ // RFC 9112 §6.1 / §2.6: net/http's own answer
	case res.status >= 500:
		s.fiveXX++
		fail("status %d: %s", res.status, res.body)
	case res.err != nil && !r.malformed:
		s.dropped++
		fail("status %d, then %v", res.status, res.err)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func (s *soakStats) histogram() string {
	var codes []int
	for c := range s.statuses {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	var parts []string
	for _, c := range codes {
		parts = append(parts, fmt.Sprintf("%d×%d", c, s.statuses[c]))
	}
	return strings.Join(parts, " ")
}

func (s *soakStats) firstFailures() []string { return s.failed }
