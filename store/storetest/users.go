package storetest

import (
	"errors"
	"testing"
	"time"

	"beerlocker/models"
)

var userTests = []test{
	{"CreateAndGet", testUserCreateAndGet},
	{"GetByUsernameIgnoresCase", testUserGetByUsernameIgnoresCase},
	{"DuplicateIgnoresCase", testUserDuplicateIgnoresCase},
	{"GetUnknownIsNotFound", testUserGetUnknown},
	{"UpdatePassword", testUserUpdatePassword},
	{"UpdatePasswordUnknownIsNotFound", testUserUpdatePasswordUnknown},
	{"Delete", testUserDelete},
	{"DeleteCascades", testUserDeleteCascades},
}

func testUserCreateAndGet(t *testing.T, s *models.Store) {
	ctx := t.Context()
	// The instant round-trips whatever zone it was given in.
	created := base.Add(1234 * time.Millisecond).In(time.FixedZone("UTC+2", 2*60*60))
	u := &models.User{
		ID:           models.NewID(created),
		Username:     "Alice.B_c-9",
		PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$" + newHash(),
		CreatedAt:    created,
		UpdatedAt:    created.Add(time.Second),
	}
	mustOK(t, "Users.Create", s.Users.Create(ctx, u))
	mustCreateUser(t, s, "bob")

	got, err := s.Users.Get(ctx, u.ID)
	mustOK(t, "Users.Get", err)
	checkEqual(t, "Users.Get", normUser(got), normUser(u))

	got, err = s.Users.GetByUsername(ctx, u.Username)
	mustOK(t, "Users.GetByUsername", err)
	checkEqual(t, "Users.GetByUsername", normUser(got), normUser(u))
}

func testUserGetByUsernameIgnoresCase(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "Alice")
	mustCreateUser(t, s, "alicia")
	for _, name := range []string{"Alice", "alice", "ALICE", "aLICE"} {
		got, err := s.Users.GetByUsername(ctx, name)
		if err != nil {
			t.Errorf("Users.GetByUsername(%q) error = %v, want nil", name, err)
			continue
		}
		if got.ID != alice.ID {
			t.Errorf("Users.GetByUsername(%q).ID = %q, want %q", name, got.ID, alice.ID)
		}
		// The username keeps the case it was registered in.
		if got.Username != "Alice" {
			t.Errorf("Users.GetByUsername(%q).Username = %q, want %q", name, got.Username, "Alice")
		}
	}
	for _, name := range []string{"Alic", "Alicee", "bob", ""} {
		got, err := s.Users.GetByUsername(ctx, name)
		if !errors.Is(err, models.ErrNotFound) {
			t.Errorf("Users.GetByUsername(%q) = %+v, %v, want %v", name, got, err, models.ErrNotFound)
		}
	}
}

func testUserDuplicateIgnoresCase(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "Alice")
	for _, name := range []string{"Alice", "alice", "aLiCe", "ALICE"} {
		dup := &models.User{
			ID:           models.NewID(base),
			Username:     name,
			PasswordHash: "other",
			CreatedAt:    base,
			UpdatedAt:    base,
		}
		wantErr(t, "Users.Create("+name+")", s.Users.Create(ctx, dup), models.ErrConflict)
		if _, err := s.Users.Get(ctx, dup.ID); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("Users.Get(rejected %q) error = %v, want %v", name, err, models.ErrNotFound)
		}
	}
	got, err := s.Users.GetByUsername(ctx, "alice")
	mustOK(t, "Users.GetByUsername", err)
	checkEqual(t, "Users.GetByUsername after conflicts", normUser(got), normUser(alice))
}

func testUserGetUnknown(t *testing.T, s *models.Store) {
	ctx := t.Context()
	mustCreateUser(t, s, "alice")
	for _, id := range []string{models.NewID(base), "", "not-an-id", "ZZZZZZZZZZZZZZZZZZZZZZZZZZ", "'; DROP TABLE users; --"} {
		got, err := s.Users.Get(ctx, id)
		if !errors.Is(err, models.ErrNotFound) {
			t.Errorf("Users.Get(%q) = %+v, %v, want %v", id, got, err, models.ErrNotFound)
		}
	}
}

