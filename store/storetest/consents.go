package storetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"beerlocker/models"
)

var consentTests = []test{
	{"GrantCreates", testConsentGrantCreates},
	{"GrantReplacesScopes", testConsentGrantReplaces},
	{"GetUnknownIsNotFound", testConsentGetUnknown},
	{"ListOldestFirst", testConsentListOldestFirst},
	{"DeleteRevokesCodesAndTokens", testConsentDelete},
	{"DeleteUnknownIsNotFound", testConsentDeleteUnknown},
	{"DeleteWithoutConsentEndsAccess", testConsentDeleteWithoutConsent},
	{"DeleteEndsApprovedDeviceCodes", testConsentDeleteDeviceCodes},
	{"GrantReplacesEnd", testConsentGrantEnd},
	{"GrantKeepsLastUse", testConsentGrantKeepsLastUse},
	{"TouchRecordsTheHour", testConsentTouch},
	{"TouchUnknownIsNoOp", testConsentTouchUnknown},
}

// wantConsent fails the test unless Get, and List among the user's
// consents, return want.
func wantConsent(t testing.TB, s *models.Store, what string, want *models.Consent) {
	t.Helper()
	got, err := s.Consents.Get(t.Context(), want.UserID, want.ClientID)
	if err != nil {
		t.Errorf("%s: Consents.Get error = %v", what, err)
		return
	}
	checkEqual(t, what+": Consents.Get", normConsent(got), normConsent(want))
	list, err := s.Consents.List(t.Context(), want.UserID)
	if err != nil {
		t.Errorf("%s: Consents.List error = %v", what, err)
		return
	}
	i := slices.IndexFunc(list, func(c *models.Consent) bool { return c.ClientID == want.ClientID })
	if i < 0 {
		t.Errorf("%s: Consents.List = %d consents without the client's", what, len(list))
		return
	}
	checkEqual(t, what+": Consents.List", normConsent(list[i]), normConsent(want))
}

// testConsentGrantEnd: the end the user chose for the grant (API.md §11)
// is the consent's ExpiresAt, which every grant replaces as it replaces
// the scopes: a later end moves it, and a grant until revoked clears it.
func testConsentGrantEnd(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	app := mustCreateClient(t, s, alice.ID, "App", base)
	ends := base.Add(30*24*time.Hour + 123*time.Millisecond)
	want := &models.Consent{UserID: alice.ID, ClientID: app.ID, Scopes: []string{"profile"},
		CreatedAt: base, UpdatedAt: base, ExpiresAt: ends}
	got, err := s.Consents.Grant(ctx, alice.ID, app.ID, want.Scopes, ends, base)
	mustOK(t, "Consents.Grant(with an end)", err)
	checkEqual(t, "Consents.Grant(with an end)", normConsent(got), normConsent(want))
	wantConsent(t, s, "after a grant with an end", want)

	later := base.Add(time.Hour)
	want.ExpiresAt, want.UpdatedAt = ends.Add(7*24*time.Hour), later
	got, err = s.Consents.Grant(ctx, alice.ID, app.ID, want.Scopes, want.ExpiresAt, later)
	mustOK(t, "Consents.Grant(with a later end)", err)
	checkEqual(t, "Consents.Grant(with a later end)", normConsent(got), normConsent(want))
	wantConsent(t, s, "after a grant with a later end", want)

	last := later.Add(time.Hour)
	want.ExpiresAt, want.UpdatedAt = time.Time{}, last
	got, err = s.Consents.Grant(ctx, alice.ID, app.ID, want.Scopes, time.Time{}, last)
	mustOK(t, "Consents.Grant(until revoked)", err)
	checkEqual(t, "Consents.Grant(until revoked)", normConsent(got), normConsent(want))
	wantConsent(t, s, "after a grant until revoked", want)
}

