package e2e

import (
	"io"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"beerlocker/e2e/e2etest"
	"beerlocker/store/mongo/mongotest"
)

// TestTwoInstancesShareOneDatabase runs two service processes' worth of
// run() against one MongoDB (the in-process FerretDB, or MONGODB_TEST_URI)
// and checks that they behave as one service.
func TestTwoInstancesShareOneDatabase(t *testing.T) {
	uri := mongotest.URI(t)
	env := map[string]string{
		"ADDR": "127.0.0.1:0", "MONGODB_URI": uri, "MONGODB_DATABASE": mongotest.DatabaseName(),
		"SECRET_KEY": "the same key on every instance, 32+ chars", "TOKEN_CACHE_TTL": "1s",
	}
	envA, envB := maps.Clone(env), maps.Clone(env)
	envA["DATA_DIR"], envB["DATA_DIR"] = t.TempDir(), t.TempDir()
	a, _ := e2etest.StartInProcess(t, envA)
	b, _ := e2etest.StartInProcess(t, envB)

	// A user registered at A can use B.
	if r, body := e2etest.RequestJSON(t, "POST", a+"/api/users", `{"username":"sam","password":"sams password"}`, "", ""); r.StatusCode != 201 {
		t.Fatalf("register at A: %d %s", r.StatusCode, body)
	}
	r, body := e2etest.RequestJSON(t, "POST", b+"/api/clients", `{"name":"Shared","redirect_uris":["http://127.0.0.1:9/cb"],"grant_types":["authorization_code","password","refresh_token"]}`, "sam", "sams password")
	if r.StatusCode != 201 {
		t.Fatalf("create client at B: %d %s", r.StatusCode, body)
	}
	clientID := jsonField(body, "client_id")
	secret := jsonField(body, "client_secret")

	// A token issued by A is accepted by B.
	tok := jsonField(postToken(t, a, clientID, secret, url.Values{"grant_type": {"password"}, "username": {"sam"}, "password": {"sams password"}}, 200), "access_token")
	if got := bearerStatus(t, b, tok); got != 200 {
		t.Fatalf("A's token at B: status %d, want 200", got)
	}

	// A login session started at A continues at B (cookies ignore ports).
	jar, _ := cookiejar.New(nil)
	cookieClient := &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	csrf := hiddenInput(t, getBody(t, cookieClient, a+"/login"), "csrf_token")
	resp, err := cookieClient.PostForm(a+"/login", url.Values{"username": {"sam"}, "password": {"sams password"}, "csrf_token": {csrf}})
	if err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login at A: %v %v", resp.Status, err)
	}
	resp.Body.Close()
	if page := getBody(t, cookieClient, b+"/account"); !strings.Contains(page, "sam") {
		t.Fatalf("/account at B does not show the session started at A:\n%s", page)
	}

	// A code issued at B and redeemed at A cannot be redeemed again at B.
	authURL := b + "/api/oauth2/authorize?" + url.Values{"response_type": {"code"}, "client_id": {clientID}, "state": {"s"},
		// The password grant above remembered sam's consent (it lists the app on
		// /account); prompt=consent asks again, so the decision is made at B.
		"prompt": {"consent"}}.Encode()
	consent := getBody(t, cookieClient, authURL)
	resp, err = cookieClient.PostForm(b+"/api/oauth2/authorize/decision", allowForm(t, consent))
	if err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("allow at B: %v %v", resp.Status, err)
	}
	resp.Body.Close()
	cb, _ := url.Parse(resp.Header.Get("Location"))
	code := cb.Query().Get("code")
	postToken(t, a, clientID, secret, url.Values{"grant_type": {"authorization_code"}, "code": {code}}, 200)
	postToken(t, b, clientID, secret, url.Values{"grant_type": {"authorization_code"}, "code": {code}}, 400)

	// A revocation at A is honoured by B within TOKEN_CACHE_TTL.
	tok = jsonField(postToken(t, a, clientID, secret, url.Values{"grant_type": {"password"}, "username": {"sam"}, "password": {"sams password"}}, 200), "access_token")
	if got := bearerStatus(t, b, tok); got != 200 { // now cached at B
		t.Fatalf("token at B before revocation: %d", got)
	}
	postToken(t, a, clientID, secret, url.Values{"token": {tok}}, 200, "/api/oauth2/revoke")
	revoked := time.Now()
	for bearerStatus(t, b, tok) != 401 {
		if time.Since(revoked) > 5*time.Second {
			t.Fatal("B still accepts a token revoked at A after 5 s (bound: TOKEN_CACHE_TTL=1s)")
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("revocation at A refused at B after %v (TOKEN_CACHE_TTL=1s)", time.Since(revoked).Round(time.Millisecond))
	if got := bearerStatus(t, a, tok); got != 401 {
		t.Errorf("the revoking instance still accepts the token: %d", got)
	}
}

func postToken(t *testing.T, base, clientID, secret string, form url.Values, want int, path ...string) string {
	t.Helper()
	p := "/api/oauth2/token"
	if len(path) > 0 {
		p = path[0]
	}
	req, _ := http.NewRequest("POST", base+p, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != want {
		t.Fatalf("POST %s%s: status %d, want %d: %s", base, p, resp.StatusCode, want, b)
	}
	return string(b)
}

func bearerStatus(t *testing.T, base, token string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/api/beers", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// getBody GETs target with c and returns the body.
func getBody(t *testing.T, c *http.Client, target string) string {
	t.Helper()
	resp, err := c.Get(target)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// hiddenInput returns the value of the page's hidden form field name.
// allowForm is what a browser sends when the user presses Allow on the
// consent page with every scope left ticked.
func allowForm(t *testing.T, page string) url.Values {
	t.Helper()
	form := url.Values{"tx": {hiddenInput(t, page, "tx")}, "csrf_token": {hiddenInput(t, page, "csrf_token")}, "decision": {"allow"}}
	for _, m := range regexp.MustCompile(`type="checkbox" name="([^"]+)" value="([^"]*)"`).FindAllStringSubmatch(page, -1) {
		form.Add(m[1], m[2])
	}
	return form
}

func hiddenInput(t *testing.T, page, name string) string {
	t.Helper()
	m := regexp.MustCompile(`name="` + name + `" value="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no hidden %s field in:\n%s", name, page)
	}
	return m[1]
}

var jsonString = regexp.MustCompile(`"([a-z_]+)":"([^"]*)"`)

func jsonField(body, name string) string {
	for _, m := range jsonString.FindAllStringSubmatch(body, -1) {
		if m[1] == name {
			return m[2]
		}
	}
	return ""
}
