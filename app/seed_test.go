package app_test

import (
	"beerlocker/app"
	"beerlocker/e2e/e2etest"
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

var secretLine = regexp.MustCompile(`client_secret=(blcs_[A-Za-z0-9_-]{43})`)

func runSeed(t *testing.T, env map[string]string) string {
	t.Helper()
	var out bytes.Buffer
	if err := app.Run(context.Background(), []string{"beerlocker", "seed"}, func(k string) string { return env[k] }, &out, io.Discard); err != nil {
		t.Fatalf("seed: %v", err)
	}
	m := secretLine.FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("seed printed no client secret:\n%s", out.String())
	}
	for _, want := range []string{"demo / demo-password", "client_id=demo-client", "/demo/callback", "/api/oauth2/authorize?"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("seed output lacks %q:\n%s", want, out.String())
		}
	}
	return m[1]
}

func TestSeedDemo(t *testing.T) {
	env := map[string]string{"ADDR": "127.0.0.1:0", "DATA_DIR": t.TempDir()}
	first := runSeed(t, env)
	second := runSeed(t, env) // seeding again resets, never duplicates
	if first == second {
		t.Fatal("a second seed printed the same secret; it must issue a new one")
	}

	base, _ := e2etest.StartInProcess(t, env)
	token := func(secret string) int {
		req, _ := http.NewRequest("POST", base+"/api/oauth2/token", strings.NewReader(url.Values{
			"grant_type": {"password"}, "username": {"demo"}, "password": {"demo-password"},
		}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("demo-client", secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := token(second); got != 200 {
		t.Errorf("password grant with the seeded client: status = %d, want 200", got)
	}
	if got := token(first); got != 401 {
		t.Errorf("password grant with the replaced secret: status = %d, want 401", got)
	}

	resp, body := e2etest.RequestJSON(t, "GET", base+"/demo/callback?code=blac_example&state=demo", "", "", "")
	if resp.StatusCode != 200 || !strings.Contains(body, "blac_example") || !strings.Contains(body, "grant_type=authorization_code") {
		t.Errorf("demo callback: status = %d, body lacks the code or the exchange command:\n%s", resp.StatusCode, body)
	}
}

// TestSeedResetEndsSessions: seeding again resets the demo password, and
// a reset ends the demo user's browser sessions as a change does.
func TestSeedResetEndsSessions(t *testing.T) {
	env := map[string]string{"ADDR": "127.0.0.1:0", "DATA_DIR": t.TempDir()}
	runSeed(t, env)
	base, _ := e2etest.StartInProcess(t, env)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	account := func() string {
		resp, err := c.Get(base + "/account")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.Header.Get("Location")
	}
	resp, err := c.Get(base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token on the login page:\n%s", page)
	}
	resp, err = c.PostForm(base+"/login", url.Values{"username": {"demo"}, "password": {"demo-password"}, "csrf_token": {string(m[1])}})
	if err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login as demo: %v %v", resp.Status, err)
	}
	resp.Body.Close()
	if loc := account(); loc != "" {
		t.Fatalf("/account after the login redirects to %q", loc)
	}
	runSeed(t, env)
	if loc := account(); loc != "/login?return_to=%2Faccount" {
		t.Errorf("/account after a second seed: Location %q, want the login page", loc)
	}
}
