package models

import (
	"context"
	"time"
)

// SessionLifetime bounds a browser login (API.md §7): a session's record
// expires this long after the login however active the browser is, and
// the store ignores it from then on, whatever the cookie's Max-Age says.
const SessionLifetime = 12 * time.Hour

// MaxPendingConsents is how many consent pages one session may have open
// at once; opening one more forgets the oldest.
const MaxPendingConsents = 10

// Session is a browser's signed-in session, stored by the SHA-256 of the
// random id its cookie carries. The cookie only names the session; the
// record is what makes it one, so deleting the record ends the session
// for every copy of the cookie there is (API.md §7).
type Session struct {
	Hash      string
	UserID    string
	CreatedAt time.Time // the login
	ExpiresAt time.Time // CreatedAt + SessionLifetime
}

// Expired reports whether the session has ended at now.
func (s *Session) Expired(now time.Time) bool { return !now.Before(s.ExpiresAt) }

// PendingConsent is a consent page that is open (API.md §6 step 5): the
// request it asks the user about, kept until the user decides. It is
// stored by the SHA-256 of its transaction id, which the page's forms post
// back, and bound to the session that was shown the page: a decision is
// taken only from that session, and only once.
type PendingConsent struct {
	TxHash      string
	SessionHash string
	// Kind names the flow that parked it ("authorize", "device"): each
	// flow takes only its own.
	Kind string
	// Request is the flow's request, encoded by the flow; the store keeps
	// it as it is.
	Request   string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// SessionRepository stores browser sessions and the consent pages open
// in them. A session's pending consents end with it.
type SessionRepository interface {
	// Create inserts s. Returns ErrConflict if a session with s.Hash
	// exists.
	Create(ctx context.Context, s *Session) error
	// Get returns the session with that hash. Returns ErrNotFound if there
	// is none, or it has expired at now.
	Get(ctx context.Context, hash string, now time.Time) (*Session, error)
	// Delete removes the session and its pending consents. A session that
	// is already gone is not an error: logging out twice ends it once.
	Delete(ctx context.Context, hash string) error
	// DeleteUser removes every session of the user, with their pending
	// consents, so that a password change or an account deletion signs
	// every browser out.
	DeleteUser(ctx context.Context, userID string) error
	// Park stores p. A session keeps at most MaxPendingConsents: parking
	// one more removes the oldest of its session beyond them.
	// Returns ErrConflict if one with p.TxHash exists.
	Park(ctx context.Context, p *PendingConsent) error
	// Take marks the pending consent with txHash, parked in that session
	// by that kind of flow, decided and returns it, atomically: of
	// concurrent calls exactly one succeeds. Returns ErrConflict if it was
	// already taken, expired or not, and ErrNotFound if that session has
	// none of that kind with txHash, or it is untaken and expired at now.
	// Only a success changes anything.
	Take(ctx context.Context, sessionHash, txHash, kind string, now time.Time) (*PendingConsent, error)
	// DeleteExpired removes the sessions and pending consents that expired
	// before now, and returns how many.
	DeleteExpired(ctx context.Context, now time.Time) (int64, error)
}
