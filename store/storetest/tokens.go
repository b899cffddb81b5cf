package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"beerlocker/models"
)

var tokenTests = []test{
	{"CreateAndGet", testTokenCreateAndGet},
	{"GetUnknownIsNotFound", testTokenGetUnknown},
	{"GetExpiredIsNotFound", testTokenGetExpired},
	{"Rotate", testTokenRotate},
	{"RotateUnknownIsNotFound", testTokenRotateUnknown},
	{"RotateReuseThenRevokeFamily", testTokenRotateReuse},
	{"Revoke", testTokenRevoke},
	{"RevokeFamily", testTokenRevokeFamily},
	{"RevokeUser", testTokenRevokeUser},
	{"DeleteExpired", testTokenDeleteExpired},
}

func testTokenCreateAndGet(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	app := mustCreateClient(t, s, alice.ID, "App", base)
	created := base.Add(1234 * time.Millisecond)
	family := newHash() // a code's hash, as for the authorization code grant
	granted := base.Add(-40*24*time.Hour + 567*time.Millisecond)
	authTime := granted.Add(-5*time.Minute + 89*time.Millisecond)    // OpenID Connect's auth_time
	grantEnds := granted.Add(90*24*time.Hour + 321*time.Millisecond) // the end the user chose (API.md §11)
	tokens := []*models.Token{
		// A rotation's tokens: the grant began before they were created.
		{Hash: newHash(), Kind: models.AccessToken, ClientID: app.ID, UserID: alice.ID,
			Scopes: []string{"profile", "beers:write", "beers:read"}, FamilyID: family,
			CreatedAt: created, ExpiresAt: created.Add(tokenLife), GrantedAt: granted, AuthTime: authTime,
			Audience: models.AudienceMCP, GrantEndsAt: grantEnds},
		{Hash: newHash(), Kind: models.RefreshToken, ClientID: app.ID, UserID: alice.ID,
			Scopes: []string{"profile", "beers:write", "beers:read"}, FamilyID: family,
			CreatedAt: created, ExpiresAt: created.Add(30 * 24 * time.Hour), GrantedAt: granted, AuthTime: authTime,
			Audience: models.AudienceAPI | models.AudienceMCP, GrantEndsAt: grantEnds},
		// client_credentials: no user, and no GrantedAt, AuthTime,
		// Audience or GrantEndsAt (zero round-trips).
		{Hash: newHash(), Kind: models.AccessToken, ClientID: app.ID, UserID: "",
			Scopes: []string{"clients"}, FamilyID: models.NewID(created),
			CreatedAt: created, ExpiresAt: created.Add(tokenLife)},
	}
	mustOK(t, "Tokens.Create", s.Tokens.Create(ctx, tokens...))
	for i, tk := range tokens {
		got, err := s.Tokens.Get(ctx, tk.Hash, now)
		if err != nil {
			t.Errorf("Tokens.Get(token %d) error = %v, want nil", i, err)
			continue
		}
		checkEqual(t, fmt.Sprintf("Tokens.Get(token %d)", i), normToken(got), normToken(tk))
	}
}

func testTokenGetUnknown(t *testing.T, s *models.Store) {
	alice := mustCreateUser(t, s, "alice")
	app := mustCreateClient(t, s, alice.ID, "App", base)
	mustCreateToken(t, s, models.AccessToken, app.ID, alice.ID, models.NewID(base))
	for _, h := range []string{newHash(), ""} {
		got, err := s.Tokens.Get(t.Context(), h, now)
		if !errors.Is(err, models.ErrNotFound) {
			t.Errorf("Tokens.Get(%q) = %+v, %v, want %v", h, got, err, models.ErrNotFound)
		}
	}
}

func testTokenGetExpired(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	app := mustCreateClient(t, s, alice.ID, "App", base)
	tk := mustCreateToken(t, s, models.AccessToken, app.ID, alice.ID, models.NewID(base))
	expiry := tk.ExpiresAt

	for _, at := range []time.Time{expiry.Add(time.Millisecond), expiry.Add(24 * time.Hour)} {
		got, err := s.Tokens.Get(ctx, tk.Hash, at)
		if !errors.Is(err, models.ErrNotFound) {
			t.Errorf("Tokens.Get at expiry+%v = %+v, %v, want %v", at.Sub(expiry), got, err, models.ErrNotFound)
		}
	}
	got, err := s.Tokens.Get(ctx, tk.Hash, expiry.Add(-time.Millisecond))
	mustOK(t, "Tokens.Get just before expiry", err)
	checkEqual(t, "Tokens.Get just before expiry", normToken(got), normToken(tk))
}

