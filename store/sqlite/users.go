package sqlite

import (
	"context"
	"database/sql"
	"time"

	"beerlocker/models"
)

// users implements models.UserRepository.
type users struct{ db *db }

var _ models.UserRepository = (*users)(nil)

const userColumns = `id, username, password_hash, created_at, updated_at`

func scanUser(s scanner) (*models.User, error) {
	var u models.User
	var created, updated int64
	if err := s.Scan(&u.ID, &u.Username, &u.PasswordHash, &created, &updated); err != nil {
		return nil, err
	}
	u.CreatedAt, u.UpdatedAt = fromMillis(created), fromMillis(updated)
	return &u, nil
}

func (r *users) Create(ctx context.Context, u *models.User) error {
	const q = `INSERT INTO users (id, username, username_key, password_hash, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?)`
	_, err := r.db.exec(ctx, q, u.ID, u.Username, models.UsernameKey(u.Username),
		u.PasswordHash, millis(u.CreatedAt), millis(u.UpdatedAt))
	return translate("create user", err)
}

func (r *users) Get(ctx context.Context, id string) (*models.User, error) {
	if !models.ValidID(id) {
		return nil, models.ErrNotFound
	}
	const q = `SELECT ` + userColumns + ` FROM users WHERE id = ?`
	u, err := scanUser(r.db.queryRow(ctx, q, id))
	return u, translate("get user", err)
}

func (r *users) GetByUsername(ctx context.Context, username string) (*models.User, error) {
	const q = `SELECT ` + userColumns + ` FROM users WHERE username_key = ?`
	u, err := scanUser(r.db.queryRow(ctx, q, models.UsernameKey(username)))
	return u, translate("get user by username", err)
}

func (r *users) UpdatePassword(ctx context.Context, id, passwordHash string, now time.Time) (*models.User, error) {
	if !models.ValidID(id) {
		return nil, models.ErrNotFound
	}
	const q = `UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?
		RETURNING ` + userColumns
	var u *models.User
	err := r.db.tx(ctx, func(tx *sql.Tx) error {
		var err error
		u, err = scanUser(tx.QueryRowContext(ctx, q, passwordHash, millis(now), id))
		return err
	})
	return u, translate("update password", err)
}

// Delete removes the user; ON DELETE CASCADE removes their beers, clients
// (and those clients' codes, tokens and consents), consents, codes and
// tokens in the same statement.
func (r *users) Delete(ctx context.Context, id string) error {
	if !models.ValidID(id) {
		return models.ErrNotFound
	}
	res, err := r.db.exec(ctx, `DELETE FROM users WHERE id = ?`, id)
	if err == nil {
		err = rowsAffected(res)
	}
	return translate("delete user", err)
}
