//go:build linux

package e2e

// TestCrashSafety (issue 7, item 4) runs the real binary on the embedded
// database, has concurrent writers create and update beers, register
// clients and get tokens, kills the process with SIGKILL in the middle,
// restarts it on the same data directory and checks that every write that
// got a 2xx is there with its content, that nothing half-written exists,
// and that PRAGMA integrity_check says ok. It repeats that -crash.n times
// (3 in the test command, 20 in `make soak`).

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

var (
	crashN       = flag.Int("crash.n", 3, "TestCrashSafety: number of SIGKILLs (make soak: 20)")
	crashSeed    = flag.Int64("crash.seed", 0, "TestCrashSafety: seed of the kill delays (0: time-based)")
	crashWriters = flag.Int("crash.writers", 2, "TestCrashSafety: goroutines of each kind of writer")
)

// crashBeer is one beer the writers created, with its versions: version 0
// is {name: base, quantity: 0}; version k (k >= 1, written by PATCH) is
// {name: base+" v<k>", quantity: k}. One updater owns each beer, so at
// most one version is in flight at a time.
type crashBeer struct {
	id, base, typ string
	acked         int // highest version acknowledged (or seen after a restart)
	inflight      int // version sent without an answer when the server died, or 0
}

// crashClient is a client registration that was acknowledged.
type crashClient struct {
	id, secret, name, redirect string
	owner                      string // the registering user (API.md caps apps per user)
	round                      int
}

// crashToken is a token response that was acknowledged.
type crashToken struct {
	access, refresh string
	user            bool // password grant (else client_credentials)
	round           int
}

// crashRevoked is a revocation that was acknowledged: of the access
// token itself, or of its grant's refresh token (the whole family).
type crashRevoked struct {
	access string
	round  int
}

// crashState is everything acknowledged so far, across rounds.
type crashState struct {
	mu       sync.Mutex
	beers    []*crashBeer
	pending  map[string]string // name -> type of creates sent without an answer
	pendingC map[string]string // name -> redirect URI of client registrations sent without an answer
	clients  []*crashClient
	owners   []string // users the registrars created, password crashPass
	tokens   []*crashToken
	revoked  []*crashRevoked

	acked struct{ creates, updates, users, clients, tokens, revocations int }
}

// crashPass is the password of every user of the test.
const crashPass = "crash user's password"

// clientsPerOwner is how many clients a registrar registers under one
// user before it registers another (models.MaxClientsPerUser is 100).
const clientsPerOwner = 90

var beerVersion = regexp.MustCompile(`^(.*) v([0-9]+)$`)

