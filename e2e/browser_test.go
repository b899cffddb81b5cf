package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"

	"beerlocker/e2e/e2etest"
)

// screenshotDir is where the browser test leaves its screenshots, relative
// to the repository root (git-ignored), for a person to look at.
const screenshotDir = "artifacts/screenshots"

// TestBrowserConsentFlow drives a real headless Chromium through the pages
// of API.md §7 and the consent flow of §6: register, log out, log in,
// allow an app (and exchange its code), deny it, revoke it on the account
// page, log out. The third-party app is an httptest server on 127.0.0.1.
func TestBrowserConsentFlow(t *testing.T) {
	chromium := findChromium(t)
	// Cancelled at cleanup, not on return, so the browser's cleanup can
	// still close it gracefully.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)

	base, _ := e2etest.StartInProcess(t, map[string]string{"ADDR": "127.0.0.1:0", "DATA_DIR": t.TempDir()})
	app := newFakeApp(t)

	// 1. The app's owner registers it through the JSON API.
	const owner, ownerPass = "brewmaster", "owner's long password"
	resp, body := e2etest.RequestJSON(t, "POST", base+"/api/users", fmt.Sprintf(`{"username":%q,"password":%q}`, owner, ownerPass), "", "")
	if resp.StatusCode != 201 {
		t.Fatalf("register owner: status = %d: %s", resp.StatusCode, body)
	}
	clientReq, _ := json.Marshal(map[string]any{
		"name": "Beer Buddy", "redirect_uris": []string{app.URL + "/callback"}, "public": false,
		"grant_types": []string{"authorization_code", "refresh_token"},
	})
	resp, body = e2etest.RequestJSON(t, "POST", base+"/api/clients", string(clientReq), owner, ownerPass)
	if resp.StatusCode != 201 {
		t.Fatalf("register client: status = %d: %s", resp.StatusCode, body)
	}
	var client struct {
		ID     string `json:"client_id"`
		Secret string `json:"client_secret"`
	}
	if err := json.Unmarshal([]byte(body), &client); err != nil || client.ID == "" || client.Secret == "" {
		t.Fatalf("register client: %v, body %s", err, body)
	}
	resp, body = e2etest.RequestJSON(t, "GET", base+"/.well-known/oauth-authorization-server", "", "", "")
	var meta struct{ Issuer string }
	if err := json.Unmarshal([]byte(body), &meta); resp.StatusCode != 200 || err != nil || meta.Issuer == "" {
		t.Fatalf("metadata: status = %d, %v: %s", resp.StatusCode, err, body)
	}
	conf := &oauth2.Config{
		ClientID: client.ID, ClientSecret: client.Secret,
		Endpoint: oauth2.Endpoint{
			AuthURL: base + "/api/oauth2/authorize", TokenURL: base + "/api/oauth2/token",
			AuthStyle: oauth2.AuthStyleInHeader,
		},
		RedirectURL: app.URL + "/callback",
		Scopes:      []string{"profile", "beers:read"},
	}

	b := newChromeBrowser(t, ctx, chromium)

	// 2. A user registers in the browser, logs out and logs in again.
	const user, userPass = "alice", "correct horse battery staple"
	b.navigate(base + "/register")
	b.do("fill the register form",
		chromedp.SendKeys(chromedp.CSS(`form[action="/register"] input[name=username]`), user),
		chromedp.SendKeys(chromedp.CSS(`form[action="/register"] input[name=password]`), userPass))
	b.submit("submit the register form", chromedp.CSS(`form[action="/register"] button[type=submit]`))
	b.wantLocation(base + "/account")
	b.wantText("main", "You are signed in as "+user)

	b.logOut()
	b.wantLocation(base + "/")
	b.wantText("header", "Log in")

	b.navigate(base + "/login")
	b.screenshot("login.png")
	b.logIn(user, userPass)
	b.wantLocation(base + "/account")
	b.wantText("main", "No apps can use your Beer Locker")

	// 3. The app asks for access; the user reads the consent page and allows.
	state, verifier := rand.Text(), oauth2.GenerateVerifier()
	b.navigate(conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)))
	b.wantLocationPrefix(base + "/api/oauth2/authorize?")
	b.wantText("main", "Beer Buddy", "registered by "+owner, "signed in as "+user,
		"See your username and when you joined", "See the beers in your locker", app.URL+"/callback")
	b.screenshot("consent.png")
	b.do("emulate a phone", chromedp.EmulateViewport(390, 844, chromedp.EmulatePortrait, chromedp.EmulateMobile))
	b.screenshot("consent-390x844.png")
	b.desktop()

	// The user unticks one scope (API.md §11): the app gets the rest.
	b.do("untick profile, choose 1 day", chromedp.Click(chromedp.CSS(`input[type=checkbox][value="profile"]`)),
		chromedp.Click(chromedp.CSS(`input[type=radio][name=lifetime][value="1d"]`)))
	b.screenshot("consent-unticked.png")
	b.do("emulate a phone", chromedp.EmulateViewport(390, 844, chromedp.EmulatePortrait, chromedp.EmulateMobile))
	b.screenshot("consent-unticked-390x844.png")
	b.desktop()
	b.submit("click Allow", chromedp.CSS(`button[name=allow]`))
	b.wantLocationPrefix(app.URL + "/callback?")
	b.wantText("body", "Got code")
	q := app.lastCallback(t)
	if q.Get("state") != state {
		t.Errorf("callback state = %q, want %q", q.Get("state"), state)
	}
	if q.Get("iss") != meta.Issuer {
		t.Errorf("callback iss = %q, want the issuer %q (RFC 9207)", q.Get("iss"), meta.Issuer)
	}
	if q.Get("code") == "" || q.Has("error") {
		t.Fatalf("callback after Allow = %v, want a code", q)
	}
	tok, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange the code: %v", err)
	}
	if scope, _ := tok.Extra("scope").(string); scope != "beers:read" {
		t.Errorf("token scope = %q, want %q: profile was unticked", scope, "beers:read")
	}
	if status := getWithToken(t, base+"/api/beers", tok.AccessToken); status != 200 {
		t.Fatalf("GET /api/beers with the new token: status = %d, want 200", status)
	}
	if status := getWithToken(t, base+"/api/users/me", tok.AccessToken); status != 403 {
		t.Errorf("GET /api/users/me with the token whose profile was unticked: status = %d, want 403", status)
	}

	// 4. The app asks again with prompt=consent; the user denies.
	state2 := rand.Text()
	b.navigate(conf.AuthCodeURL(state2, oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("prompt", "consent")))
	b.wantText("main", "Allow Beer Buddy to use your Beer Locker?")
	b.submit("click Deny", chromedp.CSS(`button[name=deny]`))
	b.wantLocationPrefix(app.URL + "/callback?")
	q = app.lastCallback(t)
	if q.Get("error") != "access_denied" || q.Get("state") != state2 || q.Has("code") {
		t.Errorf("callback after Deny = %v, want error=access_denied, state=%s and no code", q, state2)
	}

	// 5. The account page lists the app; revoking it ends the token at once.
	b.navigate(base + "/account")
	b.wantText("main", "Beer Buddy", "See the beers in your locker", "until "+time.Now().UTC().Add(24*time.Hour).Format("2 January 2006"), "last used")
	b.screenshot("account.png")
	b.do("emulate a phone", chromedp.EmulateViewport(390, 844, chromedp.EmulatePortrait, chromedp.EmulateMobile))
	b.screenshot("account-390x844.png")
	b.desktop()
	b.submit("click Revoke", chromedp.CSS(`form[action="/account/apps/`+client.ID+`/revoke"] button`))
	b.wantLocation(base + "/account")
	if text := b.text("main"); strings.Contains(text, "Beer Buddy") || !strings.Contains(text, "No apps can use your Beer Locker") {
		t.Errorf("account page after Revoke still lists the app:\n%s", text)
	}
	if status := getWithToken(t, base+"/api/beers", tok.AccessToken); status != 401 {
		t.Errorf("GET /api/beers with the revoked token: status = %d, want 401", status)
	}

	// 6. A personal access token for her scripts (API.md §11), made on
	// the account page with her password typed again, shown once.
	b.do("fill the token form",
		chromedp.SendKeys(chromedp.CSS(`form.new-token input[name=name]`), "my scripts"),
		chromedp.Click(chromedp.CSS(`form.new-token input[type=checkbox][value="beers:read"]`)),
		chromedp.SendKeys(chromedp.CSS(`form.new-token input[name=password]`), userPass))
	b.submit("click Make token", chromedp.CSS(`form.new-token button[type=submit]`))
	b.wantText("main", "is ready. Copy it now", "my scripts")
	b.screenshot("account-token.png")
	b.do("emulate a phone", chromedp.EmulateViewport(390, 844, chromedp.EmulatePortrait, chromedp.EmulateMobile))
	b.screenshot("account-token-390x844.png")
	b.desktop()
	pat := b.text("#new-token")
	if !strings.HasPrefix(pat, "blpat_") {
		t.Fatalf("the page shows %q as the new token", pat)
	}
	if status := getWithToken(t, base+"/api/beers", pat); status != 200 {
		t.Errorf("GET /api/beers with the personal access token: status = %d, want 200", status)
	}
	b.navigate(base + "/account")
	if strings.Contains(b.text("main"), pat) {
		t.Error("the account page shows the token a second time")
	}
	b.wantText("main", "my scripts", "last used")
	b.submit("click the token's Revoke", chromedp.CSS(`form[action^="/account/tokens/"] button`))
	b.wantLocation(base + "/account")
	b.wantText("main", "You have no personal access tokens.")
	if status := getWithToken(t, base+"/api/beers", pat); status != 401 {
		t.Errorf("GET /api/beers with the revoked personal access token: status = %d, want 401", status)
	}

	// 7. After logging out, the account page sends the browser to log in.
	b.logOut()
	b.navigate(base + "/account")
	b.wantLocationPrefix(base + "/login?")
	b.wantText("main", "Log in")
}

