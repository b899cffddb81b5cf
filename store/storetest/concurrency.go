package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"beerlocker/models"
)

var concurrencyTests = []test{
	{"CreateUserRace", testCreateUserRace},
	{"ConsumeRace", testConsumeRace},
	{"RotateRace", testRotateRace},
	{"GrantRace", testGrantRace},
	{"TouchRace", testTouchRace},
	{"TouchGrantRace", testTouchGrantRace},
	{"TakeRace", testTakeRace},
	{"SigningKeyCreateRace", testSigningKeyCreateRace},
}

// Each race is bulkTrials trials on fresh objects, bulkRacers goroutines
// racing on each object, all released at once. A thousand rounds of a few
// goroutines one after the other would spend most of their time starting
// and checking, so the trials run bulkBatch at a time: the goroutines of a
// batch race each other on their own objects while the server is busy with
// the rest. The batch is small on purpose: FerretDB v1 on SQLite gets
// slower, not faster, the more concurrent writers it has (1000 rotation
// trials took 8.5 s in batches of 1, 9 s of 5 and 18 s of 25), and what
// decides a trial is the goroutines that race on one object.
const (
	bulkTrials = 1000
	bulkRacers = 2
	bulkBatch  = 4
	// bulkUserRacers goroutines register one name, each in a different case.
	bulkUserRacers = 3
	// setupWorkers bounds the goroutines that create fixtures and check
	// results: that part is not a race, so it need not hit the server at once.
	setupWorkers = 16
	// maxReports bounds how many failed trials are described one by one;
	// the summary still counts every trial.
	maxReports = 10
)

// The sequential form, for races that need a fixture of their own per
// trial that is costly to make in bulk: raceTrials rounds of raceN
// goroutines released together (see race and oneWinner).
const (
	raceTrials = 20
	raceN      = 16
)

