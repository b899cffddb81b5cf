package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"beerlocker/models"
)

var sessionTests = []test{
	{"CreateAndGet", testSessionCreateAndGet},
	{"CreateDuplicateIsConflict", testSessionCreateDuplicate},
	{"GetUnknownOrExpiredIsNotFound", testSessionGetUnknown},
	{"DeleteEndsOneSession", testSessionDelete},
	{"DeleteUserEndsEverySessionOfTheUser", testSessionDeleteUser},
	{"UserDeleteEndsSessions", testSessionUserDelete},
	{"ParkAndTake", testSessionParkAndTake},
	{"TakeTwiceIsConflict", testSessionTakeTwice},
	{"TakeRefusesOtherSessionKindOrExpired", testSessionTakeRefused},
	{"ParkKeepsTheNewest", testSessionParkKeepsNewest},
	{"ParkDuplicateIsConflict", testSessionParkDuplicate},
	{"DeleteExpired", testSessionDeleteExpired},
}

// pendingLife is the fixtures' pending consents' lifetime: the consent
// page's.
const pendingLife = 10 * time.Minute

// newSession returns a session of the user starting at at, not yet stored.
func newSession(userID string, at time.Time) *models.Session {
	return &models.Session{Hash: newHash(), UserID: userID, CreatedAt: at, ExpiresAt: at.Add(models.SessionLifetime)}
}

// mustCreateSession creates a session of the user, starting at base.
func mustCreateSession(t testing.TB, s *models.Store, userID string) *models.Session {
	t.Helper()
	ss := newSession(userID, base)
	mustOK(t, "Sessions.Create", s.Sessions.Create(t.Context(), ss))
	return ss
}

// newPending returns a pending consent of the session parked at at.
func newPending(sessionHash, kind string, at time.Time) *models.PendingConsent {
	return &models.PendingConsent{TxHash: newHash(), SessionHash: sessionHash, Kind: kind,
		Request: `{"c":"blci_x","s":["profile"],"st":"` + newHash() + `"}`, CreatedAt: at, ExpiresAt: at.Add(pendingLife)}
}

// mustPark parks a pending consent of kind in the session at base.
func mustPark(t testing.TB, s *models.Store, sessionHash, kind string) *models.PendingConsent {
	t.Helper()
	p := newPending(sessionHash, kind, base)
	mustOK(t, "Sessions.Park", s.Sessions.Park(t.Context(), p))
	return p
}

func normSession(ss *models.Session) *models.Session {
	if ss == nil {
		return nil
	}
	c := *ss
	c.CreatedAt, c.ExpiresAt = ms(c.CreatedAt), ms(c.ExpiresAt)
	return &c
}

func normPending(p *models.PendingConsent) *models.PendingConsent {
	if p == nil {
		return nil
	}
	c := *p
	c.CreatedAt, c.ExpiresAt = ms(c.CreatedAt), ms(c.ExpiresAt)
	return &c
}

// wantSessionGone fails the test unless the session is gone at now,
// inside its lifetime.
func wantSessionGone(t testing.TB, s *models.Store, what string, ss *models.Session) {
	t.Helper()
	got, err := s.Sessions.Get(t.Context(), ss.Hash, now)
	wantErr(t, what+": Sessions.Get", err, models.ErrNotFound)
	if got != nil {
		t.Errorf("%s: Sessions.Get = %+v, want none", what, got)
	}
}

// wantSessionKept fails the test unless the session is there.
func wantSessionKept(t testing.TB, s *models.Store, what string, ss *models.Session) {
	t.Helper()
	if _, err := s.Sessions.Get(t.Context(), ss.Hash, now); err != nil {
		t.Errorf("%s: Sessions.Get error = %v, want nil", what, err)
	}
}

func testSessionCreateAndGet(t *testing.T, s *models.Store) {
	alice := mustCreateUser(t, s, "alice")
	// The instant round-trips whatever zone it was given in.
	ss := newSession(alice.ID, base.Add(1234*time.Millisecond).In(time.FixedZone("UTC+2", 2*60*60)))
	mustOK(t, "Sessions.Create", s.Sessions.Create(t.Context(), ss))
	other := mustCreateSession(t, s, alice.ID)
	got, err := s.Sessions.Get(t.Context(), ss.Hash, now)
	mustOK(t, "Sessions.Get", err)
	checkEqual(t, "Sessions.Get", normSession(got), normSession(ss))
	got, err = s.Sessions.Get(t.Context(), other.Hash, now)
	mustOK(t, "Sessions.Get(other)", err)
	checkEqual(t, "Sessions.Get(other)", normSession(got), normSession(other))
}

