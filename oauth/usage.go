package oauth

import (
	"context"
	"sync"
	"time"

	"beerlocker/httperr"
)

// An app's last use of a user's grant is shown on /account (API.md §11),
// to the hour: the first use in an hour writes it (Consents.Touch, which
// never moves it back), the rest of the hour costs a map lookup, so a busy
// app costs no write per request. Each instance remembers for itself;
// several instances write an hour at most once each.

// maxUsageKeys bounds the grants remembered; past it, the map starts
// over, which costs one more write per grant at worst.
const maxUsageKeys = 100_000

type usageKey struct{ userID, clientID string }

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
	hour := s.now().Truncate(time.Hour)
	k := usageKey{userID, clientID}
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
	if err := s.Store.Consents.Touch(ctx, userID, clientID, hour); err != nil {
		// Not the request's failure: the next use tries again.
		u.mu.Lock()
		delete(u.seen, k)
		u.mu.Unlock()
		s.Log.Warn("record an app's last use", "request_id", httperr.RequestID(ctx), "err", err)
	}
}