func TestCrashSafety(t *testing.T) {
	seed := *crashSeed
	if seed == 0 {
		seed = time.Now().UnixNano()
	}
	t.Logf("crash seed %d, %d kills, %d writers of each kind (replay: go test -run TestCrashSafety -v ./e2e -args -crash.seed=%d -crash.n=%d)",
		seed, *crashN, *crashWriters, seed, *crashN)
	rng := rand.New(rand.NewPCG(uint64(seed), 0))
	dir := t.TempDir()
	srv := startBinary(t, dir, crashEnv)

	const user, pass = "crash_user", crashPass
	basic := map[string]string{"Authorization": basicAuth(user, pass)}
	mustAPICall(t, 201, "POST", srv.Base+"/api/users", "application/json",
		fmt.Sprintf(`{"username":%q,"password":%q}`, user, pass), nil)
	var app struct {
		ID     string `json:"client_id"`
		Secret string `json:"client_secret"`
	}
	json.Unmarshal(mustAPICall(t, 201, "POST", srv.Base+"/api/clients", "application/json",
		`{"name":"Crash app","redirect_uris":["https://app.example/cb"],"grant_types":["password","refresh_token","client_credentials"]}`,
		basic), &app)
	appAuth := basicAuth(app.ID, app.Secret)

	st := &crashState{pending: map[string]string{}, pendingC: map[string]string{}}
	var lost int
	start := time.Now()
	for round := 1; round <= *crashN; round++ {
		killed := &atomic.Bool{}
		ctx, cancel := context.WithCancel(context.Background())
		w := &crashWriter{t: t, st: st, base: srv.Base, round: round, basic: basic["Authorization"], appAuth: appAuth,
			user: user, pass: pass, killed: killed, ctx: ctx,
			client: &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
		before := st.ackedTotal()
		var wg sync.WaitGroup
		for i := range *crashWriters {
			for _, f := range []func(int){w.creator, w.updater, w.registrar, w.tokens, w.revoker} {
				wg.Add(1)
				go func() { defer wg.Done(); f(i) }()
			}
		}
		// Let the writers get going, then kill the server mid-write.
		time.Sleep(time.Duration(300+rng.IntN(1700)) * time.Millisecond)
		killed.Store(true)
		srv.Kill()
		cancel()
		wg.Wait()
		w.client.CloseIdleConnections()
		t.Logf("round %d: SIGKILL after %d acknowledged writes in this round (%d in all)", round, st.ackedTotal()-before, st.ackedTotal())

		// The database as the crash left it, checked on a copy so that the
		// restart below recovers the original files itself.
		checkIntegrity(t, dir, true)

		srv = startBinary(t, dir, crashEnv)
		lost += verifyCrashState(t, srv.Base, basic, appAuth, app.ID, st, round)
		if t.Failed() {
			t.Fatalf("round %d failed; seed %d", round, seed)
		}
	}
	srv.Stop()
	checkIntegrity(t, dir, false)
	a := st.acked
	t.Logf("%d kills in %s; acknowledged writes: %d (%d beer creates, %d beer updates, %d user registrations, %d client registrations, %d token grants, %d revocations); lost: %d",
		*crashN, time.Since(start).Round(time.Millisecond), st.ackedTotal(), a.creates, a.updates, a.users, a.clients, a.tokens, a.revocations, lost)
	if lost > 0 {
		t.Errorf("%d acknowledged writes lost", lost)
	}
}

func (s *crashState) ackedTotal() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.acked.creates + s.acked.updates + s.acked.users + s.acked.clients + s.acked.tokens + s.acked.revocations
}

// crashWriter runs one round's writers against one process.
type crashWriter struct {
	t              *testing.T
	st             *crashState
	base           string
	round          int
	basic, appAuth string
	user, pass     string
	killed         *atomic.Bool
	ctx            context.Context
	client         *http.Client
}

