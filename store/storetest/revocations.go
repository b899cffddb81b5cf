package storetest

import (
	"slices"
	"sync"
	"testing"
	"time"

	"beerlocker/models"
)

var revocationTests = []test{
	{"AddAndListSince", testRevocationsAddAndList},
	{"AddKeepsTheLaterTimes", testRevocationsAddKeepsLater},
	{"ListSinceSkipsOlderAndExpired", testRevocationsListFilters},
	{"DeleteExpired", testRevocationsDeleteExpired},
	{"ConcurrentAddsOfOneKeyKeepTheLatest", testRevocationsConcurrentAdds},
	{"AddTwiceIsNotAnError", testRevocationsAddTwice},
}

// us is base and some microseconds: revocations keep microseconds, so a
// backend that kept only milliseconds fails the comparisons.
func us(n int64) time.Time { return base.Add(time.Duration(n) * time.Microsecond) }

func normRevocation(r *models.Revocation) models.Revocation {
	c := *r
	c.At, c.ExpiresAt = c.At.UTC(), c.ExpiresAt.UTC()
	return c
}

// wantRevocations fails the test unless ListSince returns want, once the
// revocations of one kind and key are folded into one with the latest At
// and ExpiresAt (a backend may return each Add), in order of At.
func wantRevocations(t testing.TB, s *models.Store, since, now time.Time, want ...*models.Revocation) {
	t.Helper()
	listed, err := s.Revocations.ListSince(t.Context(), since, now)
	mustOK(t, "Revocations.ListSince", err)
	for i := 1; i < len(listed); i++ {
		if listed[i].At.Before(listed[i-1].At) {
			t.Fatalf("Revocations.ListSince is not in order of At: %v before %v", listed[i-1].At, listed[i].At)
		}
	}
	type kindKey struct {
		kind models.RevocationKind
		key  string
	}
	var got []*models.Revocation
	folded := map[kindKey]*models.Revocation{}
	for _, r := range listed {
		k := kindKey{r.Kind, r.Key}
		f, ok := folded[k]
		if !ok {
			c := *r
			folded[k] = &c
			got = append(got, &c)
			continue
		}
		if r.At.After(f.At) {
			f.At = r.At
		}
		if r.ExpiresAt.After(f.ExpiresAt) {
			f.ExpiresAt = r.ExpiresAt
		}
	}
	slices.SortStableFunc(got, func(a, b *models.Revocation) int { return a.At.Compare(b.At) })
	if len(got) != len(want) {
		t.Fatalf("Revocations.ListSince returned %d revocations, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		checkEqual(t, "Revocations.ListSince", normRevocation(got[i]), normRevocation(want[i]))
	}
}

func testRevocationsAddAndList(t *testing.T, s *models.Store) {
	ctx := t.Context()
	revs := []*models.Revocation{
		{Kind: models.RevokedToken, Key: newHash(), At: us(1), ExpiresAt: us(1).Add(time.Hour)},
		{Kind: models.RevokedFamily, Key: newHash(), At: us(2), ExpiresAt: us(2).Add(time.Hour)},
		{Kind: models.RevokedUser, Key: models.NewID(base), At: us(3), ExpiresAt: us(3).Add(time.Hour)},
		{Kind: models.RevokedClient, Key: newClientID(), At: us(4), ExpiresAt: us(4).Add(time.Hour)},
		{Kind: models.RevokedGrant, Key: models.GrantKey(models.NewID(base), newClientID()), At: us(5), ExpiresAt: us(5).Add(time.Hour)},
	}
	// Added newest first: ListSince orders by At, not by insertion.
	for i := len(revs) - 1; i >= 0; i-- {
		mustOK(t, "Revocations.Add", s.Revocations.Add(ctx, revs[i]))
	}
	wantRevocations(t, s, time.Time{}, base, revs...)
	// The same key under another kind is another revocation.
	other := &models.Revocation{Kind: models.RevokedFamily, Key: revs[0].Key, At: us(6), ExpiresAt: us(6).Add(time.Hour)}
	mustOK(t, "Revocations.Add", s.Revocations.Add(ctx, other))
	wantRevocations(t, s, time.Time{}, base, append(revs, other)...)
}

func testRevocationsAddKeepsLater(t *testing.T, s *models.Store) {
	ctx := t.Context()
	key := models.NewID(base)
	mustOK(t, "Revocations.Add", s.Revocations.Add(ctx, &models.Revocation{Kind: models.RevokedUser, Key: key, At: us(500), ExpiresAt: us(500).Add(time.Hour)}))
	// An older revocation that lives longer: At stays, ExpiresAt grows.
	mustOK(t, "Revocations.Add", s.Revocations.Add(ctx, &models.Revocation{Kind: models.RevokedUser, Key: key, At: us(7), ExpiresAt: us(7).Add(2 * time.Hour)}))
	wantRevocations(t, s, time.Time{}, base,
		&models.Revocation{Kind: models.RevokedUser, Key: key, At: us(500), ExpiresAt: us(7).Add(2 * time.Hour)})
	// A newer one moves At on.
	mustOK(t, "Revocations.Add", s.Revocations.Add(ctx, &models.Revocation{Kind: models.RevokedUser, Key: key, At: us(501), ExpiresAt: us(501).Add(time.Hour)}))
	wantRevocations(t, s, time.Time{}, base,
		&models.Revocation{Kind: models.RevokedUser, Key: key, At: us(501), ExpiresAt: us(7).Add(2 * time.Hour)})
}

func testRevocationsListFilters(t *testing.T, s *models.Store) {
	ctx := t.Context()
	older := &models.Revocation{Kind: models.RevokedToken, Key: newHash(), At: us(10), ExpiresAt: us(10).Add(time.Hour)}
	newer := &models.Revocation{Kind: models.RevokedToken, Key: newHash(), At: us(11), ExpiresAt: us(11).Add(time.Hour)}
	short := &models.Revocation{Kind: models.RevokedToken, Key: newHash(), At: us(12), ExpiresAt: us(12).Add(time.Minute)}
	for _, r := range []*models.Revocation{older, newer, short} {
		mustOK(t, "Revocations.Add", s.Revocations.Add(ctx, r))
	}
	wantRevocations(t, s, us(11), base, newer, short)
	wantRevocations(t, s, us(0), base.Add(30*time.Minute), older, newer)
	wantRevocations(t, s, us(13), base)
}

func testRevocationsDeleteExpired(t *testing.T, s *models.Store) {
	ctx := t.Context()
	gone := &models.Revocation{Kind: models.RevokedFamily, Key: newHash(), At: us(1), ExpiresAt: base.Add(time.Minute)}
	kept := &models.Revocation{Kind: models.RevokedFamily, Key: newHash(), At: us(2), ExpiresAt: base.Add(time.Hour)}
	for _, r := range []*models.Revocation{gone, kept} {
		mustOK(t, "Revocations.Add", s.Revocations.Add(ctx, r))
	}
	n, err := s.Revocations.DeleteExpired(ctx, base.Add(2*time.Minute))
	mustOK(t, "Revocations.DeleteExpired", err)
	if n != 1 {
		t.Errorf("Revocations.DeleteExpired removed %d, want 1", n)
	}
	// Listed as of base, when both were live: only the kept one is left.
	wantRevocations(t, s, time.Time{}, base, kept)
}

// Instances revoking one user at once (two password changes, two
// deletions) must leave one revocation with the latest At.
func testRevocationsConcurrentAdds(t *testing.T, s *models.Store) {
	ctx := t.Context()
	key := models.NewID(base)
	const n = 16
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			errs[i] = s.Revocations.Add(ctx, &models.Revocation{Kind: models.RevokedUser, Key: key,
				At: us(int64(100 + i)), ExpiresAt: us(int64(100 + i)).Add(time.Hour)})
		})
	}
	wg.Wait()
	for _, err := range errs {
		mustOK(t, "concurrent Revocations.Add", err)
	}
	wantRevocations(t, s, time.Time{}, base,
		&models.Revocation{Kind: models.RevokedUser, Key: key, At: us(100 + n - 1), ExpiresAt: us(100 + n - 1).Add(time.Hour)})
}

func testRevocationsAddTwice(t *testing.T, s *models.Store) {
	ctx := t.Context()
	r := &models.Revocation{Kind: models.RevokedFamily, Key: newHash(), At: us(9), ExpiresAt: us(9).Add(time.Hour)}
	mustOK(t, "Revocations.Add", s.Revocations.Add(ctx, r))
	mustOK(t, "Revocations.Add again", s.Revocations.Add(ctx, r))
	wantRevocations(t, s, time.Time{}, base, r)
}
