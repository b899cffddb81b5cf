package controllers_test

import (
	"io"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"testing"
)

// scrape reads the metrics the server recorded, in the exposition format.
func (e *testEnv) scrape() string {
	e.t.Helper()
	w := httptest.NewRecorder()
	e.deps.Metrics.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(w.Body)
	return string(b)
}

// metricValue returns the value of the sample whose name and labels match
// the pattern, or 0 when there is none.
func metricValue(t testing.TB, exposition, pattern string) float64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + pattern + ` ([0-9.e+-]+)$`).FindStringSubmatch(exposition)
	if m == nil {
		return 0
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestMetricsMove(t *testing.T) {
	e := newTestEnv(t)
	e.mustRegister("mia", "mias password")
	auth := basic("mia", "mias password")
	e.mustCreateBeer(auth, "Counted", 1)
	e.request("GET", "/api/beers", nil, auth)
	e.request("GET", "/api/beers", nil, basic("mia", "wrong password"))
	e.request("GET", "/api/beers", nil, bearer("blat_unknown"))
	app := e.mustCreateClient(auth, map[string]any{"name": "Metered", "grant_types": []string{"password", "client_credentials", "refresh_token"}})
	tok := e.mustToken(&app, url.Values{"grant_type": {"password"}, "username": {"mia"}, "password": {"mias password"}})
	e.mustToken(&app, url.Values{"grant_type": {"client_credentials"}})
	for range 3 {
		e.request("GET", "/api/beers", nil, bearer(tok.AccessToken))
	}
	// A refresh reads the stored refresh token through the token cache (a
	// miss); introspecting the new one three times is a miss and two hits.
	// A revocation of the sealed access token is recorded.
	refreshed := e.mustToken(&app, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}})
	for range 3 {
		wantStatus(t, e.postForm("/api/oauth2/introspect", &app, url.Values{"token": {refreshed.RefreshToken}}), 200)
	}
	e.postForm("/api/oauth2/revoke", &app, url.Values{"token": {tok.AccessToken}})
	e.request("GET", "/api/beers/does-not-exist/at/all", nil)

	m := e.scrape()
	for _, c := range []struct {
		pattern string
		atLeast float64
	}{
		{`beerlocker_http_requests_total\{method="GET",route="/api/beers",status="2xx"\}`, 4},
		{`beerlocker_http_requests_total\{method="GET",route="/api/beers",status="4xx"\}`, 2},
		{`beerlocker_http_requests_total\{method="GET",route="unmatched",status="4xx"\}`, 1},
		{`beerlocker_http_request_duration_seconds_count\{method="POST",route="/api/beers"\}`, 1},
		{`beerlocker_tokens_issued_total\{grant="password"\}`, 1},
		{`beerlocker_tokens_issued_total\{grant="client_credentials"\}`, 1},
		{`beerlocker_auth_failures_total\{kind="user"\}`, 1},
		{`beerlocker_auth_failures_total\{kind="bearer"\}`, 1},
		{`beerlocker_cache_lookups_total\{cache="credentials",result="hit"\}`, 1},
		{`beerlocker_cache_lookups_total\{cache="tokens",result="hit"\}`, 2},
		{`beerlocker_cache_lookups_total\{cache="tokens",result="miss"\}`, 2},
		{`beerlocker_db_operation_duration_seconds_count\{operation="beers.list"\}`, 1},
		{`beerlocker_db_operation_duration_seconds_count\{operation="tokens.create"\}`, 2},
		{`beerlocker_db_operation_duration_seconds_count\{operation="revocations.add"\}`, 1},
		{`go_goroutines`, 1},
	} {
		if got := metricValue(t, m, c.pattern); got < c.atLeast {
			t.Errorf("%s = %v, want at least %v", c.pattern, got, c.atLeast)
		}
	}
	// Raw paths never become labels: they are unbounded.
	if regexp.MustCompile(`does-not-exist`).MatchString(m) {
		t.Error("a raw request path appears in the metrics")
	}
}

func TestMetricsRateLimited(t *testing.T) {
	e := newTestEnvConfig(t, openTestStore(t), "http://localhost:3000", tightLimits)
	e.mustRegister("noah", "noahs password")
	for range 20 {
		e.request("GET", "/api/beers", nil, basic("noah", "wrong password"))
	}
	if got := metricValue(t, e.scrape(), `beerlocker_rate_limited_total\{limit="[a-z]+"\}`); got < 1 {
		t.Errorf("no rate-limit rejection counted after 20 failures")
	}
}
