package e2e

import (
	"context"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"beerlocker/e2e/e2etest"
	"beerlocker/store/mongo/mongotest"
	"beerlocker/store/redis/redistest"
)

// TestTwoInstancesWithRedis runs two instances on one MongoDB (FerretDB)
// and one Redis, with a bearer cache that would hold tokens for a minute,
// and checks that every kind of revocation made at A is refused at B on
// the very next request: the revocation channel, not the cache's TTL,
// is what makes that true. It also checks that the rate limits are
// shared, that Redis holds no secret, and that a Redis outage gives 503s.
func TestTwoInstancesWithRedis(t *testing.T) {
	uri := mongotest.URI(t)
	rsrv := redistest.Start(t)
	env := map[string]string{
		"ADDR": "127.0.0.1:0", "MONGODB_URI": uri, "MONGODB_DATABASE": mongotest.DatabaseName(),
		"REDIS_URL":  rsrv.URL(),
		"SECRET_KEY": "the same key on every instance, 32+ chars", "TOKEN_CACHE_TTL": "1m",
		"RATE_LIMIT_ACCOUNT_BURST": "3", "RATE_LIMIT_ACCOUNT_PER_MINUTE": "1",
	}
	envA, envB := maps.Clone(env), maps.Clone(env)
	envA["DATA_DIR"], envB["DATA_DIR"] = t.TempDir(), t.TempDir()
	a, _ := e2etest.StartInProcess(t, envA)
	b, _ := e2etest.StartInProcess(t, envB)
	var secrets []string // every secret the test sees, to look for in Redis

	if r, body := e2etest.RequestJSON(t, "POST", a+"/api/users", `{"username":"sam","password":"sams password"}`, "", ""); r.StatusCode != 201 {
		t.Fatalf("register at A: %d %s", r.StatusCode, body)
	}
	newClient := func(name string) (id, secret string) {
		r, body := e2etest.RequestJSON(t, "POST", b+"/api/clients", `{"name":"`+name+`","redirect_uris":["http://127.0.0.1:9/cb"],"grant_types":["authorization_code","password","refresh_token"]}`, "sam", "sams password")
		if r.StatusCode != 201 {
			t.Fatalf("create client at B: %d %s", r.StatusCode, body)
		}
		id, secret = jsonField(body, "client_id"), jsonField(body, "client_secret")
		secrets = append(secrets, secret)
		return id, secret
	}
	clientID, secret := newClient("Shared")
	pw := "sams password"
	password := func() (access, refresh string) {
		body := postToken(t, a, clientID, secret, url.Values{"grant_type": {"password"}, "username": {"sam"}, "password": {pw}}, 200)
		access, refresh = jsonField(body, "access_token"), jsonField(body, "refresh_token")
		secrets = append(secrets, access, refresh)
		return access, refresh
	}
	// cachedAtB makes B cache the token, as a client using it there would.
	cachedAtB := func(what, tok string) {
		t.Helper()
		for range 2 {
			if got := bearerStatus(t, b, tok); got != 200 {
				t.Fatalf("%s at B before revocation: %d, want 200", what, got)
			}
		}
	}
	refusedAtB := func(what, tok string) {
		t.Helper()
		if got := bearerStatus(t, b, tok); got != 401 {
			t.Errorf("%s: B's very next request got %d, want 401", what, got)
		}
	}

	// Revocation (RFC 7009) at A.
	tok, _ := password()
	cachedAtB("token", tok)
	postToken(t, a, clientID, secret, url.Values{"token": {tok}}, 200, "/api/oauth2/revoke")
	refusedAtB("revoked at A", tok)

	// Reuse of a rotated refresh token at A revokes the family at B.
	_, refresh := password()
	body := postToken(t, a, clientID, secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}, 200)
	rotated := jsonField(body, "access_token")
	secrets = append(secrets, rotated, jsonField(body, "refresh_token"))
	cachedAtB("token from a rotation", rotated)
	postToken(t, a, clientID, secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}, 400)
	refusedAtB("family revoked by a refresh reuse at A", rotated)

	// App revocation on /account at A, for a grant made through B.
	jar, _ := cookiejar.New(nil)
	cookieClient := &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	csrf := hiddenInput(t, getBody(t, cookieClient, a+"/login"), "csrf_token")
	resp, err := cookieClient.PostForm(a+"/login", url.Values{"username": {"sam"}, "password": {"sams password"}, "csrf_token": {csrf}})
	if err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login at A: %v %v", resp.Status, err)
	}
	resp.Body.Close()
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
	secrets = append(secrets, code)
	body = postToken(t, a, clientID, secret, url.Values{"grant_type": {"authorization_code"}, "code": {code}}, 200)
	granted := jsonField(body, "access_token")
	secrets = append(secrets, granted, jsonField(body, "refresh_token"))
	postToken(t, b, clientID, secret, url.Values{"grant_type": {"authorization_code"}, "code": {code}}, 400)
	refusedAtB("code replayed at B after redemption at A", granted) // RFC 6749 §4.1.2: its tokens are revoked
	code = authorizeAt(t, cookieClient, b, clientID)
	secrets = append(secrets, code)
	granted = jsonField(postToken(t, a, clientID, secret, url.Values{"grant_type": {"authorization_code"}, "code": {code}}, 200), "access_token")
	secrets = append(secrets, granted)
	cachedAtB("token of an approved app", granted)
	wantNoSecrets(t, rsrv, append(secrets, pw))
	account := getBody(t, cookieClient, a+"/account")
	resp, err = cookieClient.PostForm(a+"/account/apps/"+url.PathEscape(clientID)+"/revoke", url.Values{"csrf_token": {hiddenInput(t, account, "csrf_token")}})
	if err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke the app at A: %v %v", resp.Status, err)
	}
	resp.Body.Close()
	refusedAtB("app revoked on /account at A", granted)

	// Redis holds hashes, never a token, code, secret or password.
	password()
	wantNoSecrets(t, rsrv, append(secrets, pw))

	// Client deletion at A.
	tok, _ = password()
	cachedAtB("token of a client", tok)
	if r, body := e2etest.RequestJSON(t, "DELETE", a+"/api/clients/"+clientID, "", "sam", "sams password"); r.StatusCode != 204 {
		t.Fatalf("delete client at A: %d %s", r.StatusCode, body)
	}
	refusedAtB("client deleted at A", tok)

	// Password change at A.
	clientID, secret = newClient("Second")
	tok, _ = password()
	cachedAtB("token before a password change", tok)
	if r, body := e2etest.RequestJSON(t, "PATCH", a+"/api/users/me", `{"password":"sams new password"}`, "sam", "sams password"); r.StatusCode != 200 {
		t.Fatalf("change password at A: %d %s", r.StatusCode, body)
	}
	refusedAtB("password changed at A", tok)
	pw = "sams new password"
	outageToken, _ := password()

	// The account's failures count at every instance: 3 at A, then B
	// refuses the 4th from the same address.
	for i := range 3 {
		if r, _ := e2etest.RequestJSON(t, "GET", a+"/api/users/me", "", "sam", "wrong password"); r.StatusCode != 401 {
			t.Fatalf("wrong password #%d at A: %d, want 401", i+1, r.StatusCode)
		}
	}
	if r, _ := e2etest.RequestJSON(t, "GET", b+"/api/users/me", "", "sam", "wrong password"); r.StatusCode != 429 {
		t.Errorf("4th wrong password, at B: %d, want 429 (limits shared through Redis)", r.StatusCode)
	}

	wantNoSecrets(t, rsrv, append(secrets, "sams password", pw))

	// An outage answers 503 on what needs Redis, and /readyz says so, at
	// both instances. B empties its caches as soon as its listener sees
	// the connection go. A sealed access token needs nothing from Redis
	// and keeps working: its revocations are in the primary, which every
	// instance reads every TOKEN_CACHE_TTL.
	cachedAtB("token before an outage", outageToken)
	rsrv.Stop()
	for _, base := range []string{a, b} {
		if r, _ := e2etest.RequestJSON(t, "GET", base+"/readyz", "", "", ""); r.StatusCode != 503 {
			t.Errorf("/readyz at %s with Redis down: %d, want 503", base, r.StatusCode)
		}
		if got := bearerStatus(t, base, outageToken); got != 200 {
			t.Errorf("bearer request with a sealed token at %s with Redis down: %d, want 200", base, got)
		}
		body := postToken(t, base, clientID, secret, url.Values{"grant_type": {"password"}, "username": {"sam"}, "password": {pw}}, 503)
		if jsonField(body, "error") != "temporarily_unavailable" {
			t.Errorf("token request at %s with Redis down: %s, want temporarily_unavailable", base, body)
		}
	}
	rsrv.Start()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r, _ := e2etest.RequestJSON(t, "GET", a+"/readyz", "", "", "")
		if r.StatusCode == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("/readyz not 200 within 10 s of Redis coming back")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// authorizeAt approves clientID at base in the signed-in browser and