// TestBrowserSelfRegisteredAgent: an agent that registered itself (RFC
// 7591, API.md §10) asks a signed-in user for access in a real Chromium;
// the consent page says that nobody vouches for it and names the host it
// sends the user to, at desktop and phone widths (screenshots), and Allow
// gives the agent a code that becomes a working token.
func TestBrowserSelfRegisteredAgent(t *testing.T) {
	chromium := findChromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	base, _ := e2etest.StartInProcess(t, map[string]string{"ADDR": "127.0.0.1:0", "DATA_DIR": t.TempDir()})
	app := newFakeApp(t)

	const user, userPass = "alice", "correct horse battery staple"
	resp, body := e2etest.RequestJSON(t, "POST", base+"/api/users", fmt.Sprintf(`{"username":%q,"password":%q}`, user, userPass), "", "")
	if resp.StatusCode != 201 {
		t.Fatalf("register user: status = %d: %s", resp.StatusCode, body)
	}
	reg, _ := json.Marshal(map[string]any{"client_name": "Claude's Beer Agent", "redirect_uris": []string{app.URL + "/callback"},
		"grant_types": []string{"authorization_code", "refresh_token"}, "token_endpoint_auth_method": "none", "application_type": "native"})
	resp, body = e2etest.RequestJSON(t, "POST", base+"/api/oauth2/register", string(reg), "", "")
	var client struct {
		ID string `json:"client_id"`
	}
	if err := json.Unmarshal([]byte(body), &client); resp.StatusCode != 201 || err != nil || client.ID == "" {
		t.Fatalf("register the agent: status = %d, %v: %s", resp.StatusCode, err, body)
	}
	conf := &oauth2.Config{ClientID: client.ID, RedirectURL: app.URL + "/callback", Scopes: []string{"beers:read", "beers:write"},
		Endpoint: oauth2.Endpoint{AuthURL: base + "/api/oauth2/authorize", TokenURL: base + "/api/oauth2/token", AuthStyle: oauth2.AuthStyleInParams}}

	b := newChromeBrowser(t, ctx, chromium)
	b.navigate(base + "/login")
	b.logIn(user, userPass)
	b.wantLocation(base + "/account")

	state, verifier := rand.Text(), oauth2.GenerateVerifier()
	b.navigate(conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)))
	host := strings.TrimPrefix(app.URL, "http://")
	b.wantText("main", "Claude's Beer Agent", "registered itself", "not verified", "It sends you to "+host,
		"See the beers in your locker", "Add, change and remove beers in your locker")
	if strings.Contains(b.text("main"), "registered by") {
		t.Error("the consent page names an owner for an app that registered itself")
	}
	b.screenshot("consent-self-registered.png")
	b.do("emulate a phone", chromedp.EmulateViewport(390, 844, chromedp.EmulatePortrait, chromedp.EmulateMobile))
	b.screenshot("consent-self-registered-390x844.png")
	b.desktop()

	b.submit("click Allow", chromedp.CSS(`button[name=allow]`))
	b.wantLocationPrefix(app.URL + "/callback?")
	q := app.lastCallback(t)
	if q.Get("state") != state || q.Get("code") == "" {
		t.Fatalf("callback after Allow = %v", q)
	}
	tok, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange the code: %v", err)
	}
	if status := getWithToken(t, base+"/api/beers", tok.AccessToken); status != 200 {
		t.Fatalf("GET /api/beers with the agent's token: status = %d, want 200", status)
	}
	b.navigate(base + "/account")
	b.wantText("main", "Claude's Beer Agent", "registered itself, not verified, sends you to "+host)
	b.screenshot("account-self-registered.png")
}

