package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"beerlocker/models"
)

var clientTests = []test{
	{"CreateAndGet", testClientCreateAndGet},
	{"GetUnknownIsNotFound", testClientGetUnknown},
	{"OtherOwnerIsNotFound", testClientOtherOwner},
	{"ListOldestFirst", testClientListOldestFirst},
	{"Update", testClientUpdate},
	{"UpdateUnknownIsNotFound", testClientUpdateUnknown},
	{"Delete", testClientDelete},
	{"DeleteCascades", testClientDeleteCascades},
	{"MaxPerUser", testClientMaxPerUser},
	{"WithoutOwner", testClientWithoutOwner},
	{"DeleteUnapproved", testClientDeleteUnapproved},
}

func testClientCreateAndGet(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	created := base.Add(1234 * time.Millisecond)
	clients := []*models.Client{
		{
			ID:      newClientID(),
			OwnerID: alice.ID,
			Name:    "Tap Room",
			// Neither sorted nor in models.GrantTypes order: order is kept.
			SecretHash:   newHash(),
			RedirectURIs: []string{"https://z.example/cb", "http://127.0.0.1:8080/cb", "https://a.example/cb?x=1"},
			GrantTypes:   []string{models.GrantPassword, models.GrantRefreshToken, models.GrantAuthorizationCode, models.GrantClientCredentials},
			Public:       false,
			CreatedAt:    created,
			UpdatedAt:    created.Add(time.Second),
		},
		{
			ID:           newClientID(),
			OwnerID:      alice.ID,
			Name:         "Pocket Pint",
			SecretHash:   "",
			RedirectURIs: []string{"com.example.pint:/cb"},
			GrantTypes:   []string{models.GrantDeviceCode, models.GrantAuthorizationCode},
			Public:       true,
			// OpenID Connect Registration's id_token_signed_response_alg.
			IDTokenSignedResponseAlg: "ES256",
			CreatedAt:                created,
			UpdatedAt:                created,
		},
	}
	for _, c := range clients {
		mustOK(t, "Clients.Create", s.Clients.Create(ctx, c))
	}
	for _, c := range clients {
		got, err := s.Clients.Get(ctx, c.ID)
		mustOK(t, "Clients.Get", err)
		checkEqual(t, "Clients.Get", normClient(got), normClient(c))
		got, err = s.Clients.GetOwned(ctx, alice.ID, c.ID)
		mustOK(t, "Clients.GetOwned", err)
		checkEqual(t, "Clients.GetOwned", normClient(got), normClient(c))
	}
}

func testClientGetUnknown(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	mustCreateClient(t, s, alice.ID, "App", base)
	for _, id := range []string{models.NewID(base), "", "not-an-id"} {
		got, err := s.Clients.Get(ctx, id)
		if !errors.Is(err, models.ErrNotFound) {
			t.Errorf("Clients.Get(%q) = %+v, %v, want %v", id, got, err, models.ErrNotFound)
		}
		got, err = s.Clients.GetOwned(ctx, alice.ID, id)
		if !errors.Is(err, models.ErrNotFound) {
			t.Errorf("Clients.GetOwned(%q) = %+v, %v, want %v", id, got, err, models.ErrNotFound)
		}
	}
}

func testClientOtherOwner(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	bob := mustCreateUser(t, s, "bob")
	app := mustCreateClient(t, s, alice.ID, "Alice's app", base)

	got, err := s.Clients.GetOwned(ctx, bob.ID, app.ID)
	if !errors.Is(err, models.ErrNotFound) {
		t.Errorf("Clients.GetOwned(bob, alice's app) = %+v, %v, want %v", got, err, models.ErrNotFound)
	}
	u := models.ClientUpdate{Name: ptr("Stolen"), RedirectURIs: []string{"https://evil.example/cb"}, SecretHash: ptr(newHash())}
	got, err = s.Clients.Update(ctx, bob.ID, app.ID, u, now)
	if !errors.Is(err, models.ErrNotFound) {
		t.Errorf("Clients.Update(bob, alice's app) = %+v, %v, want %v", got, err, models.ErrNotFound)
	}
	wantErr(t, "Clients.Delete(bob, alice's app)", s.Clients.Delete(ctx, bob.ID, app.ID), models.ErrNotFound)

	// Get finds a client whoever owns it: the token endpoint needs that.
	got, err = s.Clients.Get(ctx, app.ID)
	mustOK(t, "Clients.Get", err)
	checkEqual(t, "alice's app after bob's attempts", normClient(got), normClient(app))
	list, err := s.Clients.List(ctx, bob.ID)
	mustOK(t, "Clients.List(bob)", err)
	if len(list) != 0 {
		t.Errorf("len(Clients.List(bob)) = %d, want 0", len(list))
	}
}

