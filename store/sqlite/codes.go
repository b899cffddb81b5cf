package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"beerlocker/models"
)

// codes implements models.CodeRepository.
type codes struct{ db *db }

var _ models.CodeRepository = (*codes)(nil)

const codeColumns = `hash, client_id, user_id, redirect_uri, redirect_uri_omitted, scopes, code_challenge, created_at, expires_at, nonce, auth_time, audience, grant_ends_at`

func scanCode(s scanner) (*models.Code, error) {
	var c models.Code
	var scopes string
	var created, expires int64
	var nonce sql.NullString
	var authTime, grantEnds sql.NullInt64
	err := s.Scan(&c.Hash, &c.ClientID, &c.UserID, &c.RedirectURI, &c.RedirectURIOmitted, &scopes, &c.CodeChallenge, &created, &expires, &nonce, &authTime, &c.Audience, &grantEnds)
	if err != nil {
		return nil, err
	}
	c.Scopes = splitScopes(scopes)
	c.CreatedAt, c.ExpiresAt = fromMillis(created), fromMillis(expires)
	c.Nonce = nonce.String
	if authTime.Valid {
		c.AuthTime = fromMillis(authTime.Int64)
	}
	if grantEnds.Valid {
		c.GrantEndsAt = fromMillis(grantEnds.Int64)
	}
	return &c, nil
}

func (r *codes) Create(ctx context.Context, c *models.Code) error {
	const q = `INSERT INTO codes (` + codeColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	_, err := r.db.exec(ctx, q, c.Hash, c.ClientID, c.UserID, c.RedirectURI, c.RedirectURIOmitted,
		joinScopes(c.Scopes), c.CodeChallenge, millis(c.CreatedAt), millis(c.ExpiresAt), nullable(c.Nonce), nullableMillis(c.AuthTime), int(c.Audience),
		nullableMillis(c.GrantEndsAt))
	return translate("create code", err)
}

func (r *codes) Get(ctx context.Context, hash string, now time.Time) (*models.Code, error) {
	const q = `SELECT ` + codeColumns + `, used_at IS NOT NULL FROM codes WHERE hash = ?`
	var used bool
	c, err := scanCode(usedScanner{r.db.queryRow(ctx, q, hash), &used})
	if err != nil {
		return nil, translate("get code", err)
	}
	switch {
	case used: // detected even once expired, as Consume does
		return nil, models.ErrConflict
	case !c.ExpiresAt.After(now):
		return nil, models.ErrNotFound
	}
	return c, nil
}

func (r *codes) DeleteUser(ctx context.Context, userID string) error {
	_, err := r.db.exec(ctx, `DELETE FROM codes WHERE user_id = ?`, userID)
	return translate("delete codes of user", err)
}

// Consume is one conditional UPDATE: only a statement that finds used_at
// NULL sets it, so of concurrent calls exactly one gets the row back. When
// none comes back, a second look in the same transaction tells a used code
// (ErrConflict, even once expired: RFC 6749 §4.1.2 asks that a second use be
// detected, to revoke the tokens issued from it) from an unknown or expired
// one (ErrNotFound).
func (r *codes) Consume(ctx context.Context, hash string, now time.Time) (*models.Code, error) {
	var c *models.Code
	err := r.db.tx(ctx, func(tx *sql.Tx) error {
		const q = `UPDATE codes SET used_at = ?
			WHERE hash = ? AND used_at IS NULL AND expires_at > ?
			RETURNING ` + codeColumns
		var err error
		c, err = scanCode(tx.QueryRowContext(ctx, q, millis(now), hash, millis(now)))
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		var used bool
		const look = `SELECT used_at IS NOT NULL FROM codes WHERE hash = ?`
		if err := tx.QueryRowContext(ctx, look, hash).Scan(&used); err != nil {
			return err
		}
		if used {
			return models.ErrConflict
		}
		return models.ErrNotFound
	})
	if err != nil {
		return nil, translate("consume code", err)
	}
	return c, nil
}

func (r *codes) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	return r.db.deleteExpired(ctx, "delete expired codes", "codes", millis(now))
}

// usedScanner scans a code's columns followed by one more, the used flag.
type usedScanner struct {
	s    scanner
	used *bool
}

func (u usedScanner) Scan(dest ...any) error { return u.s.Scan(append(dest, u.used)...) }
