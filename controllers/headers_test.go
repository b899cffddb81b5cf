package controllers_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// TestSecurityHeadersOnEveryRoute sends a request to every route the
// router has, plus a redirect to the login page, a 404 and a 405, and
// checks that each answer forbids sniffing and referrers, and carries
// Strict-Transport-Security exactly when PUBLIC_URL is https.
func TestSecurityHeadersOnEveryRoute(t *testing.T) {
	for _, tc := range []struct {
		publicURL string
		hsts      string
	}{
		{"http://localhost:3000", ""},
		{"https://beerlocker.example", "max-age=63072000; includeSubDomains"},
	} {
		t.Run(tc.publicURL, func(t *testing.T) {
			e := newTestEnvAt(t, openTestStore(t), tc.publicURL)
			e.mustRegister("dev", "devs password")
			dev := basic("dev", "devs password")
			app := e.mustCreateClient(dev, map[string]any{"name": "Beer Buddy"})
			router := e.deps.Router

			type call struct{ name, method, target, auth string }
			var calls []call
			for _, r := range router.Routes() {
				target := strings.NewReplacer(":id", "01jx0000000000000000000000", ":client_id", app.ID).Replace(r.Path)
				calls = append(calls, call{r.Method + " " + r.Path, r.Method, target, ""})
				if r.Method == "GET" {
					calls = append(calls, call{r.Method + " " + r.Path + " as dev", r.Method, target, dev})
				}
			}
			authorize := "/api/oauth2/authorize?" + url.Values{"response_type": {"code"}, "client_id": {app.ID},
				"redirect_uri": {app.RedirectURI}, "state": {"s"}}.Encode()
			calls = append(calls,
				call{"authorize redirects to login", "GET", authorize, ""},
				call{"unknown path", "GET", "/no/such/path", ""},
				call{"unknown method", "DELETE", "/healthz", ""},
				call{"unknown API path", "GET", "/api/nothing", dev},
			)
			seen := map[int]bool{}
			for _, c := range calls {
				req := httptest.NewRequest(c.method, c.target, nil)
				if c.auth != "" {
					k, v, _ := strings.Cut(c.auth, ": ")
					req.Header.Set(k, v)
				}
				w := httptest.NewRecorder()
				router.ServeHTTP(w, req)
				seen[w.Code] = true
				h := w.Header()
				for k, want := range map[string]string{
					"X-Content-Type-Options":    "nosniff",
					"Referrer-Policy":           "no-referrer",
					"X-Frame-Options":           "DENY",
					"Strict-Transport-Security": tc.hsts,
				} {
					if got := h.Get(k); got != want {
						t.Errorf("%s (%d): %s = %q, want %q", c.name, w.Code, k, got, want)
					}
				}
				if c.name == "authorize redirects to login" && (w.Code != http.StatusFound || !strings.HasPrefix(h.Get("Location"), "/login?")) {
					t.Errorf("%s: %d to %q, want 302 to /login", c.name, w.Code, h.Get("Location"))
				}
			}
			for _, status := range []int{200, 302, 401, 404, 405} {
				if !seen[status] {
					t.Errorf("no route answered %d; the walk should cover it", status)
				}
			}
		})
	}
}
