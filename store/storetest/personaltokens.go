package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"beerlocker/models"
)

var personalTokenTests = []test{
	{"CreateGetList", testPersonalTokenCreateGetList},
	{"GetExpiredOrUnknown", testPersonalTokenGetExpired},
	{"CreateRefusals", testPersonalTokenCreateRefusals},
	{"MaxPerUser", testPersonalTokenMaxPerUser},
	{"Delete", testPersonalTokenDelete},
	{"DeleteUser", testPersonalTokenDeleteUser},
	{"UserDeletionCascades", testPersonalTokenUserDeleted},
	{"TouchRecordsTheHour", testPersonalTokenTouch},
	{"DeleteExpired", testPersonalTokenDeleteExpired},
	{"CreateLimitRace", testPersonalTokenLimitRace},
}

const personalTokenLife = 30 * 24 * time.Hour

// newPersonalToken returns a token of the user, created at, not stored.
func newPersonalToken(userID, name string, at time.Time, scopes ...string) *models.PersonalToken {
	return &models.PersonalToken{ID: models.NewID(at), UserID: userID, Name: name, Hash: newHash(),
		Scopes: scopes, CreatedAt: at, ExpiresAt: at.Add(personalTokenLife)}
}

func mustCreatePersonalToken(t testing.TB, s *models.Store, userID, name string, at time.Time, scopes ...string) *models.PersonalToken {
	t.Helper()
	pt := newPersonalToken(userID, name, at, scopes...)
	mustOK(t, "PersonalTokens.Create("+name+")", s.PersonalTokens.Create(t.Context(), pt))
	return pt
}

func normPersonalToken(pt *models.PersonalToken) *models.PersonalToken {
	if pt == nil {
		return nil
	}
	c := *pt
	c.Scopes = orNil(c.Scopes)
	c.CreatedAt, c.ExpiresAt = ms(c.CreatedAt), ms(c.ExpiresAt)
	if !c.LastUsedAt.IsZero() {
		c.LastUsedAt = ms(c.LastUsedAt)
	}
	return &c
}

// wantPersonalTokens fails the test unless List returns want, in order.
func wantPersonalTokens(t testing.TB, s *models.Store, what, userID string, want ...*models.PersonalToken) {
	t.Helper()
	list, err := s.PersonalTokens.List(t.Context(), userID)
	if err != nil {
		t.Errorf("%s: PersonalTokens.List error = %v", what, err)
		return
	}
	if list == nil {
		t.Errorf("%s: PersonalTokens.List = nil, want a list", what)
	}
	got := make([]*models.PersonalToken, len(list))
	for i := range list {
		got[i] = normPersonalToken(list[i])
	}
	norm := make([]*models.PersonalToken, len(want))
	for i := range want {
		norm[i] = normPersonalToken(want[i])
	}
	checkEqual(t, what+": PersonalTokens.List", got, norm)
}

// wantPersonalTokenGone fails the test unless the token no longer works.
func wantPersonalTokenGone(t testing.TB, s *models.Store, what string, pt *models.PersonalToken) {
	t.Helper()
	_, err := s.PersonalTokens.GetByHash(t.Context(), pt.Hash, pt.CreatedAt)
	wantErr(t, what+": PersonalTokens.GetByHash", err, models.ErrNotFound)
}

// testPersonalTokenCreateGetList: a token comes back by its hash as it
// was stored, and a user's list holds exactly theirs, newest first.
func testPersonalTokenCreateGetList(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	bob := mustCreateUser(t, s, "bob")
	wantPersonalTokens(t, s, "before any token", alice.ID)
	older := mustCreatePersonalToken(t, s, alice.ID, "backup script", base.Add(123*time.Millisecond), "beers:read")
	newer := mustCreatePersonalToken(t, s, alice.ID, "CI ✓", base.Add(time.Hour), "profile", "beers:read", "beers:write", "clients")
	bobs := mustCreatePersonalToken(t, s, bob.ID, "bob's", base, "profile")

	got, err := s.PersonalTokens.GetByHash(ctx, newer.Hash, newer.CreatedAt)
	mustOK(t, "PersonalTokens.GetByHash", err)
	checkEqual(t, "PersonalTokens.GetByHash", normPersonalToken(got), normPersonalToken(newer))
	wantPersonalTokens(t, s, "alice", alice.ID, newer, older)
	wantPersonalTokens(t, s, "bob", bob.ID, bobs)
}