func testSessionCreateDuplicate(t *testing.T, s *models.Store) {
	alice := mustCreateUser(t, s, "alice")
	bob := mustCreateUser(t, s, "bob")
	ss := mustCreateSession(t, s, alice.ID)
	dup := newSession(bob.ID, base)
	dup.Hash = ss.Hash
	wantErr(t, "Sessions.Create(duplicate)", s.Sessions.Create(t.Context(), dup), models.ErrConflict)
	got, err := s.Sessions.Get(t.Context(), ss.Hash, now)
	mustOK(t, "Sessions.Get", err)
	if got.UserID != alice.ID {
		t.Errorf("the session belongs to %s after a duplicate Create, want alice %s", got.UserID, alice.ID)
	}
}

func testSessionGetUnknown(t *testing.T, s *models.Store) {
	alice := mustCreateUser(t, s, "alice")
	ss := mustCreateSession(t, s, alice.ID)
	for _, tc := range []struct {
		name string
		hash string
		at   time.Time
	}{
		{"unknown", newHash(), now},
		{"empty hash", "", now},
		{"at its expiry", ss.Hash, ss.ExpiresAt},
		{"after its expiry", ss.Hash, ss.ExpiresAt.Add(time.Millisecond)},
	} {
		_, err := s.Sessions.Get(t.Context(), tc.hash, tc.at)
		wantErr(t, "Sessions.Get("+tc.name+")", err, models.ErrNotFound)
	}
	// A millisecond before it ends it is still there.
	_, err := s.Sessions.Get(t.Context(), ss.Hash, ss.ExpiresAt.Add(-time.Millisecond))
	mustOK(t, "Sessions.Get just before the expiry", err)
}

func testSessionDelete(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	ended := mustCreateSession(t, s, alice.ID)
	kept := mustCreateSession(t, s, alice.ID)
	endedPage := mustPark(t, s, ended.Hash, "authorize")
	keptPage := mustPark(t, s, kept.Hash, "authorize")

	mustOK(t, "Sessions.Delete", s.Sessions.Delete(ctx, ended.Hash))
	wantSessionGone(t, s, "after Delete", ended)
	_, err := s.Sessions.Take(ctx, ended.Hash, endedPage.TxHash, "authorize", now)
	wantErr(t, "Sessions.Take(a page of the deleted session)", err, models.ErrNotFound)
	// Again, and an unknown session: not an error.
	mustOK(t, "Sessions.Delete again", s.Sessions.Delete(ctx, ended.Hash))
	mustOK(t, "Sessions.Delete(unknown)", s.Sessions.Delete(ctx, newHash()))

	wantSessionKept(t, s, "the user's other session", kept)
	_, err = s.Sessions.Take(ctx, kept.Hash, keptPage.TxHash, "authorize", now)
	mustOK(t, "Sessions.Take(a page of the other session)", err)
}

func testSessionDeleteUser(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	bob := mustCreateUser(t, s, "bob")
	a1, a2 := mustCreateSession(t, s, alice.ID), mustCreateSession(t, s, alice.ID)
	b1 := mustCreateSession(t, s, bob.ID)
	a1Page := mustPark(t, s, a1.Hash, "device")
	b1Page := mustPark(t, s, b1.Hash, "device")

	mustOK(t, "Sessions.DeleteUser(alice)", s.Sessions.DeleteUser(ctx, alice.ID))
	wantSessionGone(t, s, "alice's first session", a1)
	wantSessionGone(t, s, "alice's second session", a2)
	_, err := s.Sessions.Take(ctx, a1.Hash, a1Page.TxHash, "device", now)
	wantErr(t, "Sessions.Take(a page of alice's session)", err, models.ErrNotFound)
	mustOK(t, "Sessions.DeleteUser(alice) again", s.Sessions.DeleteUser(ctx, alice.ID))

	wantSessionKept(t, s, "bob's session", b1)
	_, err = s.Sessions.Take(ctx, b1.Hash, b1Page.TxHash, "device", now)
	mustOK(t, "Sessions.Take(a page of bob's session)", err)
	// alice signs in again.
	wantSessionKept(t, s, "alice's new session", mustCreateSession(t, s, alice.ID))
}

func testSessionUserDelete(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	bob := mustCreateUser(t, s, "bob")
	as, bs := mustCreateSession(t, s, alice.ID), mustCreateSession(t, s, bob.ID)
	page := mustPark(t, s, as.Hash, "authorize")
	mustOK(t, "Users.Delete(alice)", s.Users.Delete(ctx, alice.ID))
	wantSessionGone(t, s, "alice's session after her account went", as)
	_, err := s.Sessions.Take(ctx, as.Hash, page.TxHash, "authorize", now)
	wantErr(t, "Sessions.Take(a page of alice's session)", err, models.ErrNotFound)
	wantSessionKept(t, s, "bob's session", bs)
}

