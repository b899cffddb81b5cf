package storetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"beerlocker/models"
)

var deviceTests = []test{
	{"CreateAndGetByUserCode", testDeviceCreateAndGet},
	{"GetByUserCodeUnknownOrExpiredIsNotFound", testDeviceGetUnknown},
	{"UserCodeCollision", testDeviceUserCodeCollision},
	{"Decide", testDeviceDecide},
	{"DecideNarrowsScopes", testDeviceDecideNarrows},
	{"DecideRecordsGrantEnd", testDeviceDecideGrantEnd},
	{"DecideTwice", testDeviceDecideTwice},
	{"DecideUnknownOrExpiredIsNotFound", testDeviceDecideUnknown},
	{"PollRecordsAndSlowsDown", testDevicePoll},
	{"PollForgivesJitter", testDevicePollJitter},
	{"PollOtherClientIsNotFound", testDevicePollOtherClient},
	{"PollExpiredOrUsedIsNotRecorded", testDevicePollExpired},
	{"Redeem", testDeviceRedeem},
	{"RedeemRefusesUndecidedDeniedExpired", testDeviceRedeemRefused},
	{"UsedThenExpiredIsConflict", testDeviceUsedThenExpired},
	{"DeleteExpired", testDeviceDeleteExpired},
	{"DeleteCascades", testDeviceDeleteCascades},
	{"DeleteUserEndsApprovedCodes", testDeviceDeleteUser},
	{"RedeemRace", testDeviceRedeemRace},
	{"DecideRace", testDeviceDecideRace},
}

// Fixtures of device codes: RFC 8628's example lifetime and interval.
const (
	deviceLife     = 600 * time.Second
	deviceInterval = 5 * time.Second
)

func normDevice(dc *models.DeviceCode) *models.DeviceCode {
	if dc == nil {
		return nil
	}
	c := *dc
	c.Scopes = orNil(c.Scopes)
	c.CreatedAt, c.ExpiresAt = ms(c.CreatedAt), ms(c.ExpiresAt)
	if !c.LastPollAt.IsZero() {
		c.LastPollAt = ms(c.LastPollAt)
	}
	if !c.AuthTime.IsZero() {
		c.AuthTime = ms(c.AuthTime)
	}
	if !c.GrantEndsAt.IsZero() {
		c.GrantEndsAt = ms(c.GrantEndsAt)
	}
	return &c
}

// newDevice returns a pending device code of the client, valid from at for
// deviceLife, not yet stored.
func newDevice(clientID string, at time.Time) *models.DeviceCode {
	return &models.DeviceCode{
		Hash:         newHash(),
		UserCodeHash: newHash(),
		ClientID:     clientID,
		Scopes:       []string{"profile", "beers:read"},
		Status:       models.DevicePending,
		Interval:     deviceInterval,
		CreatedAt:    at,
		ExpiresAt:    at.Add(deviceLife),
	}
}

// mustCreateDevice creates a pending device code of the client, valid
// from base for deviceLife.
func mustCreateDevice(t testing.TB, s *models.Store, clientID string) *models.DeviceCode {
	t.Helper()
	dc := newDevice(clientID, base)
	mustOK(t, "DeviceCodes.Create", s.DeviceCodes.Create(t.Context(), dc))
	return dc
}

// wantDevice fails the test unless the stored code, found by its user
// code, has the status and user.
func wantDevice(t testing.TB, s *models.Store, what string, dc *models.DeviceCode, status models.DeviceStatus, userID string) {
	t.Helper()
	got, err := s.DeviceCodes.GetByUserCode(t.Context(), dc.UserCodeHash, now)
	if err != nil {
		t.Errorf("%s: DeviceCodes.GetByUserCode error = %v", what, err)
		return
	}
	if got.Status != status || got.UserID != userID {
		t.Errorf("%s: status, user = %s, %q, want %s, %q", what, got.Status, got.UserID, status, userID)
	}
}

func testDeviceCreateAndGet(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	app := mustCreateClient(t, s, alice.ID, "App", base)
	created := base.Add(1234 * time.Millisecond)
	dc := newDevice(app.ID, created)
	dc.Scopes = []string{"beers:write", "profile"}
	dc.Audience = models.AudienceMCP // RFC 8707
	mustOK(t, "DeviceCodes.Create", s.DeviceCodes.Create(ctx, dc))
	for i := range 2 {
		got, err := s.DeviceCodes.GetByUserCode(ctx, dc.UserCodeHash, now)
		mustOK(t, fmt.Sprintf("DeviceCodes.GetByUserCode #%d", i+1), err)
		checkEqual(t, "DeviceCodes.GetByUserCode", normDevice(got), normDevice(dc))
	}
	// Without scopes.
	bare := newDevice(app.ID, created)
	bare.Scopes = nil
	mustOK(t, "DeviceCodes.Create(no scopes)", s.DeviceCodes.Create(ctx, bare))
	got, err := s.DeviceCodes.GetByUserCode(ctx, bare.UserCodeHash, now)
	mustOK(t, "DeviceCodes.GetByUserCode(no scopes)", err)
	checkEqual(t, "DeviceCodes.GetByUserCode(no scopes)", normDevice(got), normDevice(bare))
	// The same device code twice is a conflict.
	again := newDevice(app.ID, created)
	again.Hash = dc.Hash
	wantErr(t, "DeviceCodes.Create(same hash)", s.DeviceCodes.Create(ctx, again), models.ErrConflict)
}

