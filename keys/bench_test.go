package keys_test

import (
	"context"
	"testing"
	"time"
)

// BenchmarkSign measures one ID-token-sized signature per algorithm: the
// cost the token endpoint pays for each ID token.
func BenchmarkSign(b *testing.B) {
	c := newClock()
	m := newManager(b, openSQLite(b, b.TempDir()).SigningKeys, c, testSecret, 0)
	claims := claimsAt(c.Now())
	for _, alg := range []string{"RS256", "ES256"} {
		b.Run(alg, func(b *testing.B) {
			ctx := context.Background()
			if _, err := m.Sign(ctx, alg, claims); err != nil { // loads the keys
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := m.Sign(ctx, alg, claims); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerify measures Verify of a token of each algorithm.
func BenchmarkVerify(b *testing.B) {
	c := newClock()
	m := newManager(b, openSQLite(b, b.TempDir()).SigningKeys, c, testSecret, 0)
	for _, alg := range []string{"RS256", "ES256"} {
		b.Run(alg, func(b *testing.B) {
			ctx := context.Background()
			tok := mustSign(b, m, c, alg)
			var got idClaims
			b.ReportAllocs()
			for b.Loop() {
				if err := m.Verify(ctx, tok, &got); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkGenerate is the cost of a first start or a rotation: one key
// of each algorithm, sealed and stored.
func BenchmarkGenerate(b *testing.B) {
	c := newClock()
	m := newManager(b, openSQLite(b, b.TempDir()).SigningKeys, c, testSecret, 0)
	ctx := context.Background()
	for b.Loop() {
		if _, err := m.Rotate(ctx); err != nil {
			b.Fatal(err)
		}
		c.Add(2 * time.Hour)
		if err := m.Maintain(ctx); err != nil { // keep the store small
			b.Fatal(err)
		}
	}
}