// testConsentGrantKeepsLastUse: a new decision on the consent page
// replaces the scopes and the end, but the app's last use stays what it
// was.
func testConsentGrantKeepsLastUse(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	app := mustCreateClient(t, s, alice.ID, "App", base)
	mustGrant(t, s, alice.ID, app.ID, base, "profile")
	used := base.Add(2*time.Hour + 17*time.Minute)
	mustOK(t, "Consents.Touch", s.Consents.Touch(ctx, alice.ID, app.ID, used))

	later, ends := base.Add(3*time.Hour), base.Add(90*24*time.Hour)
	want := &models.Consent{UserID: alice.ID, ClientID: app.ID, Scopes: []string{"beers:read"},
		CreatedAt: base, UpdatedAt: later, ExpiresAt: ends, LastUsedAt: used.Truncate(time.Hour)}
	got, err := s.Consents.Grant(ctx, alice.ID, app.ID, want.Scopes, ends, later)
	mustOK(t, "Consents.Grant after Touch", err)
	checkEqual(t, "Consents.Grant after Touch", normConsent(got), normConsent(want))
	wantConsent(t, s, "after Grant", want)
}

// testConsentTouch: Touch records the hour of a use and only ever moves
// it forward; it changes nothing else, and no other consent.
func testConsentTouch(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	bob := mustCreateUser(t, s, "bob")
	app := mustCreateClient(t, s, alice.ID, "App", base)
	other := mustCreateClient(t, s, alice.ID, "Other", base)
	want := mustGrant(t, s, alice.ID, app.ID, base, "profile", "beers:read")
	bobs := mustGrant(t, s, bob.ID, app.ID, base, "profile")
	others := mustGrant(t, s, alice.ID, other.ID, base, "profile")

	first := base.Add(5*time.Hour + 23*time.Minute + 45*time.Second + 678*time.Millisecond)
	hour, later := first.Truncate(time.Hour), first.Truncate(time.Hour).Add(3*time.Hour)
	for _, step := range []struct {
		name string
		at   time.Time
		want time.Time // LastUsedAt afterwards
	}{
		{"first use", first, hour},
		{"an earlier hour", first.Add(-2 * time.Hour), hour},
		{"later in the same hour", hour.Add(59*time.Minute + 59*time.Second), hour},
		{"the hour itself", hour, hour},
		{"a later hour", later.Add(time.Minute), later},
		{"the hour before it", later.Add(-time.Minute), later},
	} {
		mustOK(t, "Consents.Touch("+step.name+")", s.Consents.Touch(ctx, alice.ID, app.ID, step.at))
		want.LastUsedAt = step.want
		wantConsent(t, s, "after Touch("+step.name+")", want)
	}
	wantConsent(t, s, "another user's consent", bobs)
	wantConsent(t, s, "the user's consent for another client", others)
}

// testConsentTouchUnknown: touching a consent that does not exist, or no
// longer does, is not an error, and creates none.
func testConsentTouchUnknown(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	bob := mustCreateUser(t, s, "bob")
	app := mustCreateClient(t, s, alice.ID, "App", base)
	other := mustCreateClient(t, s, alice.ID, "Other", base)
	want := mustGrant(t, s, alice.ID, app.ID, base, "profile")

	for _, tc := range []struct{ name, userID, clientID string }{
		{"other user, same client", bob.ID, app.ID},
		{"same user, other client", alice.ID, other.ID},
		{"unknown client", alice.ID, models.NewID(base)},
		{"malformed ids", "not-an-id", "not-an-id"},
	} {
		if err := s.Consents.Touch(ctx, tc.userID, tc.clientID, now); err != nil {
			t.Errorf("Consents.Touch(%s) error = %v, want nil", tc.name, err)
		}
	}
	wantConsentGone(t, s, "bob's consent for app", bob.ID, app.ID)
	wantConsentGone(t, s, "alice's consent for the other client", alice.ID, other.ID)
	if list, err := s.Consents.List(ctx, bob.ID); err != nil || len(list) != 0 {
		t.Errorf("Consents.List(bob) = %d consents, %v; want none", len(list), err)
	}
	wantConsent(t, s, "alice's consent, not touched", want)

	mustOK(t, "Consents.Delete", s.Consents.Delete(ctx, alice.ID, app.ID))
	if err := s.Consents.Touch(ctx, alice.ID, app.ID, now); err != nil {
		t.Errorf("Consents.Touch(deleted) error = %v, want nil", err)
	}
	wantConsentGone(t, s, "alice's deleted consent, touched", alice.ID, app.ID)
}