func testDeviceGetUnknown(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	app := mustCreateClient(t, s, alice.ID, "App", base)
	dc := mustCreateDevice(t, s, app.ID)
	wantErr(t, "DeviceCodes.GetByUserCode(unknown)", errOnly(s.DeviceCodes.GetByUserCode(ctx, newHash(), now)), models.ErrNotFound)
	wantErr(t, "DeviceCodes.GetByUserCode(its device code hash)", errOnly(s.DeviceCodes.GetByUserCode(ctx, dc.Hash, now)), models.ErrNotFound)
	wantErr(t, "DeviceCodes.GetByUserCode(at expiry)", errOnly(s.DeviceCodes.GetByUserCode(ctx, dc.UserCodeHash, dc.ExpiresAt)), models.ErrNotFound)
	_, err := s.DeviceCodes.GetByUserCode(ctx, dc.UserCodeHash, dc.ExpiresAt.Add(-time.Millisecond))
	mustOK(t, "DeviceCodes.GetByUserCode(just before expiry)", err)
}

// testDeviceUserCodeCollision checks that a user code is unique among live
// codes, and that an expired code gives its user code up.
func testDeviceUserCodeCollision(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	app := mustCreateClient(t, s, alice.ID, "App", base)
	old := mustCreateDevice(t, s, app.ID)

	clash := newDevice(app.ID, now)
	clash.UserCodeHash = old.UserCodeHash
	wantErr(t, "DeviceCodes.Create(live user code)", s.DeviceCodes.Create(ctx, clash), models.ErrConflict)
	got, err := s.DeviceCodes.GetByUserCode(ctx, old.UserCodeHash, now)
	mustOK(t, "DeviceCodes.GetByUserCode after the conflict", err)
	if got.Hash != old.Hash {
		t.Errorf("the conflict replaced the live code: hash = %s, want %s", got.Hash, old.Hash)
	}

	later := old.ExpiresAt.Add(time.Second)
	reuse := newDevice(app.ID, later)
	reuse.UserCodeHash = old.UserCodeHash
	mustOK(t, "DeviceCodes.Create(expired user code)", s.DeviceCodes.Create(ctx, reuse))
	got, err = s.DeviceCodes.GetByUserCode(ctx, old.UserCodeHash, later)
	mustOK(t, "DeviceCodes.GetByUserCode(reused user code)", err)
	if got.Hash != reuse.Hash {
		t.Errorf("GetByUserCode(reused user code): hash = %s, want the new code's %s", got.Hash, reuse.Hash)
	}
}

func testDeviceDecide(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	bob := mustCreateUser(t, s, "bob")
	app := mustCreateClient(t, s, alice.ID, "App", base)
	yes := newDevice(app.ID, base)
	yes.Audience = models.AudienceAPI | models.AudienceMCP
	mustOK(t, "DeviceCodes.Create", s.DeviceCodes.Create(ctx, yes))
	no := mustCreateDevice(t, s, app.ID)
	wantDevice(t, s, "before Decide", yes, models.DevicePending, "")

	signedIn := now.Add(-42*time.Minute + 7*time.Millisecond) // when alice last entered her password
	mustOK(t, "DeviceCodes.Decide(approve)", s.DeviceCodes.Decide(ctx, yes.Hash, models.DeviceDecision{UserID: alice.ID, Status: models.DeviceApproved, AuthTime: signedIn}, now))
	mustOK(t, "DeviceCodes.Decide(deny)", s.DeviceCodes.Decide(ctx, no.Hash, models.DeviceDecision{UserID: bob.ID, Status: models.DeviceDenied}, now))
	wantDevice(t, s, "approved", yes, models.DeviceApproved, alice.ID)
	wantDevice(t, s, "denied", no, models.DeviceDenied, bob.ID)

	got, _, err := s.DeviceCodes.Poll(ctx, yes.Hash, app.ID, now)
	mustOK(t, "DeviceCodes.Poll(approved)", err)
	if got.Status != models.DeviceApproved || got.UserID != alice.ID || got.Used {
		t.Errorf("Poll(approved) = %s %q used=%v, want approved by alice, unused", got.Status, got.UserID, got.Used)
	}
	if !got.AuthTime.Equal(signedIn) {
		t.Errorf("Poll(approved) AuthTime = %v, want %v", got.AuthTime, signedIn)
	}
	byUser, err := s.DeviceCodes.GetByUserCode(ctx, yes.UserCodeHash, now)
	mustOK(t, "DeviceCodes.GetByUserCode(approved)", err)
	if !byUser.AuthTime.Equal(signedIn) {
		t.Errorf("GetByUserCode(approved) AuthTime = %v, want %v", byUser.AuthTime, signedIn)
	}
	redeemed, err := s.DeviceCodes.Redeem(ctx, yes.Hash, app.ID, now)
	mustOK(t, "DeviceCodes.Redeem(approved)", err)
	if !redeemed.AuthTime.Equal(signedIn) {
		t.Errorf("Redeem(approved) AuthTime = %v, want %v", redeemed.AuthTime, signedIn)
	}
	for what, a := range map[string]models.Audience{"Poll": got.Audience, "GetByUserCode": byUser.Audience, "Redeem": redeemed.Audience} {
		if a != yes.Audience {
			t.Errorf("%s(approved) Audience = %v, want %v", what, a, yes.Audience)
		}
	}
	got, _, err = s.DeviceCodes.Poll(ctx, no.Hash, app.ID, now)
	mustOK(t, "DeviceCodes.Poll(denied)", err)
	if got.Status != models.DeviceDenied || !got.AuthTime.IsZero() {
		t.Errorf("Poll(denied) status, AuthTime = %s, %v; want denied with none given", got.Status, got.AuthTime)
	}

	if err := s.DeviceCodes.Decide(ctx, mustCreateDevice(t, s, app.ID).Hash, models.DeviceDecision{UserID: alice.ID, Status: models.DevicePending}, now); err == nil {
		t.Error("DeviceCodes.Decide(pending) error = nil, want an error")
	}
}

