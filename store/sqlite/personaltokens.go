package sqlite

import (
	"context"
	"database/sql"
	"time"

	"beerlocker/models"
)

// personalTokens implements models.PersonalTokenRepository.
type personalTokens struct{ db *db }

var _ models.PersonalTokenRepository = (*personalTokens)(nil)

const personalTokenColumns = `id, user_id, name, hash, scopes, created_at, expires_at, last_used_at`

func scanPersonalToken(s scanner) (*models.PersonalToken, error) {
	var t models.PersonalToken
	var scopes string
	var created, expires int64
	var lastUsed sql.NullInt64
	if err := s.Scan(&t.ID, &t.UserID, &t.Name, &t.Hash, &scopes, &created, &expires, &lastUsed); err != nil {
		return nil, err
	}
	t.Scopes = splitScopes(scopes)
	t.CreatedAt, t.ExpiresAt = fromMillis(created), fromMillis(expires)
	if lastUsed.Valid {
		t.LastUsedAt = fromMillis(lastUsed.Int64)
	}
	return &t, nil
}

// Create counts the user's tokens and inserts in one write transaction,
// so concurrent creates cannot pass the limit together: SQLite has one
// writer, and the count and the insert run in the same transaction. A
// user that does not exist fails the foreign key, which translate makes
// ErrNotFound.
func (r *personalTokens) Create(ctx context.Context, t *models.PersonalToken) error {
	err := r.db.tx(ctx, func(tx *sql.Tx) error {
		var n int
		const count = `SELECT COUNT(*) FROM personal_tokens WHERE user_id = ?`
		if err := tx.QueryRowContext(ctx, count, t.UserID).Scan(&n); err != nil {
			return err
		}
		if n >= models.MaxPersonalTokensPerUser {
			return models.ErrConflict
		}
		const q = `INSERT INTO personal_tokens (` + personalTokenColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
		_, err := tx.ExecContext(ctx, q, t.ID, t.UserID, t.Name, t.Hash, joinScopes(t.Scopes),
			millis(t.CreatedAt), millis(t.ExpiresAt), nullableMillis(t.LastUsedAt))
		return err
	})
	return translate("create personal token", err)
}

func (r *personalTokens) GetByHash(ctx context.Context, hash string, now time.Time) (*models.PersonalToken, error) {
	const q = `SELECT ` + personalTokenColumns + ` FROM personal_tokens WHERE hash = ? AND expires_at > ?`
	t, err := scanPersonalToken(r.db.queryRow(ctx, q, hash, millis(now)))
	return t, translate("get personal token", err)
}

var listPersonalTokens = `SELECT ` + personalTokenColumns + ` FROM personal_tokens WHERE user_id = ?
	ORDER BY created_at DESC, id DESC` + withLimit(models.MaxPersonalTokensPerUser)

// List is bounded by MaxPersonalTokensPerUser, which Create enforces.
func (r *personalTokens) List(ctx context.Context, userID string) ([]*models.PersonalToken, error) {
	rows, err := r.db.query(ctx, listPersonalTokens, userID)
	if err != nil {
		return nil, translate("list personal tokens", err)
	}
	defer rows.Close()
	list := []*models.PersonalToken{}
	for rows.Next() {
		t, err := scanPersonalToken(rows)
		if err != nil {
			return nil, translate("list personal tokens", err)
		}
		list = append(list, t)
	}
	return list, translate("list personal tokens", rows.Err())
}

func (r *personalTokens) Delete(ctx context.Context, userID, id string) error {
	res, err := r.db.exec(ctx, `DELETE FROM personal_tokens WHERE id = ? AND user_id = ?`, id, userID)
	if err == nil {
		err = rowsAffected(res)
	}
	return translate("delete personal token", err)
}

func (r *personalTokens) DeleteUser(ctx context.Context, userID string) error {
	_, err := r.db.exec(ctx, `DELETE FROM personal_tokens WHERE user_id = ?`, userID)
	return translate("delete user's personal tokens", err)
}

// Touch is one conditional UPDATE, as Consents.Touch is: of concurrent
// touches the latest hour wins whatever their order, and a use within the
// hour already recorded writes nothing.
func (r *personalTokens) Touch(ctx context.Context, hash string, at time.Time) error {
	const q = `UPDATE personal_tokens SET last_used_at = ?
		WHERE hash = ? AND (last_used_at IS NULL OR last_used_at < ?)`
	hour := millis(at.Truncate(time.Hour))
	_, err := r.db.exec(ctx, q, hour, hash, hour)
	return translate("touch personal token", err)
}

func (r *personalTokens) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	return r.db.deleteExpired(ctx, "delete expired personal tokens", "personal_tokens", millis(now))
}
