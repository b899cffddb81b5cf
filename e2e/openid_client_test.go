package e2e

import (
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"beerlocker/e2e/e2etest"
)

// findOpenIDClient returns node and the file URL of openid-client's entry
// point as scripts/tools.sh installs it (in .tools/ at the repository root),
// or "" when either is missing.
func findOpenIDClient(t *testing.T) (node, entry string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		return "", ""
	}
	dir := filepath.Join(e2etest.RepoRoot(t), ".tools", "node_modules", "openid-client")
	b, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		return "", ""
	}
	var pkg struct {
		Version string
		Exports map[string]json.RawMessage
	}
	if json.Unmarshal(b, &pkg) != nil || !strings.HasPrefix(pkg.Version, "6.") {
		return "", ""
	}
	var dot struct{ Default string }
	if raw, ok := pkg.Exports["."]; !ok || json.Unmarshal(raw, &dot) != nil || dot.Default == "" {
		return "", ""
	}
	abs, err := filepath.Abs(filepath.Join(dir, filepath.FromSlash(dot.Default)))
	if err != nil {
		return "", ""
	}
	return node, (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String()
}

// TestOpenIDClientRelyingParty signs in with openid-client, a certified
// strict relying party (e2e/testdata/openid-client/rp.mjs): discovery, the
// code flow with PKCE, nonce and state, the ID token's validation, userinfo
// and a refresh. The test itself plays the browser: it signs in and allows
// the app on the real pages with a cookie jar, and hands the redirect to
// the script.
func TestOpenIDClientRelyingParty(t *testing.T) {
	node, entry := findOpenIDClient(t)
	if entry == "" {
		if os.Getenv("BEERLOCKER_REQUIRE_TOOLS") == "1" {
			t.Fatal("node or openid-client 6.x at .tools/node_modules/openid-client not found, and BEERLOCKER_REQUIRE_TOOLS=1; run scripts/tools.sh")
		}
		t.Skip("SKIP: node or openid-client 6.x at .tools/node_modules/openid-client not found; run scripts/tools.sh to install it")
	}
	script, err := filepath.Abs(filepath.Join("testdata", "openid-client", "rp.mjs"))
	if err != nil {
		t.Fatal(err)
	}

	// The issuer is PUBLIC_URL, which openid-client requires to be the URL
	// it discovers from: the service listens on a port picked beforehand.
	addr := e2etest.FreeAddr(t)
	issuer := "http://" + addr
	base, _ := e2etest.StartInProcess(t, map[string]string{
		"ADDR": addr, "PUBLIC_URL": issuer, "DATA_DIR": t.TempDir(), "SIGNING_KEY_ACTIVATION_DELAY": "0s",
	})

	const user, pass = "rp-sam", "rp sams password"
	if resp, body := e2etest.RequestJSON(t, "POST", base+"/api/users", `{"username":"`+user+`","password":"`+pass+`"}`, "", ""); resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /api/users: %s %s", resp.Status, body)
	}
	// The redirect URI is on loopback; nothing listens there: the test reads
	// the redirect from the Location header.
	redirectURI := "http://127.0.0.1:9/callback"
	resp, body := e2etest.RequestJSON(t, "POST", base+"/api/clients",
		`{"name":"openid-client RP","redirect_uris":["`+redirectURI+`"],"public":false,"grant_types":["authorization_code","refresh_token"]}`, user, pass)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /api/clients: %s %s", resp.Status, body)
	}
	var cl struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	if err := json.Unmarshal([]byte(body), &cl); err != nil || cl.ClientID == "" || cl.ClientSecret == "" {
		t.Fatalf("POST /api/clients: no client_id or client_secret in %s (%v)", body, err)
	}

	stateFile := filepath.Join(t.TempDir(), "rp-state.json")
	out := runRP(t, node, entry, script, "start", issuer, cl.ClientID, cl.ClientSecret, redirectURI, stateFile)
	var started struct {
		AuthorizationURL string `json:"authorization_url"`
	}
	if err := json.Unmarshal([]byte(out), &started); err != nil || started.AuthorizationURL == "" {
		t.Fatalf("rp.mjs start printed no authorization_url: %q (%v)", out, err)
	}

	callback := browseToCallback(t, started.AuthorizationURL, redirectURI, user, pass)

	out = runRP(t, node, entry, script, "finish", issuer, cl.ClientID, cl.ClientSecret, callback, stateFile)
	var summary struct {
		OK                bool   `json:"ok"`
		Issuer            string `json:"issuer"`
		Sub               string `json:"sub"`
		PreferredUsername string `json:"preferred_username"`
		UserinfoSub       string `json:"userinfo_sub"`
		RefreshedSub      string `json:"refreshed_sub"`
	}
	if err := json.Unmarshal([]byte(out), &summary); err != nil {
		t.Fatalf("rp.mjs finish printed no JSON summary: %q (%v)", out, err)
	}
	if !summary.OK || summary.Issuer != issuer || summary.Sub == "" || summary.UserinfoSub != summary.Sub || summary.RefreshedSub != summary.Sub {
		t.Errorf("rp.mjs finish summary: %+v; want ok, issuer %s, the same sub from the ID token, userinfo and the refresh", summary, issuer)
	}
	if summary.PreferredUsername != user {
		t.Errorf("ID token preferred_username = %q, want %q (scope profile)", summary.PreferredUsername, user)
	}
}