// testDeviceDecideNarrows: the scopes the user left ticked replace the
// requested ones, for the poll and the redemption alike; a decision
// without scopes keeps the requested ones.
func testDeviceDecideNarrows(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	app := mustCreateClient(t, s, alice.ID, "App", base)
	narrowed := mustCreateDevice(t, s, app.ID) // asks for profile beers:read
	kept := mustCreateDevice(t, s, app.ID)
	mustOK(t, "DeviceCodes.Decide(narrowed)", s.DeviceCodes.Decide(ctx, narrowed.Hash,
		models.DeviceDecision{UserID: alice.ID, Status: models.DeviceApproved, Scopes: []string{"beers:read"}}, now))
	mustOK(t, "DeviceCodes.Decide(kept)", s.DeviceCodes.Decide(ctx, kept.Hash,
		models.DeviceDecision{UserID: alice.ID, Status: models.DeviceApproved}, now))
	polled, _, err := s.DeviceCodes.Poll(ctx, narrowed.Hash, app.ID, now)
	mustOK(t, "DeviceCodes.Poll", err)
	checkEqual(t, "Poll scopes", polled.Scopes, []string{"beers:read"})
	redeemed, err := s.DeviceCodes.Redeem(ctx, narrowed.Hash, app.ID, now)
	mustOK(t, "DeviceCodes.Redeem", err)
	checkEqual(t, "Redeem scopes", redeemed.Scopes, []string{"beers:read"})
	redeemed, err = s.DeviceCodes.Redeem(ctx, kept.Hash, app.ID, now)
	mustOK(t, "DeviceCodes.Redeem(kept)", err)
	checkEqual(t, "Redeem(kept) scopes", slices.Sorted(slices.Values(redeemed.Scopes)), slices.Sorted(slices.Values(kept.Scopes)))
}

// testDeviceDecideGrantEnd: the end the user chose for the grant (API.md
// §11) is recorded by Decide and read back by GetByUserCode, Poll and
// Redeem; a decision without one leaves it zero, as it is while pending.
func testDeviceDecideGrantEnd(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	app := mustCreateClient(t, s, alice.ID, "App", base)
	ends := now.Add(7*24*time.Hour + 654*time.Millisecond)
	bounded, unbounded := mustCreateDevice(t, s, app.ID), mustCreateDevice(t, s, app.ID)
	read := func(what string, dc *models.DeviceCode, redeem bool) map[string]time.Time {
		t.Helper()
		byUser, err := s.DeviceCodes.GetByUserCode(ctx, dc.UserCodeHash, now)
		mustOK(t, "DeviceCodes.GetByUserCode("+what+")", err)
		polled, _, err := s.DeviceCodes.Poll(ctx, dc.Hash, app.ID, now)
		mustOK(t, "DeviceCodes.Poll("+what+")", err)
		got := map[string]time.Time{"GetByUserCode": byUser.GrantEndsAt, "Poll": polled.GrantEndsAt}
		if redeem {
			redeemed, err := s.DeviceCodes.Redeem(ctx, dc.Hash, app.ID, now)
			mustOK(t, "DeviceCodes.Redeem("+what+")", err)
			got["Redeem"] = redeemed.GrantEndsAt
		}
		return got
	}
	for op, got := range read("pending", bounded, false) {
		if !got.IsZero() {
			t.Errorf("%s(pending) GrantEndsAt = %v, want zero", op, got)
		}
	}

	mustOK(t, "DeviceCodes.Decide(with an end)", s.DeviceCodes.Decide(ctx, bounded.Hash,
		models.DeviceDecision{UserID: alice.ID, Status: models.DeviceApproved, GrantEndsAt: ends}, now))
	mustOK(t, "DeviceCodes.Decide(until revoked)", s.DeviceCodes.Decide(ctx, unbounded.Hash,
		models.DeviceDecision{UserID: alice.ID, Status: models.DeviceApproved}, now))
	for op, got := range read("with an end", bounded, true) {
		if !sameTime(got, ends) {
			t.Errorf("%s(with an end) GrantEndsAt = %v, want %v", op, got, ends)
		}
	}
	for op, got := range read("until revoked", unbounded, true) {
		if !got.IsZero() {
			t.Errorf("%s(until revoked) GrantEndsAt = %v, want zero", op, got)
		}
	}
}

