package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"beerlocker/models"
)

var concurrencyTests = []test{
	{"CreateUserRace", testCreateUserRace},
	{"ConsumeRace", testConsumeRace},
	{"RotateRace", testRotateRace},
	{"GrantRace", testGrantRace},
}

// Each race runs raceTrials times on fresh objects, with raceN goroutines
// released together. The numbers keep the suite quick over a wire
// protocol while still catching a read-then-write.
const (
	raceTrials = 20
	raceN      = 16
	// userRaceN goroutines register one name, each in a different case.
	userRaceN = 8
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
	for trial := range raceTrials {
		name := fmt.Sprintf("racer-%02d", trial)
		users := make([]*models.User, userRaceN)
		for i := range users {
			users[i] = &models.User{
				ID:           models.NewID(base),
				Username:     caseVariant(name, i),
				PasswordHash: newHash(),
				CreatedAt:    base,
				UpdatedAt:    base,
			}
		}
		errs := race(userRaceN, func(i int) error { return s.Users.Create(ctx, users[i]) })
		what := fmt.Sprintf("trial %d: Users.Create", trial)
		w := oneWinner(t, what, errs)
		if w < 0 {
			continue
		}
		got, err := s.Users.GetByUsername(ctx, name)
		if err != nil {
			t.Errorf("%s: Users.GetByUsername error = %v, want nil", what, err)
			continue
		}
		if got.ID != users[w].ID || got.Username != users[w].Username {
			t.Errorf("%s: Users.GetByUsername = %s %q, want the winner %s %q",
				what, got.ID, got.Username, users[w].ID, users[w].Username)
		}
		for i, u := range users {
			if _, err := s.Users.Get(ctx, u.ID); i != w && !errors.Is(err, models.ErrNotFound) {
				t.Errorf("%s: Users.Get(loser %d) error = %v, want %v", what, i, err, models.ErrNotFound)
			}
		}
	}
}

func testConsumeRace(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	app := mustCreateClient(t, s, alice.ID, "App", base)
	for trial := range raceTrials {
		code := mustCreateCode(t, s, app.ID, alice.ID)
		got := make([]*models.Code, raceN)
		errs := race(raceN, func(i int) error {
			var err error
			got[i], err = s.Codes.Consume(ctx, code.Hash, now)
			return err
		})
		what := fmt.Sprintf("trial %d: Codes.Consume", trial)
		if w := oneWinner(t, what, errs); w >= 0 {
			checkEqual(t, what+" winner's code", normCode(got[w]), normCode(code))
		}
		wantErr(t, what+" after the race", func() error { _, err := s.Codes.Consume(ctx, code.Hash, now); return err }(), models.ErrConflict)
	}
}

func testRotateRace(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	app := mustCreateClient(t, s, alice.ID, "App", base)
	for trial := range raceTrials {
		tk := mustCreateToken(t, s, models.RefreshToken, app.ID, alice.ID, models.NewID(base))
		errs := race(raceN, func(int) error { return s.Tokens.Rotate(ctx, tk.Hash, now) })
		what := fmt.Sprintf("trial %d: Tokens.Rotate", trial)
		oneWinner(t, what, errs)
		got, err := s.Tokens.Get(ctx, tk.Hash, now)
		if err != nil {
			t.Errorf("%s: Tokens.Get after the race error = %v, want nil", what, err)
		} else if !got.Rotated {
			t.Errorf("%s: Tokens.Get after the race: Rotated = false, want true", what)
		}
	}
}

// testGrantRace checks that concurrent first grants to one (user, client),
// as a double-submitted consent form makes, all succeed and leave a single
// consent: the insert race is the store's to resolve, not the caller's.
// It does not require the union of every scope granted, because
// ConsentRepository does not promise that Grant is atomic.
func testGrantRace(t *testing.T, s *models.Store) {
	ctx := t.Context()
	owner := mustCreateUser(t, s, "owner")
	scopes := []string{"profile", "beers:read", "beers:write", "clients"}
	const trials, n = 5, 8
	for trial := range trials {
		user := mustCreateUser(t, s, fmt.Sprintf("granter-%02d", trial))
		app := mustCreateClient(t, s, owner.ID, fmt.Sprint("App ", trial), base)
		got := make([]*models.Consent, n)
		errs := race(n, func(i int) error {
			var err error
			got[i], err = s.Consents.Grant(ctx, user.ID, app.ID, []string{scopes[i%len(scopes)]}, now)
			return err
		})
		what := fmt.Sprintf("trial %d: Consents.Grant", trial)
		for i, err := range errs {
			if err != nil {
				t.Errorf("%s: goroutine %d error = %v, want nil", what, i, err)
			} else if !slices.Contains(got[i].Scopes, scopes[i%len(scopes)]) {
				t.Errorf("%s: goroutine %d got scopes %v, want them to hold %q", what, i, got[i].Scopes, scopes[i%len(scopes)])
			}
		}
		list, err := s.Consents.List(ctx, user.ID)
		mustOK(t, what+": Consents.List", err)
		if len(list) != 1 {
			t.Errorf("%s: len(Consents.List) = %d, want 1", what, len(list))
			continue
		}
		if len(list[0].Scopes) == 0 || !sameTime(list[0].CreatedAt, now) {
			t.Errorf("%s: consent = %+v, want some scopes, created at %v", what, list[0], now)
		}
	}
}
