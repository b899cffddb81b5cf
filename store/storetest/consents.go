package storetest

import (
	"errors"
	"fmt"
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

	got, err := s.Consents.Grant(ctx, alice.ID, app.ID, want.Scopes, at)
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
	got, err := s.Consents.Grant(ctx, alice.ID, app.ID, []string{"beers:write", "beers:read"}, second)
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
	got, err = s.Consents.Grant(ctx, alice.ID, app.ID, []string{"beers:read", "beers:read"}, second.Add(time.Minute))
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
