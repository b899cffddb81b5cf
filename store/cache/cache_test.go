package cache_test

import (
	"context"
	"testing"
	"time"

	"beerlocker/models"
	"beerlocker/store/cache"
	"beerlocker/store/sqlite"
	"beerlocker/store/storetest"
)

// TestWrappedStoreConforms runs the conformance suite through the cache:
// caching must not change what any repository method returns, revocations
// included.
func TestWrappedStoreConforms(t *testing.T) {
	storetest.Run(t, func(t *testing.T) *models.Store {
		s, err := sqlite.Open(context.Background(), t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		wrapped, _ := cache.Wrap(s, time.Minute, 1000, time.Now)
		return wrapped
	})
}

func TestTokenCacheServesAndEvicts(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Now().UTC().Truncate(time.Millisecond)
	wrapped, tc := cache.Wrap(s, time.Minute, 1000, time.Now)
	u := &models.User{ID: models.NewID(now), Username: "alice", PasswordHash: "x", CreatedAt: now, UpdatedAt: now}
	c := &models.Client{ID: "blci_app", OwnerID: u.ID, Name: "App", RedirectURIs: []string{"https://a.example/cb"}, GrantTypes: models.DefaultGrantTypes(), CreatedAt: now, UpdatedAt: now}
	if err := s.Users.Create(ctx, u); err != nil {
		t.Fatal(err)
	}
	if err := s.Clients.Create(ctx, c); err != nil {
		t.Fatal(err)
	}
	newToken := func(hash, family string) *models.Token {
		tk := &models.Token{Hash: hash, Kind: models.AccessToken, ClientID: c.ID, UserID: u.ID, Scopes: []string{"profile"},
			FamilyID: family, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := s.Tokens.Create(ctx, tk); err != nil {
			t.Fatal(err)
		}
		return tk
	}
	newToken("h1", "f1")
	if _, err := wrapped.Tokens.Get(ctx, "h1", now); err != nil {
		t.Fatal(err)
	}
	if tc.Len() != 1 {
		t.Fatalf("cache holds %d tokens after a lookup, want 1", tc.Len())
	}
	// Served from the cache: the database no longer has it, the cache does.
	if err := s.Tokens.Revoke(ctx, "h1"); err != nil {
		t.Fatal(err)
	}
	if _, err := wrapped.Tokens.Get(ctx, "h1", now); err != nil {
		t.Errorf("cached token not served: %v", err)
	}
	// An expired token is never served from the cache.
	if _, err := wrapped.Tokens.Get(ctx, "h1", now.Add(2*time.Hour)); err == nil {
		t.Error("an expired token was served from the cache")
	}

	for _, tc := range []struct {
		name   string
		revoke func() error
	}{
		{"Revoke", func() error { return wrapped.Tokens.Revoke(ctx, "h2") }},
		{"RevokeFamily", func() error { return wrapped.Tokens.RevokeFamily(ctx, "f2") }},
		{"RevokeUser", func() error { return wrapped.Tokens.RevokeUser(ctx, u.ID) }},
		{"Consents.Delete", func() error {
			if _, err := wrapped.Consents.Grant(ctx, u.ID, c.ID, []string{"profile"}, time.Time{}, now); err != nil {
				return err
			}
			return wrapped.Consents.Delete(ctx, u.ID, c.ID)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			newToken("h2", "f2")
			if _, err := wrapped.Tokens.Get(ctx, "h2", now); err != nil {
				t.Fatal(err)
			}
			if err := tc.revoke(); err != nil {
				t.Fatal(err)
			}
			if _, err := wrapped.Tokens.Get(ctx, "h2", now); err == nil {
				t.Errorf("token still served after %s", tc.name)
			}
		})
	}
}
