package controllers_test

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// client is an OAuth client registered through the API.
type client struct {
	ID, Secret  string
	RedirectURI string
}

// mustCreateClient registers an app for the user with the given Basic
// header and returns its credentials.
func (e *testEnv) mustCreateClient(auth string, body map[string]any) client {
	e.t.Helper()
	if body["redirect_uris"] == nil {
		body["redirect_uris"] = []string{"http://127.0.0.1:9999/callback"}
	}
	r := e.request("POST", "/api/clients", body, auth)
	if r.StatusCode != http.StatusCreated {
		e.t.Fatalf("create client: status = %d: %s", r.StatusCode, r.body)
	}
	var out struct {
		ClientID     string   `json:"client_id"`
		ClientSecret string   `json:"client_secret"`
		RedirectURIs []string `json:"redirect_uris"`
	}
	if err := json.Unmarshal(r.body, &out); err != nil {
		e.t.Fatal(err)
	}
	return client{ID: out.ClientID, Secret: out.ClientSecret, RedirectURI: out.RedirectURIs[0]}
}

// postForm posts a form to an OAuth endpoint, authenticating the client
// with Basic when c.Secret is set.
func (e *testEnv) postForm(path string, c *client, form url.Values) *response {
	e.t.Helper()
	req, err := http.NewRequest("POST", e.server.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if c != nil && c.Secret != "" {
		req.SetBasicAuth(url.QueryEscape(c.ID), url.QueryEscape(c.Secret))
	}
	return e.do(req)
}

func (e *testEnv) do(req *http.Request) *response {
	e.t.Helper()
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	checkResponse(e.t, req, resp, body)
	return &response{Response: resp, body: body}
}

// wantOAuthError checks an RFC 6749 §5.2 error response.
func wantOAuthError(t testing.TB, r *response, status int, code string) {
	t.Helper()
	if r.StatusCode != status {
		t.Fatalf("status = %d, want %d; body: %s", r.StatusCode, status, r.body)
	}
	if got := r.json(t)["error"]; got != code {
		t.Fatalf("error = %v, want %s; body: %s", got, code, r.body)
	}
	if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", cc)
	}
}

// tokens is a token endpoint success response.
type tokens struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope"`
}

func (e *testEnv) mustToken(c *client, form url.Values) tokens {
	e.t.Helper()
	r := e.postForm("/api/oauth2/token", c, form)
	if r.StatusCode != 200 {
		e.t.Fatalf("token: status = %d: %s", r.StatusCode, r.body)
	}
	var tk tokens
	if err := json.Unmarshal(r.body, &tk); err != nil {
		e.t.Fatal(err)
	}
	return tk
}

func bearer(token string) string { return "Authorization: Bearer " + token }

var txField = regexp.MustCompile(`<input type="hidden" name="tx" value="([^"]+)">`)

// consentForm returns the fields a browser sends from a consent page with
// every scope left ticked, without the decision.
func consentForm(t testing.TB, r *response) url.Values {
	t.Helper()
	m := txField.FindSubmatch(r.body)
	if m == nil {
		t.Fatalf("no tx field in the consent page:\n%s", r.body)
	}
	form := url.Values{"tx": {string(m[1])}, "csrf_token": {csrfFrom(t, r)}}
	for _, box := range checkboxField.FindAllStringSubmatch(string(r.body), -1) {
		form.Add(box[1], box[2])
	}
	return form
}

// location parses a redirect's Location header.
func location(t testing.TB, r *response) *url.URL {
	t.Helper()
	loc := r.Header.Get("Location")
	if loc == "" {
		t.Fatalf("status %d without Location; body: %s", r.StatusCode, r.body)
	}
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// pkce returns a fresh code_verifier and its S256 code_challenge (RFC 7636 §4.1–4.2).
func pkce() (verifier, challenge string) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	verifier = base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// authQuery is a valid authorization request for c; challenge may be "".
func authQuery(c client, scope, state, challenge string) url.Values {
	q := url.Values{"response_type": {"code"}, "client_id": {c.ID}, "redirect_uri": {c.RedirectURI}, "state": {state}}
	if scope != "" {
		q.Set("scope", scope)
	}
	if challenge != "" {
		q.Set("code_challenge", challenge)
		q.Set("code_challenge_method", "S256")
	}
	return q
}

// authorize sends the browser to the authorization endpoint with q.
func (b *browser) authorize(q url.Values) *response {
	b.t.Helper()
	return b.get("/api/oauth2/authorize?" + q.Encode())
}

// mustCode runs an authorization request in a signed-in browser, pressing
// Allow if the consent page is shown, and returns the code.
func (b *browser) mustCode(q url.Values) string {
	b.t.Helper()
	r := b.authorize(q)
	if r.StatusCode == http.StatusOK {
		form := consentForm(b.t, r)
		form.Set("decision", "allow")
		r = b.post("/api/oauth2/authorize/decision", form)
		wantStatus(b.t, r, http.StatusSeeOther)
	} else {
		wantStatus(b.t, r, http.StatusFound)
	}
	code := location(b.t, r).Query().Get("code")
	if code == "" {
		b.t.Fatalf("no code in the redirect %s", r.Header.Get("Location"))
	}
	return code
}

// codeForm is the token request that redeems code; verifier may be "".
func codeForm(c client, code, verifier string) url.Values {
	f := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {c.RedirectURI}}
	if verifier != "" {
		f.Set("code_verifier", verifier)
	}
	if c.Secret == "" {
		f.Set("client_id", c.ID) // token_endpoint_auth_method "none"
	}
	return f
}

