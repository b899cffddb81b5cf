package sqlite

import (
	"context"
	"database/sql"
	"time"

	"beerlocker/models"
)

// beers implements models.BeerRepository. Every query has owner_id in its
// WHERE clause, so another user's beer is simply not found.
type beers struct{ db *db }

var _ models.BeerRepository = (*beers)(nil)

const beerColumns = `id, owner_id, name, type, quantity, created_at, updated_at`

// maxPageLimit bounds Page.Limit, which List clamps to 1–maxPageLimit.
const maxPageLimit = 100

func scanBeer(s scanner) (*models.Beer, error) {
	var b models.Beer
	var created, updated int64
	if err := s.Scan(&b.ID, &b.OwnerID, &b.Name, &b.Type, &b.Quantity, &created, &updated); err != nil {
		return nil, err
	}
	b.CreatedAt, b.UpdatedAt = fromMillis(created), fromMillis(updated)
	return &b, nil
}

func (r *beers) Create(ctx context.Context, b *models.Beer) error {
	const q = `INSERT INTO beers (` + beerColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?)`
	_, err := r.db.exec(ctx, q, b.ID, b.OwnerID, b.Name, b.Type, b.Quantity,
		millis(b.CreatedAt), millis(b.UpdatedAt))
	return translate("create beer", err)
}

func (r *beers) Get(ctx context.Context, ownerID, id string) (*models.Beer, error) {
	if !models.ValidID(id) {
		return nil, models.ErrNotFound
	}
	const q = `SELECT ` + beerColumns + ` FROM beers WHERE id = ? AND owner_id = ?`
	b, err := scanBeer(r.db.queryRow(ctx, q, id, ownerID))
	return b, translate("get beer", err)
}

// listBeersFirst[n] and listBeersAfter[n] are the queries of List for a
// page of n, reading n+1 rows; their LIMIT is written in (withLimit).
var listBeersFirst, listBeersAfter = func() (first, after [maxPageLimit + 1]string) {
	for n := 1; n <= maxPageLimit; n++ {
		first[n] = `SELECT ` + beerColumns + ` FROM beers WHERE owner_id = ? ORDER BY id DESC` + withLimit(n+1)
		after[n] = `SELECT ` + beerColumns + ` FROM beers WHERE owner_id = ? AND id < ? ORDER BY id DESC` + withLimit(n+1)
	}
	return first, after
}()

// List pages by keyset on the index (owner_id, id): ids sort by creation
// time, so id DESC is newest first and the cursor is the last id returned.
// It fetches one row more than the limit to learn whether a next page exists.
func (r *beers) List(ctx context.Context, ownerID string, p models.Page) ([]*models.Beer, string, error) {
	limit := min(max(p.Limit, 1), maxPageLimit)
	var args []any
	q := listBeersFirst[limit]
	if p.After == "" {
		args = []any{ownerID}
	} else {
		q = listBeersAfter[limit]
		args = []any{ownerID, p.After}
	}
	rows, err := r.db.query(ctx, q, args...)
	if err != nil {
		return nil, "", translate("list beers", err)
	}
	defer rows.Close()
	list := make([]*models.Beer, 0, limit+1)
	for rows.Next() {
		b, err := scanBeer(rows)
		if err != nil {
			return nil, "", translate("list beers", err)
		}
		list = append(list, b)
	}
	if err := rows.Err(); err != nil {
		return nil, "", translate("list beers", err)
	}
	next := ""
	if len(list) > limit {
		list = list[:limit]
		next = list[limit-1].ID
	}
	return list, next, nil
}

// Update applies u in one statement: COALESCE keeps each column whose new
// value is NULL, that is, each field u leaves nil.
func (r *beers) Update(ctx context.Context, ownerID, id string, u models.BeerUpdate, now time.Time) (*models.Beer, error) {
	if !models.ValidID(id) {
		return nil, models.ErrNotFound
	}
	const q = `UPDATE beers SET
			name = COALESCE(?, name),
			type = COALESCE(?, type),
			quantity = COALESCE(?, quantity),
			updated_at = ?
		WHERE id = ? AND owner_id = ?
		RETURNING ` + beerColumns
	var name, typ, quantity any
	if u.Name != nil {
		name = *u.Name
	}
	if u.Type != nil {
		typ = *u.Type
	}
	if u.Quantity != nil {
		quantity = *u.Quantity
	}
	var b *models.Beer
	err := r.db.tx(ctx, func(tx *sql.Tx) error {
		var err error
		b, err = scanBeer(tx.QueryRowContext(ctx, q, name, typ, quantity, millis(now), id, ownerID))
		return err
	})
	return b, translate("update beer", err)
}

func (r *beers) Delete(ctx context.Context, ownerID, id string) error {
	if !models.ValidID(id) {
		return models.ErrNotFound
	}
	res, err := r.db.exec(ctx, `DELETE FROM beers WHERE id = ? AND owner_id = ?`, id, ownerID)
	if err == nil {
		err = rowsAffected(res)
	}
	return translate("delete beer", err)
}