func testDeviceDecideTwice(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	app := mustCreateClient(t, s, alice.ID, "App", base)
	for _, first := range []models.DeviceStatus{models.DeviceApproved, models.DeviceDenied} {
		dc := mustCreateDevice(t, s, app.ID)
		mustOK(t, "DeviceCodes.Decide", s.DeviceCodes.Decide(ctx, dc.Hash, models.DeviceDecision{UserID: alice.ID, Status: first}, now))
		for _, second := range []models.DeviceStatus{models.DeviceApproved, models.DeviceDenied} {
			what := fmt.Sprintf("DeviceCodes.Decide(%s after %s)", second, first)
			wantErr(t, what, s.DeviceCodes.Decide(ctx, dc.Hash, models.DeviceDecision{UserID: alice.ID, Status: second}, now), models.ErrConflict)
		}
		wantDevice(t, s, "after deciding twice", dc, first, alice.ID)
	}
}

func testDeviceDecideUnknown(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	app := mustCreateClient(t, s, alice.ID, "App", base)
	dc := mustCreateDevice(t, s, app.ID)
	wantErr(t, "DeviceCodes.Decide(unknown)", s.DeviceCodes.Decide(ctx, newHash(), models.DeviceDecision{UserID: alice.ID, Status: models.DeviceApproved}, now), models.ErrNotFound)
	wantErr(t, "DeviceCodes.Decide(expired)", s.DeviceCodes.Decide(ctx, dc.Hash, models.DeviceDecision{UserID: alice.ID, Status: models.DeviceApproved}, dc.ExpiresAt), models.ErrNotFound)
	wantDevice(t, s, "after refused decisions", dc, models.DevicePending, "")
}

func testDevicePoll(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	app := mustCreateClient(t, s, alice.ID, "App", base)
	dc := mustCreateDevice(t, s, app.ID)

	steps := []struct {
		after        time.Duration // since the previous poll
		tooSoon      bool
		wantInterval time.Duration
	}{
		{0, false, deviceInterval},            // the first poll is never too soon
		{time.Second, true, 10 * time.Second}, // slow_down: +5 s
		{6 * time.Second, true, 15 * time.Second},
		{15 * time.Second, false, 15 * time.Second}, // the interval stays grown
		{15 * time.Second, false, 15 * time.Second},
	}
	at := now
	for i, st := range steps {
		at = at.Add(st.after)
		got, tooSoon, err := s.DeviceCodes.Poll(ctx, dc.Hash, app.ID, at)
		what := fmt.Sprintf("poll %d (+%v)", i+1, st.after)
		mustOK(t, what, err)
		if tooSoon != st.tooSoon || got.Interval != st.wantInterval {
			t.Errorf("%s: tooSoon, interval = %v, %v, want %v, %v", what, tooSoon, got.Interval, st.tooSoon, st.wantInterval)
		}
		if !sameTime(got.LastPollAt, at) || got.Status != models.DevicePending || got.Used {
			t.Errorf("%s: got %+v, want a pending code last polled at %v", what, got, at)
		}
	}
	// The poll state is kept: the next reader sees it.
	got, err := s.DeviceCodes.GetByUserCode(ctx, dc.UserCodeHash, at)
	mustOK(t, "DeviceCodes.GetByUserCode after polls", err)
	if !sameTime(got.LastPollAt, at) || got.Interval != 15*time.Second {
		t.Errorf("GetByUserCode after polls: last poll %v, interval %v, want %v, 15s", got.LastPollAt, got.Interval, at)
	}
}

// testDevicePollJitter checks the leeway of DeviceCode.PollTooSoon: a poll
// a little sooner than the interval is forgiven, a much sooner one is not.
func testDevicePollJitter(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	app := mustCreateClient(t, s, alice.ID, "App", base)
	dc := mustCreateDevice(t, s, app.ID)
	at := now
	for i, st := range []struct {
		after   time.Duration
		tooSoon bool
	}{{0, false}, {4500 * time.Millisecond, false}, {4 * time.Second, false}, {3900 * time.Millisecond, true}} {
		at = at.Add(st.after)
		_, tooSoon, err := s.DeviceCodes.Poll(ctx, dc.Hash, app.ID, at)
		mustOK(t, "DeviceCodes.Poll", err)
		if tooSoon != st.tooSoon {
			t.Errorf("poll %d (+%v): tooSoon = %v, want %v", i+1, st.after, tooSoon, st.tooSoon)
		}
	}
}

