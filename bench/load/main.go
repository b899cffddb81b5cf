// Command load fills a Beer Locker data directory with many users, beers,
// clients, tokens, grants (consents) and live revocations, straight through the store's repository interfaces,
// for the SCALE part of the load benchmark (bench/run.sh). Run it while no
// server uses the directory:
//
//	go run ./bench/load -dir /tmp/data -users 10000 -beers 100000 -tokens 1000000 -grants 100000 -revocations 100000
//
// Writes go through the store's group commit: many goroutines call Create at
// once, so each durable commit carries many of them, and every Tokens.Create
// call carries a whole batch of tokens.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"beerlocker/models"
	"beerlocker/store/sqlite"
)

func main() {
	dir := flag.String("dir", "", "data directory (DATA_DIR of the server; required)")
	nUsers := flag.Int("users", 10_000, "users to create")
	nBeers := flag.Int("beers", 100_000, "beers to create, spread evenly over the users")
	nClients := flag.Int("clients", 100, "confidential clients to create (owned by the first users); tokens are spread over them")
	nTokens := flag.Int("tokens", 1_000_000, "tokens to create")
	nGrants := flag.Int("grants", 100_000, "consents to create (user i approves client i mod clients)")
	nRevocations := flag.Int("revocations", 100_000, "revocations to create, all live (made in the last hour): what every instance holds in memory")
	batch := flag.Int("batch", 20_000, "tokens per Tokens.Create call (sorted per index; bigger batches touch each index page fewer times)")
	workers := flag.Int("workers", 8, "concurrent writers (the store groups their writes into shared commits)")
	password := flag.String("password", "s3cret-pass", "password of every loaded user (hashed once, the hash is reused)")
	flag.Parse()
	if *dir == "" || *nUsers < 1 || *nClients < 1 || *nClients > *nUsers || *batch < 1 || *workers < 1 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(context.Background(), *dir, *nUsers, *nBeers, *nClients, *nTokens, *nGrants, *nRevocations, *batch, *workers, *password); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, dir string, nUsers, nBeers, nClients, nTokens, nGrants, nRevocations, batch, workers int, password string) error {
	start := time.Now()
	st, err := sqlite.Open(ctx, dir)
	if err != nil {
		return err
	}
	closed := false
	defer func() {
		if !closed { // Close is not idempotent: call it once
			st.Close()
		}
	}()

	// One argon2id hash for everyone: hashing 10^4 passwords would take
	// minutes and tells the benchmark nothing.
	pw := &models.Passwords{Params: models.DefaultArgon2}
	hash, err := pw.Hash(password)
	if err != nil {
		return err
	}
	now := time.Now().UTC()

	// Users.
	t0 := time.Now()
	userIDs := make([]string, nUsers)
	for i := range userIDs {
		userIDs[i] = models.NewID(now)
	}
	err = parallel(ctx, nUsers, 64, func(i int) error {
		return st.Users.Create(ctx, &models.User{ID: userIDs[i], Username: fmt.Sprintf("load%06d", i),
			PasswordHash: hash, CreatedAt: now, UpdatedAt: now})
	})
	if err != nil {
		return fmt.Errorf("users: %w", err)
	}
	report("users", nUsers, t0)

	// Clients, owned by the first nClients users.
	t0 = time.Now()
	clientIDs := make([]string, nClients)
	for i := range clientIDs {
		clientIDs[i] = "blci_load" + randHex(16)
	}
	err = parallel(ctx, nClients, 64, func(i int) error {
		return st.Clients.Create(ctx, &models.Client{ID: clientIDs[i], OwnerID: userIDs[i],
			Name: fmt.Sprintf("Load app %d", i), SecretHash: randHex(32),
			RedirectURIs: []string{"http://127.0.0.1:9/cb"},
			GrantTypes: []string{models.GrantAuthorizationCode, models.GrantRefreshToken,
				models.GrantClientCredentials, models.GrantPassword},
			CreatedAt: now, UpdatedAt: now})
	})
	if err != nil {
		return fmt.Errorf("clients: %w", err)
	}
	report("clients", nClients, t0)

	// Beers, nBeers/nUsers per user (the first users get the remainder).
	t0 = time.Now()
	types := []string{"IPA", "Stout", "Lager", "Tripel", "Pilsner", "Porter", "Saison", ""}
	err = parallel(ctx, nBeers, 256, func(i int) error {
		return st.Beers.Create(ctx, &models.Beer{ID: models.NewID(time.Now()), OwnerID: userIDs[i%nUsers],
			Name: fmt.Sprintf("Beer %d", i), Type: types[i%len(types)], Quantity: i % 24,
			CreatedAt: now, UpdatedAt: now})
	})
	if err != nil {
		return fmt.Errorf("beers: %w", err)
	}
	report("beers", nBeers, t0)

	// Tokens, in batches: a realistic mix of grants, all unexpired.
	t0 = time.Now()
	batches := make(chan []*models.Token, workers)
	var done atomic.Int64
	var werr error
	var once sync.Once
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for b := range batches {
				if err := st.Tokens.Create(ctx, b...); err != nil {
					once.Do(func() { werr = err })
					continue
				}
				n := done.Add(int64(len(b)))
				if n/100_000 != (n-int64(len(b)))/100_000 {
					el := time.Since(t0).Seconds()
					fmt.Printf("  tokens: %d in %.1fs (%.0f/s)\n", n, el, float64(n)/el)
				}
			}
		})
	}
	gen := tokenGen{now: now, users: userIDs, clients: clientIDs}
	for made := 0; made < nTokens; {
		n := min(batch, nTokens-made)
		b := gen.next(n)
		batches <- b
		made += len(b)
	}
	close(batches)
	wg.Wait()
	if werr != nil {
		return fmt.Errorf("tokens: %w", werr)
	}
	report("tokens", nTokens, t0)

	// Grants: user i approved client i mod nClients, a grant per user for
	// as long as there are users (then the next client).
	t0 = time.Now()
	nGrants = min(nGrants, nUsers*nClients)
	err = parallel(ctx, nGrants, 256, func(i int) error {
		_, err := st.Consents.Grant(ctx, userIDs[i%nUsers], clientIDs[(i+i/nUsers)%nClients],
			[]string{models.ScopeProfile, models.ScopeBeersRead}, time.Time{}, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("grants: %w", err)
	}
	report("grants", nGrants, t0)

	// Revocations, made in the last hour and kept revoked.Keep (2 h): of
	// single tokens mostly (a revoked access token, a rotated family),
	// some of users and grants (password changes, an app revoked).
	t0 = time.Now()
	err = parallel(ctx, nRevocations, 256, func(i int) error {
		at := now.Add(-time.Duration(mrand.Int64N(int64(time.Hour)))).Truncate(time.Microsecond)
		r := &models.Revocation{Kind: models.RevokedToken, Key: randHex(32), At: at, ExpiresAt: at.Add(2 * time.Hour)}
		switch i % 20 {
		case 0:
			r.Kind, r.Key = models.RevokedUser, userIDs[mrand.IntN(nUsers)]
		case 1:
			r.Kind, r.Key = models.RevokedGrant, models.GrantKey(userIDs[mrand.IntN(nUsers)], clientIDs[mrand.IntN(nClients)])
		case 2, 3, 4:
			r.Kind, r.Key = models.RevokedFamily, models.NewID(at)
		}
		return st.Revocations.Add(ctx, r)
	})
	if err != nil {
		return fmt.Errorf("revocations: %w", err)
	}
	report("revocations", nRevocations, t0)

	t0 = time.Now()
	closed = true
	if err := st.Close(); err != nil {
		return err
	}
	fmt.Printf("close (checkpoint): %.1fs\n", time.Since(t0).Seconds())
	fmt.Printf("LOAD users=%d beers=%d clients=%d tokens=%d grants=%d revocations=%d seconds=%.1f\n",
		nUsers, nBeers, nClients, nTokens, nGrants, nRevocations, time.Since(start).Seconds())
	return nil
}

// tokenGen makes tokens the way the server issues them: an access token
// with a refresh token of the same family for user grants (password,
// authorization code, refresh), an access token alone for
// client_credentials. Every hash is the hex of 32 random bytes, the shape of
// a stored SHA-256.
//
// Each batch is drawn at random and then laid out in ascending order of
// every indexed column at once (hash, user, client, expiry; family ids
// ascend anyway): the i-th token gets the i-th smallest hash, user, client
// and issue time of the batch. Each value keeps its distribution, but the
// inserts of one batch walk every index from left to right instead of
// jumping between random pages, which SQLite's small page cache would
// otherwise turn into several page reads and WAL writes per token.
type tokenGen struct {
	now     time.Time
	users   []string
	clients []string
}

var scopeSets = [][]string{
	{"profile", "beers:read"},
	{"beers:read"},
	{"beers:read", "beers:write"},
	{"profile", "beers:read", "beers:write"},
}

func (g *tokenGen) next(n int) []*models.Token {
	// The shape of the batch: one slot per grant, a refresh token after
	// every user grant's access token (none for client_credentials).
	type grant struct{ cc bool }
	var grants []grant
	for size := 0; size < n; {
		cc := mrand.IntN(10) == 0
		grants = append(grants, grant{cc})
		size++
		if !cc {
			size++
		}
	}
	hashes := make([]string, n)
	for i := range hashes {
		hashes[i] = randHex(32)
	}
	slices.Sort(hashes)
	users := make([]string, len(grants))
	clients := make([]string, len(grants))
	issued := make([]time.Time, len(grants))
	for i := range grants {
		users[i] = g.users[mrand.IntN(len(g.users))]
		clients[i] = g.clients[mrand.IntN(len(g.clients))]
		// Issued up to 50 minutes ago, so the 1 h access token is still valid.
		issued[i] = g.now.Add(-time.Duration(mrand.Int64N(int64(50 * time.Minute))))
	}
	slices.Sort(users)
	slices.Sort(clients)
	slices.SortFunc(issued, time.Time.Compare)

	out := make([]*models.Token, 0, n)
	for i, gr := range grants {
		scopes := scopeSets[mrand.IntN(len(scopeSets))]
		family := models.NewID(g.now)
		t := &models.Token{Hash: hashes[len(out)], Kind: models.AccessToken, ClientID: clients[i],
			Scopes: scopes, FamilyID: family, CreatedAt: issued[i], ExpiresAt: issued[i].Add(time.Hour)}
		if gr.cc { // client_credentials: no user, no refresh token
			out = append(out, t)
			continue
		}
		t.UserID = users[i]
		out = append(out, t)
		if len(out) < n {
			out = append(out, &models.Token{Hash: hashes[len(out)], Kind: models.RefreshToken, ClientID: clients[i],
				UserID: users[i], Scopes: scopes, FamilyID: family, CreatedAt: issued[i], ExpiresAt: issued[i].Add(30 * 24 * time.Hour)})
		}
	}
	return out
}

// parallel calls fn(0..n-1) from width goroutines and returns the first error.
func parallel(ctx context.Context, n, width int, fn func(i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan int)
	var first error
	var once sync.Once
	var wg sync.WaitGroup
	for range min(width, n) {
		wg.Go(func() {
			for i := range next {
				if err := fn(i); err != nil {
					once.Do(func() { first = err; cancel() })
				}
			}
		})
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	return first
}

func randHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

func report(what string, n int, t0 time.Time) {
	el := time.Since(t0).Seconds()
	fmt.Printf("%s: %d in %.1fs (%.0f/s)\n", what, n, el, float64(n)/max(el, 1e-9))
}
