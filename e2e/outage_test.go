package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"beerlocker/app"
	"beerlocker/e2e/e2etest"
	"beerlocker/models"
	"beerlocker/problem"
	"beerlocker/store/mongo/mongotest"
)

// outageBound is the longest any request may take while the database is
// down: the store's per-call timeout and the driver's server selection
// timeout (5 s each, store/mongo), plus slack for a loaded -race run. A
// request that takes longer is counted as hanging.
const outageBound = 9 * time.Second

// outageSample is one request of the load, with when it ran and how.
type outageSample struct {
	kind        string // "list", "create", "token"
	start, end  time.Time
	status      int
	err         error  // transport error: the request hung or the connection dropped
	body        string // kept for failures
	contentType string
	retryAfter  string
	beer        string // create: the beer's name
}

// TestMongoOutage stops the database under load and starts it again: while
// it is down every request gets a 503 problem (API) or 503
// temporarily_unavailable (OAuth token endpoint) within outageBound, none
// hangs and /readyz says 503; when it returns on the same address the
// service recovers without a restart; and no write is half done: every
// beer that got 201 is there afterwards, and a beer that got 503 is either
// absent or (sent just as the server stopped, and applied) there whole.
func TestMongoOutage(t *testing.T) {
	db := mongotest.StartControlled(t)
	env := map[string]string{
		"ADDR":             "127.0.0.1:0",
		"DATA_DIR":         t.TempDir(),
		"MONGODB_URI":      db.URI(),
		"MONGODB_DATABASE": mongotest.DatabaseName(),
	}
	base, _ := e2etest.StartInProcess(t, env)
	client := &http.Client{Timeout: 60 * time.Second} // far past outageBound: a hang shows as a duration, not a timeout

	resp, body := e2etest.RequestJSON(t, "POST", base+"/api/users", `{"username":"otto","password":"ottos password"}`, "", "")
	if resp.StatusCode != 201 {
		t.Fatalf("register: status = %d: %s", resp.StatusCode, body)
	}
	for i := range 3 {
		resp, body = e2etest.RequestJSON(t, "POST", base+"/api/beers", fmt.Sprintf(`{"name":"before-%d","quantity":%d}`, i, i+1), "otto", "ottos password")
		if resp.StatusCode != 201 {
			t.Fatalf("create beer: status = %d: %s", resp.StatusCode, body)
		}
	}
	resp, body = e2etest.RequestJSON(t, "POST", base+"/api/clients",
		`{"name":"Outage app","redirect_uris":["https://app.example/cb"],"grant_types":["client_credentials"]}`, "otto", "ottos password")
	if resp.StatusCode != 201 {
		t.Fatalf("register client: status = %d: %s", resp.StatusCode, body)
	}
	var oauthApp struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	if err := json.Unmarshal([]byte(body), &oauthApp); err != nil || oauthApp.ClientSecret == "" {
		t.Fatalf("register client: %v: %s", err, body)
	}

	// The load: two goroutines of each kind until stop is closed.
	var (
		mu      sync.Mutex
		samples []outageSample
		wg      sync.WaitGroup
	)
	stop := make(chan struct{})
	request := func(kind string, n int, g int) outageSample {
		s := outageSample{kind: kind}
		var req *http.Request
		switch kind {
		case "list":
			req, _ = http.NewRequest("GET", base+"/api/beers?limit=5", nil)
			req.SetBasicAuth("otto", "ottos password")
		case "create":
			s.beer = fmt.Sprintf("load-%d-%d", g, n)
			req, _ = http.NewRequest("POST", base+"/api/beers", strings.NewReader(fmt.Sprintf(`{"name":%q,"quantity":%d}`, s.beer, n+1)))
			req.Header.Set("Content-Type", "application/json")
			req.SetBasicAuth("otto", "ottos password")
		case "token":
			form := url.Values{"grant_type": {"client_credentials"}, "scope": {"beers:read"}}
			req, _ = http.NewRequest("POST", base+"/api/oauth2/token", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(url.QueryEscape(oauthApp.ClientID), url.QueryEscape(oauthApp.ClientSecret))
		}
		s.start = time.Now()
		resp, err := client.Do(req)
		if err != nil {
			s.err, s.end = err, time.Now()
			return s
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		s.end = time.Now()
		s.status, s.body = resp.StatusCode, string(b)
		s.contentType, s.retryAfter = resp.Header.Get("Content-Type"), resp.Header.Get("Retry-After")
		return s
	}
	for _, kind := range []string{"list", "create", "token"} {
		for g := range 2 {
			wg.Go(func() {
				for n := 0; ; n++ {
					select {
					case <-stop:
						return
					default:
					}
					s := request(kind, n, g)
					mu.Lock()
					samples = append(samples, s)
					mu.Unlock()
					time.Sleep(20 * time.Millisecond)
				}
			})
		}
	}

	time.Sleep(time.Second) // healthy load first
	db.Stop()
	down := time.Now()
	t.Logf("database stopped")

	// /readyz must say 503 while the database is down.
	time.Sleep(500 * time.Millisecond)
	resp, body = e2etest.RequestJSON(t, "GET", base+"/readyz", "", "", "")
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/readyz during the outage: status = %d, want 503: %s", resp.StatusCode, body)
	}
	// Long enough that requests run into every timeout there is.
	time.Sleep(2*outageBound - 500*time.Millisecond)

	db.Start()
	up := time.Now()
	t.Logf("database started again on the same address")
	var recovered time.Time
	for deadline := up.Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		r1, _ := e2etest.RequestJSON(t, "GET", base+"/readyz", "", "", "")
		r2, _ := e2etest.RequestJSON(t, "GET", base+"/api/beers?limit=1", "", "otto", "ottos password")
		if r1.StatusCode == 200 && r2.StatusCode == 200 {
			recovered = time.Now()
			break
		}
	}
	if recovered.IsZero() {
		t.Fatalf("the service did not recover within 60 s of the database's return")
	}
	time.Sleep(time.Second) // some load after the recovery
	close(stop)
	wg.Wait()

	// Every request of the outage answered in time and in the right shape.
	ct := &cappedT{T: t, max: 20}
	var worst time.Duration
	var during, unavailable, after, afterOK int
	for _, s := range samples {
		d := s.end.Sub(s.start)
		if s.err != nil {
			ct.Errorf("%s at %v: transport error after %v: %v", s.kind, s.start.Sub(down).Round(time.Millisecond), d, s.err)
			continue
		}
		if s.end.After(down) && s.start.Before(up) {
			during++
			worst = max(worst, d)
			if d > outageBound {
				ct.Errorf("%s at %v after the stop took %v, want at most %v", s.kind, s.start.Sub(down).Round(time.Millisecond), d, outageBound)
			}
		}
		if s.start.After(recovered) {
			after++
			if s.status < 300 {
				afterOK++
			} else {
				ct.Errorf("%s after the recovery: status %d: %s", s.kind, s.status, s.body)
			}
		}
		switch {
		case s.status < 300:
		case s.status == http.StatusServiceUnavailable:
			unavailable++
			if s.retryAfter != "5" {
				ct.Errorf("%s: 503 with Retry-After %q, want 5", s.kind, s.retryAfter)
			}
			if s.kind == "token" {
				var e struct{ Error string }
				if json.Unmarshal([]byte(s.body), &e) != nil || e.Error != "temporarily_unavailable" {
					ct.Errorf("token: 503 body = %s, want error temporarily_unavailable", s.body)
				}
			} else if s.contentType != problem.ContentType {
				ct.Errorf("%s: 503 with Content-Type %q, want %s: %s", s.kind, s.contentType, problem.ContentType, s.body)
			}
		default:
			ct.Errorf("%s at %v after the stop: status %d, want 2xx or 503: %s", s.kind, s.start.Sub(down).Round(time.Millisecond), s.status, s.body)
		}
	}
	if unavailable == 0 {
		ct.Errorf("no request got a 503 while the database was down")
	}
	if afterOK == 0 {
		ct.Errorf("no request succeeded after the recovery")
	}

	// Nothing lost, nothing half-written.
	stored := map[string]int{}
	for cursor := ""; ; {
		u := base + "/api/beers?limit=100"
		if cursor != "" {
			u += "&cursor=" + url.QueryEscape(cursor)
		}
		resp, body := e2etest.RequestJSON(t, "GET", u, "", "otto", "ottos password")
		if resp.StatusCode != 200 {
			t.Fatalf("list beers after the recovery: status = %d: %s", resp.StatusCode, body)
		}
		var page struct {
			Beers []struct {
				Name     string `json:"name"`
				Quantity int    `json:"quantity"`
			} `json:"beers"`
			NextCursor string `json:"next_cursor"`
		}
		if err := json.Unmarshal([]byte(body), &page); err != nil {
			t.Fatalf("list beers: %v", err)
		}
		for _, b := range page.Beers {
			if _, dup := stored[b.Name]; dup {
				ct.Errorf("beer %q is stored twice", b.Name)
			}
			stored[b.Name] = b.Quantity
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	var created, refused, appliedLate int
	for _, s := range samples {
		if s.kind != "create" || s.err != nil {
			continue
		}
		var n int
		fmt.Sscanf(s.beer[strings.LastIndex(s.beer, "-")+1:], "%d", &n)
		q, ok := stored[s.beer]
		switch {
		case s.status == http.StatusCreated:
			created++
			if !ok || q != n+1 {
				ct.Errorf("beer %q got 201 but is stored as (present %v, quantity %d), want quantity %d", s.beer, ok, q, n+1)
			}
		case s.status == http.StatusServiceUnavailable:
			refused++
			if ok {
				appliedLate++
				if q != n+1 {
					ct.Errorf("beer %q got 503 and is stored half-written: quantity %d, want %d", s.beer, q, n+1)
				}
			}
		}
	}
	kinds := map[string]int{}
	for _, s := range samples {
		kinds[s.kind]++
	}
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range kinds {
			if !yield(k) {
				return
			}
		}
	})
	t.Logf("load: %d requests (%v), %d overlapping the outage, %d answered 503",
		len(samples), kindsString(names, kinds), during, unavailable)
	t.Logf("worst response time while the database was down: %v (bound %v)", worst.Round(time.Millisecond), outageBound)
	t.Logf("recovery: %v from the database's return to /readyz 200 and a successful API read; %d of %d requests after it succeeded",
		recovered.Sub(up).Round(time.Millisecond), afterOK, after)
	t.Logf("writes: %d beers got 201 and all are stored; %d got 503, of which %d were applied (whole) as the server stopped",
		created, refused, appliedLate)
}