func testDevicePollOtherClient(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	app := mustCreateClient(t, s, alice.ID, "App", base)
	other := mustCreateClient(t, s, alice.ID, "Other", base)
	dc := mustCreateDevice(t, s, app.ID)
	wantErr(t, "DeviceCodes.Poll(another client's)", errOnly3(s.DeviceCodes.Poll(ctx, dc.Hash, other.ID, now)), models.ErrNotFound)
	wantErr(t, "DeviceCodes.Poll(unknown)", errOnly3(s.DeviceCodes.Poll(ctx, newHash(), app.ID, now)), models.ErrNotFound)
	// The other client's attempt was not recorded as a poll.
	_, tooSoon, err := s.DeviceCodes.Poll(ctx, dc.Hash, app.ID, now)
	mustOK(t, "DeviceCodes.Poll", err)
	if tooSoon {
		t.Error("the first poll of the owning client was too soon: another client's poll counted")
	}
}

func testDevicePollExpired(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	app := mustCreateClient(t, s, alice.ID, "App", base)

	dc := mustCreateDevice(t, s, app.ID)
	for i := range 3 {
		got, tooSoon, err := s.DeviceCodes.Poll(ctx, dc.Hash, app.ID, dc.ExpiresAt)
		mustOK(t, fmt.Sprintf("DeviceCodes.Poll(expired) #%d", i+1), err)
		if tooSoon || !got.Expired(dc.ExpiresAt) || !got.LastPollAt.IsZero() {
			t.Errorf("Poll(expired) #%d = %+v, tooSoon %v; want the code as it was, expired", i+1, got, tooSoon)
		}
	}

	used := mustCreateDevice(t, s, app.ID)
	mustOK(t, "DeviceCodes.Decide", s.DeviceCodes.Decide(ctx, used.Hash, models.DeviceDecision{UserID: alice.ID, Status: models.DeviceApproved}, now))
	_, err := s.DeviceCodes.Redeem(ctx, used.Hash, app.ID, now)
	mustOK(t, "DeviceCodes.Redeem", err)
	for i := range 2 {
		got, tooSoon, err := s.DeviceCodes.Poll(ctx, used.Hash, app.ID, now)
		mustOK(t, fmt.Sprintf("DeviceCodes.Poll(used) #%d", i+1), err)
		if tooSoon || !got.Used || got.Status != models.DeviceApproved {
			t.Errorf("Poll(used) #%d = %+v, tooSoon %v; want used, approved, not too soon", i+1, got, tooSoon)
		}
	}
}

func testDeviceRedeem(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	app := mustCreateClient(t, s, alice.ID, "App", base)
	other := mustCreateClient(t, s, alice.ID, "Other", base)
	dc := mustCreateDevice(t, s, app.ID)
	mustOK(t, "DeviceCodes.Decide", s.DeviceCodes.Decide(ctx, dc.Hash, models.DeviceDecision{UserID: alice.ID, Status: models.DeviceApproved}, now))

	wantErr(t, "DeviceCodes.Redeem(another client's)", errOnly(s.DeviceCodes.Redeem(ctx, dc.Hash, other.ID, now)), models.ErrNotFound)
	got, err := s.DeviceCodes.Redeem(ctx, dc.Hash, app.ID, now)
	mustOK(t, "DeviceCodes.Redeem", err)
	want := *dc
	want.Status, want.UserID, want.Used = models.DeviceApproved, alice.ID, true
	got.LastPollAt = time.Time{} // not part of the comparison
	checkEqual(t, "DeviceCodes.Redeem", normDevice(got), normDevice(&want))

	wantErr(t, "DeviceCodes.Redeem(again)", errOnly(s.DeviceCodes.Redeem(ctx, dc.Hash, app.ID, now)), models.ErrConflict)
	wantErr(t, "DeviceCodes.Redeem(again, expired)", errOnly(s.DeviceCodes.Redeem(ctx, dc.Hash, app.ID, dc.ExpiresAt)), models.ErrConflict)
	wantErr(t, "DeviceCodes.Decide(redeemed)", s.DeviceCodes.Decide(ctx, dc.Hash, models.DeviceDecision{UserID: alice.ID, Status: models.DeviceDenied}, now), models.ErrConflict)
}