func testSessionParkAndTake(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	ss := mustCreateSession(t, s, alice.ID)
	p := newPending(ss.Hash, "authorize", base.Add(1234*time.Millisecond).In(time.FixedZone("UTC-5", -5*60*60)))
	mustOK(t, "Sessions.Park", s.Sessions.Park(ctx, p))
	other := mustPark(t, s, ss.Hash, "device")

	got, err := s.Sessions.Take(ctx, ss.Hash, p.TxHash, "authorize", now)
	mustOK(t, "Sessions.Take", err)
	checkEqual(t, "Sessions.Take", normPending(got), normPending(p))
	got, err = s.Sessions.Take(ctx, ss.Hash, other.TxHash, "device", now)
	mustOK(t, "Sessions.Take(other)", err)
	checkEqual(t, "Sessions.Take(other)", normPending(got), normPending(other))
	// Just before it expires it can still be taken.
	late := mustPark(t, s, ss.Hash, "authorize")
	_, err = s.Sessions.Take(ctx, ss.Hash, late.TxHash, "authorize", late.ExpiresAt.Add(-time.Millisecond))
	mustOK(t, "Sessions.Take just before the expiry", err)
}

func testSessionTakeTwice(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	ss := mustCreateSession(t, s, alice.ID)
	p := mustPark(t, s, ss.Hash, "authorize")
	_, err := s.Sessions.Take(ctx, ss.Hash, p.TxHash, "authorize", now)
	mustOK(t, "Sessions.Take", err)
	for _, at := range []time.Time{now, p.ExpiresAt.Add(time.Second)} {
		got, err := s.Sessions.Take(ctx, ss.Hash, p.TxHash, "authorize", at)
		wantErr(t, fmt.Sprintf("Sessions.Take again at %v", at.Sub(base)), err, models.ErrConflict)
		if got != nil {
			t.Errorf("Sessions.Take again = %+v, want none", got)
		}
	}
}

func testSessionTakeRefused(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	ss := mustCreateSession(t, s, alice.ID)
	other := mustCreateSession(t, s, alice.ID)
	p := mustPark(t, s, ss.Hash, "authorize")
	for _, tc := range []struct {
		name, session, tx, kind string
		at                      time.Time
	}{
		{"of another session", other.Hash, p.TxHash, "authorize", now},
		{"of no session", "", p.TxHash, "authorize", now},
		{"of another kind", ss.Hash, p.TxHash, "device", now},
		{"unknown", ss.Hash, newHash(), "authorize", now},
		{"empty", ss.Hash, "", "authorize", now},
		{"at its expiry", ss.Hash, p.TxHash, "authorize", p.ExpiresAt},
		{"after its expiry", ss.Hash, p.TxHash, "authorize", p.ExpiresAt.Add(time.Second)},
	} {
		got, err := s.Sessions.Take(ctx, tc.session, tc.tx, tc.kind, tc.at)
		wantErr(t, "Sessions.Take("+tc.name+")", err, models.ErrNotFound)
		if got != nil {
			t.Errorf("Sessions.Take(%s) = %+v, want none", tc.name, got)
		}
	}
	// None of the refusals used it up.
	_, err := s.Sessions.Take(ctx, ss.Hash, p.TxHash, "authorize", now)
	mustOK(t, "Sessions.Take after the refusals", err)
}

func testSessionParkKeepsNewest(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	ss := mustCreateSession(t, s, alice.ID)
	other := mustCreateSession(t, s, alice.ID)
	otherPage := mustPark(t, s, other.Hash, "authorize")
	const extra = 2
	pages := make([]*models.PendingConsent, models.MaxPendingConsents+extra)
	for i := range pages {
		pages[i] = newPending(ss.Hash, "authorize", base.Add(time.Duration(i)*time.Second))
		mustOK(t, fmt.Sprintf("Sessions.Park #%d", i), s.Sessions.Park(ctx, pages[i]))
	}
	for i, p := range pages {
		_, err := s.Sessions.Take(ctx, ss.Hash, p.TxHash, "authorize", now)
		if i < extra {
			wantErr(t, fmt.Sprintf("Sessions.Take(#%d, beyond the newest %d)", i, models.MaxPendingConsents), err, models.ErrNotFound)
		} else if err != nil {
			t.Errorf("Sessions.Take(#%d) error = %v, want nil", i, err)
		}
	}
	// Another session's page is not counted against this one.
	_, err := s.Sessions.Take(ctx, other.Hash, otherPage.TxHash, "authorize", now)
	mustOK(t, "Sessions.Take(the other session's page)", err)
}

