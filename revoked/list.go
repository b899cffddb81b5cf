// Package revoked decides whether a sealed access token has been revoked.
// Sealed tokens are not stored, so revoking one cannot delete it: every
// revocation is instead a durable record (models.Revocation), and List
// holds the live ones in memory, so that the check on every request reads
// no database. Wrap decorates a store so that each of its methods that
// ends tokens also records and applies the revocation, before it returns.
//
// An instance sees its own revocations at once. Another instance's reach
// it when List.Refresh reads the records again: at once when a revocation
// channel (Redis) tells it to, and every TOKEN_CACHE_TTL otherwise.
package revoked

import (
	"context"
	"encoding/hex"
	"strings"
	"sync"
	"time"

	"beerlocker/models"
)

// Keep is how long a revocation is kept: longer than any sealed token
// lives (oauth seals only tokens that live at most Keep; access tokens
// live 1 h), so that none outlives the record that ends it, and short,
// so that the revocations held in memory are those of the last hours.
const Keep = 2 * time.Hour

// refreshOverlap is how far back Refresh reads before the newest
// revocation it has seen: another instance stamps At before its write
// lands, and clocks of instances differ a little.
const refreshOverlap = time.Minute

type key struct {
	kind models.RevocationKind
	a, b string // b is the client of a grant
}

// List is the live revocations, in memory. It is safe for concurrent use.
type List struct {
	repo models.RevocationRepository
	now  func() time.Time

	mu sync.RWMutex
	// hashes holds the revocations of single tokens, most of them at
	// scale, by the 32 bytes of their SHA-256, with when they expire (Unix
	// microseconds): about 60 bytes each in memory rather than 200.
	hashes  map[[32]byte]int64
	entries map[key]entry // every other revocation
	newest  time.Time     // the latest At read from repo
}

type entry struct {
	at, expires int64 // Unix microseconds
}

// hashKey is the 32 bytes of a hex SHA-256, or false for any other key.
func hashKey(hexHash string) (k [32]byte, ok bool) {
	if len(hexHash) != 64 {
		return k, false
	}
	_, err := hex.Decode(k[:], []byte(hexHash))
	return k, err == nil
}

// NewList returns an empty list over repo; Load fills it.
func NewList(repo models.RevocationRepository, now func() time.Time) *List {
	return &List{repo: repo, now: now, hashes: make(map[[32]byte]int64), entries: make(map[key]entry)}
}

// Load reads every live revocation. It is called once, before the
// service answers.
func (l *List) Load(ctx context.Context) error { return l.read(ctx, time.Time{}) }

// Refresh reads the revocations recorded since the last read, by this
// instance or another, and forgets the expired ones.
func (l *List) Refresh(ctx context.Context) error {
	l.mu.RLock()
	since := l.newest.Add(-refreshOverlap)
	l.mu.RUnlock()
	if err := l.read(ctx, since); err != nil {
		return err
	}
	l.forgetExpired()
	return nil
}

func (l *List) read(ctx context.Context, since time.Time) error {
	revs, err := l.repo.ListSince(ctx, since, l.now())
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range revs {
		l.applyLocked(r)
	}
	l.noteNewestLocked(revs)
	return nil
}

// noteNewestLocked moves on where the next Refresh reads from. What this
// instance recorded counts too: otherwise, with one writer, every Refresh
// would read every revocation made since the start again.
func (l *List) noteNewestLocked(revs []*models.Revocation) {
	for _, r := range revs {
		if r.At.After(l.newest) {
			l.newest = r.At
		}
	}
}

func (l *List) forgetExpired() {
	now := l.now().UnixMicro()
	l.mu.Lock()
	defer l.mu.Unlock()
	for k, e := range l.entries {
		if now >= e.expires {
			delete(l.entries, k)
		}
	}
	for k, expires := range l.hashes {
		if now >= expires {
			delete(l.hashes, k)
		}
	}
}

// Len is how many revocations are held.
func (l *List) Len() int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return len(l.entries) + len(l.hashes)
}

// record stores revs and then applies them here: when it returns nil,
// the next check at this instance refuses what they end.
func (l *List) record(ctx context.Context, revs ...*models.Revocation) error {
	for _, r := range revs {
		if err := l.repo.Add(ctx, r); err != nil {
			return err
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range revs {
		l.applyLocked(r)
	}
	l.noteNewestLocked(revs)
	return nil
}

func (l *List) applyLocked(r *models.Revocation) {
	at, expires := r.At.UnixMicro(), r.ExpiresAt.UnixMicro()
	if r.Kind == models.RevokedToken {
		if h, ok := hashKey(r.Key); ok {
			l.hashes[h] = max(l.hashes[h], expires)
			return
		}
	}
	k := key{kind: r.Kind, a: r.Key}
	if r.Kind == models.RevokedGrant {
		k.a, k.b, _ = strings.Cut(r.Key, " ")
	}
	e := l.entries[k]
	l.entries[k] = entry{at: max(e.at, at), expires: max(e.expires, expires)}
}

// Revoked reports whether a revocation ends the sealed access token t:
// its hash, family or client revoked, or its user, or its user and
// client, revoked at or after it was issued.
func (l *List) Revoked(t *models.Token) bool {
	now := l.now().UnixMicro()
	issued := t.CreatedAt.UnixMicro()
	l.mu.RLock()
	defer l.mu.RUnlock()
	if len(l.entries) == 0 && len(l.hashes) == 0 {
		return false
	}
	if h, ok := hashKey(t.Hash); ok {
		if expires, ok := l.hashes[h]; ok && now < expires {
			return true
		}
	} else if l.live(key{kind: models.RevokedToken, a: t.Hash}, now) != nil {
		return true
	}
	if t.FamilyID != "" && l.live(key{kind: models.RevokedFamily, a: t.FamilyID}, now) != nil {
		return true
	}
	// A deleted client never returns (its id is random), so every token
	// of it ends, even one issued by a request that read the client just
	// before it went.
	if l.live(key{kind: models.RevokedClient, a: t.ClientID}, now) != nil {
		return true
	}
	if t.UserID == "" {
		return false
	}
	if e := l.live(key{kind: models.RevokedUser, a: t.UserID}, now); e != nil && issued <= e.at {
		return true
	}
	e := l.live(key{kind: models.RevokedGrant, a: t.UserID, b: t.ClientID}, now)
	return e != nil && issued <= e.at
}

// live returns the revocation of k if it has not expired at now.
func (l *List) live(k key, now int64) *entry {
	e, ok := l.entries[k]
	if !ok || now >= e.expires {
		return nil
	}
	return &e
}