func testDeviceRedeemRefused(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	app := mustCreateClient(t, s, alice.ID, "App", base)

	pending := mustCreateDevice(t, s, app.ID)
	wantErr(t, "DeviceCodes.Redeem(pending)", errOnly(s.DeviceCodes.Redeem(ctx, pending.Hash, app.ID, now)), models.ErrNotFound)

	denied := mustCreateDevice(t, s, app.ID)
	mustOK(t, "DeviceCodes.Decide", s.DeviceCodes.Decide(ctx, denied.Hash, models.DeviceDecision{UserID: alice.ID, Status: models.DeviceDenied}, now))
	wantErr(t, "DeviceCodes.Redeem(denied)", errOnly(s.DeviceCodes.Redeem(ctx, denied.Hash, app.ID, now)), models.ErrNotFound)

	expired := mustCreateDevice(t, s, app.ID)
	mustOK(t, "DeviceCodes.Decide", s.DeviceCodes.Decide(ctx, expired.Hash, models.DeviceDecision{UserID: alice.ID, Status: models.DeviceApproved}, now))
	wantErr(t, "DeviceCodes.Redeem(expired)", errOnly(s.DeviceCodes.Redeem(ctx, expired.Hash, app.ID, expired.ExpiresAt)), models.ErrNotFound)

	wantErr(t, "DeviceCodes.Redeem(unknown)", errOnly(s.DeviceCodes.Redeem(ctx, newHash(), app.ID, now)), models.ErrNotFound)

	// None of the refusals used a code up: the approved one still redeems.
	_, err := s.DeviceCodes.Redeem(ctx, expired.Hash, app.ID, now)
	mustOK(t, "DeviceCodes.Redeem(approved, before expiry)", err)
}

// testDeviceUsedThenExpired: a redeemed code that has since expired is
// still used, for as long as the store keeps it: Redeem answers
// ErrConflict, and Poll returns it Used, which the token endpoint reports
// before it looks at the expiry. An approved code that expired unredeemed
// is ErrNotFound to Redeem and merely expired to Poll; once the sweep has
// removed the redeemed one, it is unknown.
func testDeviceUsedThenExpired(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	app := mustCreateClient(t, s, alice.ID, "App", base)
	used, unused := mustCreateDevice(t, s, app.ID), mustCreateDevice(t, s, app.ID)
	for _, dc := range []*models.DeviceCode{used, unused} {
		mustOK(t, "DeviceCodes.Decide", s.DeviceCodes.Decide(ctx, dc.Hash, models.DeviceDecision{UserID: alice.ID, Status: models.DeviceApproved}, now))
	}
	_, err := s.DeviceCodes.Redeem(ctx, used.Hash, app.ID, now)
	mustOK(t, "DeviceCodes.Redeem", err)

	for _, after := range replayAfters {
		at := used.ExpiresAt.Add(after)
		wantErr(t, fmt.Sprintf("DeviceCodes.Redeem(used, expiry+%v)", after),
			errOnly(s.DeviceCodes.Redeem(ctx, used.Hash, app.ID, at)), models.ErrConflict)
		got, tooSoon, err := s.DeviceCodes.Poll(ctx, used.Hash, app.ID, at)
		if err != nil || !got.Used || tooSoon {
			t.Errorf("DeviceCodes.Poll(used, expiry+%v) = %+v, %v, %v; want the code, used", after, got, tooSoon, err)
		}
		wantErr(t, fmt.Sprintf("DeviceCodes.Redeem(unused, expiry+%v)", after),
			errOnly(s.DeviceCodes.Redeem(ctx, unused.Hash, app.ID, at)), models.ErrNotFound)
		got, _, err = s.DeviceCodes.Poll(ctx, unused.Hash, app.ID, at)
		if err != nil || got.Used || !got.Expired(at) {
			t.Errorf("DeviceCodes.Poll(unused, expiry+%v) = %+v, %v; want the code, expired and unused", after, got, err)
		}
	}

	swept := used.ExpiresAt.Add(replayAfters[len(replayAfters)-1])
	n, err := s.DeviceCodes.DeleteExpired(ctx, swept)
	mustOK(t, "DeviceCodes.DeleteExpired", err)
	if n != 2 {
		t.Errorf("DeviceCodes.DeleteExpired = %d, want 2", n)
	}
	wantErr(t, "DeviceCodes.Redeem(used, swept)", errOnly(s.DeviceCodes.Redeem(ctx, used.Hash, app.ID, swept)), models.ErrNotFound)
	wantErr(t, "DeviceCodes.Poll(used, swept)", errOnly3(s.DeviceCodes.Poll(ctx, used.Hash, app.ID, swept)), models.ErrNotFound)
}

func testDeviceDeleteExpired(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	app := mustCreateClient(t, s, alice.ID, "App", base)
	early := newDevice(app.ID, base.Add(-deviceLife)) // expires at base
	mustOK(t, "DeviceCodes.Create(early)", s.DeviceCodes.Create(ctx, early))
	_, _, err := s.DeviceCodes.Poll(ctx, early.Hash, app.ID, base.Add(-time.Second))
	mustOK(t, "DeviceCodes.Poll(early)", err)
	kept := mustCreateDevice(t, s, app.ID)

	n, err := s.DeviceCodes.DeleteExpired(ctx, base.Add(time.Millisecond))
	mustOK(t, "DeviceCodes.DeleteExpired", err)
	if n != 1 {
		t.Errorf("DeviceCodes.DeleteExpired = %d, want 1", n)
	}
	wantErr(t, "DeviceCodes.Poll(deleted)", errOnly3(s.DeviceCodes.Poll(ctx, early.Hash, app.ID, base.Add(-time.Second))), models.ErrNotFound)
	if _, err := s.DeviceCodes.GetByUserCode(ctx, kept.UserCodeHash, now); err != nil {
		t.Errorf("DeviceCodes.GetByUserCode(unexpired) error = %v, want nil", err)
	}
	n, err = s.DeviceCodes.DeleteExpired(ctx, base.Add(time.Millisecond))
	mustOK(t, "DeviceCodes.DeleteExpired(again)", err)
	if n != 0 {
		t.Errorf("DeviceCodes.DeleteExpired(again) = %d, want 0", n)
	}
}

