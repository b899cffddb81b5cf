package models

import (
	"context"
	"strings"
	"time"
)

// DeviceStatus is where a device authorization stands (RFC 8628 §3.3):
// waiting for the user, or decided by them.
type DeviceStatus string

// Device authorization states.
const (
	DevicePending  DeviceStatus = "pending"
	DeviceApproved DeviceStatus = "approved"
	DeviceDenied   DeviceStatus = "denied"
)

// SlowDownStep is how much a device's polling interval grows each time it
// polls too soon (RFC 8628 §3.5: "the interval MUST be increased by 5
// seconds for this and all subsequent requests").
const SlowDownStep = 5 * time.Second

// UserCodeAlphabet is the alphabet of user codes (RFC 8628 §6.1): upper-case
// consonants without the look-alikes, so a code read off a screen is typed
// right, and no vowels, so no code spells a word.
const UserCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ"

// UserCodeLen is the number of characters of a user code: 20^8 ≈ 2^34.6
// codes, guessed only through a login and a rate limit (RFC 8628 §5.1).
const UserCodeLen = 8

// DeviceCode is one device authorization request (RFC 8628 §3.2), stored by
// the SHA-256 of its device_code. The user code is stored as the SHA-256 of
// its normalized form (see NormalizeUserCode), so that it is looked up
// without regard to case or dashes and unique among live codes.
type DeviceCode struct {
	Hash         string
	UserCodeHash string
	ClientID     string
	Scopes       []string
	Status       DeviceStatus
	UserID       string // the user who decided; "" while pending
	// Interval is the least time between two polls; it grows by
	// SlowDownStep on each poll that comes too soon.
	Interval   time.Duration
	LastPollAt time.Time // zero before the first poll
	CreatedAt  time.Time
	ExpiresAt  time.Time
	Used       bool // tokens were issued for it
	// AuthTime is when the approving user last entered a password in
	// that browser session (the ID token's auth_time); zero while pending.
	AuthTime time.Time
	// Audience is the resources the device asked for (RFC 8707), the REST
	// API when it named none.
	Audience Audience
	// GrantEndsAt is the end the user chose for the grant when approving
	// (API.md §11); zero for until revoked, and while pending.
	GrantEndsAt time.Time
}

// DeviceDecision is what the user decided on a device code's consent page.
type DeviceDecision struct {
	UserID   string
	Status   DeviceStatus // DeviceApproved or DeviceDenied
	AuthTime time.Time    // when the user last entered a password in that browser session
	// Scopes are the requested scopes the user left ticked (API.md §11),
	// which the device's tokens get; nil keeps the code's.
	Scopes []string
	// GrantEndsAt is the end the user chose for the grant; zero for until
	// revoked.
	GrantEndsAt time.Time
}

// Expired reports whether the code has expired at now.
func (d *DeviceCode) Expired(now time.Time) bool { return !now.Before(d.ExpiresAt) }

// PollTooSoon reports whether a poll at now comes sooner than Interval
// after the previous one (RFC 8628 §3.5 slow_down). A fifth of the interval
// is forgiven: a client that waits the interval between sending its polls
// may still see two of them arrive a little closer together, and should
// not be slowed down for the network's jitter. The first poll is never
// too soon.
func (d *DeviceCode) PollTooSoon(now time.Time) bool {
	if d.LastPollAt.IsZero() {
		return false
	}
	return now.Sub(d.LastPollAt) < d.Interval-d.Interval/5
}

// NormalizeUserCode returns a user code as it is stored: upper case, with
// the dashes and spaces people type removed. ok is false unless the result
// is UserCodeLen characters of UserCodeAlphabet.
func NormalizeUserCode(s string) (code string, ok bool) {
	if len(s) > 4*UserCodeLen {
		return "", false
	}
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		switch {
		case r == '-' || r == ' ':
		case strings.ContainsRune(UserCodeAlphabet, r):
			b.WriteRune(r)
		default:
			return "", false
		}
	}
	if b.Len() != UserCodeLen {
		return "", false
	}
	return b.String(), true
}

// FormatUserCode shows a normalized user code as people read it: XXXX-XXXX.
func FormatUserCode(code string) string {
	if len(code) != UserCodeLen {
		return code
	}
	return code[:4] + "-" + code[4:]
}

// DeviceCodeRepository stores device authorizations. Every method is one
// atomic operation on one device code.
//
// As with authorization codes, a redeemed code is kept until the store
// drops it some time after its expiry, and for as long as it is kept,
// being used wins over being expired: Redeem answers ErrConflict and Poll
// returns the code with Used set, so that a second redemption is told
// apart from a late one.
type DeviceCodeRepository interface {
	// Create inserts d as a pending code that was never polled (Status,
	// UserID, LastPollAt and Used are ignored). Returns ErrConflict if an
	// unexpired code already has d.UserCodeHash (the caller retries with a
	// new user code) or d.Hash; an expired code with that user code is
	// replaced. d.CreatedAt is "now" for that.
	Create(ctx context.Context, d *DeviceCode) error
	// GetByUserCode returns the unexpired code with that user code hash,
	// decided or not. Returns ErrNotFound if there is none at now.
	GetByUserCode(ctx context.Context, userCodeHash string, now time.Time) (*DeviceCode, error)
	// Decide records the user's decision on a pending, unexpired code.
	// Returns ErrConflict if the code was already decided, and ErrNotFound
	// if it is unknown or expired at now, decided or not: deciding an
	// expired code would change nothing.
	Decide(ctx context.Context, hash string, d DeviceDecision, now time.Time) error
	// Poll records that clientID polled the code at now, and returns the
	// code as it stands afterwards. tooSoon reports a poll that came sooner
	// than the interval after the previous one (DeviceCode.PollTooSoon);
	// the returned Interval then has grown by SlowDownStep. A used or
	// expired code is returned as it is, and its poll is not recorded; a
	// used one has Used set even once expired.
	// Returns ErrNotFound if no code with that hash belongs to clientID.
	Poll(ctx context.Context, hash, clientID string, now time.Time) (d *DeviceCode, tooSoon bool, err error)
	// Redeem marks an approved, unexpired code of clientID used and returns
	// it, atomically, so that of concurrent calls exactly one succeeds.
	// Returns ErrConflict if it was already used, expired or not, and
	// ErrNotFound if it is unknown, another client's, not approved, or
	// unused and expired at now.
	Redeem(ctx context.Context, hash, clientID string, now time.Time) (*DeviceCode, error)
	// DeleteUser removes every code the user decided, approved or denied,
	// redeemed or not, so that a password change also ends the device
	// grants still in flight: Poll and Redeem then answer ErrNotFound, as
	// for a code never issued. Pending codes, which no user has decided,
	// are left alone.
	DeleteUser(ctx context.Context, userID string) error
	// DeleteExpired removes codes that expired before now and returns how many.
	DeleteExpired(ctx context.Context, now time.Time) (int64, error)
}
