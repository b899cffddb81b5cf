package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"beerlocker/models"
)

var codeTests = []test{
	{"ConsumeReturnsCode", testCodeConsumeReturnsCode},
	{"ConsumeTwice", testCodeConsumeTwice},
	{"ConsumeUnknownIsNotFound", testCodeConsumeUnknown},
	{"ConsumeExpiredIsNotFound", testCodeConsumeExpired},
	{"UsedThenExpiredIsConflict", testCodeUsedThenExpired},
	{"DeleteExpired", testCodeDeleteExpired},
	{"GetDoesNotConsume", testCodeGet},
	{"DeleteUser", testCodeDeleteUser},
}

func testCodeGet(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	app := mustCreateClient(t, s, alice.ID, "App", base)
	code := mustCreateCode(t, s, app.ID, alice.ID)
	for i := range 2 {
		got, err := s.Codes.Get(ctx, code.Hash, now)
		mustOK(t, fmt.Sprintf("Codes.Get #%d", i+1), err)
		checkEqual(t, "Codes.Get", normCode(got), normCode(code))
	}
	wantErr(t, "Codes.Get(unknown)", errOnly(s.Codes.Get(ctx, newHash(), now)), models.ErrNotFound)
	wantErr(t, "Codes.Get(expired)", errOnly(s.Codes.Get(ctx, code.Hash, code.ExpiresAt.Add(time.Millisecond))), models.ErrNotFound)
	// Get left the code unused: it can still be consumed, once.
	_, err := s.Codes.Consume(ctx, code.Hash, now)
	mustOK(t, "Codes.Consume after Get", err)
	wantErr(t, "Codes.Get(used)", errOnly(s.Codes.Get(ctx, code.Hash, now)), models.ErrConflict)
}

func testCodeDeleteUser(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	bob := mustCreateUser(t, s, "bob")
	app := mustCreateClient(t, s, alice.ID, "App", base)
	gone := []*models.Code{mustCreateCode(t, s, app.ID, alice.ID), mustCreateCode(t, s, app.ID, alice.ID)}
	kept := mustCreateCode(t, s, app.ID, bob.ID)
	mustOK(t, "Codes.DeleteUser", s.Codes.DeleteUser(ctx, alice.ID))
	for _, c := range gone {
		wantErr(t, "Codes.Get(deleted)", errOnly(s.Codes.Get(ctx, c.Hash, now)), models.ErrNotFound)
	}
	wantCodeKept(t, s, "another user's code", kept)
	mustOK(t, "Codes.DeleteUser(no codes)", s.Codes.DeleteUser(ctx, alice.ID))
}

func testCodeConsumeReturnsCode(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	app := mustCreateClient(t, s, alice.ID, "App", base)
	created := base.Add(1234 * time.Millisecond)
	codes := []*models.Code{
		{
			Hash:          newHash(),
			ClientID:      app.ID,
			UserID:        alice.ID,
			RedirectURI:   "https://app.example/cb?tab=1",
			Scopes:        []string{"beers:write", "profile", "beers:read"},
			CodeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
			CreatedAt:     created,
			ExpiresAt:     created.Add(codeLife),
			// OpenID Connect: the request's nonce and the sign-in's time.
			Nonce:    "n-0S6_WzA2Mj",
			AuthTime: created.Add(-90*time.Minute + 321*time.Millisecond),
			// RFC 8707: both resources.
			Audience: models.AudienceAPI | models.AudienceMCP,
			// API.md §11: the end the user chose for the grant.
			GrantEndsAt: created.Add(30*24*time.Hour + 789*time.Millisecond),
		},
		// Without PKCE, nonce, auth time or grant end, with a single scope, and for a request
		// that named no redirect_uri.
		{
			Hash:               newHash(),
			ClientID:           app.ID,
			UserID:             alice.ID,
			RedirectURI:        "http://127.0.0.1:9000/cb",
			RedirectURIOmitted: true,
			Scopes:             []string{"profile"},
			CreatedAt:          created,
			ExpiresAt:          created.Add(codeLife),
			Audience:           models.AudienceMCP,
		},
	}
	for _, c := range codes {
		mustOK(t, "Codes.Create", s.Codes.Create(ctx, c))
	}
	for _, c := range codes {
		got, err := s.Codes.Get(ctx, c.Hash, now)
		mustOK(t, "Codes.Get", err)
		checkEqual(t, "Codes.Get", normCode(got), normCode(c))
		got, err = s.Codes.Consume(ctx, c.Hash, now)
		mustOK(t, "Codes.Consume", err)
		checkEqual(t, "Codes.Consume", normCode(got), normCode(c))
	}
}

func testCodeConsumeTwice(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	app := mustCreateClient(t, s, alice.ID, "App", base)
	code := mustCreateCode(t, s, app.ID, alice.ID)
	other := mustCreateCode(t, s, app.ID, alice.ID)

	_, err := s.Codes.Consume(ctx, code.Hash, now)
	mustOK(t, "first Codes.Consume", err)
	for i := 2; i <= 3; i++ {
		got, err := s.Codes.Consume(ctx, code.Hash, now.Add(time.Second))
		if !errors.Is(err, models.ErrConflict) {
			t.Errorf("Codes.Consume #%d = %+v, %v, want %v", i, got, err, models.ErrConflict)
		}
	}
	// Using one code leaves the others alone.
	wantCodeKept(t, s, "another code", other)
}

func testCodeConsumeUnknown(t *testing.T, s *models.Store) {
	alice := mustCreateUser(t, s, "alice")
	app := mustCreateClient(t, s, alice.ID, "App", base)
	mustCreateCode(t, s, app.ID, alice.ID)
	for _, h := range []string{newHash(), ""} {
		got, err := s.Codes.Consume(t.Context(), h, now)
		if !errors.Is(err, models.ErrNotFound) {
			t.Errorf("Codes.Consume(%q) = %+v, %v, want %v", h, got, err, models.ErrNotFound)
		}
	}
}

