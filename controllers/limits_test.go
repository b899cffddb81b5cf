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

	"beerlocker/app"
	"beerlocker/limits"
)

// tightLimits make the brute-force limits reachable in a few requests: an
// address may fail 6 times, then once every 5 s; an account 3 times, then
// once every 10 s. LockoutBound is 6 × 5 s = 30 s. Registration stays
// generous: the tests register their users from one address.
var tightLimits = limits.Limits{
	Address:  limits.Rate{Burst: 6, PerMinute: 12},
	Account:  limits.Rate{Burst: 3, PerMinute: 6},
	Register: testLimits.Register,
	MaxKeys:  1000,
}

// limitEnv has a user, a confidential app with the password grant and a
// confidential service client with client_credentials, under tightLimits.
type limitEnv struct {
	*testEnv
	app, svc client
}

func newLimitEnv(t *testing.T, configure ...func(*app.Options)) *limitEnv {
	t.Helper()
	e := newTestEnvConfig(t, openTestStore(t), "http://localhost:3000", tightLimits, configure...)
	// Setting up is not a failure, but it comes from 127.0.0.1, which the
	// cases below never use.
	e.mustRegister("alice", "alices password")
	e.mustRegister("dev", "devs password")
	return &limitEnv{
		testEnv: e,
		app: e.mustCreateClient(basic("dev", "devs password"), map[string]any{"name": "Beer Buddy",
			"grant_types": []string{"authorization_code", "refresh_token", "password"}}),
		svc: e.mustCreateClient(basic("dev", "devs password"), map[string]any{"name": "Cellar Sync",
			"grant_types": []string{"client_credentials"}}),
	}
}

// surface is one place a secret is checked. try sends a credential for the
// surface's account from ip: the right one, a wrong one, or one for an
// unknown account named other.
type surface struct {
	name       string
	try        func(e *limitEnv, ip string, right bool, other string) *response
	okStatus   int
	failStatus int
	want429    func(t *testing.T, r *response)
}

func userCredential(right bool, other string) (string, string) {
	switch {
	case other != "":
		return other, "alices password"
	case right:
		return "alice", "alices password"
	}
	return "alice", "wrong password"
}

func clientCredential(c client, right bool, other string) *client {
	switch {
	case other != "":
		return &client{ID: other, Secret: c.Secret}
	case right:
		return &c
	}
	return &client{ID: c.ID, Secret: "wrong secret"}
}

var surfaces = []surface{
	{
		name: "Basic on an API route",
		try: func(e *limitEnv, ip string, right bool, other string) *response {
			u, p := userCredential(right, other)
			return e.from(ip).request("GET", "/api/users/me", nil, basic(u, p))
		},
		okStatus: http.StatusOK, failStatus: http.StatusUnauthorized,
		want429: func(t *testing.T, r *response) {
			p := wantProblem(t, r, http.StatusTooManyRequests)
			if !strings.Contains(p["detail"].(string), "Try again in") {
				t.Errorf("detail = %q, want the wait", p["detail"])
			}
		},
	},
	{
		name: "login page",
		try: func(e *limitEnv, ip string, right bool, other string) *response {
			u, p := userCredential(right, other)
			return e.from(ip).newBrowser().logIn(u, p, "/account")
		},
		okStatus: http.StatusSeeOther, failStatus: http.StatusUnauthorized,
		want429: func(t *testing.T, r *response) {
			wantStatus(t, r, http.StatusTooManyRequests)
			if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
				t.Errorf("Content-Type = %q, want the login page", ct)
			}
			wantBodyContains(t, r, `role="alert"`)
			wantBodyContains(t, r, "Too many failed attempts")
			wantBodyContains(t, r, `name="csrf_token"`) // the form is there to try again
		},
	},
	{
		name: "password grant",
		try: func(e *limitEnv, ip string, right bool, other string) *response {
			u, p := userCredential(right, other)
			return e.from(ip).postForm("/api/oauth2/token", &e.app, passwordForm(u, p, ""))
		},
		okStatus: http.StatusOK, failStatus: http.StatusBadRequest,
		want429: wantOAuth429,
	},
	{
		name: "client authentication at the token endpoint",
		try: func(e *limitEnv, ip string, right bool, other string) *response {
			return e.from(ip).postForm("/api/oauth2/token", clientCredential(e.svc, right, other),
				url.Values{"grant_type": {"client_credentials"}})
		},
		okStatus: http.StatusOK, failStatus: http.StatusUnauthorized,
		want429: wantOAuth429,
	},
	{
		name: "client authentication at revocation",
		try: func(e *limitEnv, ip string, right bool, other string) *response {
			return e.from(ip).postForm("/api/oauth2/revoke", clientCredential(e.svc, right, other),
				url.Values{"token": {"blat_not_a_token"}})
		},
		okStatus: http.StatusOK, failStatus: http.StatusUnauthorized,
		want429: wantOAuth429,
	},
	{
		name: "client authentication at introspection",
		try: func(e *limitEnv, ip string, right bool, other string) *response {
			return e.from(ip).postForm("/api/oauth2/introspect", clientCredential(e.svc, right, other),
				url.Values{"token": {"blat_not_a_token"}})
		},
		okStatus: http.StatusOK, failStatus: http.StatusUnauthorized,
		want429: wantOAuth429,
	},
}

