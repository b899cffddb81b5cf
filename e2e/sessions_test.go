package e2e

import (
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"beerlocker/e2e/e2etest"
	"beerlocker/store/mongo/mongotest"
	"beerlocker/store/redis/redistest"
)

// What one instance ends, every instance refuses on the next request: a
// password changed at A is refused at B, which had verified the old one a
// moment before and cached it, and a browser session ended at one
// instance is refused at the other, even with a copy of its cookie kept.

// TestPasswordChangeReachesEveryInstance runs two instances on one
// MongoDB (FerretDB) without Redis.
func TestPasswordChangeReachesEveryInstance(t *testing.T) {
	a, b := startPair(t, nil)
	checkEndsEverywhere(t, a, b)
}

// TestPasswordChangeReachesEveryInstanceWithRedis runs two instances on
// one MongoDB and one Redis, whose revocation channel carries the news.
func TestPasswordChangeReachesEveryInstanceWithRedis(t *testing.T) {
	rsrv := redistest.Start(t)
	a, b := startPair(t, map[string]string{"REDIS_URL": rsrv.URL()})
	checkEndsEverywhere(t, a, b)
}

// startPair starts two instances on one fresh database, with extra
// settings.
func startPair(t *testing.T, extra map[string]string) (a, b string) {
	t.Helper()
	env := map[string]string{
		"ADDR": "127.0.0.1:0", "MONGODB_URI": mongotest.URI(t), "MONGODB_DATABASE": mongotest.DatabaseName(),
		"SECRET_KEY": "the same key on every instance, 32+ chars",
	}
	maps.Copy(env, extra)
	envA, envB := maps.Clone(env), maps.Clone(env)
	envA["DATA_DIR"], envB["DATA_DIR"] = t.TempDir(), t.TempDir()
	a, _ = e2etest.StartInProcess(t, envA)
	b, _ = e2etest.StartInProcess(t, envB)
	return a, b
}

func checkEndsEverywhere(t *testing.T, a, b string) {
	status := func(method, base, body, pass string) int {
		t.Helper()
		r, _ := e2etest.RequestJSON(t, method, base+"/api/users/me", body, "sam", pass)
		return r.StatusCode
	}
	if r, body := e2etest.RequestJSON(t, "POST", a+"/api/users", `{"username":"sam","password":"sams password"}`, "", ""); r.StatusCode != 201 {
		t.Fatalf("register at A: %d %s", r.StatusCode, body)
	}

	// A session started at A, and a copy of its cookie.
	browser := newCookieClient()
	logIn(t, browser, a, "sams password")
	saved := copyCookies(t, browser, a)
	if page := getBody(t, saved, b+"/account"); !strings.Contains(page, "sam") {
		t.Fatalf("/account at B with the session started at A:\n%s", page)
	}

	// B verifies the password, and so caches it.
	for range 2 {
		if got := status("GET", b, "", "sams password"); got != 200 {
			t.Fatalf("Basic at B before the change: %d, want 200", got)
		}
	}
	if got := status("PATCH", a, `{"password":"sams new password"}`, "sams password"); got != 200 {
		t.Fatalf("change password at A: %d, want 200", got)
	}
	if got := status("GET", b, "", "sams password"); got != 401 {
		t.Errorf("the old password at B right after the change at A: %d, want 401", got)
	}
	if got := status("PATCH", b, `{"password":"sams password"}`, "sams password"); got != 401 {
		t.Errorf("changing the password back at B with the old one: %d, want 401", got)
	}
	if got := status("GET", b, "", "sams new password"); got != 200 {
		t.Errorf("the new password at B: %d, want 200", got)
	}
	for _, base := range []string{a, b} {
		if loc := accountRedirect(t, saved, base); loc != "/login?return_to=%2Faccount" {
			t.Errorf("/account at %s with the session cookie from before the password change: Location %q, want the login page", base, loc)
		}
	}

	// A logout at B ends the session at A, copy or not.
	browser = newCookieClient()
	logIn(t, browser, a, "sams new password")
	saved = copyCookies(t, browser, a)
	csrf := hiddenInput(t, getBody(t, browser, b+"/account"), "csrf_token")
	resp, err := browser.PostForm(b+"/logout", url.Values{"csrf_token": {csrf}})
	if err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout at B: %v %v", resp.Status, err)
	}
	resp.Body.Close()
	if loc := accountRedirect(t, saved, a); loc != "/login?return_to=%2Faccount" {
		t.Errorf("/account at A with a copy of the cookie logged out at B: Location %q, want the login page", loc)
	}
}

func newCookieClient() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// logIn signs c in at base.
func logIn(t *testing.T, c *http.Client, base, password string) {
	t.Helper()
	csrf := hiddenInput(t, getBody(t, c, base+"/login"), "csrf_token")
	resp, err := c.PostForm(base+"/login", url.Values{"username": {"sam"}, "password": {password}, "csrf_token": {csrf}})
	if err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login at %s: %v %v", base, resp.Status, err)
	}
	resp.Body.Close()
}

// copyCookies returns a client holding the cookies c holds for base now
// (cookies ignore ports, so they are the cookies of every instance).
func copyCookies(t *testing.T, c *http.Client, base string) *http.Client {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	cp := newCookieClient()
	cp.Jar.SetCookies(u, c.Jar.Cookies(u))
	return cp
}

// accountRedirect GETs /account at base and returns where it redirects
// ("" for a page).
func accountRedirect(t *testing.T, c *http.Client, base string) string {
	t.Helper()
	resp, err := c.Get(base + "/account")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.Header.Get("Location")
}
