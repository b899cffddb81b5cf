package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"beerlocker/models"
)

// sessions implements models.SessionRepository. A pending consent refers
// to its session and a session to its user, both ON DELETE CASCADE, so
// deleting a session (or a user) removes what hangs off it in the same
// statement.
type sessions struct{ db *db }

var _ models.SessionRepository = (*sessions)(nil)

func (r *sessions) Create(ctx context.Context, s *models.Session) error {
	const q = `INSERT INTO sessions (hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)`
	_, err := r.db.exec(ctx, q, s.Hash, s.UserID, millis(s.CreatedAt), millis(s.ExpiresAt))
	return translate("create session", err)
}

func (r *sessions) Get(ctx context.Context, hash string, now time.Time) (*models.Session, error) {
	const q = `SELECT hash, user_id, created_at, expires_at FROM sessions WHERE hash = ? AND expires_at > ?`
	var s models.Session
	var created, expires int64
	if err := r.db.queryRow(ctx, q, hash, millis(now)).Scan(&s.Hash, &s.UserID, &created, &expires); err != nil {
		return nil, translate("get session", err)
	}
	s.CreatedAt, s.ExpiresAt = fromMillis(created), fromMillis(expires)
	return &s, nil
}

func (r *sessions) Delete(ctx context.Context, hash string) error {
	_, err := r.db.exec(ctx, `DELETE FROM sessions WHERE hash = ?`, hash)
	return translate("delete session", err)
}

func (r *sessions) DeleteUser(ctx context.Context, userID string) error {
	_, err := r.db.exec(ctx, `DELETE FROM sessions WHERE user_id = ?`, userID)
	return translate("delete sessions of user", err)
}

// Park inserts p and, in the same transaction, deletes what its session
// holds beyond the newest MaxPendingConsents.
func (r *sessions) Park(ctx context.Context, p *models.PendingConsent) error {
	err := r.db.tx(ctx, func(tx *sql.Tx) error {
		const q = `INSERT INTO pending_consents (tx_hash, session_hash, kind, request, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?)`
		if _, err := tx.ExecContext(ctx, q, p.TxHash, p.SessionHash, p.Kind, p.Request,
			millis(p.CreatedAt), millis(p.ExpiresAt)); err != nil {
			return err
		}
		trim := `DELETE FROM pending_consents WHERE session_hash = ? AND tx_hash NOT IN (
			SELECT tx_hash FROM pending_consents WHERE session_hash = ?
			ORDER BY created_at DESC, rowid DESC` + withLimit(models.MaxPendingConsents) + `)`
		_, err := tx.ExecContext(ctx, trim, p.SessionHash, p.SessionHash)
		return err
	})
	return translate("park consent", err)
}

// Take is one conditional UPDATE that only an untaken, unexpired consent
// of the session and kind matches, so of concurrent calls one gets the row
// back; when none does, a second look tells a taken one (ErrConflict)
// from anything else (ErrNotFound).
func (r *sessions) Take(ctx context.Context, sessionHash, txHash, kind string, now time.Time) (*models.PendingConsent, error) {
	var p models.PendingConsent
	err := r.db.tx(ctx, func(tx *sql.Tx) error {
		const q = `UPDATE pending_consents SET taken_at = ?
			WHERE tx_hash = ? AND session_hash = ? AND kind = ? AND taken_at IS NULL AND expires_at > ?
			RETURNING tx_hash, session_hash, kind, request, created_at, expires_at`
		var created, expires int64
		err := tx.QueryRowContext(ctx, q, millis(now), txHash, sessionHash, kind, millis(now)).
			Scan(&p.TxHash, &p.SessionHash, &p.Kind, &p.Request, &created, &expires)
		if err == nil {
			p.CreatedAt, p.ExpiresAt = fromMillis(created), fromMillis(expires)
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		var taken bool
		const look = `SELECT taken_at IS NOT NULL FROM pending_consents WHERE tx_hash = ? AND session_hash = ? AND kind = ?`
		if err := tx.QueryRowContext(ctx, look, txHash, sessionHash, kind).Scan(&taken); err != nil {
			return err
		}
		if taken {
			return models.ErrConflict
		}
		return models.ErrNotFound
	})
	if err != nil {
		return nil, translate("take consent", err)
	}
	return &p, nil
}

// DeleteExpired deletes expired sessions, whose pending consents go with
// them, and the expired consents of sessions that live on. It counts the
// rows it deleted itself, not those the cascade took.
func (r *sessions) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	pending, err := r.db.deleteExpired(ctx, "delete expired sessions", "pending_consents", millis(now))
	if err != nil {
		return pending, err
	}
	n, err := r.db.deleteExpired(ctx, "delete expired sessions", "sessions", millis(now))
	return pending + n, err
}