func testUserUpdatePassword(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	bob := mustCreateUser(t, s, "bob")
	later := base.Add(90 * time.Minute)

	got, err := s.Users.UpdatePassword(ctx, alice.ID, "new-hash", later)
	mustOK(t, "Users.UpdatePassword", err)
	want := *alice
	want.PasswordHash = "new-hash"
	want.UpdatedAt = later
	checkEqual(t, "Users.UpdatePassword", normUser(got), normUser(&want))

	got, err = s.Users.Get(ctx, alice.ID)
	mustOK(t, "Users.Get", err)
	checkEqual(t, "Users.Get after UpdatePassword", normUser(got), normUser(&want))

	got, err = s.Users.Get(ctx, bob.ID)
	mustOK(t, "Users.Get(bob)", err)
	checkEqual(t, "Users.Get(bob) after alice's UpdatePassword", normUser(got), normUser(bob))
}

func testUserUpdatePasswordUnknown(t *testing.T, s *models.Store) {
	ctx := t.Context()
	mustCreateUser(t, s, "alice")
	for _, id := range []string{models.NewID(base), "not-an-id"} {
		got, err := s.Users.UpdatePassword(ctx, id, "new-hash", now)
		if !errors.Is(err, models.ErrNotFound) {
			t.Errorf("Users.UpdatePassword(%q) = %+v, %v, want %v", id, got, err, models.ErrNotFound)
		}
	}
}

func testUserDelete(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "Alice")
	bob := mustCreateUser(t, s, "bob")

	mustOK(t, "Users.Delete", s.Users.Delete(ctx, alice.ID))
	_, err := s.Users.Get(ctx, alice.ID)
	wantErr(t, "Users.Get after Delete", err, models.ErrNotFound)
	_, err = s.Users.GetByUsername(ctx, "alice")
	wantErr(t, "Users.GetByUsername after Delete", err, models.ErrNotFound)
	wantErr(t, "second Users.Delete", s.Users.Delete(ctx, alice.ID), models.ErrNotFound)
	wantErr(t, "Users.Delete(unknown)", s.Users.Delete(ctx, models.NewID(base)), models.ErrNotFound)
	wantErr(t, "Users.Delete(malformed)", s.Users.Delete(ctx, "not-an-id"), models.ErrNotFound)

	got, err := s.Users.Get(ctx, bob.ID)
	mustOK(t, "Users.Get(bob)", err)
	checkEqual(t, "Users.Get(bob) after alice's Delete", normUser(got), normUser(bob))

	// A deleted user's name is free again.
	mustCreateUser(t, s, "ALICE")
}