func testTokenRotate(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	app := mustCreateClient(t, s, alice.ID, "App", base)
	family := models.NewID(base)
	refresh := newToken(models.RefreshToken, app.ID, alice.ID, family)
	refresh.GrantEndsAt = base.Add(7 * 24 * time.Hour) // which rotation leaves as it is
	mustOK(t, "Tokens.Create", s.Tokens.Create(ctx, refresh))
	sibling := mustCreateToken(t, s, models.RefreshToken, app.ID, alice.ID, family)

	mustOK(t, "first Tokens.Rotate", s.Tokens.Rotate(ctx, refresh.Hash, now))

	// A rotated token is kept, marked, so that its reuse can be detected.
	got, err := s.Tokens.Get(ctx, refresh.Hash, now)
	mustOK(t, "Tokens.Get after Rotate", err)
	// It says when, for the refresh reuse grace (API.md §11).
	want := *refresh
	want.Rotated, want.RotatedAt = true, now
	checkEqual(t, "Tokens.Get after Rotate", normToken(got), normToken(&want))

	for i := 2; i <= 3; i++ {
		wantErr(t, fmt.Sprintf("Tokens.Rotate #%d", i), s.Tokens.Rotate(ctx, refresh.Hash, now.Add(time.Second)), models.ErrConflict)
	}
	// A refused second rotation does not move the time.
	got, err = s.Tokens.Get(ctx, refresh.Hash, now)
	mustOK(t, "Tokens.Get after refused Rotates", err)
	if !sameTime(got.RotatedAt, now) {
		t.Errorf("RotatedAt after refused Rotates = %v, want %v", got.RotatedAt, now)
	}

	got, err = s.Tokens.Get(ctx, sibling.Hash, now)
	mustOK(t, "Tokens.Get(sibling)", err)
	checkEqual(t, "Tokens.Get(sibling) after Rotate", normToken(got), normToken(sibling))
	mustOK(t, "Tokens.Rotate(sibling)", s.Tokens.Rotate(ctx, sibling.Hash, now))
}

func testTokenRotateUnknown(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	app := mustCreateClient(t, s, alice.ID, "App", base)
	expiring := mustCreateToken(t, s, models.RefreshToken, app.ID, alice.ID, models.NewID(base))
	revoked := mustCreateToken(t, s, models.RefreshToken, app.ID, alice.ID, models.NewID(base))
	mustOK(t, "Tokens.Revoke", s.Tokens.Revoke(ctx, revoked.Hash))

	wantErr(t, "Tokens.Rotate(unknown)", s.Tokens.Rotate(ctx, newHash(), now), models.ErrNotFound)
	wantErr(t, "Tokens.Rotate(\"\")", s.Tokens.Rotate(ctx, "", now), models.ErrNotFound)
	wantErr(t, "Tokens.Rotate(revoked)", s.Tokens.Rotate(ctx, revoked.Hash, now), models.ErrNotFound)
	wantErr(t, "Tokens.Rotate(expired)", s.Tokens.Rotate(ctx, expiring.Hash, expiring.ExpiresAt.Add(time.Millisecond)), models.ErrNotFound)

	// Refusing an expired token does not rotate it.
	got, err := s.Tokens.Get(ctx, expiring.Hash, now)
	mustOK(t, "Tokens.Get", err)
	if got.Rotated {
		t.Errorf("Tokens.Get after refused Rotate: Rotated = true, want false")
	}
}

