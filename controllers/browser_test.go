package controllers_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"beerlocker/middleware"
)

// newTestEnvPublicURL is newTestEnv served as if from publicURL, for what
// depends on it, such as the Secure flag of the session cookie.
func newTestEnvPublicURL(t testing.TB, publicURL string) *testEnv {
	t.Helper()
	return newTestEnvAt(t, openTestStore(t), publicURL)
}

// browser is one browser: its own cookie jar, redirects not followed.
type browser struct {
	t      testing.TB
	e      *testEnv
	client *http.Client
}

func (e *testEnv) newBrowser() *browser {
	e.t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return &browser{t: e.t, e: e, client: &http.Client{
		Jar:           jar,
		Transport:     e.client.Transport, // e.from(ip) browses from ip
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func (b *browser) do(req *http.Request) *response {
	b.t.Helper()
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	checkResponse(b.t, req, resp, body)
	return &response{Response: resp, body: body}
}

func (b *browser) get(path string) *response {
	b.t.Helper()
	req, err := http.NewRequest("GET", b.e.server.URL+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

// post sends form as application/x-www-form-urlencoded.
func (b *browser) post(path string, form url.Values) *response {
	b.t.Helper()
	req, err := http.NewRequest("POST", b.e.server.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

var csrfField = regexp.MustCompile(`<input type="hidden" name="csrf_token" value="([^"]+)">`)

// csrfToken GETs a page and returns the CSRF token of its forms.
func (b *browser) csrfToken(path string) string {
	b.t.Helper()
	r := b.get(path)
	wantStatus(b.t, r, http.StatusOK)
	return csrfFrom(b.t, r)
}

func csrfFrom(t testing.TB, r *response) string {
	t.Helper()
	m := csrfField.FindSubmatch(r.body)
	if m == nil {
		t.Fatalf("%s: no csrf_token field in the page:\n%s", r.Request.URL.Path, r.body)
	}
	return string(m[1])
}

// logIn logs in through the form and returns the response to the POST.
func (b *browser) logIn(username, password, returnTo string) *response {
	b.t.Helper()
	return b.post("/login", url.Values{"username": {username}, "password": {password},
		"return_to": {returnTo}, "csrf_token": {b.csrfToken("/login")}})
}

func (b *browser) mustLogIn(username, password string) {
	b.t.Helper()
	r := b.logIn(username, password, "")
	wantStatus(b.t, r, http.StatusSeeOther)
}

func wantRedirect(t testing.TB, r *response, status int, location string) {
	t.Helper()
	wantStatus(t, r, status)
	if got := r.Header.Get("Location"); got != location {
		t.Errorf("%s %s: Location = %q, want %q", r.Request.Method, r.Request.URL.Path, got, location)
	}
}

func wantBodyContains(t testing.TB, r *response, s string) {
	t.Helper()
	if !strings.Contains(string(r.body), s) {
		t.Errorf("%s %s: body does not contain %q:\n%s", r.Request.Method, r.Request.URL.Path, s, r.body)
	}
}

// sessionCookie returns the session cookie the response sets, under
// either of its names (the __Host- one over https).
func sessionCookie(t testing.TB, r *response) *http.Cookie {
	t.Helper()
	for _, c := range r.Cookies() {
		if c.Name == middleware.SessionCookie || c.Name == middleware.SecureSessionCookie {
			return c
		}
	}
	t.Fatalf("%s %s: no %s cookie set", r.Request.Method, r.Request.URL.Path, middleware.SessionCookie)
	return nil
}
