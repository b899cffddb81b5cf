package sqlite

import (
	"context"
	"database/sql"
	"slices"
	"time"

	"beerlocker/models"
)

// consents implements models.ConsentRepository.
type consents struct{ db *db }

var _ models.ConsentRepository = (*consents)(nil)

const consentColumns = `user_id, client_id, scopes, created_at, updated_at, expires_at, last_used_at`

// maxConsents bounds List. A user approves apps one by one, so this is far
// more than anyone has.
const maxConsents = 1000

func scanConsent(s scanner) (*models.Consent, error) {
	var c models.Consent
	var scopes string
	var created, updated int64
	var expires, lastUsed sql.NullInt64
	if err := s.Scan(&c.UserID, &c.ClientID, &scopes, &created, &updated, &expires, &lastUsed); err != nil {
		return nil, err
	}
	c.Scopes = splitScopes(scopes)
	c.CreatedAt, c.UpdatedAt = fromMillis(created), fromMillis(updated)
	if expires.Valid {
		c.ExpiresAt = fromMillis(expires.Int64)
	}
	if lastUsed.Valid {
		c.LastUsedAt = fromMillis(lastUsed.Int64)
	}
	return &c, nil
}

// Grant is one upsert: the latest decision replaces the scopes and the
// end (NULL for until revoked), and a consent's creation and last use are
// kept.
func (r *consents) Grant(ctx context.Context, userID, clientID string, scopes []string, until, now time.Time) (*models.Consent, error) {
	const q = `INSERT INTO consents (user_id, client_id, scopes, created_at, updated_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (user_id, client_id) DO UPDATE SET
			scopes = excluded.scopes,
			updated_at = excluded.updated_at,
			expires_at = excluded.expires_at
		RETURNING ` + consentColumns
	var c *models.Consent
	err := r.db.tx(ctx, func(tx *sql.Tx) error {
		var err error
		c, err = scanConsent(tx.QueryRowContext(ctx, q, userID, clientID, joinScopes(slices.Compact(slices.Clone(scopes))),
			millis(now), millis(now), nullableMillis(until)))
		return err
	})
	if err != nil {
		return nil, translate("grant consent", err)
	}
	return c, nil
}

// Touch is one conditional UPDATE, so that of concurrent touches the
// latest hour wins whatever their order, and a use within the hour already
// recorded writes nothing.
func (r *consents) Touch(ctx context.Context, userID, clientID string, at time.Time) error {
	const q = `UPDATE consents SET last_used_at = ?
		WHERE user_id = ? AND client_id = ? AND (last_used_at IS NULL OR last_used_at < ?)`
	hour := millis(at.Truncate(time.Hour))
	_, err := r.db.exec(ctx, q, hour, userID, clientID, hour)
	return translate("touch consent", err)
}

func (r *consents) Get(ctx context.Context, userID, clientID string) (*models.Consent, error) {
	const q = `SELECT ` + consentColumns + ` FROM consents WHERE user_id = ? AND client_id = ?`
	c, err := scanConsent(r.db.queryRow(ctx, q, userID, clientID))
	return c, translate("get consent", err)
}

var listConsents = `SELECT ` + consentColumns + ` FROM consents WHERE user_id = ?
	ORDER BY created_at, client_id` + withLimit(maxConsents)

func (r *consents) List(ctx context.Context, userID string) ([]*models.Consent, error) {
	rows, err := r.db.query(ctx, listConsents, userID)
	if err != nil {
		return nil, translate("list consents", err)
	}
	defer rows.Close()
	list := []*models.Consent{}
	for rows.Next() {
		c, err := scanConsent(rows)
		if err != nil {
			return nil, translate("list consents", err)
		}
		list = append(list, c)
	}
	return list, translate("list consents", rows.Err())
}

// Delete removes the consent and the client's codes and tokens for the user
// in one transaction. The codes and tokens go even when there was no
// consent (tokens from the password grant have none): the caller asked for
// the client's access to end, and ErrNotFound then only reports that no
// consent was remembered.
func (r *consents) Delete(ctx context.Context, userID, clientID string) error {
	var found bool
	err := r.db.tx(ctx, func(tx *sql.Tx) error {
		const (
			delCodes   = `DELETE FROM codes WHERE user_id = ? AND client_id = ?`
			delDevices = `DELETE FROM device_codes WHERE user_id = ? AND client_id = ?`
			delTokens  = `DELETE FROM tokens WHERE user_id = ? AND client_id = ?`
			delConsent = `DELETE FROM consents WHERE user_id = ? AND client_id = ?`
		)
		if _, err := tx.ExecContext(ctx, delCodes, userID, clientID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, delDevices, userID, clientID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, delTokens, userID, clientID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, delConsent, userID, clientID)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		found = n > 0
		return err
	})
	if err != nil {
		return translate("delete consent", err)
	}
	if !found {
		return models.ErrNotFound
	}
	return nil
}
