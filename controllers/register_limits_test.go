package controllers_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"beerlocker/limits"
)

// defaultRegisterBurst is RATE_LIMIT_REGISTER_BURST's default (API.md §8).
const defaultRegisterBurst = 10

// TestRegistrationLimited: with the default limits, registrations are
// limited per address, every attempt counting whether it succeeds or not
// (API.md §8): after the burst of attempts, taken names (409) and new ones
// (201) alike, the API answers a 429 problem with Retry-After, and the
// page the form again with a message, on the same budget; another address
// is not held up.
func TestRegistrationLimited(t *testing.T) {
	e := newTestEnvConfig(t, openTestStore(t), "http://localhost:3000", limits.Limits{})
	const ip = "198.51.100.30"
	api := e.from(ip)
	api.mustRegister("alice", "alices password")
	for range defaultRegisterBurst - 2 { // bulk username enumeration, attempt by attempt
		wantProblem(t, api.request("POST", "/api/users", map[string]string{"username": "alice", "password": "alices password"}),
			http.StatusConflict)
	}
	b := api.newBrowser()
	token := b.csrfToken("/register")
	wantStatus(t, b.post("/register", url.Values{"username": {"bob"}, "password": {"bobs password"}, "csrf_token": {token}}),
		http.StatusSeeOther) // the last of the burst, on the page

	for _, name := range []string{"alice", "carol"} {
		r := api.request("POST", "/api/users", map[string]string{"username": name, "password": "a good password"})
		p := wantProblem(t, r, http.StatusTooManyRequests)
		if d, _ := p["detail"].(string); !strings.Contains(d, "Try again in") {
			t.Errorf("detail = %q, want the wait", d)
		}
		wantBoundedRetryAfter(t, r)
	}
	b = api.newBrowser()
	r := b.post("/register", url.Values{"username": {"dave"}, "password": {"daves password"}, "csrf_token": {b.csrfToken("/register")}})
	wantStatus(t, r, http.StatusTooManyRequests)
	wantBoundedRetryAfter(t, r)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("Content-Type = %q, want the register page", ct)
	}
	wantBodyContains(t, r, `role="alert"`)
	wantBodyContains(t, r, "Too many registrations")
	wantBodyContains(t, r, `name="csrf_token"`) // the form is there to try again

	wantStatus(t, e.from("203.0.113.31").request("POST", "/api/users",
		map[string]string{"username": "erin", "password": "erins password"}), http.StatusCreated)
}

// TestTakenUsernameCostsNoHash: a taken username, in any case, is answered
// 409 without hashing the password (API.md §8), on the API and the page.
func TestTakenUsernameCostsNoHash(t *testing.T) {
	e := newTestEnv(t)
	e.mustRegister("alice", "alices password")
	pw := e.deps.Passwords
	before := pw.Hashes()
	wantProblem(t, e.request("POST", "/api/users", map[string]string{"username": "ALICE", "password": "another password"}), http.StatusConflict)
	b := e.newBrowser()
	wantStatus(t, b.post("/register", url.Values{"username": {"Alice"}, "password": {"another password"}, "csrf_token": {b.csrfToken("/register")}}),
		http.StatusConflict)
	if n := pw.Hashes() - before; n != 0 {
		t.Errorf("two registrations of a taken name computed %d argon2id hashes, want 0", n)
	}
}

// TestLoginNotQueuedBehindRegistrations keeps many registrations in flight
// at the real argon2id cost, all of them waiting for or computing their
// hash, then logs in: the login's check must not wait behind them. It
// asserts the order of events, not a duration: when the login returns,
// most registrations must still be in flight. (With one queue for every
// hash, the login came after nearly all of them.)
func TestLoginNotQueuedBehindRegistrations(t *testing.T) {
	e := newTestEnvConfig(t, openTestStore(t), "http://localhost:3000", testLimits, realCost)
	e.mustRegister("alice", "alices password")
	pw := e.deps.Passwords
	const n = 20
	before := pw.Hashes()
	var done atomic.Int64
	var wg sync.WaitGroup
	statuses, errs := make([]int, n), make([]error, n)
	// No timeout: the registrations hash one or two at a time, which
	// takes a while under the race detector on a busy machine.
	slow := &http.Client{}
	for i := range n {
		wg.Go(func() {
			defer done.Add(1)
			body := fmt.Sprintf(`{"username":"user%d","password":"a good password"}`, i)
			req, _ := http.NewRequest("POST", e.server.URL+"/api/users", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			resp, err := slow.Do(req)
			if errs[i] = err; err == nil {
				statuses[i] = resp.StatusCode
				resp.Body.Close()
			}
		})
	}
	// Every registration has started its hash (Hashes counts a hash when it
	// begins, before it waits for a free slot).
	for deadline := time.Now().Add(time.Minute); pw.Hashes()-before < n; {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d registrations began hashing in a minute", pw.Hashes()-before, n)
		}
		time.Sleep(time.Millisecond)
	}
	wantStatus(t, e.request("GET", "/api/users/me", nil, basic("alice", "alices password")), http.StatusOK)
	finished := done.Load()
	wg.Wait()
	if finished >= n/2 {
		t.Errorf("the login finished after %d of the %d registrations in flight before it: it queued behind their hashing", finished, n)
	}
	for i, s := range statuses {
		if errs[i] != nil || s != http.StatusCreated {
			t.Errorf("registration %d: status = %d (%v), want 201", i, s, errs[i])
		}
	}
}

// TestRegisterRaceOneWins: registrations of one name sent at once all pass
// the check for a taken name before any has been created; the store's
// unique index decides, so exactly one gets 201 and the others 409.
func TestRegisterRaceOneWins(t *testing.T) {
	e := newTestEnv(t)
	rs := raceRequests(t, e.client, 20, func() (*http.Request, error) {
		req, err := http.NewRequest("POST", e.server.URL+"/api/users", strings.NewReader(`{"username":"bob","password":"bobs password"}`))
		if err == nil {
			req.Header.Set("Content-Type", "application/json")
		}
		return req, err
	})
	if n := countStatuses(t, rs, http.StatusCreated, http.StatusConflict); n[http.StatusCreated] != 1 {
		t.Errorf("20 registrations of one name at once: %d × 201, want exactly 1", n[http.StatusCreated])
	}
}