func testSessionParkDuplicate(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	ss := mustCreateSession(t, s, alice.ID)
	p := mustPark(t, s, ss.Hash, "authorize")
	dup := newPending(ss.Hash, "device", base)
	dup.TxHash = p.TxHash
	wantErr(t, "Sessions.Park(duplicate)", s.Sessions.Park(ctx, dup), models.ErrConflict)
	got, err := s.Sessions.Take(ctx, ss.Hash, p.TxHash, "authorize", now)
	mustOK(t, "Sessions.Take", err)
	checkEqual(t, "Sessions.Take after a duplicate Park", normPending(got), normPending(p))
}

func testSessionDeleteExpired(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	sweep := base.Add(time.Hour)
	// Gone at the sweep: a session that ended, and a page that expired
	// in a session that lives on.
	ended := &models.Session{Hash: newHash(), UserID: alice.ID, CreatedAt: base, ExpiresAt: sweep.Add(-time.Second)}
	mustOK(t, "Sessions.Create(ended)", s.Sessions.Create(ctx, ended))
	live := &models.Session{Hash: newHash(), UserID: alice.ID, CreatedAt: base, ExpiresAt: sweep.Add(time.Hour)}
	mustOK(t, "Sessions.Create(live)", s.Sessions.Create(ctx, live))
	stale := mustPark(t, s, live.Hash, "authorize") // expires at base+10m
	fresh := newPending(live.Hash, "authorize", sweep.Add(-time.Minute))
	mustOK(t, "Sessions.Park(fresh)", s.Sessions.Park(ctx, fresh))

	n, err := s.Sessions.DeleteExpired(ctx, sweep)
	mustOK(t, "Sessions.DeleteExpired", err)
	if n != 2 {
		t.Errorf("Sessions.DeleteExpired = %d, want 2", n)
	}
	// Expired, so Get would hide it anyway: Get before the expiry shows
	// the row is gone.
	_, err = s.Sessions.Get(ctx, ended.Hash, base)
	wantErr(t, "Sessions.Get(ended) after the sweep, read as of before its end", err, models.ErrNotFound)
	_, err = s.Sessions.Take(ctx, live.Hash, stale.TxHash, "authorize", base)
	wantErr(t, "Sessions.Take(stale) after the sweep, read as of before its expiry", err, models.ErrNotFound)
	if _, err := s.Sessions.Get(ctx, live.Hash, sweep); err != nil {
		t.Errorf("Sessions.Get(live) after the sweep error = %v, want nil", err)
	}
	if _, err := s.Sessions.Take(ctx, live.Hash, fresh.TxHash, "authorize", sweep); err != nil {
		t.Errorf("Sessions.Take(fresh) after the sweep error = %v, want nil", err)
	}
	n, err = s.Sessions.DeleteExpired(ctx, sweep)
	mustOK(t, "Sessions.DeleteExpired again", err)
	if n != 0 {
		t.Errorf("Sessions.DeleteExpired again = %d, want 0", n)
	}
}

// testTakeRace is "Allow pressed in two tabs, or replayed while the first
// is in flight": concurrent decisions of one consent page, exactly one of
// which is taken, over bulkTrials fresh pages.
func testTakeRace(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	sessions := make([]*models.Session, bulkTrials)
	pages := make([]*models.PendingConsent, bulkTrials)
	got := make([][]*models.PendingConsent, bulkTrials)
	ty := newTally(t, "Sessions.Take")
	bulkRace(t, bulkRacers, func(trial int) error {
		sessions[trial] = newSession(alice.ID, base)
		pages[trial] = newPending(sessions[trial].Hash, "authorize", base)
		got[trial] = make([]*models.PendingConsent, bulkRacers)
		if err := s.Sessions.Create(ctx, sessions[trial]); err != nil {
			return err
		}
		return s.Sessions.Park(ctx, pages[trial])
	}, func(trial, i int) error {
		var err error
		got[trial][i], err = s.Sessions.Take(ctx, sessions[trial].Hash, pages[trial].TxHash, "authorize", now)
		return err
	}, func(trial int, errs []error) {
		if w := ty.winner(trial, errs); w >= 0 {
			if g, want := normPending(got[trial][w]), normPending(pages[trial]); !equal(g, want) {
				ty.errorf(trial, "winner's consent = %+v, want %+v", g, want)
			}
		}
		if _, err := s.Sessions.Take(ctx, sessions[trial].Hash, pages[trial].TxHash, "authorize", now); !errors.Is(err, models.ErrConflict) {
			ty.errorf(trial, "Sessions.Take after the race error = %v, want %v", err, models.ErrConflict)
		}
	}, func(lo, hi int) error {
		_, err := s.Sessions.DeleteExpired(ctx, base.Add(models.SessionLifetime+time.Second))
		return err
	})
	ty.done(bulkRacers)
}