func clientIDs(clients []*models.Client) []string {
	ids := make([]string, len(clients))
	for i, c := range clients {
		ids[i] = c.ID
	}
	return ids
}

func testClientListOldestFirst(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	bob := mustCreateUser(t, s, "bob")
	carol := mustCreateUser(t, s, "carol")
	var aliceApps, bobApps []*models.Client
	for i := range 7 {
		at := base.Add(time.Duration(i) * time.Second)
		if i%2 == 0 {
			aliceApps = append(aliceApps, mustCreateClient(t, s, alice.ID, fmt.Sprint("A", i), at))
		} else {
			bobApps = append(bobApps, mustCreateClient(t, s, bob.ID, fmt.Sprint("B", i), at))
		}
	}
	// An update does not move a client in the list.
	_, err := s.Clients.Update(ctx, alice.ID, aliceApps[0].ID, models.ClientUpdate{Name: ptr("A0 renamed")}, base.Add(time.Hour))
	mustOK(t, "Clients.Update", err)
	aliceApps[0].Name, aliceApps[0].UpdatedAt = "A0 renamed", base.Add(time.Hour)

	got, err := s.Clients.List(ctx, alice.ID)
	mustOK(t, "Clients.List(alice)", err)
	checkEqual(t, "Clients.List(alice) ids", clientIDs(got), clientIDs(aliceApps))
	for i := range min(len(got), len(aliceApps)) {
		checkEqual(t, fmt.Sprintf("Clients.List(alice)[%d]", i), normClient(got[i]), normClient(aliceApps[i]))
	}
	got, err = s.Clients.List(ctx, bob.ID)
	mustOK(t, "Clients.List(bob)", err)
	checkEqual(t, "Clients.List(bob) ids", clientIDs(got), clientIDs(bobApps))
	got, err = s.Clients.List(ctx, carol.ID)
	mustOK(t, "Clients.List(carol)", err)
	if len(got) != 0 {
		t.Errorf("len(Clients.List(carol)) = %d, want 0", len(got))
	}
}

func testClientUpdate(t *testing.T, s *models.Store) {
	alice := mustCreateUser(t, s, "alice")
	later := base.Add(3*time.Hour + 21*time.Millisecond)
	secret := newHash()
	tests := []struct {
		name string
		u    models.ClientUpdate
		want func(c *models.Client)
	}{
		{"nothing", models.ClientUpdate{}, func(c *models.Client) {}},
		{"name", models.ClientUpdate{Name: ptr("Renamed")}, func(c *models.Client) { c.Name = "Renamed" }},
		{"redirect URIs", models.ClientUpdate{RedirectURIs: []string{"https://b.example/2", "https://a.example/1"}},
			func(c *models.Client) { c.RedirectURIs = []string{"https://b.example/2", "https://a.example/1"} }},
		{"secret", models.ClientUpdate{SecretHash: ptr(secret)}, func(c *models.Client) { c.SecretHash = secret }},
		{"post-logout redirect URIs", models.ClientUpdate{PostLogoutRedirectURIs: []string{"https://b.example/bye", "https://a.example/bye"}},
			func(c *models.Client) {
				c.PostLogoutRedirectURIs = []string{"https://b.example/bye", "https://a.example/bye"}
			}},
		{"ID token algorithm", models.ClientUpdate{IDTokenSignedResponseAlg: ptr("ES256")},
			func(c *models.Client) { c.IDTokenSignedResponseAlg = "ES256" }},
		{"all", models.ClientUpdate{Name: ptr("All"), RedirectURIs: []string{"http://localhost/cb"}, SecretHash: ptr(secret)},
			func(c *models.Client) {
				c.Name, c.RedirectURIs, c.SecretHash = "All", []string{"http://localhost/cb"}, secret
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			app := &models.Client{
				ID:           newClientID(),
				OwnerID:      alice.ID,
				Name:         "Original",
				SecretHash:   newHash(),
				RedirectURIs: []string{"https://one.example/cb", "https://two.example/cb"},
				GrantTypes:   []string{models.GrantAuthorizationCode, models.GrantRefreshToken, models.GrantClientCredentials},
				CreatedAt:    base,
				UpdatedAt:    base,
			}
			mustOK(t, "Clients.Create", s.Clients.Create(ctx, app))
			other := mustCreateClient(t, s, alice.ID, "Bystander", base)

			want := *app
			want.RedirectURIs = append([]string(nil), app.RedirectURIs...)
			tc.want(&want)
			want.UpdatedAt = later

			got, err := s.Clients.Update(ctx, alice.ID, app.ID, tc.u, later)
			mustOK(t, "Clients.Update", err)
			checkEqual(t, "Clients.Update", normClient(got), normClient(&want))

			got, err = s.Clients.GetOwned(ctx, alice.ID, app.ID)
			mustOK(t, "Clients.GetOwned", err)
			checkEqual(t, "Clients.GetOwned after Update", normClient(got), normClient(&want))

			got, err = s.Clients.Get(ctx, other.ID)
			mustOK(t, "Clients.Get(other)", err)
			checkEqual(t, "Clients.Get(other client) after Update", normClient(got), normClient(other))
		})
	}
}

