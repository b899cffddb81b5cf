package controllers_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"testing"
)

// benchRouter returns the router of a fresh environment with one user who
// has 20 beers, and that user's Basic header value.
func benchRouter(b *testing.B) (http.Handler, string) {
	e := newTestEnv(b)
	e.mustRegister("bench", "bench password")
	auth := basic("bench", "bench password")
	for range 20 {
		e.mustCreateBeer(auth, "Bench beer", 1)
	}
	_, value, _ := strings.Cut(auth, ": ")
	return e.deps.Router, value
}

// BenchmarkListBeersBasic measures GET /api/beers with a Basic credential
// that is already in the cache (no argon2id on the hot path).
func BenchmarkListBeersBasic(b *testing.B) {
	router, auth := benchRouter(b)
	req := httptest.NewRequest("GET", "/api/beers", nil)
	req.Header.Set("Authorization", auth)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		router.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("status = %d: %s", w.Code, w.Body)
		}
	}
}

// BenchmarkCreateBeer measures POST /api/beers with a cached Basic credential.
func BenchmarkCreateBeer(b *testing.B) {
	router, auth := benchRouter(b)
	body := `{"name":"Westmalle Tripel","type":"Tripel","quantity":6}`
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("POST", "/api/beers", strings.NewReader(body))
		req.Header.Set("Authorization", auth)
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		router.ServeHTTP(w, req)
		if w.Code != 201 {
			b.Fatalf("status = %d: %s", w.Code, w.Body)
		}
	}
}

// BenchmarkListBeersBearer measures GET /api/beers with a Bearer token
// (one indexed token lookup per request).
func BenchmarkListBeersBearer(b *testing.B) {
	e := newTestEnv(b)
	e.mustRegister("bench", "bench password")
	auth := basic("bench", "bench password")
	for range 20 {
		e.mustCreateBeer(auth, "Bench beer", 1)
	}
	app := e.mustCreateClient(auth, map[string]any{"name": "Bench", "grant_types": []string{"password", "refresh_token"}})
	tok := e.mustToken(&app, url.Values{"grant_type": {"password"}, "username": {"bench"}, "password": {"bench password"}, "scope": {"beers:read"}})
	router := e.deps.Router
	req := httptest.NewRequest("GET", "/api/beers", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		router.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("status = %d: %s", w.Code, w.Body)
		}
	}
}

// BenchmarkClientCredentialsToken measures POST /api/oauth2/token with
// grant_type=client_credentials and Basic client authentication.
func BenchmarkClientCredentialsToken(b *testing.B) {
	e := newTestEnv(b)
	e.mustRegister("bench", "bench password")
	app := e.mustCreateClient(basic("bench", "bench password"), map[string]any{"name": "Bench", "grant_types": []string{"client_credentials"}})
	router := e.deps.Router
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("POST", "/api/oauth2/token", strings.NewReader("grant_type=client_credentials"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(app.ID, app.Secret)
		w := httptest.NewRecorder()
		router.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("status = %d: %s", w.Code, w.Body)
		}
	}
}

// BenchmarkListBeersBasicParallel is BenchmarkListBeersBasic from 32
// goroutines at once, one account from one address, as W4 of bench/run.sh
// is: it measures what admitting credential checks in turn
// (limits.Guard.Begin) costs a busy honest client.
func BenchmarkListBeersBasicParallel(b *testing.B) {
	router, auth := benchRouter(b)
	b.SetParallelism(32 / max(1, runtime.GOMAXPROCS(0)))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		req := httptest.NewRequest("GET", "/api/beers", nil)
		req.Header.Set("Authorization", auth)
		for pb.Next() {
			w := httptest.NewRecorder()
			router.ServeHTTP(w, req)
			if w.Code != 200 {
				b.Errorf("status = %d: %s", w.Code, w.Body)
				return
			}
		}
	})
}

// BenchmarkCodeGrant measures one authorization code grant with a
// remembered consent: the authorization request of a signed-in browser
// (one code) and its redemption at the token endpoint. With openid the
// token response carries an ID token too, so the difference between the
// two is the cost of one ID token (an RS256 signature and its claims).
func BenchmarkCodeGrant(b *testing.B) {
	for _, bc := range []struct{ name, scope string }{
		{"oauth", "profile beers:read"},
		{"openid", "openid profile beers:read"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			e := newOAuthEnv(b)
			br := e.aliceBrowser()
			br.mustCode(authQuery(e.app, bc.scope, "st", "")) // approves, so later requests need no page
			cookies := br.client.Jar.Cookies(mustParseURL(b, e.server.URL))
			authURL := "/api/oauth2/authorize?" + authQuery(e.app, bc.scope, "st", "").Encode()
			router := e.deps.Router
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest("GET", authURL, nil)
				for _, c := range cookies {
					req.AddCookie(c)
				}
				w := httptest.NewRecorder()
				router.ServeHTTP(w, req)
				loc, err := url.Parse(w.Header().Get("Location"))
				if w.Code != http.StatusFound || err != nil || loc.Query().Get("code") == "" {
					b.Fatalf("authorize: %d %s", w.Code, w.Header().Get("Location"))
				}
				form := codeForm(e.app, loc.Query().Get("code"), "")
				req = httptest.NewRequest("POST", "/api/oauth2/token", strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.SetBasicAuth(url.QueryEscape(e.app.ID), url.QueryEscape(e.app.Secret))
				w = httptest.NewRecorder()
				router.ServeHTTP(w, req)
				if w.Code != http.StatusOK || (bc.name == "openid") != strings.Contains(w.Body.String(), `"id_token"`) {
					b.Fatalf("token: %d %s", w.Code, w.Body)
				}
			}
		})
	}
}