func kindsString(names []string, kinds map[string]int) string {
	parts := make([]string, len(names))
	for i, k := range names {
		parts[i] = fmt.Sprintf("%s %d", k, kinds[k])
	}
	return strings.Join(parts, ", ")
}

// cappedT reports at most max errors one by one, then only counts them, so
// that a systematic failure over thousands of requests stays readable.
type cappedT struct {
	*testing.T
	max, n int
}

func (c *cappedT) Errorf(format string, args ...any) {
	c.T.Helper()
	c.n++
	if c.n <= c.max {
		c.T.Errorf(format, args...)
	} else if c.n == c.max+1 {
		c.T.Errorf("more errors follow; not shown")
	}
}

// TestMongoDownAtStart checks that run gives up in bounded time, with one
// clear line, when the database is down as the service starts.
func TestMongoDownAtStart(t *testing.T) {
	db := mongotest.StartControlled(t)
	db.Stop()
	env := map[string]string{
		"ADDR":        "127.0.0.1:0",
		"DATA_DIR":    t.TempDir(),
		"MONGODB_URI": db.URI(),
	}
	start := time.Now()
	err := app.Run(t.Context(), []string{"beerlocker"}, func(k string) string { return env[k] }, io.Discard, io.Discard)
	took := time.Since(start)
	t.Logf("run with the database down: %v after %v", err, took.Round(time.Millisecond))
	if err == nil || !errors.Is(err, models.ErrUnavailable) || strings.Contains(err.Error(), "\n") ||
		!strings.HasPrefix(err.Error(), "MONGODB_URI: ") {
		t.Errorf("run error = %v, want one line starting MONGODB_URI: that wraps %v", err, models.ErrUnavailable)
	}
	if took > outageBound {
		t.Errorf("run took %v to give up, want at most %v", took, outageBound)
	}
}

// TestUnwritableDataDirAtStart checks that a DATA_DIR the embedded
// database cannot use stops run with one clear line, not a panic. (A
// read-only and a full filesystem under a running store are tested in
// store/sqlite, on a tmpfs, where the test may mount one.)
func TestUnwritableDataDirAtStart(t *testing.T) {
	file := filepath.Join(t.TempDir(), "not-a-dir")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{file, filepath.Join(file, "sub")} {
		env := map[string]string{"ADDR": "127.0.0.1:0", "DATA_DIR": dir, "SECRET_KEY": strings.Repeat("k", 32)}
		err := app.Run(t.Context(), []string{"beerlocker"}, func(k string) string { return env[k] }, io.Discard, io.Discard)
		t.Logf("DATA_DIR=%s: %v", dir, err)
		if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "DATA_DIR") {
			t.Errorf("DATA_DIR=%s: run error = %v, want one line naming DATA_DIR", dir, err)
		}
	}
}
