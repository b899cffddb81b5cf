package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"beerlocker/models"
)

// devices implements models.DeviceCodeRepository. Every method that writes
// runs in one write transaction, and every write transaction is
// serialized by the single writer connection, so a read followed by a
// write inside one is atomic.
type devices struct{ db *db }

var _ models.DeviceCodeRepository = (*devices)(nil)

const deviceColumns = `hash, user_code_hash, client_id, scopes, status, user_id,
	interval_ms, last_poll_at, created_at, expires_at, used_at IS NOT NULL, auth_time, audience, grant_ends_at`

func scanDevice(s scanner) (*models.DeviceCode, error) {
	var d models.DeviceCode
	var scopes, status string
	var user sql.NullString
	var interval, created, expires int64
	var lastPoll, authTime, grantEnds sql.NullInt64
	err := s.Scan(&d.Hash, &d.UserCodeHash, &d.ClientID, &scopes, &status, &user,
		&interval, &lastPoll, &created, &expires, &d.Used, &authTime, &d.Audience, &grantEnds)
	if err != nil {
		return nil, err
	}
	d.Scopes, d.Status, d.UserID = splitScopes(scopes), models.DeviceStatus(status), user.String
	d.Interval = time.Duration(interval) * time.Millisecond
	if lastPoll.Valid {
		d.LastPollAt = fromMillis(lastPoll.Int64)
	}
	if authTime.Valid {
		d.AuthTime = fromMillis(authTime.Int64)
	}
	if grantEnds.Valid {
		d.GrantEndsAt = fromMillis(grantEnds.Int64)
	}
	d.CreatedAt, d.ExpiresAt = fromMillis(created), fromMillis(expires)
	return &d, nil
}

// Create first deletes an expired row holding the same user code, in the
// same transaction, so that only live codes collide on the UNIQUE
// user_code_hash.
func (r *devices) Create(ctx context.Context, d *models.DeviceCode) error {
	err := r.db.tx(ctx, func(tx *sql.Tx) error {
		const stale = `DELETE FROM device_codes WHERE user_code_hash = ? AND expires_at <= ?`
		if _, err := tx.ExecContext(ctx, stale, d.UserCodeHash, millis(d.CreatedAt)); err != nil {
			return err
		}
		const q = `INSERT INTO device_codes (hash, user_code_hash, client_id, scopes, status,
			interval_ms, created_at, expires_at, audience) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
		_, err := tx.ExecContext(ctx, q, d.Hash, d.UserCodeHash, d.ClientID, joinScopes(d.Scopes),
			string(models.DevicePending), d.Interval.Milliseconds(), millis(d.CreatedAt), millis(d.ExpiresAt), int(d.Audience))
		return err
	})
	return translate("create device code", err)
}

func (r *devices) GetByUserCode(ctx context.Context, userCodeHash string, now time.Time) (*models.DeviceCode, error) {
	const q = `SELECT ` + deviceColumns + ` FROM device_codes WHERE user_code_hash = ? AND expires_at > ?`
	d, err := scanDevice(r.db.queryRow(ctx, q, userCodeHash, millis(now)))
	return d, translate("get device code", err)
}

// Decide is one conditional UPDATE that only a pending, unexpired code
// matches; when it matches nothing, a second look tells a decided code
// (ErrConflict) from an unknown or expired one (ErrNotFound).
func (r *devices) Decide(ctx context.Context, hash string, d models.DeviceDecision, now time.Time) error {
	if d.Status != models.DeviceApproved && d.Status != models.DeviceDenied {
		return errors.New("sqlite: decide device code: status must be approved or denied")
	}
	err := r.db.tx(ctx, func(tx *sql.Tx) error {
		const q = `UPDATE device_codes SET status = ?, user_id = ?, auth_time = ?, scopes = COALESCE(?, scopes),
				grant_ends_at = ?
			WHERE hash = ? AND status = 'pending' AND expires_at > ?`
		var scopes any // NULL keeps the requested scopes
		if d.Scopes != nil {
			scopes = joinScopes(d.Scopes)
		}
		res, err := tx.ExecContext(ctx, q, string(d.Status), d.UserID, nullableMillis(d.AuthTime), scopes,
			nullableMillis(d.GrantEndsAt), hash, millis(now))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return err
		}
		var n int
		const look = `SELECT COUNT(*) FROM device_codes WHERE hash = ? AND expires_at > ?`
		if err := tx.QueryRowContext(ctx, look, hash, millis(now)).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return models.ErrConflict
		}
		return models.ErrNotFound
	})
	return translate("decide device code", err)
}

// Poll reads the code and records the poll in one transaction. The rule
// for "too soon" is the model's (DeviceCode.PollTooSoon), applied to the
// row as the transaction sees it.
func (r *devices) Poll(ctx context.Context, hash, clientID string, now time.Time) (*models.DeviceCode, bool, error) {
	var d *models.DeviceCode
	var tooSoon bool
	err := r.db.tx(ctx, func(tx *sql.Tx) error {
		const get = `SELECT ` + deviceColumns + ` FROM device_codes WHERE hash = ? AND client_id = ?`
		var err error
		if d, err = scanDevice(tx.QueryRowContext(ctx, get, hash, clientID)); err != nil {
			return err
		}
		if d.Used || d.Expired(now) {
			return nil
		}
		if tooSoon = d.PollTooSoon(now); tooSoon {
			d.Interval += models.SlowDownStep
		}
		d.LastPollAt = now
		const q = `UPDATE device_codes SET last_poll_at = ?, interval_ms = ? WHERE hash = ?`
		_, err = tx.ExecContext(ctx, q, millis(now), d.Interval.Milliseconds(), hash)
		return err
	})
	if err != nil {
		return nil, false, translate("poll device code", err)
	}
	return d, tooSoon, nil
}

// Redeem is one conditional UPDATE that only an approved, unused,
// unexpired code of the client matches, so of concurrent calls exactly one
// gets the row back. When none does, a second look tells a used code
// (ErrConflict) from anything else (ErrNotFound).
func (r *devices) Redeem(ctx context.Context, hash, clientID string, now time.Time) (*models.DeviceCode, error) {
	var d *models.DeviceCode
	err := r.db.tx(ctx, func(tx *sql.Tx) error {
		const q = `UPDATE device_codes SET used_at = ?
			WHERE hash = ? AND client_id = ? AND status = 'approved' AND used_at IS NULL AND expires_at > ?
			RETURNING ` + deviceColumns
		var err error
		d, err = scanDevice(tx.QueryRowContext(ctx, q, millis(now), hash, clientID, millis(now)))
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		var used bool
		const look = `SELECT used_at IS NOT NULL FROM device_codes WHERE hash = ? AND client_id = ?`
		if err := tx.QueryRowContext(ctx, look, hash, clientID).Scan(&used); err != nil {
			return err
		}
		if used {
			return models.ErrConflict
		}
		return models.ErrNotFound
	})
	if err != nil {
		return nil, translate("redeem device code", err)
	}
	return d, nil
}

// DeleteUser needs no cascade: nothing refers to a device code.
func (r *devices) DeleteUser(ctx context.Context, userID string) error {
	_, err := r.db.exec(ctx, `DELETE FROM device_codes WHERE user_id = ?`, userID)
	return translate("delete device codes of user", err)
}

func (r *devices) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	return r.db.deleteExpired(ctx, "delete expired device codes", "device_codes", millis(now))
}