// runRP runs rp.mjs with args and returns its standard output; a non-zero
// exit fails the test with its standard error.
func runRP(t *testing.T, node, entry, script string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, append([]string{script}, args...)...)
	cmd.Env = append(os.Environ(), "OPENID_CLIENT="+entry)
	cmd.WaitDelay = 5 * time.Second
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("rp.mjs %s: %v\n%s%s", args[0], err, stderr.String(), out)
	}
	return strings.TrimSpace(string(out))
}

var postFormTag = regexp.MustCompile(`(?s)<form method="post" action="([^"]*)"[^>]*>(.*?)</form>`)

// browseToCallback plays the user's browser: it follows authURL through
// the login page and the consent page (allowing the app), and returns the
// URL the browser is finally sent to at redirectURI, with the code.
func browseToCallback(t *testing.T, authURL, redirectURI, user, pass string) string {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	next := authURL
	signedIn, allowed := false, false
	for range 10 {
		if strings.HasPrefix(next, redirectURI) {
			return next
		}
		resp, err := c.Get(next)
		if err != nil {
			t.Fatalf("GET %s: %v", next, err)
		}
		page := readBody(t, resp)
		switch {
		case resp.StatusCode == http.StatusFound || resp.StatusCode == http.StatusSeeOther:
			next = resolve(t, resp.Request.URL, resp.Header.Get("Location"))
			continue
		case resp.StatusCode != http.StatusOK:
			t.Fatalf("GET %s: %s\n%s", next, resp.Status, page)
		}
		switch {
		case strings.Contains(page, `name="password"`) && !signedIn:
			signedIn = true
			form := url.Values{"username": {user}, "password": {pass}, "csrf_token": {hiddenInput(t, page, "csrf_token")}}
			if m := regexp.MustCompile(`name="return_to" value="([^"]*)"`).FindStringSubmatch(page); m != nil {
				form.Set("return_to", htmlUnescape(m[1]))
			}
			next = postForm(t, c, resolve(t, resp.Request.URL, actionOf(t, page, `name="password"`)), form)
		case strings.Contains(page, `name="decision"`) && !allowed:
			allowed = true
			form := url.Values{"tx": {hiddenInput(t, page, "tx")}, "csrf_token": {hiddenInput(t, page, "csrf_token")}, "decision": {"allow"}}
			// Per-scope checkboxes, if the page has them: tick every one.
			for _, m := range regexp.MustCompile(`type="checkbox" name="([^"]+)" value="([^"]*)"`).FindAllStringSubmatch(page, -1) {
				form.Add(m[1], htmlUnescape(m[2]))
			}
			next = postForm(t, c, resolve(t, resp.Request.URL, actionOf(t, page, `name="decision" value="allow"`)), form)
		default:
			t.Fatalf("GET %s: a page that is neither the login nor the consent page (or shown twice):\n%s", next, page)
		}
	}
	t.Fatalf("no redirect to %s after 10 steps from %s (last %s)", redirectURI, authURL, next)
	return ""
}

// actionOf returns the action of the page's POST form that contains
// marker (the layout has forms of its own, such as Log out).
func actionOf(t *testing.T, page, marker string) string {
	t.Helper()
	for _, m := range postFormTag.FindAllStringSubmatch(page, -1) {
		if strings.Contains(m[2], marker) {
			return htmlUnescape(m[1])
		}
	}
	t.Fatalf("no POST form with %s in:\n%s", marker, page)
	return ""
}

// postForm posts form and returns where the response redirects to.
func postForm(t *testing.T, c *http.Client, target string, form url.Values) string {
	t.Helper()
	resp, err := c.PostForm(target, form)
	if err != nil {
		t.Fatalf("POST %s: %v", target, err)
	}
	page := readBody(t, resp)
	if resp.StatusCode != http.StatusFound && resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST %s: %s, want a redirect\n%s", target, resp.Status, page)
	}
	return resolve(t, resp.Request.URL, resp.Header.Get("Location"))
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	var b strings.Builder
	if _, err := io.Copy(&b, resp.Body); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func resolve(t *testing.T, from *url.URL, loc string) string {
	t.Helper()
	if loc == "" {
		t.Fatalf("redirect from %s without a Location", from)
	}
	u, err := from.Parse(loc)
	if err != nil {
		t.Fatalf("Location %q: %v", loc, err)
	}
	return u.String()
}

func htmlUnescape(s string) string { return html.UnescapeString(s) }
