package controllers_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"beerlocker/app"
	"beerlocker/limits"
	"beerlocker/models"
)

// parallel is how many wrong credentials the concurrency tests send at
// once, from one address at one account.
const parallel = 60

// raceRequests sends the requests newReq makes from n goroutines at once
// through client and returns the responses, bodies read. It does not use t
// from the goroutines: failing from another goroutine is not allowed.
func raceRequests(t *testing.T, client *http.Client, n int, newReq func() (*http.Request, error)) []*response {
	t.Helper()
	out, errs := make([]*response, n), make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		req, err := newReq()
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			<-start
			resp, err := client.Do(req)
			if err != nil {
				errs[i] = err
				return
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			out[i], errs[i] = &response{Response: resp, body: body}, err
		})
	}
	close(start)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	return out
}

// countStatuses counts the responses by status and fails on any other
// than those allowed, and 503: on a slow machine a check waiting its turn
// longer than limits.QueueTimeout is answered 503 (busy), checking nothing.
func countStatuses(t *testing.T, rs []*response, allowed ...int) map[int]int {
	t.Helper()
	n := map[int]int{}
	for _, r := range rs {
		n[r.StatusCode]++
	}
	for status, count := range n {
		ok := status == http.StatusServiceUnavailable
		for _, a := range allowed {
			ok = ok || status == a
		}
		if !ok {
			t.Errorf("%d responses with status %d, want only %v", count, status, allowed)
		}
	}
	return n
}

// wantBoundedRetryAfter checks the Retry-After of a 429 against API.md
// §8: no lockout is longer than 10 minutes.
func wantBoundedRetryAfter(t *testing.T, r *response) {
	t.Helper()
	if r.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("status = %d, want 429; body: %.300s", r.StatusCode, r.body)
	}
	n, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if err != nil || n < 1 || time.Duration(n)*time.Second > 10*time.Minute {
		t.Errorf("Retry-After = %q, want whole seconds from 1 to 600 (API.md §8)", r.Header.Get("Retry-After"))
	}
}

// dbLatency is how long a lookup takes in the tests that need one to,
// about a round trip to a MongoDB replica set's primary in another zone.
const dbLatency = 20 * time.Millisecond

// slowClients and slowDeviceCodes look up as slowly as a networked
// database does, so that a check of a client secret or a user code takes
// as long as in production and concurrent guesses are in flight together.
type slowClients struct{ models.ClientRepository }

func (s slowClients) Get(ctx context.Context, id string) (*models.Client, error) {
	time.Sleep(dbLatency)
	return s.ClientRepository.Get(ctx, id)
}

type slowDeviceCodes struct{ models.DeviceCodeRepository }

func (s slowDeviceCodes) GetByUserCode(ctx context.Context, hash string, now time.Time) (*models.DeviceCode, error) {
	time.Sleep(dbLatency)
	return s.DeviceCodeRepository.GetByUserCode(ctx, hash, now)
}

// openSlowStore is openTestStore with the lookups of client secrets and
// user codes slowed to dbLatency.
func openSlowStore(t *testing.T) *models.Store {
	t.Helper()
	s := *openTestStore(t)
	s.Clients = slowClients{s.Clients}
	s.DeviceCodes = slowDeviceCodes{s.DeviceCodes}
	return &s
}

// realCost makes an env hash passwords at the production argon2id cost,
// so that a check takes as long as it does in production and concurrent
// guesses really are in flight together.
func realCost(o *app.Options) { o.Argon2 = models.DefaultArgon2 }