func testClientUpdateUnknown(t *testing.T, s *models.Store) {
	alice := mustCreateUser(t, s, "alice")
	mustCreateClient(t, s, alice.ID, "App", base)
	for _, id := range []string{models.NewID(base), "not-an-id"} {
		got, err := s.Clients.Update(t.Context(), alice.ID, id, models.ClientUpdate{Name: ptr("x")}, now)
		if !errors.Is(err, models.ErrNotFound) {
			t.Errorf("Clients.Update(%q) = %+v, %v, want %v", id, got, err, models.ErrNotFound)
		}
	}
}

func testClientDelete(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	first := mustCreateClient(t, s, alice.ID, "First", base)
	gone := mustCreateClient(t, s, alice.ID, "Gone", base.Add(time.Second))
	last := mustCreateClient(t, s, alice.ID, "Last", base.Add(2*time.Second))

	mustOK(t, "Clients.Delete", s.Clients.Delete(ctx, alice.ID, gone.ID))
	_, err := s.Clients.Get(ctx, gone.ID)
	wantErr(t, "Clients.Get after Delete", err, models.ErrNotFound)
	_, err = s.Clients.GetOwned(ctx, alice.ID, gone.ID)
	wantErr(t, "Clients.GetOwned after Delete", err, models.ErrNotFound)
	_, err = s.Clients.Update(ctx, alice.ID, gone.ID, models.ClientUpdate{Name: ptr("x")}, now)
	wantErr(t, "Clients.Update after Delete", err, models.ErrNotFound)
	wantErr(t, "second Clients.Delete", s.Clients.Delete(ctx, alice.ID, gone.ID), models.ErrNotFound)
	wantErr(t, "Clients.Delete(unknown)", s.Clients.Delete(ctx, alice.ID, models.NewID(base)), models.ErrNotFound)
	wantErr(t, "Clients.Delete(malformed)", s.Clients.Delete(ctx, alice.ID, "not-an-id"), models.ErrNotFound)

	list, err := s.Clients.List(ctx, alice.ID)
	mustOK(t, "Clients.List", err)
	checkEqual(t, "Clients.List ids after Delete", clientIDs(list), []string{first.ID, last.ID})
}