// send does one request; ok is false when the server did not answer
// (expected once it is killed) or answered with an error (a failure).
func (w *crashWriter) send(method, path, contentType, body, auth string, want int) ([]byte, bool) {
	req, _ := http.NewRequestWithContext(w.ctx, method, w.base+path, strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := w.client.Do(req)
	if err == nil {
		var b []byte
		b, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if err == nil && resp.StatusCode == want {
			return b, true
		}
		if err == nil {
			w.t.Errorf("round %d: %s %s: status %d, want %d: %s", w.round, method, path, resp.StatusCode, want, b)
			return nil, false
		}
	}
	if !w.killed.Load() {
		w.t.Errorf("round %d: %s %s failed before the kill: %v", w.round, method, path, err)
	}
	return nil, false
}

// creator creates beers named "crash r<round> c<i> #<n>", quantity 0.
func (w *crashWriter) creator(i int) {
	for n := 0; ; n++ {
		name := fmt.Sprintf("crash r%d c%d #%d", w.round, i, n)
		typ := fmt.Sprintf("type %d", n%7)
		w.st.mu.Lock()
		w.st.pending[name] = typ
		w.st.mu.Unlock()
		b, ok := w.send("POST", "/api/beers", "application/json", fmt.Sprintf(`{"name":%q,"type":%q,"quantity":0}`, name, typ), w.basic, 201)
		if !ok {
			return
		}
		var got struct {
			ID, Name, Type string
			Quantity       int
		}
		if err := json.Unmarshal(b, &got); err != nil || got.ID == "" || got.Name != name || got.Type != typ || got.Quantity != 0 {
			w.t.Errorf("create %q: answer %s", name, b)
			return
		}
		w.st.mu.Lock()
		delete(w.st.pending, name)
		w.st.beers = append(w.st.beers, &crashBeer{id: got.ID, base: name, typ: typ})
		w.st.acked.creates++
		w.st.mu.Unlock()
	}
}

// updater i owns the beers whose index is i modulo the number of updaters,
// and PATCHes each to its next version in turn.
func (w *crashWriter) updater(i int) {
	for pass := 0; ; pass++ {
		w.st.mu.Lock()
		var mine []*crashBeer
		for j := i; j < len(w.st.beers); j += *crashWriters {
			mine = append(mine, w.st.beers[j])
		}
		w.st.mu.Unlock()
		if len(mine) == 0 {
			select {
			case <-w.ctx.Done():
				return
			case <-time.After(10 * time.Millisecond):
				continue
			}
		}
		for _, beer := range mine {
			w.st.mu.Lock()
			v := beer.acked + 1
			beer.inflight = v
			w.st.mu.Unlock()
			name := fmt.Sprintf("%s v%d", beer.base, v)
			b, ok := w.send("PATCH", "/api/beers/"+beer.id, "application/json", fmt.Sprintf(`{"name":%q,"quantity":%d}`, name, v), w.basic, 200)
			if !ok {
				return // beer.inflight stays set: this version may or may not be there
			}
			var got struct {
				Name, Type string
				Quantity   int
			}
			if err := json.Unmarshal(b, &got); err != nil || got.Name != name || got.Quantity != v || got.Type != beer.typ {
				w.t.Errorf("update %s to v%d: answer %s", beer.id, v, b)
				return
			}
			w.st.mu.Lock()
			beer.acked, beer.inflight = v, 0
			w.st.acked.updates++
			w.st.mu.Unlock()
		}
	}
}

// crashEnv lifts the registration limit, which counts every registration
// per address (README, configuration): the registrars all come from
// 127.0.0.1 and register as fast as they can.
var crashEnv = map[string]string{"RATE_LIMIT_REGISTER_BURST": "1000", "RATE_LIMIT_REGISTER_PER_MINUTE": "6000"}

// registrar registers users, and under each up to clientsPerOwner
// confidential clients for client_credentials.
func (w *crashWriter) registrar(i int) {
	owner, count := "", 0
	for n := 0; ; n++ {
		if owner == "" || count == clientsPerOwner {
			owner, count = fmt.Sprintf("crash_r%d_g%d_%d", w.round, i, n), 0
			if _, ok := w.send("POST", "/api/users", "application/json",
				fmt.Sprintf(`{"username":%q,"password":%q}`, owner, crashPass), "", 201); !ok {
				return
			}
			w.st.mu.Lock()
			w.st.owners = append(w.st.owners, owner)
			w.st.acked.users++
			w.st.mu.Unlock()
		}
		count++
		name := fmt.Sprintf("crash app r%d g%d #%d", w.round, i, n)
		redirect := fmt.Sprintf("https://app.example/r%d/g%d/%d", w.round, i, n)
		w.st.mu.Lock()
		w.st.pendingC[name] = redirect
		w.st.mu.Unlock()
		b, ok := w.send("POST", "/api/clients", "application/json",
			fmt.Sprintf(`{"name":%q,"redirect_uris":[%q],"grant_types":["client_credentials"]}`, name, redirect),
			basicAuth(owner, crashPass), 201)
		if !ok {
			return
		}
		var got struct {
			ID           string   `json:"client_id"`
			Secret       string   `json:"client_secret"`
			Name         string   `json:"name"`
			RedirectURIs []string `json:"redirect_uris"`
		}
		if err := json.Unmarshal(b, &got); err != nil || got.ID == "" || got.Secret == "" || got.Name != name ||
			len(got.RedirectURIs) != 1 || got.RedirectURIs[0] != redirect {
			w.t.Errorf("register %q: answer %s", name, b)
			return
		}
		w.st.mu.Lock()
		delete(w.st.pendingC, name)
		w.st.clients = append(w.st.clients, &crashClient{id: got.ID, secret: got.Secret, name: name, redirect: redirect,
			owner: owner, round: w.round})
		w.st.acked.clients++
		w.st.mu.Unlock()
	}
}

// token asks for a token by the password grant (user) or
// client_credentials, and returns the access and refresh tokens, or false
// once the server is gone or the answer is wrong (reported).
func (w *crashWriter) token(user bool) (access, refresh string, ok bool) {
	form := url.Values{"grant_type": {"client_credentials"}}
	if user {
		form = url.Values{"grant_type": {"password"}, "username": {w.user}, "password": {w.pass}, "scope": {"beers:read"}}
	}
	b, ok := w.send("POST", "/api/oauth2/token", "application/x-www-form-urlencoded", form.Encode(), w.appAuth, 200)
	if !ok {
		return "", "", false
	}
	var got struct {
		Access  string `json:"access_token"`
		Refresh string `json:"refresh_token"`
	}
	if err := json.Unmarshal(b, &got); err != nil || got.Access == "" || user != (got.Refresh != "") {
		w.t.Errorf("token (user=%v): answer %s", user, b)
		return "", "", false
	}
	return got.Access, got.Refresh, true
}

// tokens alternates the password and client_credentials grants.
func (w *crashWriter) tokens(i int) {
	for n := 0; ; n++ {
		user := (n+i)%2 == 0
		access, refresh, ok := w.token(user)
		if !ok {
			return
		}
		w.st.mu.Lock()
		w.st.tokens = append(w.st.tokens, &crashToken{access: access, refresh: refresh, user: user, round: w.round})
		w.st.acked.tokens++
		w.st.mu.Unlock()
	}
}

// revoker gets a token by the password grant and revokes it: the access
// token itself, or every other time its refresh token, which revokes the
// whole grant (RFC 7009 §2.1). Access tokens are sealed, not stored, so
// what is acknowledged here is a revocation record.
func (w *crashWriter) revoker(i int) {
	for n := 0; ; n++ {
		access, refresh, ok := w.token(true)
		if !ok {
			return
		}
		revoke := access
		if (n+i)%2 == 1 {
			revoke = refresh
		}
		if _, ok := w.send("POST", "/api/oauth2/revoke", "application/x-www-form-urlencoded",
			url.Values{"token": {revoke}}.Encode(), w.appAuth, 200); !ok {
			return
		}
		w.st.mu.Lock()
		w.st.revoked = append(w.st.revoked, &crashRevoked{access: access, round: w.round})
		w.st.acked.revocations++
		w.st.mu.Unlock()
	}
}

// verifyCrashState checks the restarted server against everything
// acknowledged, and returns the number of acknowledged writes missing.
func verifyCrashState(t *testing.T, base string, basic map[string]string, appAuth, appID string, st *crashState, round int) int {
	t.Helper()
	st.mu.Lock()
	defer st.mu.Unlock()
	lost := 0

	// Beers: every one well-formed, every acknowledged one there, at its
	// acknowledged version or at the one in flight at the kill.
	byID := map[string]*crashBeer{}
	for _, b := range st.beers {
		byID[b.id] = b
	}
	seen := map[string]bool{}
	type apiBeer struct {
		ID        string `json:"id"`
		Name      string `json:"name"`
		Type      string `json:"type"`
		Quantity  *int   `json:"quantity"`
		CreatedAt string `json:"created_at"`
		UpdatedAt string `json:"updated_at"`
	}
	var adopted int
	for cursor := ""; ; {
		var page struct {
			Beers      []apiBeer `json:"beers"`
			NextCursor string    `json:"next_cursor"`
		}
		path := "/api/beers?limit=100"
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		if err := json.Unmarshal(mustAPICall(t, 200, "GET", base+path, "", "", basic), &page); err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		for _, b := range page.Beers {
			created, err1 := time.Parse(time.RFC3339, b.CreatedAt)
			updated, err2 := time.Parse(time.RFC3339, b.UpdatedAt)
			if b.ID == "" || b.Name == "" || len(b.Name) > 100 || len(b.Type) > 100 || b.Quantity == nil ||
				*b.Quantity < 0 || *b.Quantity > 1_000_000 || err1 != nil || err2 != nil || updated.Before(created) {
				t.Errorf("round %d: half-written or invalid beer %+v", round, b)
				continue
			}
			if seen[b.ID] {
				t.Errorf("round %d: beer %s listed twice", round, b.ID)
			}
			seen[b.ID] = true
			// The version this row holds: name and quantity must agree.
			baseName, version := b.Name, 0
			if m := beerVersion.FindStringSubmatch(b.Name); m != nil {
				baseName = m[1]
				version, _ = strconv.Atoi(m[2])
			}
			if *b.Quantity != version {
				t.Errorf("round %d: beer %s has name %q but quantity %d: a half-applied update", round, b.ID, b.Name, *b.Quantity)
				continue
			}
			known := byID[b.ID]
			if known == nil {
				// A create in flight at a kill may have been committed.
				typ, ok := st.pending[baseName]
				if !ok || version != 0 || b.Type != typ {
					t.Errorf("round %d: beer %+v was never written by this test", round, b)
					continue
				}
				delete(st.pending, baseName)
				known = &crashBeer{id: b.ID, base: baseName, typ: typ}
				st.beers = append(st.beers, known)
				adopted++
				continue
			}
			if baseName != known.base || b.Type != known.typ {
				t.Errorf("round %d: beer %s is %q (%q), want base name %q (%q)", round, b.ID, b.Name, b.Type, known.base, known.typ)
				continue
			}
			switch {
			case version == known.acked:
			case known.inflight != 0 && version == known.inflight:
				known.acked = version // the update in flight at the kill was committed
			case version < known.acked:
				t.Errorf("round %d: beer %s is at v%d, but v%d was acknowledged: an acknowledged update was lost", round, b.ID, version, known.acked)
				lost++
			default:
				t.Errorf("round %d: beer %s is at v%d; acknowledged v%d, in flight v%d", round, b.ID, version, known.acked, known.inflight)
			}
			known.inflight = 0
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	for _, b := range st.beers {
		if !seen[b.id] {
			t.Errorf("round %d: acknowledged beer %s (%q) is gone", round, b.id, b.base)
			lost++
		}
	}
	clear(st.pending)

	// Users and clients: every acknowledged user can sign in; every
	// acknowledged client is listed with its content; nothing else is
	// listed but the app and registrations in flight at a kill.
	type listedClient struct {
		ID           string   `json:"client_id"`
		Name         string   `json:"name"`
		RedirectURIs []string `json:"redirect_uris"`
		GrantTypes   []string `json:"grant_types"`
		Secret       *string  `json:"client_secret"`
	}
	listed := map[string]bool{}
	adoptedClients := 0
	byClient := map[string]*crashClient{}
	for _, c := range st.clients {
		byClient[c.id] = c
	}
	for _, owner := range append([]string{""}, st.owners...) {
		auth := basic
		if owner != "" {
			auth = map[string]string{"Authorization": basicAuth(owner, crashPass)}
			code, b, _, err := apiCall("GET", base+"/api/users/me", "", "", auth)
			if err != nil || code != 200 || !strings.Contains(string(b), fmt.Sprintf(`"username":%q`, owner)) {
				t.Errorf("round %d: acknowledged user %s cannot sign in: %d %s %v", round, owner, code, b, err)
				lost++
				continue
			}
		}
		var list struct {
			Clients []listedClient `json:"clients"`
		}
		if err := json.Unmarshal(mustAPICall(t, 200, "GET", base+"/api/clients", "", "", auth), &list); err != nil {
			t.Fatal(err)
		}
		for _, c := range list.Clients {
			listed[c.ID] = true
			if c.Secret != nil {
				t.Errorf("round %d: client %s listed with its secret", round, c.ID)
			}
			if c.ID == appID && owner == "" {
				continue
			}
			want := byClient[c.ID]
			if want == nil {
				// A registration in flight at a kill may have been committed;
				// from now on it must stay (its secret was never seen).
				if r, ok := st.pendingC[c.Name]; !ok || len(c.RedirectURIs) != 1 || c.RedirectURIs[0] != r {
					t.Errorf("round %d: client %+v was never registered by this test", round, c)
					continue
				}
				delete(st.pendingC, c.Name)
				st.clients = append(st.clients, &crashClient{id: c.ID, name: c.Name, redirect: c.RedirectURIs[0], owner: owner, round: round})
				adoptedClients++
				continue
			}
			if want.owner != owner || c.Name != want.name || len(c.RedirectURIs) != 1 || c.RedirectURIs[0] != want.redirect ||
				len(c.GrantTypes) != 1 || c.GrantTypes[0] != "client_credentials" {
				t.Errorf("round %d: client %s of %q is %+v, want owner %q, name %q and redirect %q", round, c.ID, owner, c, want.owner, want.name, want.redirect)
			}
		}
	}
	clear(st.pendingC)
	if !listed[appID] {
		t.Errorf("round %d: the app %s is gone", round, appID)
		lost++
	}
	for _, c := range st.clients {
		if !listed[c.id] {
			t.Errorf("round %d: acknowledged client %s (%q) is gone", round, c.id, c.name)
			lost++
			continue
		}
		// Its secret works: checked for this round's clients and a few older ones.
		if c.secret == "" || c.round != round && rand.IntN(10) != 0 {
			continue
		}
		code, b, _, err := apiCall("POST", base+"/api/oauth2/token", "application/x-www-form-urlencoded", "grant_type=client_credentials",
			map[string]string{"Authorization": basicAuth(c.id, c.secret)})
		if err != nil || code != 200 {
			t.Errorf("round %d: client %s registered and acknowledged, but its secret fails: %d %s %v", round, c.id, code, b, err)
			lost++
		}
	}

	// Tokens: this round's all, and a sample of older ones. Access tokens
	// of the password grant read the locker; client_credentials tokens
	// introspect as active; some refresh tokens are used once.
	for _, tok := range st.tokens {
		if tok.round != round && rand.IntN(10) != 0 {
			continue
		}
		if tok.user {
			code, b, _, err := apiCall("GET", base+"/api/beers?limit=1", "", "", map[string]string{"Authorization": "Bearer " + tok.access})
			if err != nil || code != 200 {
				t.Errorf("round %d: acknowledged access token does not work: %d %s %v", round, code, b, err)
				lost++
			}
			if tok.refresh != "" && rand.IntN(4) == 0 {
				code, b, _, err := apiCall("POST", base+"/api/oauth2/token", "application/x-www-form-urlencoded",
					url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.refresh}}.Encode(),
					map[string]string{"Authorization": appAuth})
				if err != nil || code != 200 {
					t.Errorf("round %d: acknowledged refresh token does not work: %d %s %v", round, code, b, err)
					lost++
				}
				tok.refresh = "" // rotated: never use it twice
			}
			continue
		}
		var intro struct {
			Active bool `json:"active"`
		}
		b := mustAPICall(t, 200, "POST", base+"/api/oauth2/introspect", "application/x-www-form-urlencoded",
			url.Values{"token": {tok.access}}.Encode(), map[string]string{"Authorization": appAuth})
		if json.Unmarshal(b, &intro) != nil || !intro.Active {
			t.Errorf("round %d: acknowledged client_credentials token is not active: %s", round, b)
			lost++
		}
	}
	// Revocations: this round's all, and a sample of older ones, still
	// refused after the restart.
	for _, r := range st.revoked {
		if r.round != round && rand.IntN(10) != 0 {
			continue
		}
		code, b, _, err := apiCall("GET", base+"/api/beers?limit=1", "", "", map[string]string{"Authorization": "Bearer " + r.access})
		if err != nil || code != 401 {
			t.Errorf("round %d: acknowledged revocation lost: the access token answers %d %s %v", round, code, b, err)
			lost++
		}
	}
	if adopted+adoptedClients > 0 {
		t.Logf("round %d: %d beer creates and %d client registrations in flight at the kill were committed (allowed)", round, adopted, adoptedClients)
	}
	return lost
}

// checkIntegrity runs PRAGMA integrity_check and foreign_key_check on the
// embedded database in dir; on a copy of its files when copy is set.
func checkIntegrity(t *testing.T, dir string, copyFirst bool) {
	t.Helper()
	const name = "beerlocker.db"
	path := filepath.Join(dir, name)
	if copyFirst {
		tmp := t.TempDir()
		for _, suffix := range []string{"", "-wal", "-shm"} {
			b, err := os.ReadFile(path + suffix)
			if errors.Is(err, os.ErrNotExist) && suffix != "" {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(tmp, name+suffix), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		path = filepath.Join(tmp, name)
	}
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var result string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&result); err != nil {
		t.Fatalf("integrity_check: %v", err)
	}
	if result != "ok" {
		t.Errorf("PRAGMA integrity_check on %s: %s", path, result)
	}
	rows, err := db.Query("PRAGMA foreign_key_check")
	if err != nil {
		t.Fatalf("foreign_key_check: %v", err)
	}
	defer rows.Close()
	if rows.Next() {
		t.Errorf("PRAGMA foreign_key_check on %s found rows that point nowhere", path)
	}
}
