package storetest

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"beerlocker/models"
)

var signingKeyTests = []test{
	{"ListEmpty", testSigningKeysListEmpty},
	{"CreateAndList", testSigningKeysCreateAndList},
	{"GenerationTakenIsConflict", testSigningKeysGenerationTaken},
	{"Delete", testSigningKeysDelete},
}

// newSigningKey returns a key of generation gen of alg, created at and
// active from at, not yet stored. Its private key is bytes a store must
// keep as they are, a zero byte and invalid UTF-8 included.
func newSigningKey(alg string, gen int64, at time.Time) *models.SigningKey {
	return &models.SigningKey{
		ID:         newHash()[:43],
		Alg:        alg,
		Generation: gen,
		PrivateKey: append([]byte{0, 0xff, 0xfe, 1}, newHash()...),
		CreatedAt:  at,
		ActiveAt:   at.Add(10 * time.Minute),
	}
}

func normSigningKey(k *models.SigningKey) *models.SigningKey {
	c := *k
	c.CreatedAt, c.ActiveAt = ms(c.CreatedAt), ms(c.ActiveAt)
	return &c
}

// wantSigningKeys fails the test unless List returns want, in that order.
func wantSigningKeys(t testing.TB, s *models.Store, what string, want ...*models.SigningKey) {
	t.Helper()
	got, err := s.SigningKeys.List(t.Context())
	mustOK(t, what+": SigningKeys.List", err)
	if len(got) != len(want) {
		t.Fatalf("%s: List returned %d keys, want %d", what, len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i].PrivateKey, want[i].PrivateKey) {
			t.Errorf("%s: key %d: the private key bytes changed in the store", what, i)
		}
		checkEqual(t, fmt.Sprintf("%s: key %d", what, i), normSigningKey(got[i]), normSigningKey(want[i]))
	}
}

func testSigningKeysListEmpty(t *testing.T, s *models.Store) {
	wantSigningKeys(t, s, "an empty store")
}

// testSigningKeysCreateAndList creates keys out of order; List returns
// them by algorithm, then generation.
func testSigningKeysCreateAndList(t *testing.T, s *models.Store) {
	rs2 := newSigningKey("RS256", 2, base.Add(time.Hour))
	es1 := newSigningKey("ES256", 1, base)
	rs1 := newSigningKey("RS256", 1, base)
	rs10 := newSigningKey("RS256", 10, base.Add(2*time.Hour)) // after 2, not between 1 and 2
	for _, k := range []*models.SigningKey{rs2, es1, rs10, rs1} {
		mustOK(t, "SigningKeys.Create", s.SigningKeys.Create(t.Context(), k))
	}
	wantSigningKeys(t, s, "after four creates", es1, rs1, rs2, rs10)
}

// testSigningKeysGenerationTaken: a generation of an algorithm has one
// key, and a kid belongs to one key; the loser of a first start or of a
// rotation made twice at once is told ErrConflict and changes nothing.
func testSigningKeysGenerationTaken(t *testing.T, s *models.Store) {
	ctx := t.Context()
	first := newSigningKey("RS256", 1, base)
	mustOK(t, "SigningKeys.Create", s.SigningKeys.Create(ctx, first))
	wantErr(t, "Create of a taken generation", s.SigningKeys.Create(ctx, newSigningKey("RS256", 1, base.Add(time.Second))), models.ErrConflict)
	sameID := newSigningKey("RS256", 2, base)
	sameID.ID = first.ID
	wantErr(t, "Create with a taken kid", s.SigningKeys.Create(ctx, sameID), models.ErrConflict)
	other := newSigningKey("ES256", 1, base) // the same generation of another algorithm is free
	mustOK(t, "SigningKeys.Create(ES256 generation 1)", s.SigningKeys.Create(ctx, other))
	wantSigningKeys(t, s, "after the conflicts", other, first)
}

func testSigningKeysDelete(t *testing.T, s *models.Store) {
	ctx := t.Context()
	k1, k2 := newSigningKey("RS256", 1, base), newSigningKey("RS256", 2, base.Add(time.Hour))
	mustOK(t, "SigningKeys.Create", s.SigningKeys.Create(ctx, k1))
	mustOK(t, "SigningKeys.Create", s.SigningKeys.Create(ctx, k2))
	mustOK(t, "SigningKeys.Delete", s.SigningKeys.Delete(ctx, k1.ID))
	wantSigningKeys(t, s, "after Delete", k2)
	wantErr(t, "a second Delete", s.SigningKeys.Delete(ctx, k1.ID), models.ErrNotFound)
	wantErr(t, "Delete of an unknown kid", s.SigningKeys.Delete(ctx, "no-such-kid"), models.ErrNotFound)
	wantSigningKeys(t, s, "after the failed deletes", k2)
}

// testSigningKeyCreateRace plays the first start of raceN instances at
// once, raceTrials times (one generation each): exactly one key of each
// generation is stored, the one whose Create succeeded, so no two keys
// can both be "current".
func testSigningKeyCreateRace(t *testing.T, s *models.Store) {
	ctx := t.Context()
	var want []*models.SigningKey
	for trial := range raceTrials {
		keys := make([]*models.SigningKey, raceN)
		for i := range keys {
			keys[i] = newSigningKey("RS256", int64(trial+1), base.Add(time.Duration(i)*time.Millisecond))
		}
		errs := race(raceN, func(i int) error { return s.SigningKeys.Create(ctx, keys[i]) })
		w := oneWinner(t, fmt.Sprintf("trial %d: SigningKeys.Create", trial), errs)
		if w < 0 {
			return
		}
		want = append(want, keys[w])
	}
	wantSigningKeys(t, s, "after the races", want...)
}
