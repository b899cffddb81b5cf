package controllers_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"beerlocker/app"
	"beerlocker/limits"
	"beerlocker/middleware"
	"beerlocker/models"
	"beerlocker/problem"
	"beerlocker/store/sqlite"
)

// The fuzz targets of this file send arbitrary bodies, forms and queries
// through the real router (httptest.NewRecorder, no network) over a real
// embedded database, so decoding, validation and the store run end to
// end. Each checks that nothing answers 5xx, that refusals are
// well-formed, and what a success must mean. Seeds: the f.Add calls and
// testdata/fuzz/; `make fuzz` explores further.

// fuzzEnv is the router with a user, a beer and two clients in place.
type fuzzEnv struct {
	router     http.Handler
	alice      string // her Basic header
	beerID     string
	app        client // confidential: authorization_code, refresh_token, client_credentials, password
	pub        client // public: authorization_code, refresh_token
	appURIs    []string
	session    *http.Cookie // alice signed in
	issuer     string
	validScope []string
}

const fuzzPassword = "alices password"

var unlimited = limits.Rate{Burst: 1 << 30, PerMinute: 1 << 30}

func newFuzzEnv(f *testing.F) *fuzzEnv {
	f.Helper()
	store, err := sqlite.Open(context.Background(), f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { store.Close() })
	deps, err := app.New(app.Options{
		PublicURL: "http://localhost:3000",
		Secret:    []byte("fuzz secret key, thirty-two bytes long!"),
		Argon2:    models.TestArgon2,
		// Limits so high that failures never lock the fuzzer out of the
		// paths behind a successful check; limits_test.go tests limits.
		Limits: limits.Limits{Address: unlimited, Account: unlimited, Register: unlimited, MaxKeys: 1000},
		Log:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now:    time.Now,
	}, store)
	if err != nil {
		f.Fatal(err)
	}
	e := &fuzzEnv{router: deps.Router, issuer: "http://localhost:3000"}
	w := e.serve("POST", "/api/users", "application/json", `{"username":"alice","password":"`+fuzzPassword+`"}`)
	if w.Code != http.StatusCreated {
		f.Fatalf("register: %d %s", w.Code, w.Body)
	}
	e.alice = "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:"+fuzzPassword))
	w = e.serve("POST", "/api/beers", "application/json", `{"name":"Orval","type":"Trappist","quantity":6}`, "Authorization: "+e.alice)
	if w.Code != http.StatusCreated {
		f.Fatalf("create beer: %d %s", w.Code, w.Body)
	}
	e.beerID = decodeMap(f, w)["id"].(string)
	e.appURIs = []string{"https://app.example/cb", "http://127.0.0.1:9999/callback?keep=1"}
	e.app = e.mustClient(f, map[string]any{"name": "App", "redirect_uris": e.appURIs,
		"grant_types": []string{"authorization_code", "refresh_token", "client_credentials", "password"}})
	e.pub = e.mustClient(f, map[string]any{"name": "CLI", "public": true, "redirect_uris": []string{"com.example.cli:/cb"}})
	e.session = e.mustLogIn(f)
	return e
}

// serve sends one request through the router; headers are "Name: value".
func (e *fuzzEnv) serve(method, target, contentType, body string, headers ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	e.router.ServeHTTP(w, req)
	return w
}

func (e *fuzzEnv) mustClient(f *testing.F, body map[string]any) client {
	f.Helper()
	b, _ := json.Marshal(body)
	w := e.serve("POST", "/api/clients", "application/json", string(b), "Authorization: "+e.alice)
	if w.Code != http.StatusCreated {
		f.Fatalf("create client: %d %s", w.Code, w.Body)
	}
	m := decodeMap(f, w)
	secret, _ := m["client_secret"].(string)
	return client{ID: m["client_id"].(string), Secret: secret}
}