// findChromium returns the path of the browser, or skips the test (fails
// it when BEERLOCKER_REQUIRE_TOOLS=1) when there is none.
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"/usr/bin/chromium", "chromium"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	if os.Getenv("BEERLOCKER_REQUIRE_TOOLS") == "1" {
		t.Fatal("chromium not found (BEERLOCKER_REQUIRE_TOOLS=1): run scripts/tools.sh to install it")
	}
	t.Skip("chromium not found: run scripts/tools.sh to install it (set BEERLOCKER_REQUIRE_TOOLS=1 to fail instead)")
	return ""
}

// fakeApp is the third-party app: it records the query of each request to
// its /callback.
type fakeApp struct {
	*httptest.Server
	mu        sync.Mutex
	callbacks []url.Values
}

func newFakeApp(t *testing.T) *fakeApp {
	a := &fakeApp{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /callback", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		a.mu.Lock()
		a.callbacks = append(a.callbacks, q)
		a.mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		msg := "Got code"
		if q.Has("error") {
			msg = "Got error"
		}
		fmt.Fprintf(w, "<!doctype html><title>Beer Buddy</title><h1>%s</h1>", msg)
	})
	a.Server = httptest.NewServer(mux) // listens on 127.0.0.1
	t.Cleanup(a.Close)
	return a
}

