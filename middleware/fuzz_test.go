package middleware

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"beerlocker/accounts"
	"beerlocker/models"
	"beerlocker/problem"
	"beerlocker/store/sqlite"
)

// FuzzParseBasic checks that parseBasic reads back what a client encodes
// (RFC 7617 §2: user-id ":" password, the user-id without ':'), and that
// whatever it accepts has a non-empty username without ':' and a non-empty
// password.
func FuzzParseBasic(f *testing.F) {
	for _, s := range []string{"YWxpY2U6YWxpY2VzIHBhc3N3b3Jk", " YWxpY2U6cHc= ", "YWxpY2U6", "OnB3", "YWxpY2U",
		"YWxpY2U6cHc6OnB3", "!!!", "", "YWxp\nY2U6cHc=", "YWxpY2U6cHc"} {
		f.Add(s, "alice", "alices password")
	}
	f.Add("", "", "pw")
	f.Add("", "alice", "")
	f.Fuzz(func(t *testing.T, cred, username, password string) {
		u, p, ok := parseBasic(cred)
		if ok && (u == "" || p == "" || strings.Contains(u, ":")) {
			t.Fatalf("parseBasic(%q) = %q, %q, true", cred, u, p)
		}
		if strings.Contains(username, ":") {
			return // RFC 7617 §2: a user-id containing ':' cannot be sent
		}
		enc := base64.StdEncoding.EncodeToString([]byte(username + ":" + password))
		u, p, ok = parseBasic(enc)
		want := username != "" && password != ""
		if ok != want || ok && (u != username || p != password) {
			t.Fatalf("parseBasic(base64(%q:%q)) = %q, %q, %v; want ok=%v", username, password, u, p, ok, want)
		}
	})
}

// fakeTokens knows a few bearer tokens.
type fakeTokens map[string]*models.Token

func (f fakeTokens) VerifyAccessToken(_ context.Context, token string, resource models.Audience) (*models.Token, error) {
	if t, ok := f[token]; ok && t.Audience.Has(resource) {
		return t, nil
	}
	return nil, models.ErrNotFound
}

// FuzzAuthorization sends arbitrary Authorization headers through the
// real Authenticator and checks the answer: only alice's password or her
// token with the route's scope gets in, as alice; a failure is 401 with
// both challenges, or 403, as a problem; never anything else.
func FuzzAuthorization(f *testing.F) {
	gin.SetMode(gin.ReleaseMode)
	store, err := sqlite.Open(context.Background(), f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { store.Close() })
	pw := &models.Passwords{Params: models.TestArgon2}
	hash, err := pw.Hash("alices password")
	if err != nil {
		f.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	alice := &models.User{ID: models.NewID(now), Username: "alice", PasswordHash: hash, CreatedAt: now, UpdatedAt: now}
	if err := store.Users.Create(context.Background(), alice); err != nil {
		f.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	verifier := accounts.NewVerifier(accounts.VerifierConfig{Users: store.Users, Passwords: pw, Log: log,
		Cache: accounts.NewCredentialCache([]byte("secret"), time.Minute, 100, time.Now, nil)})
	auth := NewAuthenticator(verifier, fakeTokens{
		"good-token":   {UserID: alice.ID, ClientID: "c1", Scopes: []string{models.ScopeBeersRead}},
		"narrow-token": {UserID: alice.ID, ClientID: "c1", Scopes: []string{models.ScopeProfile}},
		"client-token": {ClientID: "c1", Scopes: models.AllScopes()},
	}, Resource{Audience: models.AudienceAPI}, log, nil)
	r := gin.New()
	ok := func(c *gin.Context) { c.String(http.StatusOK, GetPrincipal(c).UserID) }
	r.GET("/scoped", auth.Require(models.ScopeBeersRead), ok)
	r.GET("/basic", auth.RequireBasic(), ok)

	for _, h := range []string{"Basic " + base64.StdEncoding.EncodeToString([]byte("alice:alices password")),
		"basic " + base64.StdEncoding.EncodeToString([]byte("ALICE:alices password")),
		"Basic " + base64.StdEncoding.EncodeToString([]byte("alice:wrong password")),
		"Basic " + base64.StdEncoding.EncodeToString([]byte("bob:alices password")),
		"Bearer good-token", "bearer  good-token ", "Bearer narrow-token", "Bearer client-token", "Bearer ",
		"Bearer", "Basic", "Digest x", "", " ", "Basic !!!", "Bearer " + strings.Repeat("t", 300)} {
		f.Add(h, false)
		f.Add(h, true)
	}
	f.Fuzz(func(t *testing.T, header string, basicRoute bool) {
		path := "/scoped"
		if basicRoute {
			path = "/basic"
		}
		req := httptest.NewRequest("GET", path, nil)
		req.Header.Set("Authorization", header)
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)

		scheme, cred, _ := strings.Cut(header, " ")
		user, pass, basicOK := parseBasic(cred)
		goodBasic := strings.EqualFold(scheme, "Basic") && basicOK && strings.EqualFold(user, "alice") && pass == "alices password"
		goodBearer := strings.EqualFold(scheme, "Bearer") && strings.TrimSpace(cred) == "good-token"
		switch w.Code {
		case http.StatusOK:
			if !goodBasic && !(goodBearer && !basicRoute) {
				t.Fatalf("%s with %q: 200", path, header)
			}
			if w.Body.String() != alice.ID {
				t.Fatalf("%s with %q: principal %q, want alice", path, header, w.Body.String())
			}
			return
		case http.StatusUnauthorized:
			got := w.Header().Values("WWW-Authenticate")
			if len(got) != 2 || !strings.HasPrefix(got[0], `Bearer realm="beerlocker"`) || got[1] != `Basic realm="beerlocker"` {
				t.Fatalf("%s with %q: 401 with challenges %q", path, header, got)
			}
		case http.StatusForbidden, http.StatusTooManyRequests:
		default:
			t.Fatalf("%s with %q: status %d", path, header, w.Code)
		}
		if goodBasic {
			t.Fatalf("%s with %q: %d for alice's own password", path, header, w.Code)
		}
		var p problem.Problem
		if ct := w.Header().Get("Content-Type"); ct != problem.ContentType || json.Unmarshal(w.Body.Bytes(), &p) != nil ||
			p.Status != w.Code || p.Title == "" || p.Type == "" {
			t.Fatalf("%s with %q: %d with a malformed problem (%s): %s", path, header, w.Code, ct, w.Body)
		}
	})
}
