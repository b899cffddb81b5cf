package revoked_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"beerlocker/models"
	"beerlocker/revoked"
	"beerlocker/store/sqlite"
)

// clock is a settable now, shared by a test's lists and wrappers.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func openStore(t *testing.T, dir string) *models.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// fixture is a user with a client of her own, on the real embedded store.
type fixture struct {
	store  *models.Store
	list   *revoked.List
	clock  *clock
	user   *models.User
	client *models.Client
}

func newFixture(t *testing.T, dir string) *fixture {
	t.Helper()
	c := &clock{t: time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)}
	raw := openStore(t, dir)
	list := revoked.NewList(raw.Revocations, c.now)
	if err := list.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	f := &fixture{store: revoked.Wrap(raw, list), list: list, clock: c}
	f.user = &models.User{ID: models.NewID(c.t), Username: "ada", PasswordHash: "x", CreatedAt: c.t, UpdatedAt: c.t}
	if err := raw.Users.Create(t.Context(), f.user); err != nil {
		t.Fatal(err)
	}
	f.client = &models.Client{ID: "blci_" + models.NewID(c.t), OwnerID: f.user.ID, Name: "App", SecretHash: "h",
		RedirectURIs: []string{"https://app.example/cb"}, GrantTypes: []string{models.GrantAuthorizationCode}, CreatedAt: c.t, UpdatedAt: c.t}
	if err := raw.Clients.Create(t.Context(), f.client); err != nil {
		t.Fatal(err)
	}
	return f
}

// token is a sealed token's record as Open returns it, issued now.
func (f *fixture) token(hash, userID, clientID, family string) *models.Token {
	return &models.Token{Hash: hash, Kind: models.AccessToken, UserID: userID, ClientID: clientID, FamilyID: family,
		CreatedAt: f.clock.t, ExpiresAt: f.clock.t.Add(time.Hour)}
}

func (f *fixture) tick(d time.Duration) { f.clock.t = f.clock.t.Add(d) }

func wantRevoked(t *testing.T, l *revoked.List, what string, tok *models.Token, want bool) {
	t.Helper()
	if got := l.Revoked(tok); got != want {
		t.Errorf("%s: Revoked = %v, want %v", what, got, want)
	}
}

// A password change (RevokeUser) ends the tokens issued before it, to the
// microsecond, and not those issued after: the user signs in again.
func TestUserRevocationEndsTheTokensIssuedBefore(t *testing.T) {
	f := newFixture(t, t.TempDir())
	before := f.token("h1", f.user.ID, f.client.ID, "fam1")
	f.tick(time.Microsecond)
	if err := f.store.Tokens.RevokeUser(t.Context(), f.user.ID); err != nil {
		t.Fatal(err)
	}
	same := f.token("h2", f.user.ID, f.client.ID, "fam2") // the revocation's own microsecond
	f.tick(time.Microsecond)
	after := f.token("h3", f.user.ID, f.client.ID, "fam3")
	other := f.token("h4", "someone else", f.client.ID, "fam4")
	wantRevoked(t, f.list, "issued before", before, true)
	wantRevoked(t, f.list, "issued in the same microsecond", same, true)
	wantRevoked(t, f.list, "issued after", after, false)
	wantRevoked(t, f.list, "another user's", other, false)
}

// Each kind ends what it names and nothing else.
func TestEachRevocationEndsWhatItNames(t *testing.T) {
	f := newFixture(t, t.TempDir())
	ctx := t.Context()
	clientToken := f.token("ct", "", f.client.ID, "famc")
	userToken := f.token("ut", f.user.ID, f.client.ID, "famu")
	// Hashes are hex SHA-256, as the server's are (held as 32 bytes), or
	// anything else.
	hexHash := strings.Repeat("ab", 32)
	otherClient := f.token("oc", f.user.ID, "blci_other", "famo")
	hashed := f.token(hexHash, f.user.ID, "blci_other", "famh")
	f.tick(time.Millisecond)

	for _, h := range []string{"oc", hexHash} {
		if err := f.store.Tokens.Revoke(ctx, h); err != nil {
			t.Fatal(err)
		}
	}
	wantRevoked(t, f.list, "revoked by hash", otherClient, true)
	wantRevoked(t, f.list, "revoked by its hex SHA-256", hashed, true)
	wantRevoked(t, f.list, "another hash", userToken, false)
	wantRevoked(t, f.list, "another hex hash", f.token(strings.Repeat("cd", 32), f.user.ID, "blci_other", "famz"), false)

	if err := f.store.Tokens.RevokeFamily(ctx, "famu"); err != nil {
		t.Fatal(err)
	}
	wantRevoked(t, f.list, "its family revoked", userToken, true)
	later := f.token("later", f.user.ID, f.client.ID, "famu")
	wantRevoked(t, f.list, "its family revoked, issued later", later, true)
	wantRevoked(t, f.list, "another family", clientToken, false)

	// The app revoked on /account: the user's tokens of the app, not the
	// app's own client_credentials token.
	grantToken := f.token("gt", f.user.ID, f.client.ID, "famg")
	f.tick(time.Millisecond)
	if err := f.store.Consents.Delete(ctx, f.user.ID, f.client.ID); err != nil && !errors.Is(err, models.ErrNotFound) {
		t.Fatal(err)
	}
	wantRevoked(t, f.list, "the user's grant revoked", grantToken, true)
	wantRevoked(t, f.list, "the client's own token", clientToken, false)

	// Client deletion by someone else ends nothing; by its owner, every
	// token of it, even one issued after.
	if err := f.store.Clients.Delete(ctx, "not the owner", f.client.ID); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("Clients.Delete by another user = %v, want ErrNotFound", err)
	}
	wantRevoked(t, f.list, "client deleted by another user", clientToken, false)
	if err := f.store.Clients.Delete(ctx, f.user.ID, f.client.ID); err != nil {
		t.Fatal(err)
	}
	f.tick(time.Second)
	wantRevoked(t, f.list, "client deleted", clientToken, true)
	wantRevoked(t, f.list, "client deleted, token issued after", f.token("x", "", f.client.ID, "famx"), true)
}

