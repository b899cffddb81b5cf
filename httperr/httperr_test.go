package httperr_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"beerlocker/httperr"
	"beerlocker/limits"
	"beerlocker/models"
)

// TestTable: each domain error has one answer, whatever wraps it.
func TestTable(t *testing.T) {
	for _, tc := range []struct {
		err        error
		kind       httperr.Kind
		status     int
		retryAfter int
		logged     bool
		level      slog.Level
	}{
		{&models.ValidationError{Fields: []models.FieldError{{Field: "name", Message: "is required"}}}, httperr.Invalid, 400, 0, false, 0},
		{fmt.Errorf("get beer: %w", models.ErrNotFound), httperr.NotFound, 404, 0, false, 0},
		{fmt.Errorf("create user: %w", models.ErrConflict), httperr.Conflict, 409, 0, false, 0},
		{fmt.Errorf("read form: %w", &http.MaxBytesError{Limit: 10}), httperr.TooLarge, 413, 0, false, 0},
		{fmt.Errorf("check: %w", &limits.LimitedError{Wait: 2500 * time.Millisecond}), httperr.Limited, 429, 3, false, 0},
		{fmt.Errorf("register: %w", &limits.LimitedError{Wait: time.Minute, Of: limits.Registrations}), httperr.Limited, 429, 60, false, 0},
		{fmt.Errorf("sqlite: %w", models.ErrUnavailable), httperr.Unavailable, 503, httperr.RetryAfterUnavailable, true, slog.LevelWarn},
		{fmt.Errorf("verify: %w", limits.ErrBusy), httperr.Unavailable, 503, httperr.RetryAfterUnavailable, true, slog.LevelWarn},
		{fmt.Errorf("sqlite: get client: %w", context.Canceled), httperr.Canceled, 499, 0, true, slog.LevelDebug},
		{errors.New("boom"), httperr.Internal, 500, 0, true, slog.LevelError},
	} {
		a := httperr.Of(tc.err)
		if a.Kind != tc.kind || a.Status != tc.status || a.RetryAfter != tc.retryAfter || a.Log != tc.logged || (a.Log && a.Level != tc.level) {
			t.Errorf("Of(%v) = %+v, want kind %d, status %d, Retry-After %d, logged %v at %v",
				tc.err, a, tc.kind, tc.status, tc.retryAfter, tc.logged, tc.level)
		}
		if a.Title == "" || a.Message == "" {
			t.Errorf("Of(%v) has no words: %+v", tc.err, a)
		}
	}
}

// TestLimitedWords: a lockout's words give the wait in whole seconds, as
// Retry-After does, with the right plural.
func TestLimitedWords(t *testing.T) {
	for wait, want := range map[time.Duration]string{
		300 * time.Millisecond: "Try again in 1 second.",
		30 * time.Second:       "Try again in 30 seconds.",
	} {
		a := httperr.Of(&limits.LimitedError{Wait: wait})
		if !strings.HasSuffix(a.Message, want) {
			t.Errorf("wait %s: %q, want it to end %q", wait, a.Message, want)
		}
	}
	// Each limit says what there were too many of.
	for of, want := range map[limits.Limited]string{limits.Failures: "failed attempts", limits.Registrations: "registrations"} {
		a := httperr.Of(&limits.LimitedError{Wait: time.Second, Of: of})
		if !strings.Contains(a.Title, want) || !strings.Contains(a.Message, want) {
			t.Errorf("limit %d: %q, %q; want both to name %s", of, a.Title, a.Message, want)
		}
	}
}

// TestChallenges: the realm is the same in every challenge, Bearer before
// Basic on a 401 (API.md §1), and a Bearer challenge names the resource's
// metadata when it has one (API.md §10).
func TestChallenges(t *testing.T) {
	const meta = "https://beer.example/.well-known/oauth-protected-resource/api"
	h := http.Header{}
	httperr.ChallengeAPI(h, true, "")
	if got := h.Values("WWW-Authenticate"); len(got) != 2 || got[0] != `Bearer realm="beerlocker", error="invalid_token"` || got[1] != `Basic realm="beerlocker"` {
		t.Errorf("ChallengeAPI = %q", got)
	}
	h = http.Header{}
	httperr.ChallengeAPI(h, false, meta)
	if got := h.Values("WWW-Authenticate"); len(got) != 2 || got[0] != `Bearer realm="beerlocker", resource_metadata="`+meta+`"` || got[1] != `Basic realm="beerlocker"` {
		t.Errorf("ChallengeAPI with metadata = %q", got)
	}
	h = http.Header{}
	httperr.ChallengeBearer(h, true, meta)
	if got := h.Values("WWW-Authenticate"); len(got) != 1 || got[0] != `Bearer realm="beerlocker", error="invalid_token", resource_metadata="`+meta+`"` {
		t.Errorf("ChallengeBearer = %q", got)
	}
	h = http.Header{}
	httperr.ChallengeScope(h, "beers:write", meta)
	if got := h.Get("WWW-Authenticate"); got != `Bearer realm="beerlocker", error="insufficient_scope", scope="beers:write", resource_metadata="`+meta+`"` {
		t.Errorf("ChallengeScope = %q", got)
	}
	h = http.Header{}
	httperr.ChallengeClient(h)
	if got := h.Get("WWW-Authenticate"); got != `Basic realm="beerlocker"` {
		t.Errorf("ChallengeClient = %q", got)
	}
}
