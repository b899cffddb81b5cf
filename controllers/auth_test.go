package controllers_test

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestAuthFailures(t *testing.T) {
	e := newTestEnv(t)
	e.mustRegister("frank", "franks password")
	tests := []struct {
		name     string
		path     string
		header   string
		badToken bool
	}{
		{"no credentials", "/api/beers", "", false},
		{"wrong password", "/api/beers", basic("frank", "not his password"), false},
		{"unknown user", "/api/beers", basic("nobody", "franks password"), false},
		{"malformed base64", "/api/beers", "Authorization: Basic !!!", false},
		{"no colon", "/api/beers", "Authorization: Basic Zm9vYmFy", false},
		{"unknown scheme", "/api/beers", "Authorization: Digest abc", false},
		{"unknown bearer token", "/api/beers", "Authorization: Bearer blt_unknown", true},
		{"empty bearer token", "/api/beers", "Authorization: Bearer ", true},
		{"token in query string", "/api/beers?access_token=blt_whatever", "", false},
		{"me without credentials", "/api/users/me", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var headers []string
			if tc.header != "" {
				headers = append(headers, tc.header)
			}
			r := e.request("GET", tc.path, nil, headers...)
			wantProblem(t, r, http.StatusUnauthorized)
			bearer := `Bearer realm="beerlocker"`
			if tc.badToken {
				bearer += `, error="invalid_token"`
			}
			bearer += `, resource_metadata="` + apiMetadata + `"` // API.md §10
			want := []string{bearer, `Basic realm="beerlocker"`}
			if got := r.Header.Values("WWW-Authenticate"); !slices.Equal(got, want) {
				t.Errorf("WWW-Authenticate = %q, want %q", got, want)
			}
		})
	}
}

func TestBasicOnlyRoutesRefuseWithoutPassword(t *testing.T) {
	e := newTestEnv(t)
	for _, method := range []string{"PATCH", "DELETE"} {
		r := e.request(method, "/api/users/me", `{"password":"whatever1"}`)
		wantProblem(t, r, http.StatusUnauthorized)
	}
}

func TestWrongPasswordIsNeverCached(t *testing.T) {
	e := newTestEnv(t)
	e.mustRegister("gina", "ginas password")
	for range 3 {
		wantProblem(t, e.request("GET", "/api/beers", nil, basic("gina", "wrong password")), 401)
	}
	wantStatus(t, e.request("GET", "/api/beers", nil, basic("gina", "ginas password")), 200)
	wantProblem(t, e.request("GET", "/api/beers", nil, basic("gina", "wrong password")), 401)
	if n := e.deps.Verifier.Cache().Len(); n != 1 {
		t.Errorf("cache holds %d entries, want only the valid credential", n)
	}
}

func TestSecurityHeadersAndRequestID(t *testing.T) {
	e := newTestEnv(t)
	r := e.request("GET", "/healthz", nil, "X-Request-ID: abc-123")
	wantStatus(t, r, 200)
	for k, want := range map[string]string{
		"X-Frame-Options":         "DENY",
		"Content-Security-Policy": "frame-ancestors 'none'",
		"X-Content-Type-Options":  "nosniff",
		"X-Request-Id":            "abc-123",
	} {
		if got := r.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	r = e.request("GET", "/healthz", nil, "X-Request-ID: "+strings.Repeat("x", 65))
	if got := r.Header.Get("X-Request-Id"); len(got) == 0 || len(got) > 64 {
		t.Errorf("an overlong request id was echoed: %q", got)
	}
	// Without one, each request gets an id of its own: 24 hex digits.
	seen := map[string]bool{}
	for range 100 {
		id := e.request("GET", "/healthz", nil).Header.Get("X-Request-Id")
		if !regexp.MustCompile(`^[0-9a-f]{24}$`).MatchString(id) || seen[id] {
			t.Fatalf("request id %q: want 24 hex digits, new each time", id)
		}
		seen[id] = true
	}
}