// mustLogIn signs alice in through the login form and returns her session cookie.
func (e *fuzzEnv) mustLogIn(f *testing.F) *http.Cookie {
	f.Helper()
	w := e.serve("GET", "/login", "", "")
	m := csrfField.FindSubmatch(w.Body.Bytes())
	if w.Code != http.StatusOK || m == nil {
		f.Fatalf("GET /login: %d without a CSRF token", w.Code)
	}
	form := url.Values{"username": {"alice"}, "password": {fuzzPassword}, "csrf_token": {string(m[1])}}
	w = e.serve("POST", "/login", "application/x-www-form-urlencoded", form.Encode(), "Cookie: "+cookieOf(f, w).String())
	if w.Code != http.StatusSeeOther {
		f.Fatalf("POST /login: %d %s", w.Code, w.Body)
	}
	return cookieOf(f, w)
}

// mustConsent has alice allow the authorization request q on the consent
// page, so that later requests within its scope get a code at once.
func (e *fuzzEnv) mustConsent(f *testing.F, q url.Values) {
	f.Helper()
	req := httptest.NewRequest("GET", "/api/oauth2/authorize?"+q.Encode(), nil)
	req.AddCookie(e.session)
	w := httptest.NewRecorder()
	e.router.ServeHTTP(w, req)
	tx, csrf := txField.FindSubmatch(w.Body.Bytes()), csrfField.FindSubmatch(w.Body.Bytes())
	if w.Code != http.StatusOK || tx == nil || csrf == nil {
		f.Fatalf("authorize: %d without a consent form: %s", w.Code, w.Body)
	}
	form := url.Values{"tx": {string(tx[1])}, "csrf_token": {string(csrf[1])}, "decision": {"allow"}}
	for _, box := range checkboxField.FindAllStringSubmatch(w.Body.String(), -1) {
		form.Add(box[1], box[2])
	}
	// The pending request is kept on the server: the session's cookie is
	// the same before and after the page.
	w = e.serve("POST", "/api/oauth2/authorize/decision", "application/x-www-form-urlencoded", form.Encode(), "Cookie: "+e.session.String())
	if w.Code != http.StatusSeeOther {
		f.Fatalf("allow: %d %s", w.Code, w.Body)
	}
}

func cookieOf(f *testing.F, w *httptest.ResponseRecorder) *http.Cookie {
	f.Helper()
	for _, c := range w.Result().Cookies() {
		if c.Name == middleware.SessionCookie {
			return &http.Cookie{Name: c.Name, Value: c.Value}
		}
	}
	f.Fatal("no session cookie")
	return nil
}

func decodeMap(t testing.TB, w *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %s", err, w.Body)
	}
	return m
}

// checkAPIAnswer checks what every /api answer must be: no 5xx, the
// security headers, and a refusal as an RFC 9457 problem whose status is
// the response's and whose field errors name a field.
func checkAPIAnswer(t *testing.T, what string, w *httptest.ResponseRecorder, allowed ...int) {
	t.Helper()
	if !slices.Contains(allowed, w.Code) {
		t.Fatalf("%s: status %d, want one of %v; body: %s", what, w.Code, allowed, w.Body)
	}
	if w.Header().Get("X-Content-Type-Options") != "nosniff" || w.Header().Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("%s: security headers missing: %v", what, w.Header())
	}
	if w.Code < 400 {
		return
	}
	var p problem.Problem
	if ct := w.Header().Get("Content-Type"); ct != problem.ContentType {
		t.Fatalf("%s: %d with Content-Type %q", what, w.Code, ct)
	}
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil || p.Status != w.Code || p.Title == "" || p.Type == "" || p.Detail == "" {
		t.Fatalf("%s: malformed problem (%v): %s", what, err, w.Body)
	}
	for _, fe := range p.Errors {
		if fe.Field == "" || fe.Message == "" {
			t.Fatalf("%s: problem with an empty field error: %s", what, w.Body)
		}
	}
	if w.Code == http.StatusTooManyRequests && w.Header().Get("Retry-After") == "" {
		t.Fatalf("%s: 429 without Retry-After", what)
	}
}