// testDeviceDeleteCascades checks that deleting a client removes its
// device codes, deleting a user the codes they decided, and revoking an
// app (Consents.Delete) the codes the user decided for it.
func testDeviceDeleteCascades(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	bob := mustCreateUser(t, s, "bob")
	app := mustCreateClient(t, s, alice.ID, "App", base)
	keep := mustCreateClient(t, s, alice.ID, "Keep", base)

	ofApp := mustCreateDevice(t, s, app.ID)
	ofBob := mustCreateDevice(t, s, keep.ID)
	mustOK(t, "DeviceCodes.Decide", s.DeviceCodes.Decide(ctx, ofBob.Hash, models.DeviceDecision{UserID: bob.ID, Status: models.DeviceApproved}, now))
	kept := mustCreateDevice(t, s, keep.ID)
	ofAlice := mustCreateDevice(t, s, keep.ID)
	mustOK(t, "DeviceCodes.Decide", s.DeviceCodes.Decide(ctx, ofAlice.Hash, models.DeviceDecision{UserID: alice.ID, Status: models.DeviceApproved}, now))
	mustGrant(t, s, alice.ID, keep.ID, now, "profile")

	mustOK(t, "Consents.Delete", s.Consents.Delete(ctx, alice.ID, keep.ID))
	wantErr(t, "DeviceCodes.Redeem(revoked app's)", errOnly(s.DeviceCodes.Redeem(ctx, ofAlice.Hash, keep.ID, now)), models.ErrNotFound)
	mustOK(t, "Clients.Delete", s.Clients.Delete(ctx, alice.ID, app.ID))
	wantErr(t, "DeviceCodes.GetByUserCode(deleted client's)", errOnly(s.DeviceCodes.GetByUserCode(ctx, ofApp.UserCodeHash, now)), models.ErrNotFound)
	mustOK(t, "Users.Delete", s.Users.Delete(ctx, bob.ID))
	wantErr(t, "DeviceCodes.Redeem(deleted user's)", errOnly(s.DeviceCodes.Redeem(ctx, ofBob.Hash, keep.ID, now)), models.ErrNotFound)
	wantDevice(t, s, "another client's code", kept, models.DevicePending, "")
}

// wantDeviceGone fails the test unless the code is gone for its client:
// Poll and Redeem both answer ErrNotFound, as for a code never issued, so
// the device gets no tokens from it.
func wantDeviceGone(t testing.TB, s *models.Store, what string, dc *models.DeviceCode) {
	t.Helper()
	ctx := t.Context()
	if got, _, err := s.DeviceCodes.Poll(ctx, dc.Hash, dc.ClientID, now); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("%s: DeviceCodes.Poll = %+v, %v, want %v", what, got, err, models.ErrNotFound)
	}
	if got, err := s.DeviceCodes.Redeem(ctx, dc.Hash, dc.ClientID, now); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("%s: DeviceCodes.Redeem = %+v, %v, want %v", what, got, err, models.ErrNotFound)
	}
}