func wantOAuth429(t *testing.T, r *response) {
	t.Helper()
	wantOAuthError(t, r, http.StatusTooManyRequests, "invalid_request")
	if d, _ := r.json(t)["error_description"].(string); !strings.Contains(d, "Try again in") {
		t.Errorf("error_description = %q, want the wait", d)
	}
}

// retryAfter checks a 429's Retry-After (whole seconds, at least 1, at
// most max) and returns it.
func retryAfter(t *testing.T, r *response, max time.Duration) time.Duration {
	t.Helper()
	n, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if err != nil || n < 1 || time.Duration(n)*time.Second > max {
		t.Fatalf("Retry-After = %q, want whole seconds from 1 to %s", r.Header.Get("Retry-After"), max)
	}
	return time.Duration(n) * time.Second
}

func (s surface) want(t *testing.T, r *response, status int, what string) {
	t.Helper()
	if r.StatusCode != status {
		t.Fatalf("%s: %s: status = %d, want %d; body: %.300s", s.name, what, r.StatusCode, status, r.body)
	}
}

// TestBruteForceLimits runs, on each surface where a secret is checked, the
// guarantees of API.md §8: 429 with Retry-After after too many failures per
// account and per address; the right credential works again after the
// wait; and another address is never locked out by an attacker's failures.
func TestBruteForceLimits(t *testing.T) {
	bound := tightLimits.LockoutBound()
	for _, s := range surfaces {
		t.Run(s.name, func(t *testing.T) {
			e := newLimitEnv(t)
			const attacker, owner = "198.51.100.7", "203.0.113.20"

			// The account: its burst of failures is answered normally...
			for i := range tightLimits.Account.Burst {
				s.want(t, s.try(e, attacker, false, ""), s.failStatus, fmt.Sprintf("failure %d", i+1))
			}
			// ...then the attacker's address is refused, even the right
			// credential: it has failed, and the account is locked.
			for _, right := range []bool{false, true} {
				r := s.try(e, attacker, right, "")
				s.want429(t, r)
				retryAfter(t, r, bound)
			}

			// The owner, on another address, is not held up at all: the
			// password is checked and accepted.
			s.want(t, s.try(e, owner, true, ""), s.okStatus, "the owner on another address")

			// After Retry-After, the attacker's address gets its answer again.
			r := s.try(e, attacker, true, "")
			e.clock.Advance(retryAfter(t, r, bound))
			s.want(t, s.try(e, attacker, true, ""), s.okStatus, "the right credential after Retry-After")

			// The address: failures against many accounts add up.
			const sprayer = "192.0.2.99"
			for i := range tightLimits.Address.Burst {
				s.want(t, s.try(e, sprayer, false, fmt.Sprintf("nobody%d", i)), s.failStatus, fmt.Sprintf("spray %d", i+1))
			}
			for _, r := range []*response{s.try(e, sprayer, false, "nobody-else"), s.try(e, sprayer, true, "")} {
				s.want429(t, r)
				retryAfter(t, r, time.Minute/time.Duration(tightLimits.Address.PerMinute)+time.Second)
			}
		})
	}
}

// TestLockoutBound proves the bound of limits.Guard: while attackers on
// many addresses keep the account locked, the owner who mistypes once on a
// clean address waits at most LockoutBound, then gets in.
func TestLockoutBound(t *testing.T) {
	bound := tightLimits.LockoutBound()
	for _, s := range surfaces {
		t.Run(s.name, func(t *testing.T) {
			e := newLimitEnv(t)
			attackers := 0
			attack := func() {
				// Each fresh address gets at most one guess at a locked account.
				for range tightLimits.Account.Burst + 2 {
					attackers++
					s.try(e, fmt.Sprintf("10.9.%d.%d", attackers/250, attackers%250+1), false, "")
				}
			}
			const owner = "203.0.113.20"
			attack()
			s.want(t, s.try(e, owner, false, ""), s.failStatus, "the owner's typo on a locked account")
			r := s.try(e, owner, true, "")
			s.want429(t, r)
			wait := retryAfter(t, r, bound)
			// The attack goes on while the owner waits, and after.
			for elapsed := time.Duration(0); elapsed < wait; elapsed += time.Second {
				e.clock.Advance(time.Second)
				attack()
			}
			s.want(t, s.try(e, owner, true, ""), s.okStatus, fmt.Sprintf("the owner after Retry-After (%s) under attack", wait))
		})
	}
}