// jsonBodySeeds are bodies every JSON decoder should meet.
var jsonBodySeeds = []string{"", "null", "{}", "[]", `"x"`, "{", `{"a":1}`, `{} {}`, `{}x`, `{"name":1}`,
	`{"quantity":1.5}`, `{"quantity":1e400}`, `{"quantity":-1}`, `{"redirect_uris":"x"}`, `{"redirect_uris":[1]}`,
	`{"name":"\u0000"}`, `{"name":"\ud800"}`, "{\"name\":\"\xff\"}", `{"NAME":"Duvel","quantity":1}`,
	`{"name":"a","name":"b","quantity":1}`, `{"password":null}`, `{"username":"bob","password":"x"}`,
	`{"grant_types":["password"],"public":true}`, "\ufeff{}", strings.Repeat("[", 10000)}

// FuzzRegister posts arbitrary bodies to POST /api/users. A 201 must be a
// user the body described who can then authenticate with that password.
func FuzzRegister(f *testing.F) {
	e := newFuzzEnv(f)
	for _, b := range jsonBodySeeds {
		f.Add("application/json", b)
	}
	f.Add("application/json", `{"username":"bob_1","password":"bobs password"}`)
	f.Add("application/json; charset=utf-8", `{"username":"ALICE","password":"bobs password"}`)
	f.Add("text/plain", `{"username":"bob_2","password":"bobs password"}`)
	f.Add("application/json", `{"username":"bob.3","password":"12345678","extra":true}`)
	f.Add("application/json", `{"username":"bob-4","password":"\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9"}`)
	f.Fuzz(func(t *testing.T, contentType, body string) {
		w := e.serve("POST", "/api/users", contentType, body)
		checkAPIAnswer(t, "POST /api/users", w, 201, 400, 409, 413, 415, 429)
		if w.Code != http.StatusCreated {
			return
		}
		var in struct{ Username, Password string }
		if err := json.Unmarshal([]byte(body), &in); err != nil || models.ValidateCredentials(in.Username, in.Password) != nil {
			t.Fatalf("201 for %q", body)
		}
		if got := decodeMap(t, w)["username"]; got != in.Username {
			t.Fatalf("registered %q, want %q", got, in.Username)
		}
		auth := "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(in.Username+":"+in.Password))
		if w := e.serve("GET", "/api/users/me", "", "", auth); w.Code != http.StatusOK {
			t.Fatalf("the user registered by %q cannot authenticate: %d %s", body, w.Code, w.Body)
		}
	})
}

// FuzzChangePassword sends arbitrary bodies to PATCH /api/users/me. After
// a 200 the new password works, and it is then changed back.
func FuzzChangePassword(f *testing.F) {
	e := newFuzzEnv(f)
	for _, b := range jsonBodySeeds {
		f.Add("application/json", b)
	}
	f.Add("application/json", `{"password":"a new password"}`)
	f.Add("application/json", `{"password":"short"}`)
	f.Add("application/json", `{"password":"`+strings.Repeat("p", 129)+`"}`)
	f.Add("application/x-www-form-urlencoded", `password=a+new+password`)
	f.Fuzz(func(t *testing.T, contentType, body string) {
		w := e.serve("PATCH", "/api/users/me", contentType, body, "Authorization: "+e.alice)
		checkAPIAnswer(t, "PATCH /api/users/me", w, 200, 400, 413, 415, 429)
		if w.Code != http.StatusOK {
			return
		}
		var in struct{ Password string }
		if err := json.Unmarshal([]byte(body), &in); err != nil || models.ValidatePassword(in.Password) != nil {
			t.Fatalf("200 for %q", body)
		}
		auth := "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte("alice:"+in.Password))
		back, _ := json.Marshal(map[string]string{"password": fuzzPassword})
		if w := e.serve("PATCH", "/api/users/me", "application/json", string(back), auth); w.Code != http.StatusOK {
			t.Fatalf("the new password of %q does not work: %d %s", body, w.Code, w.Body)
		}
	})
}

var beerMethods = []struct{ method, path string }{{"POST", "/api/beers"}, {"PUT", "/api/beers/"}, {"PATCH", "/api/beers/"}}