// lastCallback returns the query of the latest callback and forgets it, so
// that the next call sees only a newer one.
func (a *fakeApp) lastCallback(t *testing.T) url.Values {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.callbacks) == 0 {
		t.Fatal("the app's /callback was not called")
	}
	q := a.callbacks[len(a.callbacks)-1]
	a.callbacks = nil
	return q
}

func getWithToken(t *testing.T, target, token string) int {
	t.Helper()
	req, err := http.NewRequest("GET", target, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", target, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// chromeBrowser is one headless Chromium tab. Its methods fail the test
// on error.
type chromeBrowser struct {
	t   *testing.T
	ctx context.Context // the tab; lives until ctx of newChromeBrowser ends
}

// chromeStepTimeout bounds one step, so that a stuck page fails with the
// name of the step rather than at the test's overall deadline.
const chromeStepTimeout = 20 * time.Second

func newChromeBrowser(t *testing.T, ctx context.Context, path string) *chromeBrowser {
	t.Helper()
	profile := filepath.Join(t.TempDir(), "chromium-profile")
	var output syncBuffer
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 900),
		chromedp.CombinedOutput(&output),
	)
	allocCtx, allocCancel := chromedp.NewExecAllocator(ctx, opts...)
	tabCtx, tabCancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		// Close the browser before t.TempDir removes its profile; its child
		// processes can still write there for a moment after it stops.
		cctx, cancel := context.WithTimeout(tabCtx, 10*time.Second)
		defer cancel()
		_ = chromedp.Cancel(cctx)
		tabCancel()
		allocCancel()
		for range 50 {
			if os.RemoveAll(profile) == nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if t.Failed() {
			t.Logf("chromium output:\n%s", output.String())
		}
	})
	// The first Run starts the browser and binds it to tabCtx, so that
	// later steps may use shorter contexts.
	if err := chromedp.Do(tabCtx); err != nil {
		t.Fatalf("start chromium %s: %v", path, err)
	}
	b := &chromeBrowser{t: t, ctx: tabCtx}
	b.desktop()
	return b
}