// testPersonalTokenGetExpired: a token works until its expiry, not at
// it; an unknown hash is no token.
func testPersonalTokenGetExpired(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	pt := mustCreatePersonalToken(t, s, alice.ID, "script", base, "profile")
	if _, err := s.PersonalTokens.GetByHash(ctx, pt.Hash, pt.ExpiresAt.Add(-time.Millisecond)); err != nil {
		t.Errorf("PersonalTokens.GetByHash just before expiry error = %v, want nil", err)
	}
	_, err := s.PersonalTokens.GetByHash(ctx, pt.Hash, pt.ExpiresAt)
	wantErr(t, "PersonalTokens.GetByHash at expiry", err, models.ErrNotFound)
	_, err = s.PersonalTokens.GetByHash(ctx, newHash(), base)
	wantErr(t, "PersonalTokens.GetByHash(unknown)", err, models.ErrNotFound)
	_, err = s.PersonalTokens.GetByHash(ctx, "", base)
	wantErr(t, `PersonalTokens.GetByHash("")`, err, models.ErrNotFound)
	// Listed until the sweep removes it.
	wantPersonalTokens(t, s, "expired", alice.ID, pt)
}

// testPersonalTokenCreateRefusals: a second token with a hash already
// stored is a conflict; a token of a user that does not exist is refused.
func testPersonalTokenCreateRefusals(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	bob := mustCreateUser(t, s, "bob")
	pt := mustCreatePersonalToken(t, s, alice.ID, "script", base, "profile")
	dup := newPersonalToken(bob.ID, "same hash", base, "clients")
	dup.Hash = pt.Hash
	wantErr(t, "PersonalTokens.Create(duplicate hash)", s.PersonalTokens.Create(ctx, dup), models.ErrConflict)
	got, err := s.PersonalTokens.GetByHash(ctx, pt.Hash, base)
	mustOK(t, "PersonalTokens.GetByHash after the conflict", err)
	checkEqual(t, "PersonalTokens.GetByHash after the conflict", normPersonalToken(got), normPersonalToken(pt))
	wantPersonalTokens(t, s, "bob after the conflict", bob.ID)

	ghost := newPersonalToken(models.NewID(base), "ghost's", base, "profile")
	wantErr(t, "PersonalTokens.Create(unknown user)", s.PersonalTokens.Create(ctx, ghost), models.ErrNotFound)
	_, err = s.PersonalTokens.GetByHash(ctx, ghost.Hash, base)
	wantErr(t, "PersonalTokens.GetByHash(refused token)", err, models.ErrNotFound)
}

// testPersonalTokenMaxPerUser: a user has at most
// MaxPersonalTokensPerUser tokens; another user is not affected, and
// deleting one makes room for one.
func testPersonalTokenMaxPerUser(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	bob := mustCreateUser(t, s, "bob")
	var all []*models.PersonalToken
	for i := range models.MaxPersonalTokensPerUser {
		all = append(all, mustCreatePersonalToken(t, s, alice.ID, fmt.Sprint("token ", i), base.Add(time.Duration(i)*time.Second), "profile"))
	}
	extra := newPersonalToken(alice.ID, "one too many", base.Add(time.Hour), "profile")
	wantErr(t, "PersonalTokens.Create over the limit", s.PersonalTokens.Create(ctx, extra), models.ErrConflict)
	_, err := s.PersonalTokens.GetByHash(ctx, extra.Hash, extra.CreatedAt)
	wantErr(t, "PersonalTokens.GetByHash(rejected token)", err, models.ErrNotFound)
	list, err := s.PersonalTokens.List(ctx, alice.ID)
	mustOK(t, "PersonalTokens.List", err)
	if len(list) != models.MaxPersonalTokensPerUser {
		t.Errorf("len(PersonalTokens.List) = %d, want %d", len(list), models.MaxPersonalTokensPerUser)
	}
	mustCreatePersonalToken(t, s, bob.ID, "bob's", base, "profile")

	mustOK(t, "PersonalTokens.Delete", s.PersonalTokens.Delete(ctx, alice.ID, all[0].ID))
	mustOK(t, "PersonalTokens.Create after Delete", s.PersonalTokens.Create(ctx, extra))
	again := newPersonalToken(alice.ID, "one too many again", base.Add(2*time.Hour), "profile")
	wantErr(t, "PersonalTokens.Create over the limit again", s.PersonalTokens.Create(ctx, again), models.ErrConflict)
}