// testDeviceDeleteUser is what a password change asks of device codes:
// every code the user decided goes, approved, denied or already redeemed,
// so a device approved before the change gets no tokens after it. Other
// users' codes, and pending codes nobody decided, stay.
func testDeviceDeleteUser(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	bob := mustCreateUser(t, s, "bob")
	app := mustCreateClient(t, s, alice.ID, "App", base)
	other := mustCreateClient(t, s, bob.ID, "Other", base)
	decided := func(clientID, userID string, st models.DeviceStatus) *models.DeviceCode {
		dc := mustCreateDevice(t, s, clientID)
		mustOK(t, "DeviceCodes.Decide", s.DeviceCodes.Decide(ctx, dc.Hash, models.DeviceDecision{UserID: userID, Status: st}, now))
		return dc
	}
	aliceApproved := decided(app.ID, alice.ID, models.DeviceApproved)
	aliceOther := decided(other.ID, alice.ID, models.DeviceApproved)
	aliceDenied := decided(app.ID, alice.ID, models.DeviceDenied)
	aliceRedeemed := decided(app.ID, alice.ID, models.DeviceApproved)
	_, err := s.DeviceCodes.Redeem(ctx, aliceRedeemed.Hash, app.ID, now)
	mustOK(t, "DeviceCodes.Redeem", err)
	bobApproved := decided(app.ID, bob.ID, models.DeviceApproved)
	pending := mustCreateDevice(t, s, app.ID)

	mustOK(t, "DeviceCodes.DeleteUser(alice)", s.DeviceCodes.DeleteUser(ctx, alice.ID))

	wantDeviceGone(t, s, "alice's approved code", aliceApproved)
	wantDeviceGone(t, s, "alice's approved code for another client", aliceOther)
	wantDeviceGone(t, s, "alice's denied code", aliceDenied)
	wantDeviceGone(t, s, "alice's redeemed code", aliceRedeemed)
	wantErr(t, "DeviceCodes.GetByUserCode(alice's approved code)",
		errOnly(s.DeviceCodes.GetByUserCode(ctx, aliceApproved.UserCodeHash, now)), models.ErrNotFound)

	wantDevice(t, s, "bob's approved code", bobApproved, models.DeviceApproved, bob.ID)
	got, err := s.DeviceCodes.Redeem(ctx, bobApproved.Hash, app.ID, now)
	mustOK(t, "DeviceCodes.Redeem(bob's approved code)", err)
	if got.UserID != bob.ID || !got.Used {
		t.Errorf("DeviceCodes.Redeem(bob's approved code) = %+v, want bob's used code", got)
	}
	wantDevice(t, s, "the pending code", pending, models.DevicePending, "")
	mustOK(t, "DeviceCodes.Decide(the pending code)", s.DeviceCodes.Decide(ctx, pending.Hash, models.DeviceDecision{UserID: alice.ID, Status: models.DeviceApproved}, now))

	mustOK(t, "DeviceCodes.DeleteUser(bob, who has no codes left)", s.DeviceCodes.DeleteUser(ctx, bob.ID))
	mustOK(t, "DeviceCodes.DeleteUser(unknown user)", s.DeviceCodes.DeleteUser(ctx, models.NewID(base)))
}

// testDeviceRedeemRace is "two polls after approval, exactly one gets
// tokens": raceN concurrent redemptions of one approved code, of which
// exactly one wins, repeated on fresh codes.
func testDeviceRedeemRace(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	app := mustCreateClient(t, s, alice.ID, "App", base)
	for trial := range raceTrials {
		dc := mustCreateDevice(t, s, app.ID)
		mustOK(t, "DeviceCodes.Decide", s.DeviceCodes.Decide(ctx, dc.Hash, models.DeviceDecision{UserID: alice.ID, Status: models.DeviceApproved}, now))
		got := make([]*models.DeviceCode, raceN)
		errs := race(raceN, func(i int) error {
			var err error
			got[i], err = s.DeviceCodes.Redeem(ctx, dc.Hash, app.ID, now)
			return err
		})
		what := fmt.Sprintf("trial %d: DeviceCodes.Redeem", trial)
		if w := oneWinner(t, what, errs); w >= 0 && (got[w].UserID != alice.ID || !got[w].Used) {
			t.Errorf("%s: winner got %+v, want alice's used code", what, got[w])
		}
		wantErr(t, what+" after the race", errOnly(s.DeviceCodes.Redeem(ctx, dc.Hash, app.ID, now)), models.ErrConflict)
	}
}

// testDeviceDecideRace runs concurrent Allow and Deny decisions on one code,
// as two open tabs make, alongside polls of the device: exactly one
// decision is recorded, it is the one that was told it won, and no poll
// undoes it.
func testDeviceDecideRace(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	app := mustCreateClient(t, s, alice.ID, "App", base)
	const deciders = raceN / 2
	for trial := range raceTrials {
		dc := mustCreateDevice(t, s, app.ID)
		status := func(i int) models.DeviceStatus {
			if i%2 == 0 {
				return models.DeviceApproved
			}
			return models.DeviceDenied
		}
		errs := race(raceN, func(i int) error {
			if i >= deciders {
				_, _, err := s.DeviceCodes.Poll(ctx, dc.Hash, app.ID, now.Add(time.Duration(i)*time.Millisecond))
				if err != nil {
					return fmt.Errorf("poll: %w", err)
				}
				return errPolled
			}
			return s.DeviceCodes.Decide(ctx, dc.Hash, models.DeviceDecision{UserID: alice.ID, Status: status(i)}, now)
		})
		what := fmt.Sprintf("trial %d: DeviceCodes.Decide", trial)
		for i := deciders; i < raceN; i++ {
			if !errors.Is(errs[i], errPolled) {
				t.Errorf("%s: goroutine %d: %v", what, i, errs[i])
			}
		}
		if w := oneWinner(t, what, errs[:deciders]); w >= 0 {
			wantDevice(t, s, what+": after the race", dc, status(w), alice.ID)
		}
	}
}

// errPolled marks a racing poll that succeeded.
var errPolled = errors.New("polled")

// errOnly3 drops the values of a (value, value, error) triple.
func errOnly3[A, B any](_ A, _ B, err error) error { return err }