// TestConcurrentWrongPasswords: 60 wrong passwords for one account from one
// address, all at once, at the real argon2id cost, through the real router.
// Sequentially the account's burst is checked, then 429; in parallel it
// must be the same give or take a few, not all 60 (each check is an argon2
// hash, so the hashes count the checks), and the debt they leave is
// bounded: Retry-After afterwards is at most 10 minutes.
func TestConcurrentWrongPasswords(t *testing.T) {
	e := newTestEnvConfig(t, openTestStore(t), "http://localhost:3000", limits.DefaultLimits, realCost)
	e.mustRegister("alice", "alices password")
	pw := e.deps.Passwords
	before := pw.Hashes()
	rs := raceRequests(t, e.client, parallel, func() (*http.Request, error) {
		req, err := http.NewRequest("GET", e.server.URL+"/api/users/me", nil)
		if err == nil {
			req.SetBasicAuth("alice", "wrong password")
		}
		return req, err
	})
	n := countStatuses(t, rs, http.StatusUnauthorized, http.StatusTooManyRequests)
	burst := limits.DefaultLimits.Account.Burst
	if checked := pw.Hashes() - before; checked > int64(burst+limits.InFlight-1) {
		t.Errorf("%d parallel wrong passwords: %d were checked (argon2id hashes; %d answered 401), want at most about the account's burst, %d",
			parallel, checked, n[http.StatusUnauthorized], burst)
	}
	wantBoundedRetryAfter(t, e.request("GET", "/api/users/me", nil, basic("alice", "wrong password")))
}

// TestConcurrentWrongClientSecrets is TestConcurrentWrongPasswords for
// client authentication at the token endpoint, with the client looked up
// at a networked database's latency: of 60 wrong secrets for one client
// sent at once, about the burst are checked (401), the rest 429.
func TestConcurrentWrongClientSecrets(t *testing.T) {
	e := newTestEnvConfig(t, openSlowStore(t), "http://localhost:3000", limits.DefaultLimits)
	e.mustRegister("dev", "devs password")
	svc := e.mustCreateClient(basic("dev", "devs password"), map[string]any{"name": "Cellar Sync",
		"grant_types": []string{"client_credentials"}})
	form := url.Values{"grant_type": {"client_credentials"}}.Encode()
	rs := raceRequests(t, e.client, parallel, func() (*http.Request, error) {
		req, err := http.NewRequest("POST", e.server.URL+"/api/oauth2/token", strings.NewReader(form))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(url.QueryEscape(svc.ID), "wrong secret")
		}
		return req, err
	})
	n := countStatuses(t, rs, http.StatusUnauthorized, http.StatusTooManyRequests)
	if burst := limits.DefaultLimits.Account.Burst; n[http.StatusUnauthorized] > burst+limits.InFlight-1 {
		t.Errorf("%d parallel wrong client secrets: %d were checked (401), want at most about the account's burst, %d",
			parallel, n[http.StatusUnauthorized], burst)
	}
	wantBoundedRetryAfter(t, e.postForm("/api/oauth2/token", &client{ID: svc.ID, Secret: "wrong secret"},
		url.Values{"grant_type": {"client_credentials"}}))
}

// TestConcurrentWrongUserCodes is TestConcurrentWrongPasswords for user
// codes on /device, looked up at a networked database's latency: of 60
// wrong codes a signed-in user enters at once, about the burst are looked
// up (400), the rest 429.
func TestConcurrentWrongUserCodes(t *testing.T) {
	e := newTestEnvConfig(t, openSlowStore(t), "http://localhost:3000", limits.DefaultLimits)
	e.mustRegister("alice", "alices password")
	b := e.newBrowser()
	b.mustLogIn("alice", "alices password")
	form := url.Values{"user_code": {"BCDF-GHJK"}, "csrf_token": {b.csrfToken("/device")}}.Encode()
	rs := raceRequests(t, b.client, parallel, func() (*http.Request, error) {
		req, err := http.NewRequest("POST", e.server.URL+"/device", strings.NewReader(form))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		return req, err
	})
	n := countStatuses(t, rs, http.StatusBadRequest, http.StatusTooManyRequests)
	if burst := limits.DefaultLimits.Account.Burst; n[http.StatusBadRequest] > burst+limits.InFlight-1 {
		t.Errorf("%d parallel wrong user codes: %d were looked up (400), want at most about the account's burst, %d",
			parallel, n[http.StatusBadRequest], burst)
	}
	wantBoundedRetryAfter(t, b.enterCode("BCDF-GHJK"))
}