// FuzzBeerBody sends arbitrary bodies to POST /api/beers, PUT and PATCH
// /api/beers/{id}. A 2xx must hold valid fields, be what a GET then reads
// back, and (for POST and PUT) be the beer the body described.
func FuzzBeerBody(f *testing.F) {
	e := newFuzzEnv(f)
	for i := range beerMethods {
		for _, b := range jsonBodySeeds {
			f.Add(uint8(i), "application/json", b)
		}
		f.Add(uint8(i), "application/json", `{"name":"Duvel","type":"Strong golden ale","quantity":12}`)
		f.Add(uint8(i), "application/json", `{"name":"`+strings.Repeat("é", 100)+`","quantity":1000000}`)
		f.Add(uint8(i), "application/json", `{"name":"","quantity":1}`)
		f.Add(uint8(i), "application/json", `{"name":"x","type":null,"quantity":0}`)
		f.Add(uint8(i), "application/json", `{"name":"tab\there\u2028","quantity":1}`)
	}
	f.Fuzz(func(t *testing.T, m uint8, contentType, body string) {
		bm := beerMethods[int(m)%len(beerMethods)]
		path := bm.path
		if bm.method != "POST" {
			path += e.beerID
		}
		what := bm.method + " " + path
		w := e.serve(bm.method, path, contentType, body, "Authorization: "+e.alice)
		checkAPIAnswer(t, what, w, 200, 201, 400, 413, 415, 429)
		if w.Code >= 300 {
			return
		}
		var got struct {
			ID, Name, Type string
			Quantity       int
		}
		if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		if n := utf8.RuneCountInString(got.Name); n < 1 || n > 100 || !utf8.ValidString(got.Name) ||
			utf8.RuneCountInString(got.Type) > 100 || got.Quantity < 0 || got.Quantity > models.MaxQuantity {
			t.Fatalf("%s %q: %d with an invalid beer %+v", what, body, w.Code, got)
		}
		if bm.method != "PATCH" {
			var in struct {
				Name, Type string
				Quantity   int
			}
			if err := json.Unmarshal([]byte(body), &in); err != nil || in.Name != got.Name || in.Type != got.Type || in.Quantity != got.Quantity {
				t.Fatalf("%s %q: stored %+v (%v)", what, body, got, err)
			}
		}
		r := e.serve("GET", "/api/beers/"+got.ID, "", "", "Authorization: "+e.alice)
		if r.Code != http.StatusOK || r.Body.String() != w.Body.String() {
			t.Fatalf("%s %q answered %s but GET reads %d %s", what, body, w.Body, r.Code, r.Body)
		}
	})
}