// testTokenRotateReuse walks through RFC 6819 §5.2.2.3 as the token
// endpoint does it: rotate, issue the successor in the same family, and on
// reuse of the old token revoke the whole family.
func testTokenRotateReuse(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	app := mustCreateClient(t, s, alice.ID, "App", base)
	family := newHash()
	access := mustCreateToken(t, s, models.AccessToken, app.ID, alice.ID, family)
	refresh := mustCreateToken(t, s, models.RefreshToken, app.ID, alice.ID, family)
	otherFamily := mustCreateToken(t, s, models.RefreshToken, app.ID, alice.ID, newHash())

	mustOK(t, "Tokens.Rotate", s.Tokens.Rotate(ctx, refresh.Hash, now))
	next := []*models.Token{
		newToken(models.AccessToken, app.ID, alice.ID, family),
		newToken(models.RefreshToken, app.ID, alice.ID, family),
	}
	mustOK(t, "Tokens.Create(successors)", s.Tokens.Create(ctx, next...))

	err := s.Tokens.Rotate(ctx, refresh.Hash, now)
	wantErr(t, "Tokens.Rotate(reused)", err, models.ErrConflict)
	got, gerr := s.Tokens.Get(ctx, refresh.Hash, now)
	mustOK(t, "Tokens.Get(reused)", gerr)
	if got.FamilyID != family {
		t.Fatalf("Tokens.Get(reused).FamilyID = %q, want %q", got.FamilyID, family)
	}
	mustOK(t, "Tokens.RevokeFamily", s.Tokens.RevokeFamily(ctx, got.FamilyID))

	for i, tk := range append([]*models.Token{access, refresh}, next...) {
		wantTokenGone(t, s, fmt.Sprintf("family token %d", i), tk)
	}
	wantTokenKept(t, s, "token of another family", otherFamily)
}

func testTokenRevoke(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	app := mustCreateClient(t, s, alice.ID, "App", base)
	family := models.NewID(base)
	access := mustCreateToken(t, s, models.AccessToken, app.ID, alice.ID, family)
	refresh := mustCreateToken(t, s, models.RefreshToken, app.ID, alice.ID, family)
	rotated := mustCreateToken(t, s, models.RefreshToken, app.ID, alice.ID, models.NewID(base))
	mustOK(t, "Tokens.Rotate", s.Tokens.Rotate(ctx, rotated.Hash, now))

	mustOK(t, "Tokens.Revoke", s.Tokens.Revoke(ctx, refresh.Hash))
	wantTokenGone(t, s, "revoked token", refresh)
	wantTokenKept(t, s, "other token of the family", access)
	mustOK(t, "Tokens.Revoke(rotated)", s.Tokens.Revoke(ctx, rotated.Hash))
	wantTokenGone(t, s, "revoked rotated token", rotated)

	wantErr(t, "second Tokens.Revoke", s.Tokens.Revoke(ctx, refresh.Hash), nil)
	wantErr(t, "Tokens.Revoke(unknown)", s.Tokens.Revoke(ctx, newHash()), nil)
	wantErr(t, "Tokens.Revoke(\"\")", s.Tokens.Revoke(ctx, ""), nil)
	wantTokenKept(t, s, "unrevoked token", access)
}

func testTokenRevokeFamily(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	bob := mustCreateUser(t, s, "bob")
	app := mustCreateClient(t, s, alice.ID, "App", base)
	family, otherFamily, bobFamily := newHash(), newHash(), newHash()
	gone := []*models.Token{
		mustCreateToken(t, s, models.AccessToken, app.ID, alice.ID, family),
		mustCreateToken(t, s, models.RefreshToken, app.ID, alice.ID, family),
		mustCreateToken(t, s, models.AccessToken, app.ID, alice.ID, family),
	}
	mustOK(t, "Tokens.Rotate", s.Tokens.Rotate(ctx, gone[1].Hash, now))
	kept := []*models.Token{
		mustCreateToken(t, s, models.AccessToken, app.ID, alice.ID, otherFamily),
		mustCreateToken(t, s, models.RefreshToken, app.ID, alice.ID, otherFamily),
		mustCreateToken(t, s, models.RefreshToken, app.ID, bob.ID, bobFamily),
	}

	mustOK(t, "Tokens.RevokeFamily", s.Tokens.RevokeFamily(ctx, family))
	for i, tk := range gone {
		wantTokenGone(t, s, fmt.Sprintf("family token %d", i), tk)
	}
	for i, tk := range kept {
		wantTokenKept(t, s, fmt.Sprintf("other family's token %d", i), tk)
	}
	wantErr(t, "second Tokens.RevokeFamily", s.Tokens.RevokeFamily(ctx, family), nil)
	wantErr(t, "Tokens.RevokeFamily(unknown)", s.Tokens.RevokeFamily(ctx, newHash()), nil)
}

