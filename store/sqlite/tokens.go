package sqlite

import (
	"context"
	"database/sql"
	"time"

	"beerlocker/models"
)

// tokens implements models.TokenRepository. A revoked token is deleted.
type tokens struct{ db *db }

var _ models.TokenRepository = (*tokens)(nil)

const tokenColumns = `hash, kind, client_id, user_id, scopes, family_id, created_at, expires_at, granted_at, auth_time, audience, grant_ends_at`

const insertTokenSQL = `INSERT INTO tokens (` + tokenColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

func (r *tokens) Create(ctx context.Context, list ...*models.Token) error {
	if len(list) == 0 {
		return nil
	}
	err := r.db.tx(ctx, func(tx *sql.Tx) error {
		stmt := tx.StmtContext(ctx, r.db.insertToken)
		for _, t := range list {
			_, err := stmt.ExecContext(ctx, t.Hash, string(t.Kind), t.ClientID, nullable(t.UserID),
				joinScopes(t.Scopes), t.FamilyID, millis(t.CreatedAt), millis(t.ExpiresAt), nullableMillis(t.GrantedAt), nullableMillis(t.AuthTime), int(t.Audience),
				nullableMillis(t.GrantEndsAt))
			if err != nil {
				return err
			}
		}
		return nil
	})
	return translate("create tokens", err)
}

func (r *tokens) Get(ctx context.Context, hash string, now time.Time) (*models.Token, error) {
	const q = `SELECT ` + tokenColumns + `, rotated_at
		FROM tokens WHERE hash = ? AND expires_at > ?`
	var t models.Token
	var kind, scopes string
	var user sql.NullString
	var created, expires int64
	var granted, authTime, grantEnds, rotated sql.NullInt64
	err := r.db.queryRow(ctx, q, hash, millis(now)).Scan(&t.Hash, &kind, &t.ClientID, &user,
		&scopes, &t.FamilyID, &created, &expires, &granted, &authTime, &t.Audience, &grantEnds, &rotated)
	if err != nil {
		return nil, translate("get token", err)
	}
	t.Kind, t.UserID, t.Scopes = models.TokenKind(kind), user.String, splitScopes(scopes)
	t.CreatedAt, t.ExpiresAt = fromMillis(created), fromMillis(expires)
	if granted.Valid {
		t.GrantedAt = fromMillis(granted.Int64)
	}
	if authTime.Valid {
		t.AuthTime = fromMillis(authTime.Int64)
	}
	if grantEnds.Valid {
		t.GrantEndsAt = fromMillis(grantEnds.Int64)
	}
	if rotated.Valid {
		t.Rotated, t.RotatedAt = true, fromMillis(rotated.Int64)
	}
	return &t, nil
}

// Rotate is one conditional UPDATE: only a statement that finds rotated_at
// NULL sets it, so of concurrent calls exactly one succeeds. When none
// does, a second look in the same transaction tells a rotated token
// (ErrConflict: RFC 6819 §5.2.2.3, the caller revokes the family) from an
// unknown, revoked or expired one, or an access token (ErrNotFound).
func (r *tokens) Rotate(ctx context.Context, hash string, now time.Time) error {
	err := r.db.tx(ctx, func(tx *sql.Tx) error {
		const q = `UPDATE tokens SET rotated_at = ?
			WHERE hash = ? AND kind = 'refresh' AND rotated_at IS NULL AND expires_at > ?`
		res, err := tx.ExecContext(ctx, q, millis(now), hash, millis(now))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return err
		}
		var rotated bool
		const look = `SELECT rotated_at IS NOT NULL FROM tokens
			WHERE hash = ? AND kind = 'refresh' AND expires_at > ?`
		if err := tx.QueryRowContext(ctx, look, hash, millis(now)).Scan(&rotated); err != nil {
			return err
		}
		if rotated {
			return models.ErrConflict
		}
		return models.ErrNotFound
	})
	return translate("rotate token", err)
}

func (r *tokens) Revoke(ctx context.Context, hash string) error {
	_, err := r.db.exec(ctx, `DELETE FROM tokens WHERE hash = ?`, hash)
	return translate("revoke token", err)
}

func (r *tokens) RevokeFamily(ctx context.Context, familyID string) error {
	if familyID == "" {
		return nil // not a family: "" must not match every token without one
	}
	_, err := r.db.exec(ctx, `DELETE FROM tokens WHERE family_id = ?`, familyID)
	return translate("revoke token family", err)
}

func (r *tokens) RevokeUser(ctx context.Context, userID string) error {
	_, err := r.db.exec(ctx, `DELETE FROM tokens WHERE user_id = ?`, userID)
	return translate("revoke user tokens", err)
}

func (r *tokens) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	return r.db.deleteExpired(ctx, "delete expired tokens", "tokens", millis(now))
}
