// Package security writes the security log: one line per event that an
// operator or an incident responder looks for (failed credentials,
// lockouts, replays, revocations), with pseudonyms instead of usernames
// and never a password, secret, code or token.
package security

import (
	"beerlocker/httperr"
	"beerlocker/limits"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"strings"
)

// Security events: the value of the "event" attribute of a log line whose
// message is "security", so that `grep '"msg":"security"'` finds them all.
// They carry user and client ids and addresses, never a password, secret,
// code or token.
const (
	EventLoginFailed      = "login_failed"            // a user's password was wrong or the user unknown
	EventClientAuthFailed = "client_auth_failed"      // a client's secret was wrong or the client unknown
	EventLockout          = "lockout"                 // a failure emptied an address's or an account's bucket
	EventCodeReplayed     = "code_replayed"           // a used authorization code was presented again
	EventRefreshReused    = "refresh_token_reused"    // a rotated refresh token was presented again
	EventRefreshGraced    = "refresh_reuse_graced"    // ... by its client within REFRESH_REUSE_GRACE, and answered
	EventFamilyRevoked    = "token_family_revoked"    // every token of a grant was revoked after a replay
	EventSecretRotated    = "client_secret_rotated"   // an owner rotated a client's secret
	EventAppRevoked       = "app_revoked"             // a user revoked an app on the account page
	EventUserCodeFailed   = "device_user_code_failed" // a device user code typed on /device was wrong

	EventPersonalTokenCreated = "personal_token_created" // a user made a personal access token
	EventPersonalTokenRevoked = "personal_token_revoked" // a user revoked one
)

// Log writes one security event with the request id found in ctx.
// Failures and replays are warnings; changes a user made are info.
func Log(ctx context.Context, log *slog.Logger, event string, attrs ...slog.Attr) {
	if log == nil {
		return
	}
	level := slog.LevelWarn
	switch event {
	case EventSecretRotated, EventAppRevoked, EventPersonalTokenCreated, EventPersonalTokenRevoked:
		level = slog.LevelInfo
	}
	all := make([]slog.Attr, 0, len(attrs)+2)
	all = append(all, slog.String("event", event))
	if id := httperr.RequestID(ctx); id != "" {
		all = append(all, slog.String("request_id", id))
	}
	log.LogAttrs(ctx, level, "security", append(all, attrs...)...)
}

// LogFailure logs a failed credential (event is EventLoginFailed or
// EventClientAuthFailed) and, when the failure emptied a bucket, a lockout
// with the same attributes.
func LogFailure(ctx context.Context, log *slog.Logger, event string, lo limits.Lockout, attrs ...slog.Attr) {
	Log(ctx, log, event, attrs...)
	var locked []string
	if lo.Address {
		locked = append(locked, "address")
	}
	if lo.Account {
		locked = append(locked, "account")
	}
	if len(locked) > 0 {
		Log(ctx, log, EventLockout, append([]slog.Attr{slog.String("locked", strings.Join(locked, ","))}, attrs...)...)
	}
}

// Pseudonym names a username in logs without writing it: people type their
// password into the username field, and an unknown username may be one. It
// is an HMAC under key, so the log cannot be searched with a dictionary
// without the server's secret, yet attempts on one name can be correlated.
func Pseudonym(key []byte, username string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(strings.ToLower(username)))
	return hex.EncodeToString(m.Sum(nil)[:8])
}
