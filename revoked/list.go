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
	"strings"
	"sync"
	"time"

	"beerlocker/models"
)

// Keep is how long a revocation is kept: longer than any sealed token
// lives, so that none outlives the record that ends it.
const Keep = 24 * time.Hour

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

	mu      sync.RWMutex
	entries map[key]entry
	newest  time.Time // the latest At read from repo
}

type entry struct {
	at, expires time.Time
}

// NewList returns an empty list over repo; Load fills it.
func NewList(repo models.RevocationRepository, now func() time.Time) *List {
	return &List{repo: repo, now: now, entries: make(map[key]entry)}
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
		if r.At.After(l.newest) {
			l.newest = r.At
		}
	}
	return nil
}

func (l *List) forgetExpired() {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	for k, e := range l.entries {
		if !now.Before(e.expires) {
			delete(l.entries, k)
		}
	}
}

// Len is how many revocations are held.
func (l *List) Len() int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return len(l.entries)
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
	return nil
}

func (l *List) applyLocked(r *models.Revocation) {
	k := key{kind: r.Kind, a: r.Key}
	if r.Kind == models.RevokedGrant {
		k.a, k.b, _ = strings.Cut(r.Key, " ")
	}
	e := l.entries[k]
	if r.At.After(e.at) {
		e.at = r.At
	}
	if r.ExpiresAt.After(e.expires) {
		e.expires = r.ExpiresAt
	}
	l.entries[k] = e
}

// Revoked reports whether a revocation ends the sealed access token t:
// its hash, family or client revoked, or its user, or its user and
// client, revoked at or after it was issued.
func (l *List) Revoked(t *models.Token) bool {
	now := l.now()
	l.mu.RLock()
	defer l.mu.RUnlock()
	if len(l.entries) == 0 {
		return false
	}
	live := func(k key) (entry, bool) {
		e, ok := l.entries[k]
		return e, ok && now.Before(e.expires)
	}
	issuedBy := func(k key) bool {
		e, ok := live(k)
		return ok && !t.CreatedAt.After(e.at)
	}
	if _, ok := live(key{kind: models.RevokedToken, a: t.Hash}); ok {
		return true
	}
	if _, ok := live(key{kind: models.RevokedFamily, a: t.FamilyID}); ok && t.FamilyID != "" {
		return true
	}
	// A deleted client never returns (its id is random), so every token
	// of it ends, even one issued by a request that read the client just
	// before it went.
	if _, ok := live(key{kind: models.RevokedClient, a: t.ClientID}); ok {
		return true
	}
	if t.UserID == "" {
		return false
	}
	return issuedBy(key{kind: models.RevokedUser, a: t.UserID}) ||
		issuedBy(key{kind: models.RevokedGrant, a: t.UserID, b: t.ClientID})
}