func testConsentGrantCreates(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	app := mustCreateClient(t, s, alice.ID, "App", base)
	at := base.Add(1234 * time.Millisecond)
	want := &models.Consent{
		UserID:    alice.ID,
		ClientID:  app.ID,
		Scopes:    []string{"profile", "beers:read", "beers:write", "clients"},
		CreatedAt: at,
		UpdatedAt: at,
	}

	got, err := s.Consents.Grant(ctx, alice.ID, app.ID, want.Scopes, time.Time{}, at)
	mustOK(t, "Consents.Grant", err)
	checkEqual(t, "Consents.Grant", normConsent(got), normConsent(want))

	got, err = s.Consents.Get(ctx, alice.ID, app.ID)
	mustOK(t, "Consents.Get", err)
	checkEqual(t, "Consents.Get", normConsent(got), normConsent(want))
}

func testConsentGrantReplaces(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	bob := mustCreateUser(t, s, "bob")
	app := mustCreateClient(t, s, alice.ID, "App", base)
	first, second := base, base.Add(time.Hour)

	mustGrant(t, s, alice.ID, app.ID, first, "profile", "beers:read")
	mustGrant(t, s, bob.ID, app.ID, first, "clients")
	got, err := s.Consents.Grant(ctx, alice.ID, app.ID, []string{"beers:write", "beers:read"}, time.Time{}, second)
	mustOK(t, "second Consents.Grant", err)
	// The latest decision replaces the earlier one, wider or narrower:
	// profile, granted first, is gone.
	want := &models.Consent{
		UserID:    alice.ID,
		ClientID:  app.ID,
		Scopes:    []string{"beers:write", "beers:read"},
		CreatedAt: first,
		UpdatedAt: second,
	}
	checkEqual(t, "second Consents.Grant", normConsent(got), normConsent(want))
	got, err = s.Consents.Get(ctx, alice.ID, app.ID)
	mustOK(t, "Consents.Get", err)
	checkEqual(t, "Consents.Get after second Grant", normConsent(got), normConsent(want))

	// A narrower one narrows it; the consent keeps its creation time.
	got, err = s.Consents.Grant(ctx, alice.ID, app.ID, []string{"beers:read", "beers:read"}, time.Time{}, second.Add(time.Minute))
	mustOK(t, "third Consents.Grant", err)
	checkEqual(t, "third Consents.Grant scopes", normConsent(got).Scopes, []string{"beers:read"})
	if !sameTime(got.CreatedAt, first) {
		t.Errorf("third Consents.Grant CreatedAt = %v, want %v", got.CreatedAt, first)
	}

	// Still one consent per (user, client), and Bob's is untouched.
	list, err := s.Consents.List(ctx, alice.ID)
	mustOK(t, "Consents.List", err)
	if len(list) != 1 {
		t.Errorf("len(Consents.List(alice)) = %d, want 1", len(list))
	}
	got, err = s.Consents.Get(ctx, bob.ID, app.ID)
	mustOK(t, "Consents.Get(bob)", err)
	checkEqual(t, "Consents.Get(bob)", normConsent(got),
		normConsent(&models.Consent{UserID: bob.ID, ClientID: app.ID, Scopes: []string{"clients"}, CreatedAt: first, UpdatedAt: first}))
}

func testConsentGetUnknown(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	bob := mustCreateUser(t, s, "bob")
	app := mustCreateClient(t, s, alice.ID, "App", base)
	other := mustCreateClient(t, s, alice.ID, "Other", base)
	mustGrant(t, s, alice.ID, app.ID, base, "profile")

	for _, tc := range []struct{ name, userID, clientID string }{
		{"other user, same client", bob.ID, app.ID},
		{"same user, other client", alice.ID, other.ID},
		{"unknown client", alice.ID, models.NewID(base)},
		{"malformed ids", "not-an-id", "not-an-id"},
	} {
		got, err := s.Consents.Get(ctx, tc.userID, tc.clientID)
		if !errors.Is(err, models.ErrNotFound) {
			t.Errorf("Consents.Get(%s) = %+v, %v, want %v", tc.name, got, err, models.ErrNotFound)
		}
	}
}

