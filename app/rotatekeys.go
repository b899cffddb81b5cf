package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"beerlocker/keys"
)

// rotateKeys publishes the next signing key of every algorithm, in the
// database the service's own environment names, and prints when each
// starts signing. Running instances read it within keys.RefreshEvery.
// The keys live in the primary database, so Redis is not needed.
func rotateKeys(ctx context.Context, cfg Config, stdout io.Writer) error {
	secret, err := cfg.secretKey()
	if err != nil {
		return err
	}
	store, err := openStore(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer store.Close()
	m, err := keys.New(store.SigningKeys, keys.Config{Secret: secret, ActivationDelay: cfg.SigningKeyActivationDelay})
	if err != nil {
		return err
	}
	next, err := m.Rotate(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, "New signing keys, published now:")
	for _, k := range next {
		fmt.Fprintf(stdout, "  %s  kid=%s  generation %d  signs from %s (in %s)\n",
			k.Alg, k.ID, k.Generation, k.ActiveAt.UTC().Format(time.RFC3339), k.ActiveAt.Sub(k.CreatedAt).Round(time.Second))
	}
	fmt.Fprintf(stdout, "Running instances publish them within 60 s. The keys they replace sign until then,\n"+
		"and stay published for %s after, until every token they signed has expired.\n", m.Retention())
	return nil
}
