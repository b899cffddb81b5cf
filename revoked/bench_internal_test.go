package revoked

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"runtime"
	"testing"
	"time"

	"beerlocker/models"
)

// BenchmarkRevokedAtScale checks a live token against a list holding a
// million revocations of other tokens and ten thousand of users, and
// reports the memory each revocation takes.
func BenchmarkRevokedAtScale(b *testing.B) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	l := NewList(nil, clock)
	const tokens, users = 1_000_000, 10_000
	for i := range tokens + users {
		var seed [8]byte
		binary.BigEndian.PutUint64(seed[:], uint64(i))
		sum := sha256.Sum256(seed[:])
		r := &models.Revocation{Kind: models.RevokedToken, Key: hex.EncodeToString(sum[:]), At: now, ExpiresAt: now.Add(Keep)}
		if i >= tokens {
			r.Kind, r.Key = models.RevokedUser, models.NewID(now)+hex.EncodeToString(sum[:4])
		}
		l.applyLocked(r)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	perRevocation := float64(after.HeapAlloc-before.HeapAlloc) / float64(tokens+users)
	sum := sha256.Sum256([]byte("live"))
	live := &models.Token{Hash: hex.EncodeToString(sum[:]), UserID: models.NewID(now), ClientID: "blci_x", FamilyID: "fam", CreatedAt: now}
	b.ResetTimer()
	for b.Loop() {
		if l.Revoked(live) {
			b.Fatal("a live token is revoked")
		}
	}
	b.ReportMetric(perRevocation, "B/revocation")
	runtime.KeepAlive(l)
}