// race runs f(0..n-1) in n goroutines released at once and returns their errors.
func race(n int, f func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = f(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// oneWinner checks that exactly one of errs is nil and all the others are
// ErrConflict, and returns the winner's index (or -1).
func oneWinner(t testing.TB, what string, errs []error) int {
	t.Helper()
	winner, wins := -1, 0
	for i, err := range errs {
		switch {
		case err == nil:
			winner = i
			wins++
		case !errors.Is(err, models.ErrConflict):
			t.Errorf("%s: goroutine %d error = %v, want nil or %v", what, i, err, models.ErrConflict)
		}
	}
	if wins != 1 {
		t.Errorf("%s: %d of %d calls succeeded, want exactly 1", what, wins, len(errs))
	}
	return winner
}

// bulkRace runs bulkTrials trials of racers goroutines, bulkBatch trials at
// a time. For each batch, setup(trial) makes each trial's fixture; then
// every goroutine of the batch is released at once, goroutine i of a trial
// running race(trial, i); then check(trial, errs) checks each trial, and
// cleanup(lo, hi), if not nil, removes the batch's objects. The cleanup
// keeps collections small, because FerretDB v1 answers any filter but a
// lone _id by scanning the whole collection: left to grow, a thousand
// trials would cost a thousand times a thousand documents read. setup and
// check run on setupWorkers goroutines; they must not call t.Fatal.
func bulkRace(t *testing.T, racers int, setup func(trial int) error, race func(trial, i int) error,
	check func(trial int, errs []error), cleanup func(lo, hi int) error) {
	t.Helper()
	for lo := 0; lo < bulkTrials; lo += bulkBatch {
		hi := min(lo+bulkBatch, bulkTrials)
		mustOK(t, "set up the trials", parallel(hi-lo, func(k int) error { return setup(lo + k) }))
		errs := make([][]error, hi-lo)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for k := range errs {
			errs[k] = make([]error, racers)
			for i := range racers {
				wg.Go(func() {
					<-start
					errs[k][i] = race(lo+k, i)
				})
			}
		}
		close(start)
		wg.Wait()
		mustOK(t, "check the trials", parallel(hi-lo, func(k int) error { check(lo+k, errs[k]); return nil }))
		if cleanup != nil {
			mustOK(t, "clean up the trials", cleanup(lo, hi))
		}
	}
}

// parallel runs f(0..n-1) on setupWorkers goroutines and returns the
// first error. Fixtures are made with it, since t.Fatal may not be called
// outside the test's goroutine.
func parallel(n int, f func(i int) error) error {
	errs := make([]error, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for range setupWorkers {
		wg.Go(func() {
			for i := range next {
				errs[i] = f(i)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return errors.Join(errs...)
}

// tally counts the trials of a race with exactly one winner and reports
// the first few that had not, so that a broken store fails with a
// readable log rather than a thousand lines.
type tally struct {
	t        testing.TB
	what     string
	mu       sync.Mutex
	trials   int
	oneWin   int
	failures int
}

func newTally(t testing.TB, what string) *tally { return &tally{t: t, what: what} }

// errorf reports one failure of a trial.
func (ty *tally) errorf(trial int, format string, args ...any) {
	ty.t.Helper()
	ty.mu.Lock()
	defer ty.mu.Unlock()
	ty.failures++
	if ty.failures <= maxReports {
		ty.t.Errorf("%s: trial %d: %s", ty.what, trial, fmt.Sprintf(format, args...))
	}
}

// winner checks that exactly one of errs is nil and all the others are
// ErrConflict, counts the trial, and returns the winner's index (or -1).
func (ty *tally) winner(trial int, errs []error) int {
	ty.t.Helper()
	winner, wins := -1, 0
	for i, err := range errs {
		switch {
		case err == nil:
			winner = i
			wins++
		case !errors.Is(err, models.ErrConflict):
			ty.errorf(trial, "goroutine %d error = %v, want nil or %v", i, err, models.ErrConflict)
		}
	}
	ty.mu.Lock()
	ty.trials++
	if wins == 1 {
		ty.oneWin++
	}
	ty.mu.Unlock()
	if wins != 1 {
		ty.errorf(trial, "%d of %d calls succeeded, want exactly 1", wins, len(errs))
		return -1
	}
	return winner
}

// done logs the counts: the figure the suite exists to produce.
func (ty *tally) done(goroutines int) {
	ty.t.Helper()
	ty.t.Logf("%s: %d trials of %d goroutines, %d with exactly one winner, %d failures",
		ty.what, ty.trials, goroutines, ty.oneWin, ty.failures)
	ty.summarize()
}

// summarize fails the test with the count of failures not shown.
func (ty *tally) summarize() {
	ty.t.Helper()
	if ty.failures > maxReports {
		ty.t.Errorf("%s: %d failures in all, the first %d shown", ty.what, ty.failures, maxReports)
	}
}

// caseVariant spells name with the letters chosen by the bits of mask in
// upper case, so that variants differ only in case.
func caseVariant(name string, mask int) string {
	var b strings.Builder
	bit := 0
	for _, r := range name {
		if 'a' <= r && r <= 'z' {
			if mask&(1<<bit) != 0 {
				r -= 'a' - 'A'
			}
			bit++
		}
		b.WriteRune(r)
	}
	return b.String()
}

func testCreateUserRace(t *testing.T, s *models.Store) {
	ctx := t.Context()
	users := make([][]*models.User, bulkTrials)
	ty := newTally(t, "Users.Create")
	bulkRace(t, bulkUserRacers, func(trial int) error {
		name := fmt.Sprintf("racer-%04d", trial)
		users[trial] = make([]*models.User, bulkUserRacers)
		for i := range bulkUserRacers {
			users[trial][i] = &models.User{
				ID:           models.NewID(base),
				Username:     caseVariant(name, i),
				PasswordHash: newHash(),
				CreatedAt:    base,
				UpdatedAt:    base,
			}
		}
		return nil
	}, func(trial, i int) error {
		return s.Users.Create(ctx, users[trial][i])
	}, func(trial int, errs []error) {
		w := ty.winner(trial, errs)
		if w < 0 {
			return
		}
		// Exactly the winner exists. (By id: on FerretDB a lookup by
		// name scans the collection, so only every 50th trial does it.)
		for i, u := range users[trial] {
			_, err := s.Users.Get(ctx, u.ID)
			if i == w && err != nil {
				ty.errorf(trial, "Users.Get(winner %d) error = %v, want nil", i, err)
			} else if i != w && !errors.Is(err, models.ErrNotFound) {
				ty.errorf(trial, "Users.Get(loser %d) error = %v, want %v", i, err, models.ErrNotFound)
			}
		}
		if trial%50 != 0 {
			return
		}
		name := users[trial][0].Username
		got, err := s.Users.GetByUsername(ctx, name)
		if err != nil {
			ty.errorf(trial, "Users.GetByUsername(%q) error = %v, want nil", name, err)
		} else if want := users[trial][w]; got.ID != want.ID || got.Username != want.Username {
			ty.errorf(trial, "Users.GetByUsername = %s %q, want the winner %s %q", got.ID, got.Username, want.ID, want.Username)
		}
	}, nil)
	ty.done(bulkUserRacers)
}

func testConsumeRace(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	app := mustCreateClient(t, s, alice.ID, "App", base)
	codes := make([]*models.Code, bulkTrials)
	got := make([][]*models.Code, bulkTrials)
	ty := newTally(t, "Codes.Consume")
	bulkRace(t, bulkRacers, func(trial int) error {
		codes[trial] = newCode(app.ID, alice.ID)
		got[trial] = make([]*models.Code, bulkRacers)
		return s.Codes.Create(ctx, codes[trial])
	}, func(trial, i int) error {
		var err error
		got[trial][i], err = s.Codes.Consume(ctx, codes[trial].Hash, now)
		return err
	}, func(trial int, errs []error) {
		if w := ty.winner(trial, errs); w >= 0 {
			if g, want := normCode(got[trial][w]), normCode(codes[trial]); !equal(g, want) {
				ty.errorf(trial, "winner's code = %+v, want %+v", g, want)
			}
		}
		if _, err := s.Codes.Consume(ctx, codes[trial].Hash, now); !errors.Is(err, models.ErrConflict) {
			ty.errorf(trial, "Codes.Consume after the race error = %v, want %v", err, models.ErrConflict)
		}
	}, func(lo, hi int) error {
		_, err := s.Codes.DeleteExpired(ctx, base.Add(codeLife+time.Second))
		return err
	})
	ty.done(bulkRacers)
}

func testRotateRace(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	app := mustCreateClient(t, s, alice.ID, "App", base)
	tokens := make([]*models.Token, bulkTrials)
	ty := newTally(t, "Tokens.Rotate")
	bulkRace(t, bulkRacers, func(trial int) error {
		tokens[trial] = newToken(models.RefreshToken, app.ID, alice.ID, models.NewID(base))
		return s.Tokens.Create(ctx, tokens[trial])
	}, func(trial, i int) error {
		// Each racer rotates at its own millisecond. The time kept is one
		// of theirs, never none: the refresh reuse grace counts from it.
		// (On FerretDB the loser's write may land after the winner's, so
		// it can be the loser's, a race's length later.)
		return s.Tokens.Rotate(ctx, tokens[trial].Hash, now.Add(time.Duration(i)*time.Millisecond))
	}, func(trial int, errs []error) {
		ty.winner(trial, errs)
		got, err := s.Tokens.Get(ctx, tokens[trial].Hash, now)
		if err != nil {
			ty.errorf(trial, "Tokens.Get after the race error = %v, want nil", err)
		} else if !got.Rotated {
			ty.errorf(trial, "Tokens.Get after the race: Rotated = false, want true")
		} else if d := got.RotatedAt.Sub(now); d < 0 || d >= time.Duration(len(errs))*time.Millisecond || d%time.Millisecond != 0 {
			ty.errorf(trial, "Tokens.Get after the race: RotatedAt = %v, want one of the racers' times, %v + 0–%d ms", got.RotatedAt, now, len(errs)-1)
		}
	}, func(lo, hi int) error {
		_, err := s.Tokens.DeleteExpired(ctx, base.Add(tokenLife+time.Second))
		return err
	})
	ty.done(bulkRacers)
}

// testGrantRace checks that concurrent first grants to one (user, client),
// as a double-submitted consent form makes, all succeed and leave exactly
// one consent holding every scope granted: the insert race is the store's
// to resolve, not the caller's. Here every call is meant to succeed; what
// must be single is the consent the trial leaves.
func testGrantRace(t *testing.T, s *models.Store) {
	ctx := t.Context()
	owner := mustCreateUser(t, s, "owner")
	app := mustCreateClient(t, s, owner.ID, "App", base)
	scopes := []string{"profile", "beers:read", "beers:write", "clients"}
	// Goroutine i grants grants[i]: two decisions on the same app race.
	// Each replaces the consent, so one of them is what stays, whole.
	grants := [][]string{scopes[:2], scopes[1:]}
	users := make([]*models.User, bulkTrials)
	got := make([][]*models.Consent, bulkTrials)
	ty := newTally(t, "Consents.Grant")
	var mu sync.Mutex
	var oneConsent, oneDecision int
	isOneDecision := func(have []string) bool {
		return slices.ContainsFunc(grants, func(g []string) bool {
			return slices.Equal(slices.Sorted(slices.Values(have)), slices.Sorted(slices.Values(g)))
		})
	}
	bulkRace(t, len(grants), func(trial int) error {
		users[trial] = &models.User{ID: models.NewID(base), Username: fmt.Sprintf("granter-%04d", trial),
			PasswordHash: newHash(), CreatedAt: base, UpdatedAt: base}
		got[trial] = make([]*models.Consent, len(grants))
		return s.Users.Create(ctx, users[trial])
	}, func(trial, i int) error {
		var err error
		got[trial][i], err = s.Consents.Grant(ctx, users[trial].ID, app.ID, grants[i], time.Time{}, now)
		return err
	}, func(trial int, errs []error) {
		for i, err := range errs {
			if err != nil {
				ty.errorf(trial, "goroutine %d error = %v, want nil", i, err)
			} else if !isOneDecision(got[trial][i].Scopes) {
				ty.errorf(trial, "goroutine %d got scopes %v, want one of %v", i, got[trial][i].Scopes, grants)
			}
		}
		list, err := s.Consents.List(ctx, users[trial].ID)
		if err != nil {
			ty.errorf(trial, "Consents.List error = %v", err)
			return
		}
		if len(list) != 1 {
			ty.errorf(trial, "len(Consents.List) = %d, want exactly 1", len(list))
			return
		}
		mu.Lock()
		oneConsent++
		mu.Unlock()
		if !sameTime(list[0].CreatedAt, now) {
			ty.errorf(trial, "consent created at %v, want %v", list[0].CreatedAt, now)
		}
		if !isOneDecision(list[0].Scopes) {
			ty.errorf(trial, "consent scopes = %v, want exactly one of the decisions %v, not a mix", list[0].Scopes, grants)
			return
		}
		mu.Lock()
		oneDecision++
		mu.Unlock()
	}, func(lo, hi int) error {
		return parallel(hi-lo, func(k int) error { return s.Consents.Delete(ctx, users[lo+k].ID, app.ID) })
	})
	t.Logf("Consents.Grant: %d trials of %d goroutines, %d with exactly one consent, %d holding exactly one decision, %d failures",
		bulkTrials, len(grants), oneConsent, oneDecision, ty.failures)
	ty.summarize()
}

// testTouchRace races uses of one grant recorded at once, each at its own
// hour (which racer has the later one alternates from trial to trial).
// Every call succeeds, and the hour kept is one of theirs. It should be
// the later one: Touch is one conditional write, not a read followed by a
// write. But FerretDB v1 answers an update by reading the document and
// writing all of it back, so there the earlier hour's write can land last;
// the next use, at the later hour, must then still move it forward, which
// the check does. The log counts the trials that kept the later hour:
// every one on a server whose conditional updates are atomic.
func testTouchRace(t *testing.T, s *models.Store) {
	ctx := t.Context()
	owner := mustCreateUser(t, s, "owner")
	app := mustCreateClient(t, s, owner.ID, "App", base)
	users := make([]*models.User, bulkTrials)
	hour := now.Truncate(time.Hour)
	earlier, later := hour, hour.Add(time.Hour)
	at := func(trial, i int) time.Time { // half past one of the hours
		if (trial+i)%2 == 0 {
			return earlier.Add(30 * time.Minute)
		}
		return later.Add(30 * time.Minute)
	}
	ty := newTally(t, "Consents.Touch")
	var mu sync.Mutex
	var kept int
	bulkRace(t, bulkRacers, func(trial int) error {
		users[trial] = &models.User{ID: models.NewID(base), Username: fmt.Sprintf("user-%04d", trial),
			PasswordHash: newHash(), CreatedAt: base, UpdatedAt: base}
		if err := s.Users.Create(ctx, users[trial]); err != nil {
			return err
		}
		_, err := s.Consents.Grant(ctx, users[trial].ID, app.ID, []string{"profile"}, time.Time{}, base)
		return err
	}, func(trial, i int) error {
		return s.Consents.Touch(ctx, users[trial].ID, app.ID, at(trial, i))
	}, func(trial int, errs []error) {
		for i, err := range errs {
			if err != nil {
				ty.errorf(trial, "goroutine %d error = %v, want nil", i, err)
			}
		}
		user := users[trial].ID
		got, err := s.Consents.Get(ctx, user, app.ID)
		if err != nil {
			ty.errorf(trial, "Consents.Get error = %v", err)
			return
		}
		switch {
		case got.LastUsedAt.Equal(later):
			mu.Lock()
			kept++
			mu.Unlock()
			return
		case !got.LastUsedAt.Equal(earlier):
			ty.errorf(trial, "LastUsedAt = %v, want one of the racers' hours, %v or %v", got.LastUsedAt, later, earlier)
			return
		}
		if err := s.Consents.Touch(ctx, user, app.ID, later.Add(45*time.Minute)); err != nil {
			ty.errorf(trial, "Consents.Touch after the race error = %v", err)
			return
		}
		if got, err := s.Consents.Get(ctx, user, app.ID); err != nil || !got.LastUsedAt.Equal(later) {
			ty.errorf(trial, "after a use at the later hour: Consents.Get = %+v, %v; want LastUsedAt %v", got, err, later)
		}
	}, func(lo, hi int) error {
		return parallel(hi-lo, func(k int) error { return s.Consents.Delete(ctx, users[lo+k].ID, app.ID) })
	})
	t.Logf("Consents.Touch: %d trials of %d goroutines, %d keeping the later hour, %d failures",
		bulkTrials, bulkRacers, kept, ty.failures)
	ty.summarize()
}

// testTouchGrantRace races an app's use (Touch) with the user's narrower
// decision (Grant) on the same consent: the decision must stand whole,
// whichever lands last. A store that wrote the use by rewriting the whole
// consent could put the wider scopes back.
func testTouchGrantRace(t *testing.T, s *models.Store) {
	ctx := t.Context()
	owner := mustCreateUser(t, s, "owner")
	app := mustCreateClient(t, s, owner.ID, "App", base)
	users := make([]*models.User, bulkTrials)
	ty := newTally(t, "Consents.Touch with Grant")
	bulkRace(t, bulkRacers, func(trial int) error {
		users[trial] = &models.User{ID: models.NewID(base), Username: fmt.Sprintf("user-%04d", trial),
			PasswordHash: newHash(), CreatedAt: base, UpdatedAt: base}
		if err := s.Users.Create(ctx, users[trial]); err != nil {
			return err
		}
		_, err := s.Consents.Grant(ctx, users[trial].ID, app.ID, []string{"profile", "beers:read", "beers:write"}, time.Time{}, base)
		return err
	}, func(trial, i int) error {
		if i == 0 {
			_, err := s.Consents.Grant(ctx, users[trial].ID, app.ID, []string{"beers:read"}, now.Add(time.Hour), now)
			return err
		}
		return s.Consents.Touch(ctx, users[trial].ID, app.ID, now)
	}, func(trial int, errs []error) {
		for i, err := range errs {
			if err != nil {
				ty.errorf(trial, "goroutine %d error = %v, want nil", i, err)
			}
		}
		got, err := s.Consents.Get(ctx, users[trial].ID, app.ID)
		switch {
		case err != nil:
			ty.errorf(trial, "Consents.Get error = %v", err)
		case !slices.Equal(got.Scopes, []string{"beers:read"}) || !sameTime(got.ExpiresAt, now.Add(time.Hour)):
			ty.errorf(trial, "after the race: scopes %v, ExpiresAt %v; want the decision's [beers:read] until %v", got.Scopes, got.ExpiresAt, now.Add(time.Hour))
		case !got.LastUsedAt.IsZero() && !got.LastUsedAt.Equal(now.Truncate(time.Hour)):
			ty.errorf(trial, "after the race: LastUsedAt = %v, want none or %v", got.LastUsedAt, now.Truncate(time.Hour))
		}
	}, func(lo, hi int) error {
		return parallel(hi-lo, func(k int) error { return s.Consents.Delete(ctx, users[lo+k].ID, app.ID) })
	})
	t.Logf("Consents.Touch with Grant: %d trials, %d failures", bulkTrials, ty.failures)
	ty.summarize()
}

// equal reports whether a and b are deeply equal.
func equal[T any](a, b T) bool { return reflect.DeepEqual(a, b) }