func testUserDeleteCascades(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	bob := mustCreateUser(t, s, "bob")

	// Alice's own things, and what others hold through her client.
	aliceBeer := mustCreateBeer(t, s, alice.ID, "Alice's stout", base)
	aliceApp := mustCreateClient(t, s, alice.ID, "Alice's app", base)
	mustGrant(t, s, bob.ID, aliceApp.ID, base, "profile")
	bobCodeForAliceApp := mustCreateCode(t, s, aliceApp.ID, bob.ID)
	bobTokenForAliceApp := mustCreateToken(t, s, models.RefreshToken, aliceApp.ID, bob.ID, models.NewID(base))
	appOnlyToken := mustCreateToken(t, s, models.AccessToken, aliceApp.ID, "", models.NewID(base))

	// Bob's things, and what Alice holds through Bob's client.
	bobBeer := mustCreateBeer(t, s, bob.ID, "Bob's lager", base)
	bobApp := mustCreateClient(t, s, bob.ID, "Bob's app", base)
	mustGrant(t, s, alice.ID, bobApp.ID, base, "profile")
	mustGrant(t, s, bob.ID, bobApp.ID, base, "profile")
	aliceCodeForBobApp := mustCreateCode(t, s, bobApp.ID, alice.ID)
	aliceFamily := models.NewID(base)
	aliceAccessForBobApp := mustCreateToken(t, s, models.AccessToken, bobApp.ID, alice.ID, aliceFamily)
	aliceRefreshForBobApp := mustCreateToken(t, s, models.RefreshToken, bobApp.ID, alice.ID, aliceFamily)
	bobCodeForBobApp := mustCreateCode(t, s, bobApp.ID, bob.ID)
	bobTokenForBobApp := mustCreateToken(t, s, models.AccessToken, bobApp.ID, bob.ID, models.NewID(base))
	bobAppOnlyToken := mustCreateToken(t, s, models.AccessToken, bobApp.ID, "", models.NewID(base))

	mustOK(t, "Users.Delete", s.Users.Delete(ctx, alice.ID))

	// Gone: Alice's beers, clients, consents, codes and tokens, and
	// everything anyone held through her client.
	_, err := s.Beers.Get(ctx, alice.ID, aliceBeer.ID)
	wantErr(t, "Beers.Get(alice's beer)", err, models.ErrNotFound)
	beers, _, err := s.Beers.List(ctx, alice.ID, models.Page{Limit: 100})
	mustOK(t, "Beers.List(alice)", err)
	if len(beers) != 0 {
		t.Errorf("len(Beers.List(alice)) = %d, want 0", len(beers))
	}
	_, err = s.Clients.Get(ctx, aliceApp.ID)
	wantErr(t, "Clients.Get(alice's app)", err, models.ErrNotFound)
	clients, err := s.Clients.List(ctx, alice.ID)
	mustOK(t, "Clients.List(alice)", err)
	if len(clients) != 0 {
		t.Errorf("len(Clients.List(alice)) = %d, want 0", len(clients))
	}
	consents, err := s.Consents.List(ctx, alice.ID)
	mustOK(t, "Consents.List(alice)", err)
	if len(consents) != 0 {
		t.Errorf("len(Consents.List(alice)) = %d, want 0", len(consents))
	}
	wantConsentGone(t, s, "alice's consent for bob's app", alice.ID, bobApp.ID)
	wantConsentGone(t, s, "bob's consent for alice's app", bob.ID, aliceApp.ID)
	wantTokenGone(t, s, "alice's access token for bob's app", aliceAccessForBobApp)
	wantTokenGone(t, s, "alice's refresh token for bob's app", aliceRefreshForBobApp)
	wantTokenGone(t, s, "bob's token for alice's app", bobTokenForAliceApp)
	wantTokenGone(t, s, "client_credentials token of alice's app", appOnlyToken)
	wantCodeGone(t, s, "alice's code for bob's app", aliceCodeForBobApp)
	wantCodeGone(t, s, "bob's code for alice's app", bobCodeForAliceApp)

	// Kept: Bob and everything of his that did not go through Alice.
	if _, err := s.Users.Get(ctx, bob.ID); err != nil {
		t.Errorf("Users.Get(bob) error = %v, want nil", err)
	}
	got, err := s.Beers.Get(ctx, bob.ID, bobBeer.ID)
	mustOK(t, "Beers.Get(bob's beer)", err)
	checkEqual(t, "Beers.Get(bob's beer)", normBeer(got), normBeer(bobBeer))
	gotApp, err := s.Clients.Get(ctx, bobApp.ID)
	mustOK(t, "Clients.Get(bob's app)", err)
	checkEqual(t, "Clients.Get(bob's app)", normClient(gotApp), normClient(bobApp))
	wantConsentKept(t, s, "bob's consent for his app", bob.ID, bobApp.ID)
	wantTokenKept(t, s, "bob's token for his app", bobTokenForBobApp)
	wantTokenKept(t, s, "client_credentials token of bob's app", bobAppOnlyToken)
	wantCodeKept(t, s, "bob's code for his app", bobCodeForBobApp)
}