func testCodeConsumeExpired(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	app := mustCreateClient(t, s, alice.ID, "App", base)
	code := mustCreateCode(t, s, app.ID, alice.ID)
	expiry := code.ExpiresAt

	for _, at := range []time.Time{expiry.Add(time.Millisecond), expiry.Add(time.Hour)} {
		got, err := s.Codes.Consume(ctx, code.Hash, at)
		if !errors.Is(err, models.ErrNotFound) {
			t.Errorf("Codes.Consume at expiry+%v = %+v, %v, want %v", at.Sub(expiry), got, err, models.ErrNotFound)
		}
	}
	// Refusing an expired code does not use it: just before expiry it works.
	_, err := s.Codes.Consume(ctx, code.Hash, expiry.Add(-time.Millisecond))
	wantErr(t, "Codes.Consume just before expiry", err, nil)
}

// replayAfters are how long after a code's expiry the suite replays it.
// They stay inside the minute for which every backend keeps a used code
// (Redis's key grace, the sweep's period elsewhere).
var replayAfters = []time.Duration{0, time.Millisecond, 30 * time.Second}

// testCodeUsedThenExpired: a code used and since expired is still a
// conflict, not unknown, for as long as the store keeps it, so that a
// replay after expiry still revokes the tokens issued from it (RFC 6749
// §4.1.2). An unused code that expired stays ErrNotFound, and once the
// sweep has removed the used one, it is unknown too.
func testCodeUsedThenExpired(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	app := mustCreateClient(t, s, alice.ID, "App", base)
	used := mustCreateCode(t, s, app.ID, alice.ID)
	unused := mustCreateCode(t, s, app.ID, alice.ID)
	_, err := s.Codes.Consume(ctx, used.Hash, now)
	mustOK(t, "Codes.Consume", err)

	for _, after := range replayAfters {
		at := used.ExpiresAt.Add(after)
		wantErr(t, fmt.Sprintf("Codes.Consume(used, expiry+%v)", after), errOnly(s.Codes.Consume(ctx, used.Hash, at)), models.ErrConflict)
		wantErr(t, fmt.Sprintf("Codes.Get(used, expiry+%v)", after), errOnly(s.Codes.Get(ctx, used.Hash, at)), models.ErrConflict)
		wantErr(t, fmt.Sprintf("Codes.Consume(unused, expiry+%v)", after), errOnly(s.Codes.Consume(ctx, unused.Hash, at)), models.ErrNotFound)
		wantErr(t, fmt.Sprintf("Codes.Get(unused, expiry+%v)", after), errOnly(s.Codes.Get(ctx, unused.Hash, at)), models.ErrNotFound)
	}

	swept := used.ExpiresAt.Add(replayAfters[len(replayAfters)-1])
	n, err := s.Codes.DeleteExpired(ctx, swept)
	mustOK(t, "Codes.DeleteExpired", err)
	if n != 2 {
		t.Errorf("Codes.DeleteExpired = %d, want 2", n)
	}
	wantErr(t, "Codes.Consume(used, swept)", errOnly(s.Codes.Consume(ctx, used.Hash, swept)), models.ErrNotFound)
	wantErr(t, "Codes.Get(used, swept)", errOnly(s.Codes.Get(ctx, used.Hash, swept)), models.ErrNotFound)
}

func testCodeDeleteExpired(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	app := mustCreateClient(t, s, alice.ID, "App", base)
	cutoff := base.Add(time.Hour)

	var expired, live []*models.Code
	for i, life := range []time.Duration{-time.Hour, -time.Minute, -time.Millisecond, time.Millisecond, time.Hour} {
		c := &models.Code{
			Hash:        newHash(),
			ClientID:    app.ID,
			UserID:      alice.ID,
			RedirectURI: "https://app.example/cb",
			Scopes:      []string{"profile"},
			CreatedAt:   cutoff.Add(life - codeLife),
			ExpiresAt:   cutoff.Add(life),
		}
		mustOK(t, fmt.Sprint("Codes.Create #", i), s.Codes.Create(ctx, c))
		if life < 0 {
			expired = append(expired, c)
		} else {
			live = append(live, c)
		}
	}
	// An expired code that was used is removed too.
	used := expired[0]
	_, err := s.Codes.Consume(ctx, used.Hash, used.CreatedAt)
	mustOK(t, "Codes.Consume", err)

	n, err := s.Codes.DeleteExpired(ctx, cutoff)
	mustOK(t, "Codes.DeleteExpired", err)
	if n != int64(len(expired)) {
		t.Errorf("Codes.DeleteExpired = %d, want %d", n, len(expired))
	}
	n, err = s.Codes.DeleteExpired(ctx, cutoff)
	mustOK(t, "second Codes.DeleteExpired", err)
	if n != 0 {
		t.Errorf("second Codes.DeleteExpired = %d, want 0", n)
	}
	// Asked at a time when they were still valid, deleted codes are
	// unknown, and live ones are still there.
	for i, c := range expired {
		got, err := s.Codes.Consume(ctx, c.Hash, c.CreatedAt)
		if !errors.Is(err, models.ErrNotFound) {
			t.Errorf("Codes.Consume(deleted code %d) = %+v, %v, want %v", i, got, err, models.ErrNotFound)
		}
	}
	for i, c := range live {
		if _, err := s.Codes.Consume(ctx, c.Hash, cutoff); err != nil {
			t.Errorf("Codes.Consume(live code %d) error = %v, want nil", i, err)
		}
	}
}