// Deleting an account ends the user's tokens, the tokens of her clients,
// and a token issued a moment after by a grant that read her before.
func TestAccountDeletionEndsEverything(t *testing.T) {
	f := newFixture(t, t.TempDir())
	ctx := t.Context()
	theirs := f.token("t1", "another user", f.client.ID, "fam1")
	if err := f.store.Users.Delete(ctx, f.user.ID); err != nil {
		t.Fatal(err)
	}
	f.tick(time.Second)
	wantRevoked(t, f.list, "another user's token of her client", theirs, true)
	wantRevoked(t, f.list, "her token issued just after", f.token("t2", f.user.ID, "blci_other", "fam2"), true)
}

// Revocations last as long as the tokens they end, and are kept across a
// restart; another instance reads them on Refresh.
func TestRevocationsAreDurableAndShared(t *testing.T) {
	dir := t.TempDir()
	f := newFixture(t, dir)
	tok := f.token("h", f.user.ID, f.client.ID, "fam")
	f.tick(time.Millisecond)

	// Another instance over the same database, loaded before the revocation.
	other := revoked.NewList(f.store.Revocations, f.clock.now)
	if err := other.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := f.store.Tokens.RevokeUser(t.Context(), f.user.ID); err != nil {
		t.Fatal(err)
	}
	wantRevoked(t, other, "at another instance before Refresh", tok, false)
	if err := other.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	wantRevoked(t, other, "at another instance after Refresh", tok, true)

	// A restart: a fresh list over the reopened database.
	if err := f.store.Close(); err != nil {
		t.Fatal(err)
	}
	reopened := openStore(t, dir)
	restarted := revoked.NewList(reopened.Revocations, f.clock.now)
	if err := restarted.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	wantRevoked(t, restarted, "after a restart", tok, true)

	// Past Keep the token is long expired, and the revocation forgotten.
	f.tick(revoked.Keep + time.Second)
	if err := restarted.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := restarted.Len(); n != 0 {
		t.Errorf("%d revocations held after they expired, want 0", n)
	}
	if n, err := reopened.Revocations.DeleteExpired(context.Background(), f.clock.t); err != nil || n != 1 {
		t.Errorf("DeleteExpired = %d, %v; want 1", n, err)
	}
}

// sinceRecorder is a revocation repository that remembers where each
// ListSince started.
type sinceRecorder struct {
	models.RevocationRepository
	since []time.Time
}

func (r *sinceRecorder) ListSince(ctx context.Context, since, now time.Time) ([]*models.Revocation, error) {
	r.since = append(r.since, since)
	return r.RevocationRepository.ListSince(ctx, since, now)
}

// Refresh reads only what is new, what this instance recorded included:
// with one writer, it would otherwise read every revocation since the
// start again, every time.
func TestRefreshReadsOnlyWhatIsNew(t *testing.T) {
	c := &clock{t: time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)}
	raw := openStore(t, t.TempDir())
	repo := &sinceRecorder{RevocationRepository: raw.Revocations}
	list := revoked.NewList(repo, c.now)
	if err := list.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	store := revoked.Wrap(raw, list)
	c.t = c.t.Add(time.Hour)
	if err := store.Tokens.RevokeFamily(t.Context(), "fam"); err != nil {
		t.Fatal(err)
	}
	if err := list.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	since := repo.since[len(repo.since)-1]
	if !since.After(c.t.Add(-10 * time.Minute)) {
		t.Errorf("Refresh read from %v, an hour before the last revocation at %v", since, c.t)
	}
}