// desktop sets a desktop-sized viewport. (ResetViewport after a phone
// emulation left later pages laid out 390 px wide.)
func (b *chromeBrowser) desktop() {
	b.t.Helper()
	b.do("emulate a desktop", chromedp.EmulateViewport(1280, 900))
}

func runChromeStep[T any](b *chromeBrowser, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, chromeStepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("browser: %s: %v", what, err)
	}
	return v
}

func (b *chromeBrowser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	runChromeStep(b, what, chromedp.Steps(steps...))
}

func (b *chromeBrowser) navigate(url string) {
	b.t.Helper()
	b.do("open "+url, chromedp.Navigate(url))
}

// submit clicks a button that sends a form and waits for the page that
// the browser ends up on, after any redirects.
func (b *chromeBrowser) submit(what string, button chromedp.CSS) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, chromeStepTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(button))
	if err != nil {
		b.t.Fatalf("browser: %s: %v", what, err)
	}
	if resp.Status != 200 {
		b.t.Fatalf("browser: %s: landed on %s with status %d", what, resp.URL, resp.Status)
	}
}

// logIn fills and submits the login form of the page the browser is on.
func (b *chromeBrowser) logIn(user, password string) {
	b.do("fill the login form",
		chromedp.SendKeys(chromedp.CSS(`form[action="/login"] input[name=username]`), user),
		chromedp.SendKeys(chromedp.CSS(`form[action="/login"] input[name=password]`), password))
	b.submit("submit the login form", chromedp.CSS(`form[action="/login"] button[type=submit]`))
}

func (b *chromeBrowser) logOut() {
	b.t.Helper()
	b.submit("click Log out", chromedp.CSS(`header form[action="/logout"] button`))
}

func (b *chromeBrowser) location() string {
	b.t.Helper()
	return runChromeStep(b, "read the location", chromedp.Location())
}

func (b *chromeBrowser) wantLocation(want string) {
	b.t.Helper()
	if got := b.waitLocation(func(l string) bool { return l == want }); got != want {
		b.t.Fatalf("browser is at %s, want %s", got, want)
	}
}

func (b *chromeBrowser) wantLocationPrefix(prefix string) {
	b.t.Helper()
	if got := b.waitLocation(func(l string) bool { return strings.HasPrefix(l, prefix) }); !strings.HasPrefix(got, prefix) {
		b.t.Fatalf("browser is at %s, want %s...", got, prefix)
	}
}

// waitLocation polls the location until ok accepts it or chromeStepTimeout
// passes, and returns the last location seen.
func (b *chromeBrowser) waitLocation(ok func(string) bool) string {
	b.t.Helper()
	deadline := time.Now().Add(chromeStepTimeout)
	for {
		l := b.location()
		if ok(l) || time.Now().After(deadline) {
			return l
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// text returns the visible text of the first element matching the CSS
// selector.
func (b *chromeBrowser) text(sel string) string {
	b.t.Helper()
	return runChromeStep(b, "read the text of "+sel, chromedp.Text(chromedp.CSS(sel)))
}

func (b *chromeBrowser) wantText(sel string, want ...string) {
	b.t.Helper()
	text := b.text(sel)
	for _, w := range want {
		if !strings.Contains(text, w) {
			b.t.Errorf("the %s of %s lacks %q; it reads:\n%s", sel, b.location(), w, text)
		}
	}
}

// screenshot saves a full-page PNG under screenshotDir.
func (b *chromeBrowser) screenshot(name string) {
	b.t.Helper()
	dir := filepath.Join(e2etest.RepoRoot(b.t), screenshotDir)
	png := runChromeStep(b, "screenshot "+name, chromedp.FullScreenshot(100))
	if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		b.t.Fatalf("screenshot %s is not a PNG", name)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	path, err := filepath.Abs(filepath.Join(dir, name))
	if err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	where := b.location()
	if u, err := url.Parse(where); err == nil {
		where = u.Path // the authorize URL's query is long and says little
	}
	b.t.Logf("screenshot of %s: %s", where, path)
}

// syncBuffer is a bytes.Buffer that the browser's output goroutine and the
// test can share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}