func testClientDeleteCascades(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	bob := mustCreateUser(t, s, "bob")
	carol := mustCreateUser(t, s, "carol")
	app := mustCreateClient(t, s, alice.ID, "Doomed", base)
	kept := mustCreateClient(t, s, alice.ID, "Kept", base)
	bobsApp := mustCreateClient(t, s, bob.ID, "Bob's", base)

	// Everything held through app, by several users, including its owner.
	var goneTokens []*models.Token
	var goneCodes []*models.Code
	for _, u := range []*models.User{alice, bob, carol} {
		mustGrant(t, s, u.ID, app.ID, base, "profile", "beers:read")
		family := models.NewID(base)
		goneTokens = append(goneTokens,
			mustCreateToken(t, s, models.AccessToken, app.ID, u.ID, family),
			mustCreateToken(t, s, models.RefreshToken, app.ID, u.ID, family))
		goneCodes = append(goneCodes, mustCreateCode(t, s, app.ID, u.ID))
	}
	goneTokens = append(goneTokens, mustCreateToken(t, s, models.AccessToken, app.ID, "", models.NewID(base)))

	// The same users through other clients.
	var keptTokens []*models.Token
	var keptCodes []*models.Code
	for _, c := range []*models.Client{kept, bobsApp} {
		for _, u := range []*models.User{alice, bob, carol} {
			mustGrant(t, s, u.ID, c.ID, base, "profile")
			keptTokens = append(keptTokens, mustCreateToken(t, s, models.RefreshToken, c.ID, u.ID, models.NewID(base)))
			keptCodes = append(keptCodes, mustCreateCode(t, s, c.ID, u.ID))
		}
		keptTokens = append(keptTokens, mustCreateToken(t, s, models.AccessToken, c.ID, "", models.NewID(base)))
	}

	mustOK(t, "Clients.Delete", s.Clients.Delete(ctx, alice.ID, app.ID))

	for _, u := range []*models.User{alice, bob, carol} {
		wantConsentGone(t, s, u.Username+"'s consent for the deleted client", u.ID, app.ID)
		wantConsentKept(t, s, u.Username+"'s consent for the kept client", u.ID, kept.ID)
		wantConsentKept(t, s, u.Username+"'s consent for bob's client", u.ID, bobsApp.ID)
		list, err := s.Consents.List(ctx, u.ID)
		mustOK(t, "Consents.List", err)
		if len(list) != 2 {
			t.Errorf("len(Consents.List(%s)) = %d, want 2", u.Username, len(list))
		}
	}
	for i, tk := range goneTokens {
		wantTokenGone(t, s, fmt.Sprintf("token %d of the deleted client", i), tk)
	}
	for i, tk := range keptTokens {
		wantTokenKept(t, s, fmt.Sprintf("token %d of another client", i), tk)
	}
	for i, c := range goneCodes {
		wantCodeGone(t, s, fmt.Sprintf("code %d of the deleted client", i), c)
	}
	for i, c := range keptCodes {
		wantCodeKept(t, s, fmt.Sprintf("code %d of another client", i), c)
	}
	if _, err := s.Users.Get(ctx, alice.ID); err != nil {
		t.Errorf("Users.Get(owner) after Clients.Delete error = %v, want nil", err)
	}
}

func testClientMaxPerUser(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	bob := mustCreateUser(t, s, "bob")
	var apps []*models.Client
	for i := range models.MaxClientsPerUser {
		apps = append(apps, mustCreateClient(t, s, alice.ID, fmt.Sprint("App ", i), base))
	}
	extra := &models.Client{
		ID:           models.NewID(base),
		OwnerID:      alice.ID,
		Name:         "One too many",
		SecretHash:   newHash(),
		RedirectURIs: []string{"https://app.example/cb"},
		GrantTypes:   []string{models.GrantAuthorizationCode},
		CreatedAt:    base,
		UpdatedAt:    base,
	}
	wantErr(t, "Clients.Create over the limit", s.Clients.Create(ctx, extra), models.ErrConflict)
	_, err := s.Clients.Get(ctx, extra.ID)
	wantErr(t, "Clients.Get(rejected client)", err, models.ErrNotFound)
	list, err := s.Clients.List(ctx, alice.ID)
	mustOK(t, "Clients.List", err)
	if len(list) != models.MaxClientsPerUser {
		t.Errorf("len(Clients.List) = %d, want %d", len(list), models.MaxClientsPerUser)
	}

	// The limit is per user.
	mustCreateClient(t, s, bob.ID, "Bob's", base)

	// Deleting one makes room for one.
	mustOK(t, "Clients.Delete", s.Clients.Delete(ctx, alice.ID, apps[0].ID))
	extra.ID = models.NewID(base)
	mustOK(t, "Clients.Create after Delete", s.Clients.Create(ctx, extra))
	extra.ID = models.NewID(base)
	wantErr(t, "Clients.Create over the limit again", s.Clients.Create(ctx, extra), models.ErrConflict)
}