// returns the code.
func authorizeAt(t *testing.T, cookieClient *http.Client, base, clientID string) string {
	t.Helper()
	authURL := base + "/api/oauth2/authorize?" + url.Values{"response_type": {"code"}, "client_id": {clientID}, "state": {"s"}, "prompt": {"consent"}}.Encode()
	consent := getBody(t, cookieClient, authURL)
	resp, err := cookieClient.PostForm(base+"/api/oauth2/authorize/decision", allowForm(t, consent))
	if err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("allow at %s: %v %v", base, resp.Status, err)
	}
	resp.Body.Close()
	cb, _ := url.Parse(resp.Header.Get("Location"))
	return cb.Query().Get("code")
}

// wantNoSecrets reads every key and value in Redis and fails if any of
// secrets appears in one.
func wantNoSecrets(t *testing.T, srv *redistest.Server, secrets []string) {
	t.Helper()
	ctx := context.Background()
	rc := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
	defer rc.Close()
	keys, err := rc.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) == 0 {
		t.Fatal("Redis holds no keys: the instances did not use it")
	}
	var dump strings.Builder
	for _, k := range keys {
		dump.WriteString(k + "\n")
		switch rc.Type(ctx, k).Val() {
		case "string":
			dump.WriteString(rc.Get(ctx, k).Val())
		case "hash":
			for f, v := range rc.HGetAll(ctx, k).Val() {
				dump.WriteString(f + "=" + v + "\n")
			}
		case "zset":
			dump.WriteString(strings.Join(rc.ZRange(ctx, k, 0, -1).Val(), "\n"))
		}
		dump.WriteString("\n")
	}
	for _, s := range secrets {
		if s == "" {
			t.Fatal("a secret the test collected is empty")
		}
		if strings.Contains(dump.String(), s) {
			t.Errorf("Redis holds a secret in clear (%d keys checked)", len(keys))
		}
	}
	t.Logf("%d keys in Redis, none holding any of %d secrets", len(keys), len(secrets))
}
