package oauth

import (
	"context"
	"sync"
	"time"

	"beerlocker/httperr"
	"beerlocker/models"
)

// An app's last use of a user's grant is shown on /account (API.md §11),
// to the hour: the first use in an hour writes it (Consents.Touch, which
// never moves it back), the rest of the hour costs a map lookup, so a busy
// app costs no write per request. Each instance remembers for itself;
// several instances write an hour at most once each.

// maxUsageKeys bounds the grants remembered; past it, the map starts
// over, which costs one more write per grant at worst.
const maxUsageKeys = 100_000

// usageKey is a grant (a user and a client) or a personal access token
// (its hash).
type usageKey struct{ userID, clientID, tokenHash string }

// usage is the hours already recorded, per grant.
type usage struct {
	mu   sync.Mutex
	seen map[usageKey]time.Time
}

// recordUse records that clientID used userID's grant now: an access
// token at a resource, or a refresh. Tokens without a user have no grant.
func (s *Server) recordUse(ctx context.Context, userID, clientID string) {
	if userID == "" || clientID == "" {
		return
	}
	s.recordOnce(ctx, usageKey{userID: userID, clientID: clientID}, "record an app's last use", func(hour time.Time) error {
		return s.Store.Consents.Touch(ctx, userID, clientID, hour)
	})
}

// recordPersonalUse records the use of a personal access token now, to
// the hour, as recordUse does for a grant.
func (s *Server) recordPersonalUse(ctx context.Context, t *models.PersonalToken) {
	if !t.LastUsedAt.Before(s.now().Truncate(time.Hour)) {
		return // the token as read says this hour already
	}
	s.recordOnce(ctx, usageKey{tokenHash: t.Hash}, "record a personal access token's use", func(hour time.Time) error {
		return s.Store.PersonalTokens.Touch(ctx, t.Hash, hour)
	})
}

// recordOnce calls touch with the current hour unless this instance did
// so for k within the hour already.
func (s *Server) recordOnce(ctx context.Context, k usageKey, what string, touch func(hour time.Time) error) {
	hour := s.now().Truncate(time.Hour)
	u := &s.usage
	u.mu.Lock()
	if u.seen[k].Equal(hour) {
		u.mu.Unlock()
		return
	}
	if u.seen == nil || len(u.seen) >= maxUsageKeys {
		u.seen = make(map[usageKey]time.Time)
	}
	u.seen[k] = hour
	u.mu.Unlock()
	if err := touch(hour); err != nil {
		// Not the request's failure: the next use tries again.
		u.mu.Lock()
		delete(u.seen, k)
		u.mu.Unlock()
		s.Log.Warn(what, "request_id", httperr.RequestID(ctx), "err", err)
	}
}