// TestLimitsCountAcrossSurfaces: an address's failures count together on
// every surface.
func TestLimitsCountAcrossSurfaces(t *testing.T) {
	e := newLimitEnv(t)
	const ip = "198.51.100.8"
	for i := range tightLimits.Address.Burst {
		s := surfaces[i%len(surfaces)]
		s.want(t, s.try(e, ip, false, fmt.Sprintf("nobody%d", i)), s.failStatus, "failure")
	}
	for _, s := range surfaces {
		s.want429(t, s.try(e, ip, true, ""))
	}
}

// TestUnknownUserCostsOneHash: an unknown username and a wrong password run
// the same check, one argon2id hash each (the unknown one against a dummy
// hash), and get the same answer, on every password surface.
func TestUnknownUserCostsOneHash(t *testing.T) {
	e := newLimitEnv(t)
	pw := e.deps.Passwords // the one hasher: if a surface hashed with another, it would count no hash here
	for _, s := range surfaces[:3] {
		t.Run(s.name, func(t *testing.T) {
			s.try(e, "192.0.2.1", false, "warm-up-the-dummy-hash")
			var bodies []string
			for i, other := range []string{"", "mallory"} {
				before := pw.Hashes()
				r := s.try(e, fmt.Sprintf("192.0.2.%d", 10+i), false, other)
				s.want(t, r, s.failStatus, "failure")
				if n := pw.Hashes() - before; n != 1 {
					t.Errorf("unknown user = %v: %d argon2id hashes, want 1", other != "", n)
				}
				bodies = append(bodies, strings.ReplaceAll(string(r.body), "mallory", "alice"))
			}
			if s.name != "login page" && bodies[0] != bodies[1] { // the page has a fresh CSRF token
				t.Errorf("answers differ:\n%s\n%s", bodies[0], bodies[1])
			}
		})
	}
}

// TestDefaultsAreOn: a Config without Limits gets the defaults, not none.
func TestDefaultsAreOn(t *testing.T) {
	e := newTestEnvConfig(t, openTestStore(t), "http://localhost:3000", limits.Limits{})
	e.mustRegister("alice", "alices password")
	for range limits.DefaultLimits.Account.Burst {
		wantStatus(t, e.from("198.51.100.1").request("GET", "/api/users/me", nil, basic("alice", "wrong")), http.StatusUnauthorized)
	}
	wantProblem(t, e.from("198.51.100.1").request("GET", "/api/users/me", nil, basic("alice", "wrong")), http.StatusTooManyRequests)
}

// TestLimitBuckets: Config.LimitBuckets receives each set of buckets' name
// and shape, and the Guard keeps its failures there.
func TestLimitBuckets(t *testing.T) {
	got := map[string]*limits.Limiter{}
	var rates []string
	e := newLimitEnv(t, func(cfg *app.Options) {
		cfg.LimitBuckets = func(name string, r limits.Rate) limits.Buckets {
			rates = append(rates, fmt.Sprintf("%s %+v", name, r))
			got[name] = limits.NewLimiter(r, 100, cfg.Now)
			return got[name]
		}
	})
	want := []string{fmt.Sprintf("address %+v", tightLimits.Address), fmt.Sprintf("account %+v", tightLimits.Account),
		fmt.Sprintf("register %+v", tightLimits.Register)}
	if strings.Join(rates, "; ") != strings.Join(want, "; ") {
		t.Fatalf("LimitBuckets called with %q, want %q", rates, want)
	}
	wantStatus(t, e.from("198.51.100.40").request("GET", "/api/users/me", nil, basic("alice", "wrong")), http.StatusUnauthorized)
	// The clock runs, so the buckets refill a little meanwhile.
	for _, c := range []struct {
		name, key string
		r         limits.Rate
	}{{"address", "198.51.100.40", tightLimits.Address}, {"account", limits.UserAccount("alice"), tightLimits.Account}} {
		n, _ := got[c.name].Tokens(context.Background(), c.key)
		if want := float64(c.r.Burst - 1); n < want || n > want+0.1 {
			t.Errorf("%s bucket of %s holds %v tokens after one failure, want %v", c.name, c.key, n, want)
		}
	}
}