// testPersonalTokenDelete: a user deletes their own token by its id; the
// id of another user's token, or of none, is ErrNotFound and deletes
// nothing.
func testPersonalTokenDelete(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	bob := mustCreateUser(t, s, "bob")
	gone := mustCreatePersonalToken(t, s, alice.ID, "old", base, "profile")
	kept := mustCreatePersonalToken(t, s, alice.ID, "kept", base.Add(time.Second), "profile")
	bobs := mustCreatePersonalToken(t, s, bob.ID, "bob's", base, "profile")

	wantErr(t, "PersonalTokens.Delete(another user's)", s.PersonalTokens.Delete(ctx, alice.ID, bobs.ID), models.ErrNotFound)
	wantErr(t, "PersonalTokens.Delete(unknown id)", s.PersonalTokens.Delete(ctx, alice.ID, models.NewID(base)), models.ErrNotFound)
	wantErr(t, `PersonalTokens.Delete("")`, s.PersonalTokens.Delete(ctx, alice.ID, ""), models.ErrNotFound)
	wantErr(t, `PersonalTokens.Delete(no user)`, s.PersonalTokens.Delete(ctx, "", gone.ID), models.ErrNotFound)
	mustOK(t, "PersonalTokens.Delete", s.PersonalTokens.Delete(ctx, alice.ID, gone.ID))
	wantErr(t, "PersonalTokens.Delete again", s.PersonalTokens.Delete(ctx, alice.ID, gone.ID), models.ErrNotFound)

	wantPersonalTokenGone(t, s, "deleted", gone)
	wantPersonalTokens(t, s, "alice", alice.ID, kept)
	wantPersonalTokens(t, s, "bob", bob.ID, bobs)
}

// testPersonalTokenDeleteUser: a password change ends every token of the
// user and none of anyone else's.
func testPersonalTokenDeleteUser(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	bob := mustCreateUser(t, s, "bob")
	a1 := mustCreatePersonalToken(t, s, alice.ID, "one", base, "profile")
	a2 := mustCreatePersonalToken(t, s, alice.ID, "two", base.Add(time.Second), "beers:read")
	bobs := mustCreatePersonalToken(t, s, bob.ID, "bob's", base, "profile")
	mustOK(t, "PersonalTokens.DeleteUser", s.PersonalTokens.DeleteUser(ctx, alice.ID))
	mustOK(t, "PersonalTokens.DeleteUser again", s.PersonalTokens.DeleteUser(ctx, alice.ID))
	wantPersonalTokenGone(t, s, "first of the user's", a1)
	wantPersonalTokenGone(t, s, "second of the user's", a2)
	wantPersonalTokens(t, s, "alice", alice.ID)
	wantPersonalTokens(t, s, "bob", bob.ID, bobs)
	// The user can make new ones.
	a3 := mustCreatePersonalToken(t, s, alice.ID, "three", base.Add(time.Minute), "profile")
	wantPersonalTokens(t, s, "alice after a new one", alice.ID, a3)
}

// testPersonalTokenUserDeleted: deleting the account deletes its tokens.
func testPersonalTokenUserDeleted(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	bob := mustCreateUser(t, s, "bob")
	pt := mustCreatePersonalToken(t, s, alice.ID, "script", base, "profile")
	bobs := mustCreatePersonalToken(t, s, bob.ID, "bob's", base, "profile")
	mustOK(t, "Users.Delete", s.Users.Delete(ctx, alice.ID))
	wantPersonalTokenGone(t, s, "the deleted user's", pt)
	wantPersonalTokens(t, s, "the deleted user", alice.ID)
	wantPersonalTokens(t, s, "bob", bob.ID, bobs)
	late := newPersonalToken(alice.ID, "too late", base.Add(time.Minute), "profile")
	wantErr(t, "PersonalTokens.Create(deleted user)", s.PersonalTokens.Create(ctx, late), models.ErrNotFound)
}

