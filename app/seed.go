package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"time"

	"beerlocker/grants"
	"beerlocker/models"
	"beerlocker/oauth"
	"beerlocker/pages"
)

// The demo account and app that `beerlocker seed` creates, so that the
// README's walkthrough works in a minute.
const (
	demoUsername = "demo"
	demoPassword = "demo-password"
)

// seed creates (or resets) the demo user and the demo confidential client,
// whose redirect URI is the service's own /demo/callback page, and prints
// their credentials. The client secret is stored only as a hash, so each
// run issues a new one.
func seed(ctx context.Context, cfg Config, stdout io.Writer) error {
	store, err := openStore(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return err
	}
	defer store.Close()
	now := time.Now().UTC().Truncate(time.Millisecond)
	passwords := &models.Passwords{Params: models.DefaultArgon2}

	user, err := seedUser(ctx, store, passwords, now, grants.NewEnder(store, slog.New(slog.DiscardHandler)))
	if err != nil {
		return fmt.Errorf("seed demo user: %w", err)
	}
	secret, err := seedClient(ctx, store, user, cfg.PublicURL+"/demo/callback", now)
	if err != nil {
		return fmt.Errorf("seed demo client: %w", err)
	}

	redirect := cfg.PublicURL + "/demo/callback"
	authURL := cfg.PublicURL + "/api/oauth2/authorize?" + url.Values{
		"response_type": {"code"}, "client_id": {pages.DemoClientID}, "redirect_uri": {redirect},
		"scope": {"profile beers:read beers:write"}, "state": {"demo"},
	}.Encode()
	fmt.Fprintf(stdout, `Demo user:     %s / %s
Demo client:   client_id=%s
               client_secret=%s
Redirect URI:  %s
Grants:        authorization_code, refresh_token, client_credentials, password

Try the authorization code flow in a browser (log in as %s, press Allow):
  %s
`, demoUsername, demoPassword, pages.DemoClientID, secret, redirect, demoUsername, authURL)
	return nil
}

// seedUser creates the demo user, or resets its password, which ends its
// sessions and grants as a password change does (API.md §3 and §7).
func seedUser(ctx context.Context, store *models.Store, passwords *models.Passwords, now time.Time, ender *grants.Ender) (*models.User, error) {
	hash, err := passwords.Hash(demoPassword)
	if err != nil {
		return nil, err
	}
	u, err := store.Users.GetByUsername(ctx, demoUsername)
	if errors.Is(err, models.ErrNotFound) {
		u = &models.User{ID: models.NewID(now), Username: demoUsername, PasswordHash: hash, CreatedAt: now, UpdatedAt: now}
		return u, store.Users.Create(ctx, u)
	}
	if err != nil {
		return nil, err
	}
	if u, err = store.Users.UpdatePassword(ctx, u.ID, hash, now); err != nil {
		return nil, err
	}
	return u, ender.EndUserGrants(ctx, u.ID)
}

func seedClient(ctx context.Context, store *models.Store, owner *models.User, redirect string, now time.Time) (string, error) {
	secret, hash := oauth.NewClientSecret()
	redirects := []string{redirect}
	_, err := store.Clients.GetOwned(ctx, owner.ID, pages.DemoClientID)
	if err == nil {
		_, err = store.Clients.Update(ctx, owner.ID, pages.DemoClientID, models.ClientUpdate{SecretHash: &hash, RedirectURIs: redirects}, now)
		return secret, err
	}
	if !errors.Is(err, models.ErrNotFound) {
		return "", err
	}
	c := &models.Client{
		ID: pages.DemoClientID, OwnerID: owner.ID, Name: "Beer Locker Demo", SecretHash: hash,
		RedirectURIs: redirects, GrantTypes: []string{models.GrantAuthorizationCode, models.GrantRefreshToken, models.GrantClientCredentials, models.GrantPassword},
		CreatedAt: now, UpdatedAt: now,
	}
	if err := models.ValidateClient(c); err != nil {
		return "", fmt.Errorf("PUBLIC_URL %s does not make a valid redirect URI: %w", redirect, err)
	}
	return secret, store.Clients.Create(ctx, c)
}
