package keys_test

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"beerlocker/keys"
	"beerlocker/models"
	"beerlocker/store/mongo"
	"beerlocker/store/mongo/mongotest"
)

// backends open two stores on one database, as two instances of the
// service have: the embedded database's file, and one FerretDB database.
var backends = []struct {
	name string
	open func(t *testing.T) (a, b models.SigningKeyRepository)
}{
	{"SQLite", func(t *testing.T) (a, b models.SigningKeyRepository) {
		dir := t.TempDir()
		return openSQLite(t, dir).SigningKeys, openSQLite(t, dir).SigningKeys
	}},
	{"FerretDB", func(t *testing.T) (a, b models.SigningKeyRepository) {
		uri, name := mongotest.URI(t), mongotest.DatabaseName()
		t.Cleanup(func() { mongotest.DropDatabase(uri, name) })
		open := func() models.SigningKeyRepository {
			s, err := mongo.Open(context.Background(), uri, name)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s.SigningKeys
		}
		return open(), open()
	}},
}

// TestTwoInstances plays two instances on one database: started at the
// same moment, they create one key per algorithm between them and publish
// the same JWK Set; a rotation made by one is seen by the other within
// RefreshEvery, and they then sign with the same new key.
func TestTwoInstances(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			ctx := context.Background()
			repoA, repoB := be.open(t)
			c := newClock()
			// The first start, at once: both find no keys before either
			// creates one, so both create the first generation.
			var listed sync.WaitGroup
			listed.Add(2)
			a := newManager(t, &listFirst{SigningKeyRepository: repoA, listed: &listed}, c, testSecret, 0)
			b := newManager(t, &listFirst{SigningKeyRepository: repoB, listed: &listed}, c, testSecret, 0)
			var wg sync.WaitGroup
			sets := make([][]byte, 2)
			errs := make([]error, 2)
			for i, m := range []*keys.Manager{a, b} {
				wg.Go(func() { sets[i], errs[i] = m.JWKS(ctx) })
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("instance %d: JWKS: %v", i, err)
				}
			}
			if !bytes.Equal(sets[0], sets[1]) {
				t.Fatalf("after a first start together, the JWK Sets differ:\n%s\n%s", sets[0], sets[1])
			}
			rows, err := repoA.List(ctx)
			if err != nil || len(rows) != 2 {
				t.Fatalf("after a first start together the store holds %d keys (%v), want one per algorithm", len(rows), err)
			}
			tok := mustSign(t, a, c, "")
			if err := b.Verify(ctx, tok, nil); err != nil {
				t.Errorf("B does not verify A's token: %v", err)
			}

			// A rotation at A (the activation delay is 0: it signs at once).
			next, err := a.Rotate(ctx)
			if err != nil {
				t.Fatal(err)
			}
			c.Add(keys.RefreshEvery)
			setA, _ := a.JWKS(ctx)
			setB, err := b.JWKS(ctx)
			if err != nil || !bytes.Equal(setA, setB) {
				t.Errorf("%s after A's rotation, B's JWK Set differs from A's (%v):\n%s\n%s", keys.RefreshEvery, err, setA, setB)
			}
			if kid, _ := header(t, mustSign(t, b, c, "")); kid != next[0].ID {
				t.Errorf("%s after A's rotation, B signs with %s, want A's new key %s", keys.RefreshEvery, kid, next[0].ID)
			}
			// A token A signed with a key B never read is checked against
			// the store at once, not after RefreshEvery.
			if _, err := a.Rotate(ctx); err != nil {
				t.Fatal(err)
			}
			if err := b.Verify(ctx, mustSign(t, a, c, ""), nil); err != nil {
				t.Errorf("B does not verify a token of A's newest key: %v", err)
			}
		})
	}
}

// TestRotateTogether: two rotations at once (two instances' schedules, or
// rotate-keys run twice) add one generation per algorithm, not two, and
// both report the same keys.
func TestRotateTogether(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			ctx := context.Background()
			repoA, repoB := be.open(t)
			c := newClock()
			mustJWKS(t, newManager(t, repoA, c, testSecret, 0)) // the first keys
			// Neither instance writes before both have read: the race
			// happens every time, however the goroutines are scheduled.
			var listed sync.WaitGroup
			listed.Add(2)
			a := newManager(t, &listFirst{SigningKeyRepository: repoA, listed: &listed}, c, testSecret, 10*time.Minute)
			b := newManager(t, &listFirst{SigningKeyRepository: repoB, listed: &listed}, c, testSecret, 10*time.Minute)
			var wg sync.WaitGroup
			got := make([][]*models.SigningKey, 2)
			errs := make([]error, 2)
			for i, m := range []*keys.Manager{a, b} {
				wg.Go(func() { got[i], errs[i] = m.Rotate(ctx) })
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("instance %d: Rotate: %v", i, err)
				}
			}
			for i := range got[0] {
				if got[0][i].ID != got[1][i].ID || got[0][i].Generation != 2 {
					t.Errorf("key %d: A rotated to %s (generation %d), B to %s; want one generation 2",
						i, got[0][i].ID, got[0][i].Generation, got[1][i].ID)
				}
			}
			if rows, err := repoA.List(ctx); err != nil || len(rows) != 4 {
				t.Errorf("after two rotations at once the store holds %d keys (%v), want 4", len(rows), err)
			}
		})
	}
}

// listFirst holds back its first Create until every instance sharing
// listed has listed the keys once.
type listFirst struct {
	models.SigningKeyRepository
	listed *sync.WaitGroup
	once   sync.Once
}

func (r *listFirst) List(ctx context.Context) ([]*models.SigningKey, error) {
	rows, err := r.SigningKeyRepository.List(ctx)
	r.once.Do(r.listed.Done)
	return rows, err
}

func (r *listFirst) Create(ctx context.Context, k *models.SigningKey) error {
	r.listed.Wait()
	return r.SigningKeyRepository.Create(ctx, k)
}