func testConsentListOldestFirst(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	bob := mustCreateUser(t, s, "bob")
	carol := mustCreateUser(t, s, "carol")
	var want []*models.Consent
	for i := range 4 {
		at := base.Add(time.Duration(i) * time.Minute)
		app := mustCreateClient(t, s, bob.ID, fmt.Sprint("App ", i), at)
		mustGrant(t, s, alice.ID, app.ID, at, "profile")
		want = append(want, &models.Consent{UserID: alice.ID, ClientID: app.ID, Scopes: []string{"profile"}, CreatedAt: at, UpdatedAt: at})
		mustGrant(t, s, bob.ID, app.ID, at, "profile")
	}
	// A later grant to the oldest consent changes its scopes but does not move it.
	later := base.Add(time.Hour)
	mustGrant(t, s, alice.ID, want[0].ClientID, later, "profile", "beers:read")
	want[0].Scopes = []string{"profile", "beers:read"}
	want[0].UpdatedAt = later

	got, err := s.Consents.List(ctx, alice.ID)
	mustOK(t, "Consents.List(alice)", err)
	if len(got) != len(want) {
		t.Fatalf("len(Consents.List(alice)) = %d, want %d", len(got), len(want))
	}
	for i := range got {
		checkEqual(t, fmt.Sprintf("Consents.List(alice)[%d]", i), normConsent(got[i]), normConsent(want[i]))
	}
	got, err = s.Consents.List(ctx, carol.ID)
	mustOK(t, "Consents.List(carol)", err)
	if len(got) != 0 {
		t.Errorf("len(Consents.List(carol)) = %d, want 0", len(got))
	}
}

func testConsentDelete(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	bob := mustCreateUser(t, s, "bob")
	owner := mustCreateUser(t, s, "owner")
	app := mustCreateClient(t, s, owner.ID, "App", base)
	otherApp := mustCreateClient(t, s, owner.ID, "Other app", base)

	mustGrant(t, s, alice.ID, app.ID, base, "profile")
	mustGrant(t, s, alice.ID, otherApp.ID, base, "profile")
	mustGrant(t, s, bob.ID, app.ID, base, "profile")
	family := models.NewID(base)
	gone := []*models.Token{
		mustCreateToken(t, s, models.AccessToken, app.ID, alice.ID, family),
		mustCreateToken(t, s, models.RefreshToken, app.ID, alice.ID, family),
		mustCreateToken(t, s, models.AccessToken, app.ID, alice.ID, models.NewID(base)),
	}
	goneCode := mustCreateCode(t, s, app.ID, alice.ID)
	aliceOtherToken := mustCreateToken(t, s, models.RefreshToken, otherApp.ID, alice.ID, models.NewID(base))
	aliceOtherCode := mustCreateCode(t, s, otherApp.ID, alice.ID)
	bobToken := mustCreateToken(t, s, models.RefreshToken, app.ID, bob.ID, models.NewID(base))
	bobCode := mustCreateCode(t, s, app.ID, bob.ID)
	appOnlyToken := mustCreateToken(t, s, models.AccessToken, app.ID, "", models.NewID(base))

	mustOK(t, "Consents.Delete", s.Consents.Delete(ctx, alice.ID, app.ID))

	wantConsentGone(t, s, "alice's consent for app", alice.ID, app.ID)
	for i, tk := range gone {
		wantTokenGone(t, s, fmt.Sprintf("alice's token %d for app", i), tk)
	}
	wantCodeGone(t, s, "alice's code for app", goneCode)

	wantConsentKept(t, s, "alice's consent for the other app", alice.ID, otherApp.ID)
	wantConsentKept(t, s, "bob's consent for app", bob.ID, app.ID)
	wantTokenKept(t, s, "alice's token for the other app", aliceOtherToken)
	wantTokenKept(t, s, "bob's token for app", bobToken)
	wantTokenKept(t, s, "client_credentials token of app", appOnlyToken)
	wantCodeKept(t, s, "alice's code for the other app", aliceOtherCode)
	wantCodeKept(t, s, "bob's code for app", bobCode)
	if _, err := s.Clients.Get(ctx, app.ID); err != nil {
		t.Errorf("Clients.Get(app) after Consents.Delete error = %v, want nil", err)
	}

	wantErr(t, "second Consents.Delete", s.Consents.Delete(ctx, alice.ID, app.ID), models.ErrNotFound)
}