// passwordForm is a password grant request; scope may be "".
func passwordForm(username, password, scope string) url.Values {
	f := url.Values{"grant_type": {"password"}, "username": {username}, "password": {password}}
	if scope != "" {
		f.Set("scope", scope)
	}
	return f
}

// refreshForm is a refresh_token grant request; scope may be "".
func refreshForm(refresh, scope string) url.Values {
	f := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}
	if scope != "" {
		f.Set("scope", scope)
	}
	return f
}

// raceForm posts the same form to path from n goroutines at once and
// returns the status codes and bodies. It does not use t: failing from
// another goroutine is not allowed.
func (e *testEnv) raceForm(n int, path string, c client, form url.Values) (statuses []int, bodies [][]byte) {
	e.t.Helper()
	statuses, bodies = make([]int, n), make([][]byte, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			req, err := http.NewRequest("POST", e.server.URL+path, strings.NewReader(form.Encode()))
			if err != nil {
				errs[i] = err
				return
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if c.Secret != "" {
				req.SetBasicAuth(url.QueryEscape(c.ID), url.QueryEscape(c.Secret))
			}
			<-start
			resp, err := e.client.Do(req)
			if err != nil {
				errs[i] = err
				return
			}
			defer resp.Body.Close()
			statuses[i] = resp.StatusCode
			bodies[i], errs[i] = io.ReadAll(resp.Body)
		})
	}
	close(start)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		e.t.Fatal(err)
	}
	return statuses, bodies
}

// wantNoLocation checks that a response redirects nowhere.
func wantNoLocation(t testing.TB, r *response) {
	t.Helper()
	if loc := r.Header.Get("Location"); loc != "" {
		t.Errorf("%s %s: Location = %q, want none", r.Request.Method, r.Request.URL.Path, loc)
	}
}

// oauthEnv is a test environment with an app developer, a user who
// connects apps, and two apps the developer registered.
type oauthEnv struct {
	*testEnv
	dev, alice string // Basic headers of the developer and the user
	aliceID    string
	app        client // confidential: authorization_code, refresh_token, password
	pub        client // public: authorization_code, refresh_token
}

func newOAuthEnv(t testing.TB) *oauthEnv {
	t.Helper()
	return newOAuthEnvOn(newTestEnv(t))
}

// newOAuthEnvOn registers the developer, the user and the two apps on e.
func newOAuthEnvOn(e *testEnv) *oauthEnv {
	t := e.t
	t.Helper()
	e.mustRegister("dev", "devs password")
	aliceID := e.mustRegister("alice", "alices password")
	dev := basic("dev", "devs password")
	return &oauthEnv{
		testEnv: e,
		dev:     dev,
		alice:   basic("alice", "alices password"),
		aliceID: aliceID,
		app: e.mustCreateClient(dev, map[string]any{"name": "Beer Buddy",
			"grant_types": []string{"authorization_code", "refresh_token", "password"}}),
		pub: e.mustCreateClient(dev, map[string]any{"name": "Beer CLI", "public": true,
			"redirect_uris": []string{"http://127.0.0.1:8400/cb"}}),
	}
}

// aliceBrowser returns a browser signed in as alice.
func (e *oauthEnv) aliceBrowser() *browser {
	e.t.Helper()
	b := e.newBrowser()
	b.mustLogIn("alice", "alices password")
	return b
}

// passwordTokens returns alice's tokens for e.app by the password grant.
func (e *oauthEnv) passwordTokens(scope string) tokens {
	e.t.Helper()
	return e.mustToken(&e.app, passwordForm("alice", "alices password", scope))
}
