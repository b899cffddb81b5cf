package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"beerlocker/models"
)

// clients implements models.ClientRepository. Redirect URIs and grant types
// are stored as JSON arrays.
type clients struct{ db *db }

var _ models.ClientRepository = (*clients)(nil)

const clientColumns = `id, owner_id, name, secret_hash, redirect_uris, grant_types, public, created_at, updated_at, post_logout_redirect_uris, id_token_alg`

func scanClient(s scanner) (*models.Client, error) {
	var c models.Client
	var uris, grants, logoutURIs string
	var owner sql.NullString // NULL for a client that registered itself
	var created, updated int64
	err := s.Scan(&c.ID, &owner, &c.Name, &c.SecretHash, &uris, &grants, &c.Public, &created, &updated, &logoutURIs, &c.IDTokenSignedResponseAlg)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(uris), &c.RedirectURIs); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(grants), &c.GrantTypes); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(logoutURIs), &c.PostLogoutRedirectURIs); err != nil {
		return nil, err
	}
	c.OwnerID = owner.String
	c.CreatedAt, c.UpdatedAt = fromMillis(created), fromMillis(updated)
	return &c, nil
}

// jsonList encodes a list of strings, nil as [].
func jsonList(s []string) string {
	if s == nil {
		s = []string{}
	}
	b, _ := json.Marshal(s) // a []string always encodes
	return string(b)
}

// Create counts the owner's clients and inserts in one IMMEDIATE
// transaction, so concurrent registrations cannot pass the limit together.
// A client without an owner is stored with owner_id NULL, which no
// owner's query matches.
func (r *clients) Create(ctx context.Context, c *models.Client) error {
	err := r.db.tx(ctx, func(tx *sql.Tx) error {
		if c.SelfRegistered() {
			return r.insert(ctx, tx, c)
		}
		var n int
		const count = `SELECT COUNT(*) FROM clients WHERE owner_id = ?`
		if err := tx.QueryRowContext(ctx, count, c.OwnerID).Scan(&n); err != nil {
			return err
		}
		if n >= models.MaxClientsPerUser {
			return models.ErrConflict
		}
		return r.insert(ctx, tx, c)
	})
	return translate("create client", err)
}

func (r *clients) insert(ctx context.Context, tx *sql.Tx, c *models.Client) error {
	const q = `INSERT INTO clients (` + clientColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	_, err := tx.ExecContext(ctx, q, c.ID, nullable(c.OwnerID), c.Name, c.SecretHash,
		jsonList(c.RedirectURIs), jsonList(c.GrantTypes), c.Public,
		millis(c.CreatedAt), millis(c.UpdatedAt), jsonList(c.PostLogoutRedirectURIs), c.IDTokenSignedResponseAlg)
	return err
}

// DeleteUnapproved is one DELETE; ON DELETE CASCADE removes what the
// clients held (device codes, at most: nothing else exists without a
// consent).
func (r *clients) DeleteUnapproved(ctx context.Context, registeredBefore time.Time) (int64, error) {
	const q = `DELETE FROM clients WHERE owner_id IS NULL AND created_at < ?
		AND NOT EXISTS (SELECT 1 FROM consents WHERE consents.client_id = clients.id)`
	res, err := r.db.exec(ctx, q, millis(registeredBefore))
	if err != nil {
		return 0, translate("delete unapproved clients", err)
	}
	n, err := res.RowsAffected()
	return n, translate("delete unapproved clients", err)
}

func (r *clients) Get(ctx context.Context, id string) (*models.Client, error) {
	const q = `SELECT ` + clientColumns + ` FROM clients WHERE id = ?`
	c, err := scanClient(r.db.queryRow(ctx, q, id))
	return c, translate("get client", err)
}

func (r *clients) GetOwned(ctx context.Context, ownerID, id string) (*models.Client, error) {
	const q = `SELECT ` + clientColumns + ` FROM clients WHERE id = ? AND owner_id = ?`
	c, err := scanClient(r.db.queryRow(ctx, q, id, ownerID))
	return c, translate("get client", err)
}

var listClients = `SELECT ` + clientColumns + ` FROM clients WHERE owner_id = ?
	ORDER BY created_at, id` + withLimit(models.MaxClientsPerUser)

// List is bounded by MaxClientsPerUser, which Create enforces.
func (r *clients) List(ctx context.Context, ownerID string) ([]*models.Client, error) {
	rows, err := r.db.query(ctx, listClients, ownerID)
	if err != nil {
		return nil, translate("list clients", err)
	}
	defer rows.Close()
	list := []*models.Client{}
	for rows.Next() {
		c, err := scanClient(rows)
		if err != nil {
			return nil, translate("list clients", err)
		}
		list = append(list, c)
	}
	return list, translate("list clients", rows.Err())
}

// Update applies u in one statement: COALESCE keeps each column whose new
// value is NULL, that is, each field u leaves nil.
func (r *clients) Update(ctx context.Context, ownerID, id string, u models.ClientUpdate, now time.Time) (*models.Client, error) {
	const q = `UPDATE clients SET
			name = COALESCE(?, name),
			redirect_uris = COALESCE(?, redirect_uris),
			post_logout_redirect_uris = COALESCE(?, post_logout_redirect_uris),
			secret_hash = COALESCE(?, secret_hash),
			id_token_alg = COALESCE(?, id_token_alg),
			updated_at = ?
		WHERE id = ? AND owner_id = ?
		RETURNING ` + clientColumns
	var name, uris, logoutURIs, secret, alg any
	if u.Name != nil {
		name = *u.Name
	}
	if u.RedirectURIs != nil {
		uris = jsonList(u.RedirectURIs)
	}
	if u.PostLogoutRedirectURIs != nil {
		logoutURIs = jsonList(u.PostLogoutRedirectURIs)
	}
	if u.SecretHash != nil {
		secret = *u.SecretHash
	}
	if u.IDTokenSignedResponseAlg != nil {
		alg = *u.IDTokenSignedResponseAlg
	}
	var c *models.Client
	err := r.db.tx(ctx, func(tx *sql.Tx) error {
		var err error
		c, err = scanClient(tx.QueryRowContext(ctx, q, name, uris, logoutURIs, secret, alg, millis(now), id, ownerID))
		return err
	})
	return c, translate("update client", err)
}

// Delete removes the owner's client; ON DELETE CASCADE removes its codes,
// tokens and consents in the same statement.
func (r *clients) Delete(ctx context.Context, ownerID, id string) error {
	res, err := r.db.exec(ctx, `DELETE FROM clients WHERE id = ? AND owner_id = ?`, id, ownerID)
	if err == nil {
		err = rowsAffected(res)
	}
	return translate("delete client", err)
}
