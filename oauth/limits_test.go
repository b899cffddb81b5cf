package oauth

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"beerlocker/accounts"
	"beerlocker/limits"
	"beerlocker/models"
	"beerlocker/pages"
)

// limitStore is the Guard's bucket store of a test: in memory, with
// switches that take it down for reads (so Check fails) or for takes only
// (so Check passes and Fail fails).
type limitStore struct{ readsDown, takesDown bool }

var errLimitStoreDown = fmt.Errorf("limit store: %w", models.ErrUnavailable)

func (s *limitStore) guard() *limits.Guard {
	l := limits.Limits{Address: limits.Rate{Burst: 5, PerMinute: 5}, Account: limits.Rate{Burst: 5, PerMinute: 5}}
	return limits.NewGuardWith(l,
		switchedBuckets{limits.NewLimiter(l.Address, 100, time.Now), s},
		switchedBuckets{limits.NewLimiter(l.Account, 100, time.Now), s}, nil)
}

type switchedBuckets struct {
	*limits.Limiter
	s *limitStore
}

func (b switchedBuckets) Tokens(ctx context.Context, key string) (float64, error) {
	if b.s.readsDown {
		return 0, errLimitStoreDown
	}
	return b.Limiter.Tokens(ctx, key)
}

func (b switchedBuckets) Take(ctx context.Context, key string, n int, debt bool) (float64, float64, error) {
	if b.s.readsDown || b.s.takesDown {
		return 0, 0, errLimitStoreDown
	}
	return b.Limiter.Take(ctx, key, n, debt)
}

// noClients is a client repository that knows no client.
type noClients struct{ models.ClientRepository }

func (noClients) Get(context.Context, string) (*models.Client, error) { return nil, models.ErrNotFound }

// noPasswords stands for the Authenticator, which has its own test; it
// must not be reached while the Guard's store is down.
type noPasswords struct{ t *testing.T }

func (p noPasswords) VerifyPassword(context.Context, accounts.PasswordAttempt) (string, error) {
	p.t.Error("a password was checked while the Guard's store was down")
	return "", models.ErrNotFound
}

func newLimitServer(t *testing.T, ls *limitStore) *Server {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	renderer, err := pages.NewRenderer(nil, log, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	return &Server{Store: &models.Store{Clients: noClients{}}, Credentials: noPasswords{t}, Limits: ls.guard(),
		Pages: renderer, Log: log, Now: time.Now}
}

// TestClientEndpointsFailClosed: with the Guard's store down, the token,
// revocation, introspection and device authorization endpoints answer 503
// temporarily_unavailable and check no credential. When only recording a
// failure fails, a wrong credential is answered 503 too: a guess is never
// answered without being paid for.
func TestClientEndpointsFailClosed(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	basicAuth := "Basic " + "YXBwOnNlY3JldA==" // app:secret, a client noClients does not know
	for _, tc := range []struct {
		name, path, form string
		store            limitStore
	}{
		{"password grant, store down", "/token", "grant_type=password&username=alice&password=x", limitStore{readsDown: true}},
		{"client secret, store down", "/token", "grant_type=client_credentials", limitStore{readsDown: true}},
		{"unknown client, failure not recorded", "/token", "grant_type=client_credentials", limitStore{takesDown: true}},
		{"revocation, store down", "/revoke", "token=x", limitStore{readsDown: true}},
		{"revocation, failure not recorded", "/revoke", "token=x", limitStore{takesDown: true}},
		{"introspection, store down", "/introspect", "token=x", limitStore{readsDown: true}},
		{"device authorization, failure not recorded", "/device_authorization", "", limitStore{takesDown: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newLimitServer(t, &tc.store)
			r := gin.New()
			r.POST("/token", s.Token())
			r.POST("/revoke", s.Revoke())
			r.POST("/introspect", s.Introspect())
			r.POST("/device_authorization", s.DeviceAuthorization())
			req := httptest.NewRequest(http.MethodPost, tc.path, strings.NewReader(tc.form))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Authorization", basicAuth)
			rec := httptest.NewRecorder()
			r.ServeHTTP(rec, req)
			var body errorBody
			_ = json.Unmarshal(rec.Body.Bytes(), &body)
			if rec.Code != http.StatusServiceUnavailable || body.Error != "temporarily_unavailable" {
				t.Errorf("status %d, error %q; want 503 temporarily_unavailable", rec.Code, body.Error)
			}
			if rec.Header().Get("Retry-After") == "" || rec.Header().Get("Cache-Control") != "no-store" {
				t.Errorf("headers %v, want Retry-After and Cache-Control: no-store", rec.Header())
			}
		})
	}
}

// TestDeviceCodeFailsClosed: with the Guard's store down, the device page
// checks no user code, and a wrong code it cannot record is not answered
// as wrong: 503 both ways.
func TestDeviceCodeFailsClosed(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	for _, tc := range []struct {
		name  string
		store limitStore
	}{
		{"store down", limitStore{readsDown: true}},
		{"failure not recorded", limitStore{takesDown: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newLimitServer(t, &tc.store)
			rec := httptest.NewRecorder()
			c, _ := gin.CreateTestContext(rec)
			c.Request = httptest.NewRequest(http.MethodPost, DevicePath, nil)
			// A malformed code is wrong without a lookup, so no store is needed.
			s.deviceEnter(c, &models.User{ID: "u1", Username: "alice"}, url.Values{"user_code": {"nope"}})
			if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
				t.Errorf("status %d, Retry-After %q; want 503 with Retry-After", rec.Code, rec.Header().Get("Retry-After"))
			}
			if strings.Contains(rec.Body.String(), "That code is not valid") {
				t.Error("the code was answered as wrong")
			}
		})
	}
}