// testPersonalTokenTouch: Touch records the hour of a use, only ever
// forward, and changes nothing else and no other token.
func testPersonalTokenTouch(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	want := mustCreatePersonalToken(t, s, alice.ID, "script", base, "profile", "beers:read")
	other := mustCreatePersonalToken(t, s, alice.ID, "other", base.Add(-time.Second), "profile")
	first := base.Add(5*time.Hour + 23*time.Minute + 45*time.Second + 678*time.Millisecond)
	hour := first.Truncate(time.Hour)
	for _, step := range []struct {
		name string
		at   time.Time
		want time.Time
	}{
		{"first use", first, hour},
		{"same hour", first.Add(10 * time.Minute), hour},
		{"an earlier hour", base.Add(time.Hour), hour},
		{"a later hour", hour.Add(3*time.Hour + time.Minute), hour.Add(3 * time.Hour)},
	} {
		mustOK(t, "PersonalTokens.Touch("+step.name+")", s.PersonalTokens.Touch(ctx, want.Hash, step.at))
		want.LastUsedAt = step.want
		got, err := s.PersonalTokens.GetByHash(ctx, want.Hash, base)
		mustOK(t, "PersonalTokens.GetByHash after "+step.name, err)
		checkEqual(t, "after "+step.name, normPersonalToken(got), normPersonalToken(want))
	}
	wantPersonalTokens(t, s, "after the touches", alice.ID, want, other)
	mustOK(t, "PersonalTokens.Touch(unknown)", s.PersonalTokens.Touch(ctx, newHash(), first))
	mustOK(t, "PersonalTokens.Delete", s.PersonalTokens.Delete(ctx, alice.ID, want.ID))
	mustOK(t, "PersonalTokens.Touch(deleted)", s.PersonalTokens.Touch(ctx, want.Hash, first.Add(5*time.Hour)))
	wantPersonalTokenGone(t, s, "touched after its deletion", want)
}

// testPersonalTokenDeleteExpired: the sweep removes the tokens that
// expired before now, counts them, and leaves the rest.
func testPersonalTokenDeleteExpired(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	old1 := mustCreatePersonalToken(t, s, alice.ID, "old one", base, "profile")
	old2 := mustCreatePersonalToken(t, s, alice.ID, "old two", base.Add(time.Second), "profile")
	live := mustCreatePersonalToken(t, s, alice.ID, "live", base.Add(time.Hour), "profile")
	now := old2.ExpiresAt.Add(time.Millisecond)
	n, err := s.PersonalTokens.DeleteExpired(ctx, now)
	mustOK(t, "PersonalTokens.DeleteExpired", err)
	if n != 2 {
		t.Errorf("PersonalTokens.DeleteExpired = %d, want 2", n)
	}
	wantPersonalTokens(t, s, "after the sweep", alice.ID, live)
	wantPersonalTokenGone(t, s, "swept", old1)
	if _, err := s.PersonalTokens.GetByHash(ctx, live.Hash, now); err != nil {
		t.Errorf("PersonalTokens.GetByHash(live) after the sweep error = %v, want nil", err)
	}
	n, err = s.PersonalTokens.DeleteExpired(ctx, now)
	mustOK(t, "PersonalTokens.DeleteExpired again", err)
	if n != 0 {
		t.Errorf("PersonalTokens.DeleteExpired again = %d, want 0", n)
	}
}

// testPersonalTokenLimitRace: creates racing for the last free places
// never pass the limit together.
func testPersonalTokenLimitRace(t *testing.T, s *models.Store) {
	const racers, free = 6, 2
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	for i := range models.MaxPersonalTokensPerUser - free {
		mustCreatePersonalToken(t, s, alice.ID, fmt.Sprint("token ", i), base.Add(time.Duration(i)*time.Second), "profile")
	}
	var wg sync.WaitGroup
	errs := make([]error, racers)
	start := make(chan struct{})
	for i := range racers {
		wg.Go(func() {
			<-start
			errs[i] = s.PersonalTokens.Create(ctx, newPersonalToken(alice.ID, fmt.Sprint("racer ", i), base.Add(time.Hour), "profile"))
		})
	}
	close(start)
	wg.Wait()
	created := 0
	for i, err := range errs {
		switch {
		case err == nil:
			created++
		case !errors.Is(err, models.ErrConflict):
			t.Errorf("racer %d: PersonalTokens.Create error = %v, want nil or ErrConflict", i, err)
		}
	}
	if created != free {
		t.Errorf("%d of %d racers created a token for %d free places", created, racers, free)
	}
	list, err := s.PersonalTokens.List(ctx, alice.ID)
	mustOK(t, "PersonalTokens.List", err)
	if len(list) != models.MaxPersonalTokensPerUser {
		t.Errorf("len(PersonalTokens.List) = %d after the race, want %d", len(list), models.MaxPersonalTokensPerUser)
	}
}