func testTokenRevokeUser(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	bob := mustCreateUser(t, s, "bob")
	app := mustCreateClient(t, s, alice.ID, "App", base)
	bobsApp := mustCreateClient(t, s, bob.ID, "Bob's app", base)
	family := models.NewID(base)
	gone := []*models.Token{
		mustCreateToken(t, s, models.AccessToken, app.ID, alice.ID, family),
		mustCreateToken(t, s, models.RefreshToken, app.ID, alice.ID, family),
		mustCreateToken(t, s, models.RefreshToken, bobsApp.ID, alice.ID, models.NewID(base)),
	}
	mustOK(t, "Tokens.Rotate", s.Tokens.Rotate(ctx, gone[1].Hash, now))
	kept := []*models.Token{
		mustCreateToken(t, s, models.AccessToken, app.ID, bob.ID, models.NewID(base)),
		mustCreateToken(t, s, models.RefreshToken, bobsApp.ID, bob.ID, models.NewID(base)),
		// A client_credentials token of Alice's app is the app's, not Alice's.
		mustCreateToken(t, s, models.AccessToken, app.ID, "", models.NewID(base)),
	}
	aliceConsent := mustGrant(t, s, alice.ID, bobsApp.ID, base, "profile")
	aliceCode := mustCreateCode(t, s, bobsApp.ID, alice.ID)

	mustOK(t, "Tokens.RevokeUser", s.Tokens.RevokeUser(ctx, alice.ID))
	for i, tk := range gone {
		wantTokenGone(t, s, fmt.Sprintf("alice's token %d", i), tk)
	}
	for i, tk := range kept {
		wantTokenKept(t, s, fmt.Sprintf("other token %d", i), tk)
	}
	// Only tokens: Alice, her client, consent and codes stay.
	if _, err := s.Users.Get(ctx, alice.ID); err != nil {
		t.Errorf("Users.Get(alice) after Tokens.RevokeUser error = %v, want nil", err)
	}
	if _, err := s.Clients.Get(ctx, app.ID); err != nil {
		t.Errorf("Clients.Get(alice's app) after Tokens.RevokeUser error = %v, want nil", err)
	}
	wantConsentKept(t, s, "alice's consent", aliceConsent.UserID, aliceConsent.ClientID)
	wantCodeKept(t, s, "alice's code", aliceCode)

	wantErr(t, "second Tokens.RevokeUser", s.Tokens.RevokeUser(ctx, alice.ID), nil)
	wantErr(t, "Tokens.RevokeUser(unknown)", s.Tokens.RevokeUser(ctx, models.NewID(base)), nil)
}

func testTokenDeleteExpired(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	app := mustCreateClient(t, s, alice.ID, "App", base)
	cutoff := base.Add(48 * time.Hour)

	var expired, live []*models.Token
	for i, life := range []time.Duration{-24 * time.Hour, -time.Minute, -time.Millisecond, time.Millisecond, time.Hour} {
		for _, kind := range []models.TokenKind{models.AccessToken, models.RefreshToken} {
			tk := newToken(kind, app.ID, alice.ID, models.NewID(base))
			tk.CreatedAt = cutoff.Add(life - tokenLife)
			tk.ExpiresAt = cutoff.Add(life)
			mustOK(t, fmt.Sprint("Tokens.Create #", i), s.Tokens.Create(ctx, tk))
			if life < 0 {
				expired = append(expired, tk)
			} else {
				live = append(live, tk)
			}
		}
	}
	// A rotated token is kept until it expires, then removed like any other.
	for _, tk := range []*models.Token{expired[1], live[1]} {
		mustOK(t, "Tokens.Rotate", s.Tokens.Rotate(ctx, tk.Hash, tk.CreatedAt))
	}

	n, err := s.Tokens.DeleteExpired(ctx, cutoff)
	mustOK(t, "Tokens.DeleteExpired", err)
	if n != int64(len(expired)) {
		t.Errorf("Tokens.DeleteExpired = %d, want %d", n, len(expired))
	}
	n, err = s.Tokens.DeleteExpired(ctx, cutoff)
	mustOK(t, "second Tokens.DeleteExpired", err)
	if n != 0 {
		t.Errorf("second Tokens.DeleteExpired = %d, want 0", n)
	}
	// Asked at a time when they were still valid, deleted tokens are
	// unknown, and live ones are still there.
	for i, tk := range expired {
		got, err := s.Tokens.Get(ctx, tk.Hash, tk.CreatedAt)
		if !errors.Is(err, models.ErrNotFound) {
			t.Errorf("Tokens.Get(deleted token %d) = %+v, %v, want %v", i, got, err, models.ErrNotFound)
		}
	}
	for i, tk := range live {
		if _, err := s.Tokens.Get(ctx, tk.Hash, cutoff); err != nil {
			t.Errorf("Tokens.Get(live token %d) error = %v, want nil", i, err)
		}
	}
}