// testClientWithoutOwner: an app that registered itself (API.md §10) is
// found by its id, and by nothing that takes an owner, not even "", and
// more of them than one owner may have can exist.
func testClientWithoutOwner(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	mine := mustCreateClient(t, s, alice.ID, "Mine", base)
	var self []*models.Client
	for i := range models.MaxClientsPerUser + 5 {
		self = append(self, mustCreateClient(t, s, "", fmt.Sprint("Agent ", i), base))
	}
	got, err := s.Clients.Get(ctx, self[0].ID)
	mustOK(t, "Clients.Get(self-registered)", err)
	checkEqual(t, "Clients.Get(self-registered)", normClient(got), normClient(self[0]))
	if !got.SelfRegistered() {
		t.Errorf("Clients.Get(self-registered).OwnerID = %q, want none", got.OwnerID)
	}
	for _, owner := range []string{"", alice.ID} {
		_, err := s.Clients.GetOwned(ctx, owner, self[0].ID)
		wantErr(t, fmt.Sprintf("Clients.GetOwned(%q, self-registered)", owner), err, models.ErrNotFound)
		name := "Renamed"
		_, err = s.Clients.Update(ctx, owner, self[0].ID, models.ClientUpdate{Name: &name}, now)
		wantErr(t, fmt.Sprintf("Clients.Update(%q, self-registered)", owner), err, models.ErrNotFound)
		wantErr(t, fmt.Sprintf("Clients.Delete(%q, self-registered)", owner), s.Clients.Delete(ctx, owner, self[0].ID), models.ErrNotFound)
	}
	list, err := s.Clients.List(ctx, "")
	mustOK(t, `Clients.List("")`, err)
	if len(list) != 0 {
		t.Errorf(`Clients.List("") = %d clients, want none`, len(list))
	}
	list, err = s.Clients.List(ctx, alice.ID)
	mustOK(t, "Clients.List(alice)", err)
	if len(list) != 1 || list[0].ID != mine.ID {
		t.Errorf("Clients.List(alice) = %d clients, want only hers", len(list))
	}
	if _, err := s.Clients.Get(ctx, self[len(self)-1].ID); err != nil {
		t.Errorf("Clients.Get(the last self-registered) = %v", err)
	}
}

// testClientDeleteUnapproved: the sweep deletes the apps that registered
// themselves before the cut-off and that no consent names, and nothing
// else.
func testClientDeleteUnapproved(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	cutoff := base.Add(time.Hour)
	oldUnused := mustCreateClient(t, s, "", "Old, unused", base)
	oldApproved := mustCreateClient(t, s, "", "Old, approved", base)
	newUnused := mustCreateClient(t, s, "", "New, unused", cutoff.Add(time.Second))
	owned := mustCreateClient(t, s, alice.ID, "Owned, unused", base)
	_, err := s.Consents.Grant(ctx, alice.ID, oldApproved.ID, []string{models.ScopeBeersRead}, time.Time{}, base)
	mustOK(t, "Consents.Grant", err)
	device := newDevice(oldUnused.ID, base) // asked for, never approved
	mustOK(t, "DeviceCodes.Create", s.DeviceCodes.Create(ctx, device))

	n, err := s.Clients.DeleteUnapproved(ctx, cutoff)
	mustOK(t, "Clients.DeleteUnapproved", err)
	if n != 1 {
		t.Errorf("Clients.DeleteUnapproved = %d, want 1", n)
	}
	_, err = s.Clients.Get(ctx, oldUnused.ID)
	wantErr(t, "Clients.Get(old, unused)", err, models.ErrNotFound)
	for _, c := range []*models.Client{oldApproved, newUnused, owned} {
		if _, err := s.Clients.Get(ctx, c.ID); err != nil {
			t.Errorf("Clients.Get(%s) after DeleteUnapproved = %v, want kept", c.Name, err)
		}
	}
	n, err = s.Clients.DeleteUnapproved(ctx, cutoff)
	mustOK(t, "Clients.DeleteUnapproved again", err)
	if n != 0 {
		t.Errorf("Clients.DeleteUnapproved again = %d, want 0", n)
	}
}
