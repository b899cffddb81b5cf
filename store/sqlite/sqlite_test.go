package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"beerlocker/models"
	"beerlocker/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) *models.Store {
		return mustOpen(t, t.TempDir())
	})
}

// mustOpen opens a store in dir and closes it when the test ends.
func mustOpen(t testing.TB, dir string) *models.Store {
	t.Helper()
	s, err := Open(context.Background(), dir)
	if err != nil {
		t.Fatalf("Open(%q): %v", dir, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestPragmas(t *testing.T) {
	s := mustOpen(t, t.TempDir())
	d := s.DB.(*db)
	want := map[string]string{
		"journal_mode": "wal",
		"foreign_keys": "1",
		"synchronous":  "2", // FULL
		"busy_timeout": "5000",
	}
	pools := []struct {
		name      string
		pool      *sql.DB
		queryOnly string
	}{
		{"writer", d.w, "0"},
		{"reader", d.r, "1"},
	}
	for _, p := range pools {
		for pragma, w := range want {
			var got string
			if err := p.pool.QueryRowContext(t.Context(), "PRAGMA "+pragma).Scan(&got); err != nil {
				t.Fatalf("%s: PRAGMA %s: %v", p.name, pragma, err)
			}
			if got != w {
				t.Errorf("%s: PRAGMA %s = %q, want %q", p.name, pragma, got, w)
			}
		}
		var got string
		if err := p.pool.QueryRowContext(t.Context(), "PRAGMA query_only").Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != p.queryOnly {
			t.Errorf("%s: PRAGMA query_only = %q, want %q", p.name, got, p.queryOnly)
		}
	}
}

func TestReaderCannotWrite(t *testing.T) {
	s := mustOpen(t, t.TempDir())
	_, err := s.DB.(*db).r.ExecContext(t.Context(), `DELETE FROM users`)
	if err == nil {
		t.Error("DELETE on the read pool succeeded, want an error")
	}
}

func TestOpenCreatesPrivateDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	mustOpen(t, dir)
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o700 {
		t.Errorf("dir mode = %v, want %v", perm, fs.FileMode(0o700))
	}
	if _, err := os.Stat(filepath.Join(dir, FileName)); err != nil {
		t.Errorf("database file: %v", err)
	}
}

// TestOpenOddDirName checks that a directory name with characters that mean
// something in a URI is used as a plain name.
func TestOpenOddDirName(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a?b#c%20d e")
	s := mustOpen(t, dir)
	mustCreateUser(t, s, "odd")
	if _, err := os.Stat(filepath.Join(dir, FileName)); err != nil {
		t.Errorf("database file: %v", err)
	}
}

func TestMigrationsIdempotent(t *testing.T) {
	dir := t.TempDir()
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil || len(names) == 0 {
		t.Fatalf("embedded migrations = %v, %v", names, err)
	}
	for i := range 3 {
		s, err := Open(t.Context(), dir)
		if err != nil {
			t.Fatalf("Open #%d: %v", i+1, err)
		}
		var n int
		err = s.DB.(*db).r.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM schema_migrations`).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		if n != len(names) {
			t.Errorf("Open #%d: %d migrations recorded, want %d", i+1, n, len(names))
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestOpenConcurrently opens one new database from several stores at once,
// as two processes starting together would: the migration must run once.
func TestOpenConcurrently(t *testing.T) {
	dir := t.TempDir()
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			s, err := Open(t.Context(), dir)
			if err == nil {
				err = s.Close()
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Open: %v", err)
		}
	}
}

func TestDataSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	u := mustCreateUser(t, s, "Alice")
	b := &models.Beer{ID: models.NewID(time.Now()), OwnerID: u.ID, Name: "Pils", Quantity: 3,
		CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := s.Beers.Create(t.Context(), b); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = mustOpen(t, dir)
	got, err := s.Users.GetByUsername(t.Context(), "alice")
	if err != nil || got.ID != u.ID {
		t.Fatalf("after reopen: GetByUsername = %+v, %v, want user %s", got, err, u.ID)
	}
	gb, err := s.Beers.Get(t.Context(), u.ID, b.ID)
	if err != nil || gb.Name != "Pils" || gb.Quantity != 3 {
		t.Errorf("after reopen: Beers.Get = %+v, %v", gb, err)
	}
}

// TestTwoStoresOneFile writes to one file from two stores at once, as two
// processes would: busy_timeout, not the shared writer connection, keeps
// them from failing with SQLITE_BUSY.
func TestTwoStoresOneFile(t *testing.T) {
	dir := t.TempDir()
	a, b := mustOpen(t, dir), mustOpen(t, dir)
	u := mustCreateUser(t, a, "owner")
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Go(func() {
			now := time.Now()
			errs <- s.Beers.Create(context.Background(), &models.Beer{
				ID: models.NewID(now), OwnerID: u.ID, Name: fmt.Sprint("beer ", i),
				Quantity: i, CreatedAt: now, UpdatedAt: now,
			})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Beers.Create: %v", err)
		}
	}
	list, _, err := b.Beers.List(t.Context(), u.ID, models.Page{Limit: 100})
	if err != nil || len(list) != 40 {
		t.Errorf("List = %d beers, %v, want 40", len(list), err)
	}
}

func TestErrorTranslation(t *testing.T) {
	s := mustOpen(t, t.TempDir())
	mustCreateUser(t, s, "Bob")
	if err := s.Users.Create(t.Context(), &models.User{ID: models.NewID(time.Now()), Username: "BOB"}); !errors.Is(err, models.ErrConflict) {
		t.Errorf("duplicate username error = %v, want %v", err, models.ErrConflict)
	}
	// A beer of a user who does not exist is refused by the foreign key.
	err := s.Beers.Create(t.Context(), &models.Beer{ID: models.NewID(time.Now()), OwnerID: models.NewID(time.Now()), Name: "x"})
	if !errors.Is(err, models.ErrNotFound) {
		t.Errorf("beer of unknown owner error = %v, want %v", err, models.ErrNotFound)
	}
	// Any other failure is wrapped with the operation.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = s.Users.Get(ctx, models.NewID(time.Now()))
	if err == nil || errors.Is(err, models.ErrNotFound) || !errors.Is(err, context.Canceled) {
		t.Errorf("Get with a canceled context error = %v, want a wrapped %v", err, context.Canceled)
	}
}

func mustCreateUser(t testing.TB, s *models.Store, name string) *models.User {
	t.Helper()
	now := time.Now()
	u := &models.User{ID: models.NewID(now), Username: name, PasswordHash: "x", CreatedAt: now, UpdatedAt: now}
	if err := s.Users.Create(context.Background(), u); err != nil {
		t.Fatalf("Users.Create(%s): %v", name, err)
	}
	return u
}

func BenchmarkBeersList(b *testing.B) {
	s := mustOpen(b, b.TempDir())
	u := mustCreateUser(b, s, "bench")
	for i := range 1000 {
		now := time.Now()
		err := s.Beers.Create(context.Background(), &models.Beer{
			ID: models.NewID(now), OwnerID: u.ID, Name: fmt.Sprint("beer ", i), Quantity: i,
			CreatedAt: now, UpdatedAt: now,
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		list, next, err := s.Beers.List(ctx, u.ID, models.Page{Limit: 20})
		if err != nil || len(list) != 20 || next == "" {
			b.Fatalf("List = %d, %q, %v", len(list), next, err)
		}
	}
}

func BenchmarkTokensGet(b *testing.B) {
	s := mustOpen(b, b.TempDir())
	u := mustCreateUser(b, s, "bench")
	now := time.Now()
	c := &models.Client{ID: models.NewID(now), OwnerID: u.ID, Name: "app",
		RedirectURIs: []string{"https://app.example/cb"}, GrantTypes: models.DefaultGrantTypes(),
		CreatedAt: now, UpdatedAt: now}
	if err := s.Clients.Create(context.Background(), c); err != nil {
		b.Fatal(err)
	}
	tk := &models.Token{Hash: "h", Kind: models.AccessToken, ClientID: c.ID, UserID: u.ID,
		Scopes: []string{"profile"}, FamilyID: "f", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := s.Tokens.Create(context.Background(), tk); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Tokens.Get(ctx, "h", now); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func TestCloseTwice(t *testing.T) {
	s, err := Open(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("first Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v, want nil", err)
	}
}

// TestClientsRebuildKeepsWhatRefersToThem runs 0012, which rebuilds the
// clients table, again on a database that holds a client with a consent,
// a code and tokens: with foreign keys on, dropping the old table would
// delete them all (ON DELETE CASCADE). Everything must survive, and the
// rebuilt table must take a client without an owner.
func TestClientsRebuildKeepsWhatRefersToThem(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir)
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Millisecond)
	alice := mustCreateUser(t, s, "alice")
	app := mustCreateApp(t, s, alice.ID, now)
	if _, err := s.Consents.Grant(ctx, alice.ID, app.ID, []string{"beers:read"}, time.Time{}, now); err != nil {
		t.Fatal(err)
	}
	refresh := &models.Token{Hash: "h-refresh", Kind: models.RefreshToken, ClientID: app.ID, UserID: alice.ID,
		Scopes: []string{"beers:read"}, FamilyID: "f", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := s.Tokens.Create(ctx, refresh); err != nil {
		t.Fatal(err)
	}
	code := &models.Code{Hash: "h-code", ClientID: app.ID, UserID: alice.ID, RedirectURI: "https://app.example/cb",
		Scopes: []string{"beers:read"}, CreatedAt: now, ExpiresAt: now.Add(time.Minute)}
	if err := s.Codes.Create(ctx, code); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB.(*db).w.ExecContext(ctx, `DELETE FROM schema_migrations WHERE version = '0012_self_registered_clients'`); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = mustOpen(t, dir) // runs 0012 again
	if got, err := s.Clients.GetOwned(ctx, alice.ID, app.ID); err != nil || got.Name != "App" {
		t.Fatalf("client after the rebuild: %+v, %v", got, err)
	}
	if c, err := s.Consents.Get(ctx, alice.ID, app.ID); err != nil || len(c.Scopes) != 1 {
		t.Errorf("consent after the rebuild: %+v, %v", c, err)
	}
	if _, err := s.Tokens.Get(ctx, refresh.Hash, now); err != nil {
		t.Errorf("refresh token after the rebuild: %v", err)
	}
	if _, err := s.Codes.Get(ctx, code.Hash, now); err != nil {
		t.Errorf("code after the rebuild: %v", err)
	}
	var fk int
	if err := s.DB.(*db).r.QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&fk); err != nil || fk != 1 {
		t.Errorf("foreign_keys after migrating = %d, %v; want 1", fk, err)
	}
	// Deleting the client still cascades: the references point at the
	// rebuilt table.
	if err := s.Clients.Delete(ctx, alice.ID, app.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Consents.Get(ctx, alice.ID, app.ID); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("consent of a deleted client: %v, want ErrNotFound", err)
	}
}

// TestDeleteExpiredInBatches: more expired tokens than one batch are all
// deleted, and counted, over several transactions, and live ones stay.
// (One DELETE of them all would hold the writer for its whole run.)
func TestDeleteExpiredInBatches(t *testing.T) {
	s := mustOpen(t, t.TempDir())
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Millisecond)
	alice := mustCreateUser(t, s, "alice")
	app := mustCreateApp(t, s, alice.ID, now)
	const expired, live = 2*sweepBatch + 7, 3
	var list []*models.Token
	for i := range expired + live {
		end := now.Add(-time.Minute)
		if i >= expired {
			end = now.Add(time.Hour)
		}
		list = append(list, &models.Token{Hash: fmt.Sprintf("h%06d", i), Kind: models.AccessToken, ClientID: app.ID,
			UserID: alice.ID, Scopes: []string{"beers:read"}, FamilyID: "f", CreatedAt: now.Add(-2 * time.Hour), ExpiresAt: end})
	}
	if err := s.Tokens.Create(ctx, list...); err != nil {
		t.Fatal(err)
	}
	// A write made while the sweep runs commits between its batches,
	// before the sweep ends, instead of waiting for all of it.
	batches, wrote := 0, false
	afterSweepBatch = func() {
		batches++
		if batches == 1 {
			b := &models.Beer{ID: models.NewID(now), OwnerID: alice.ID, Name: "During the sweep", Quantity: 1, CreatedAt: now, UpdatedAt: now}
			wrote = s.Beers.Create(ctx, b) == nil
		}
	}
	t.Cleanup(func() { afterSweepBatch = nil })
	n, err := s.Tokens.DeleteExpired(ctx, now)
	if err != nil || n != expired {
		t.Fatalf("Tokens.DeleteExpired = %d, %v; want %d", n, err, expired)
	}
	if batches < 2 || !wrote {
		t.Errorf("the sweep ran %d batches and a write during it succeeded: %v; want several, and true", batches, wrote)
	}
	var left int
	if err := s.DB.(*db).r.QueryRowContext(ctx, `SELECT COUNT(*) FROM tokens`).Scan(&left); err != nil || left != live {
		t.Errorf("tokens left = %d, %v; want the %d live ones", left, err, live)
	}
	if n, err := s.Tokens.DeleteExpired(ctx, now); err != nil || n != 0 {
		t.Errorf("Tokens.DeleteExpired again = %d, %v; want 0", n, err)
	}
}

// mustCreateApp registers a confidential app of owner.
func mustCreateApp(t *testing.T, s *models.Store, owner string, now time.Time) *models.Client {
	t.Helper()
	app := &models.Client{ID: "blci_" + models.NewID(now), OwnerID: owner, Name: "App", SecretHash: "x",
		RedirectURIs: []string{"https://app.example/cb"}, GrantTypes: models.DefaultGrantTypes(), CreatedAt: now, UpdatedAt: now}
	if err := s.Clients.Create(t.Context(), app); err != nil {
		t.Fatal(err)
	}
	return app
}