// FuzzClientBody sends arbitrary bodies to POST /api/clients and PATCH
// /api/clients/{id}. A 2xx must hold acceptable redirect URIs and known
// grant types, and be what a GET then reads back. Created clients are
// deleted again, so the per-user limit is not reached.
func FuzzClientBody(f *testing.F) {
	e := newFuzzEnv(f)
	for _, patch := range []bool{false, true} {
		for _, b := range jsonBodySeeds {
			f.Add(patch, "application/json", b)
		}
		f.Add(patch, "application/json", `{"name":"Beer Buddy","redirect_uris":["https://buddy.example/cb"]}`)
		f.Add(patch, "application/json", `{"name":"x","redirect_uris":["http://localhost:1/cb","com.example.app:/cb"],"public":true}`)
		f.Add(patch, "application/json", `{"name":"x","redirect_uris":["https://:443/cb"]}`)
		f.Add(patch, "application/json", `{"name":"x","redirect_uris":["http://[::ffff:127.0.0.1]/cb"]}`)
		f.Add(patch, "application/json", `{"name":"x","redirect_uris":["https://a.example/cb#f"],"grant_types":["implicit"]}`)
		f.Add(patch, "application/json", `{"name":"x","redirect_uris":["https://a.example/cb"],"grant_types":["refresh_token"]}`)
		f.Add(patch, "application/json", `{"name":" ","redirect_uris":[]}`)
		f.Add(patch, "application/json", `{"redirect_uris":null}`)
	}
	f.Fuzz(func(t *testing.T, patch bool, contentType, body string) {
		method, path := "POST", "/api/clients"
		if patch {
			method, path = "PATCH", "/api/clients/"+e.app.ID
		}
		what := method + " " + path
		w := e.serve(method, path, contentType, body, "Authorization: "+e.alice)
		checkAPIAnswer(t, what, w, 200, 201, 400, 409, 413, 415, 429)
		if w.Code >= 300 {
			return
		}
		var got struct {
			ClientID     string   `json:"client_id"`
			ClientSecret string   `json:"client_secret"`
			Name         string   `json:"name"`
			RedirectURIs []string `json:"redirect_uris"`
			GrantTypes   []string `json:"grant_types"`
			Public       bool     `json:"public"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		if n := utf8.RuneCountInString(strings.TrimSpace(got.Name)); n < 1 || n > 100 || len(got.RedirectURIs) < 1 || len(got.RedirectURIs) > 10 {
			t.Fatalf("%s %q: %d with name %q and %d redirect URIs", what, body, w.Code, got.Name, len(got.RedirectURIs))
		}
		for _, u := range got.RedirectURIs {
			if msg := models.RedirectURIProblem(u, got.Public); msg != "" {
				t.Fatalf("%s %q: accepted redirect URI %q: %s", what, body, u, msg)
			}
		}
		for _, g := range got.GrantTypes {
			if !slices.Contains(models.GrantTypes(), g) {
				t.Fatalf("%s %q: accepted grant type %q", what, body, g)
			}
		}
		if got.Public == (got.ClientSecret != "") && !patch {
			t.Fatalf("%s %q: public = %v with secret %q", what, body, got.Public, got.ClientSecret)
		}
		r := e.serve("GET", "/api/clients/"+got.ClientID, "", "", "Authorization: "+e.alice)
		var read map[string]any
		_ = json.Unmarshal(r.Body.Bytes(), &read)
		var wrote map[string]any
		_ = json.Unmarshal(w.Body.Bytes(), &wrote)
		delete(wrote, "client_secret")
		if r.Code != http.StatusOK || !jsonEqual(read, wrote) {
			t.Fatalf("%s %q answered %s but GET reads %d %s", what, body, w.Body, r.Code, r.Body)
		}
		if patch {
			restore, _ := json.Marshal(map[string]any{"name": "App", "redirect_uris": e.appURIs})
			e.serve("PATCH", path, "application/json", string(restore), "Authorization: "+e.alice)
		} else {
			e.serve("DELETE", "/api/clients/"+got.ClientID, "", "", "Authorization: "+e.alice)
		}
	})
}

func jsonEqual(a, b map[string]any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// oauthErrorCodes are the codes of RFC 6749 §5.2 (and RFC 6749 §4.1.2.1
// plus temporarily_unavailable for the token endpoint's outages).
var oauthErrorCodes = []string{"invalid_request", "invalid_client", "invalid_grant", "unauthorized_client",
	"unsupported_grant_type", "invalid_scope", "slow_down", "authorization_pending", "access_denied", "expired_token", "temporarily_unavailable"}

// FuzzTokenEndpoint posts arbitrary forms and Authorization headers to
// POST /api/oauth2/token: readForm and readClientCredentials through the
// real route. Every answer is no-store JSON; an error names an RFC 6749
// §5.2 code, invalid_client is 401 (with a Basic challenge when Basic was
// used); a 200 is a Bearer token that works.
func FuzzTokenEndpoint(f *testing.F) {
	e := newFuzzEnv(f)
	appBasic := "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(e.app.ID)+":"+url.QueryEscape(e.app.Secret)))
	form := "application/x-www-form-urlencoded"
	for _, s := range []struct{ auth, ct, body string }{
		{appBasic, form, "grant_type=client_credentials&scope=profile"},
		{appBasic, form, "grant_type=password&username=alice&password=" + url.QueryEscape(fuzzPassword)},
		{appBasic, form, "grant_type=password&username=alice&password=wrong"},
		{"", form, "grant_type=client_credentials&client_id=" + e.app.ID + "&client_secret=" + e.app.Secret},
		{appBasic, form, "grant_type=client_credentials&client_secret="},
		{appBasic, form, "grant_type=client_credentials&client_id=other"},
		{"", form, "grant_type=authorization_code&code=x&client_id=" + e.pub.ID + "&code_verifier=" + strings.Repeat("v", 43)},
		{"", form, "grant_type=refresh_token&refresh_token=x&client_id=" + e.pub.ID},
		{"", form, "grant_type=client_credentials&client_id=" + e.pub.ID},
		{appBasic, form, "grant_type=client_credentials&grant_type=password"},
		{appBasic, form, "grant_type=implicit"},
		{appBasic, form, "grant_type=client_credentials&scope=admin"},
		{appBasic, form, "a=%zz"},
		{appBasic, form, "a=1;b=2"},
		{appBasic, "application/json", `{"grant_type":"client_credentials"}`},
		{"Bearer x", form, "grant_type=client_credentials"},
		{"Basic !!!", form, "grant_type=client_credentials"},
		{"Basic " + base64.StdEncoding.EncodeToString([]byte("%zz:x")), form, "grant_type=client_credentials"},
		{"", form, ""},
		{"", "", ""},
	} {
		f.Add(s.auth, s.ct, s.body)
	}
	f.Fuzz(func(t *testing.T, authorization, contentType, body string) {
		var headers []string
		if authorization != "" {
			headers = append(headers, "Authorization: "+authorization)
		}
		w := e.serve("POST", "/api/oauth2/token?client_secret=in-the-query", contentType, body, headers...)
		what := "POST /api/oauth2/token " + body
		if !slices.Contains([]int{200, 400, 401, 413, 429}, w.Code) {
			t.Fatalf("%s: status %d: %s", what, w.Code, w.Body)
		}
		if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
			t.Fatalf("%s: Cache-Control = %q", what, cc)
		}
		m := decodeMap(t, w)
		if w.Code == http.StatusOK {
			tok, _ := m["access_token"].(string)
			if tok == "" || m["token_type"] != "Bearer" {
				t.Fatalf("%s: 200 without a Bearer token: %s", what, w.Body)
			}
			if r := e.serve("POST", "/api/oauth2/introspect", form, url.Values{"token": {tok}}.Encode(), "Authorization: "+appBasic); r.Code != 200 || decodeMap(t, r)["active"] != true {
				t.Fatalf("%s: issued a token introspection calls inactive: %d %s", what, r.Code, r.Body)
			}
			return
		}
		code, _ := m["error"].(string)
		if !slices.Contains(oauthErrorCodes, code) {
			t.Fatalf("%s: error %q", what, code)
		}
		if code == "invalid_client" {
			challenge := w.Header().Get("WWW-Authenticate")
			if w.Code != http.StatusUnauthorized || (strings.HasPrefix(strings.ToLower(authorization), "basic ") && challenge == "") {
				t.Fatalf("%s: invalid_client with %d and challenge %q", what, w.Code, challenge)
			}
		}
	})
}

// FuzzAuthorize sends arbitrary queries to GET /api/oauth2/authorize, with
// and without a signed-in session. It must never answer 5xx, and a
// redirect goes either to the login page or to a redirect URI the named
// client registered, with iss and exactly one of code and error.
func FuzzAuthorize(f *testing.F) {
	e := newFuzzEnv(f)
	_, challenge := pkce()
	for _, q := range []url.Values{
		{"response_type": {"code"}, "client_id": {e.app.ID}, "redirect_uri": {e.appURIs[0]}, "state": {"s"}},
		{"response_type": {"code"}, "client_id": {e.app.ID}, "redirect_uri": {e.appURIs[1]}, "scope": {"profile beers:read"}},
		{"response_type": {"code"}, "client_id": {e.app.ID}, "redirect_uri": {e.appURIs[0]}, "prompt": {"none"}},
		{"response_type": {"code"}, "client_id": {e.app.ID}, "redirect_uri": {"https://evil.example/cb"}},
		{"response_type": {"code"}, "client_id": {e.app.ID}},
		{"response_type": {"token"}, "client_id": {e.app.ID}, "redirect_uri": {e.appURIs[0]}},
		{"response_type": {"code"}, "client_id": {e.app.ID, e.app.ID}, "redirect_uri": {e.appURIs[0]}},
		{"response_type": {"code", "code"}, "client_id": {e.app.ID}, "redirect_uri": {e.appURIs[0]}},
		{"response_type": {"code"}, "client_id": {e.pub.ID}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}},
		{"response_type": {"code"}, "client_id": {e.pub.ID}, "code_challenge": {challenge}, "code_challenge_method": {"plain"}},
		{"response_type": {"code"}, "client_id": {e.pub.ID}},
		{"response_type": {"code"}, "client_id": {e.pub.ID}, "scope": {"admin"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}},
		{"response_type": {"code"}, "client_id": {"unknown"}, "redirect_uri": {"https://evil.example/cb"}},
		{"client_id": {e.app.ID}, "redirect_uri": {e.appURIs[0]}, "state": {strings.Repeat("s", 600)}},
		{},
	} {
		f.Add(q.Encode(), false)
		f.Add(q.Encode(), true)
	}
	f.Add("client_id="+e.app.ID+"&redirect_uri=https%3A%2F%2Fapp.example%2Fcb%2F..%2Fevil", true)
	f.Add("client_id="+e.app.ID+"&redirect_uri=HTTPS://app.example/cb", true)
	f.Add("%zz&client_id="+e.app.ID, false)
	e.mustConsent(f, url.Values{"response_type": {"code"}, "client_id": {e.app.ID}, "redirect_uri": {e.appURIs[0]},
		"scope": {"profile beers:read"}})
	registered := map[string][]string{e.app.ID: e.appURIs, e.pub.ID: {"com.example.cli:/cb"}}
	f.Fuzz(func(t *testing.T, query string, signedIn bool) {
		req := httptest.NewRequest("GET", "/api/oauth2/authorize", nil)
		req.URL.RawQuery = query
		if signedIn {
			req.AddCookie(e.session)
		}
		w := httptest.NewRecorder()
		e.router.ServeHTTP(w, req)
		what := "GET /api/oauth2/authorize?" + query
		if !slices.Contains([]int{200, 302, 400, 429}, w.Code) {
			t.Fatalf("%s: status %d: %s", what, w.Code, w.Body)
		}
		if w.Header().Get("Referrer-Policy") != "no-referrer" {
			t.Fatalf("%s: no Referrer-Policy", what)
		}
		loc := w.Header().Get("Location")
		if w.Code != http.StatusFound {
			if loc != "" {
				t.Fatalf("%s: %d with Location %q", what, w.Code, loc)
			}
			return
		}
		if strings.HasPrefix(loc, "/login?return_to=") {
			if signedIn {
				t.Fatalf("%s: a signed-in user sent to %s", what, loc)
			}
			return
		}
		u, err := url.Parse(loc)
		if err != nil {
			t.Fatalf("%s: Location %q: %v", what, loc, err)
		}
		clientID := req.URL.Query().Get("client_id")
		if !slices.ContainsFunc(registered[clientID], func(r string) bool {
			ru, _ := url.Parse(r)
			return ru.Scheme == u.Scheme && ru.Host == u.Host && ru.Path == u.Path && ru.Opaque == u.Opaque
		}) {
			t.Fatalf("%s: redirected to %q, not a URI client %q registered", what, loc, clientID)
		}
		rq := u.Query()
		if rq.Get("iss") != e.issuer || (rq.Get("code") == "") == (rq.Get("error") == "") {
			t.Fatalf("%s: redirect %q needs iss and exactly one of code and error", what, loc)
		}
		if rq.Get("code") != "" && !signedIn {
			t.Fatalf("%s: a code without a signed-in user", what)
		}
	})
}