func testConsentDeleteUnknown(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	bob := mustCreateUser(t, s, "bob")
	app := mustCreateClient(t, s, alice.ID, "App", base)
	mustGrant(t, s, alice.ID, app.ID, base, "profile")

	wantErr(t, "Consents.Delete(bob, app)", s.Consents.Delete(ctx, bob.ID, app.ID), models.ErrNotFound)
	wantErr(t, "Consents.Delete(unknown client)", s.Consents.Delete(ctx, alice.ID, models.NewID(base)), models.ErrNotFound)
	wantErr(t, "Consents.Delete(malformed)", s.Consents.Delete(ctx, "not-an-id", "not-an-id"), models.ErrNotFound)
	wantConsentKept(t, s, "alice's consent", alice.ID, app.ID)
}

// testConsentDeleteWithoutConsent: tokens from the password grant come
// with no consent; revoking the app still ends them, and ErrNotFound only
// reports that no consent was remembered.
func testConsentDeleteWithoutConsent(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	bob := mustCreateUser(t, s, "bob")
	app := mustCreateClient(t, s, alice.ID, "App", base)
	gone := mustCreateToken(t, s, models.RefreshToken, app.ID, alice.ID, models.NewID(base))
	goneCode := mustCreateCode(t, s, app.ID, alice.ID)
	kept := mustCreateToken(t, s, models.RefreshToken, app.ID, bob.ID, models.NewID(base))

	wantErr(t, "Consents.Delete(no consent)", s.Consents.Delete(ctx, alice.ID, app.ID), models.ErrNotFound)
	wantTokenGone(t, s, "alice's password-grant token", gone)
	wantCodeGone(t, s, "alice's code", goneCode)
	wantTokenKept(t, s, "bob's token", kept)
}

// testConsentDeleteDeviceCodes: revoking an app also ends the device codes
// the user decided for it, approved but not yet redeemed among them, so
// the device collects no tokens afterwards. The user's codes for other
// clients, other users' codes for the app, and pending codes stay.
func testConsentDeleteDeviceCodes(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	bob := mustCreateUser(t, s, "bob")
	app := mustCreateClient(t, s, bob.ID, "App", base)
	otherApp := mustCreateClient(t, s, bob.ID, "Other app", base)
	decided := func(clientID, userID string, st models.DeviceStatus) *models.DeviceCode {
		dc := mustCreateDevice(t, s, clientID)
		mustOK(t, "DeviceCodes.Decide", s.DeviceCodes.Decide(ctx, dc.Hash, models.DeviceDecision{UserID: userID, Status: st}, now))
		return dc
	}
	mustGrant(t, s, alice.ID, app.ID, base, "profile")
	approved := decided(app.ID, alice.ID, models.DeviceApproved)
	denied := decided(app.ID, alice.ID, models.DeviceDenied)
	aliceOther := decided(otherApp.ID, alice.ID, models.DeviceApproved)
	bobs := decided(app.ID, bob.ID, models.DeviceApproved)
	pending := mustCreateDevice(t, s, app.ID)

	mustOK(t, "Consents.Delete", s.Consents.Delete(ctx, alice.ID, app.ID))

	wantDeviceGone(t, s, "alice's approved code for the app", approved)
	wantDeviceGone(t, s, "alice's denied code for the app", denied)
	wantDevice(t, s, "alice's code for the other app", aliceOther, models.DeviceApproved, alice.ID)
	wantDevice(t, s, "bob's code for the app", bobs, models.DeviceApproved, bob.ID)
	wantDevice(t, s, "the pending code", pending, models.DevicePending, "")
	if _, err := s.DeviceCodes.Redeem(ctx, aliceOther.Hash, otherApp.ID, now); err != nil {
		t.Errorf("DeviceCodes.Redeem(alice's code for the other app) error = %v, want nil", err)
	}
	if _, err := s.DeviceCodes.Redeem(ctx, bobs.Hash, app.ID, now); err != nil {
		t.Errorf("DeviceCodes.Redeem(bob's code for the app) error = %v, want nil", err)
	}
}
