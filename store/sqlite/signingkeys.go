package sqlite

import (
	"context"

	"beerlocker/models"
)

// signingKeys implements models.SigningKeyRepository.
type signingKeys struct{ db *db }

var _ models.SigningKeyRepository = (*signingKeys)(nil)

// Create relies on the primary key and UNIQUE (alg, generation) to refuse
// a second key for one generation.
func (r *signingKeys) Create(ctx context.Context, k *models.SigningKey) error {
	const q = `INSERT INTO signing_keys (id, alg, generation, private_key, created_at, active_at)
		VALUES (?, ?, ?, ?, ?, ?)`
	_, err := r.db.exec(ctx, q, k.ID, k.Alg, k.Generation, k.PrivateKey, millis(k.CreatedAt), millis(k.ActiveAt))
	return translate("create signing key", err)
}

var listSigningKeys = `SELECT id, alg, generation, private_key, created_at, active_at FROM signing_keys
	ORDER BY alg, generation` + withLimit(models.MaxSigningKeys)

func (r *signingKeys) List(ctx context.Context) ([]*models.SigningKey, error) {
	rows, err := r.db.query(ctx, listSigningKeys)
	if err != nil {
		return nil, translate("list signing keys", err)
	}
	defer rows.Close()
	var out []*models.SigningKey
	for rows.Next() {
		var k models.SigningKey
		var created, active int64
		if err := rows.Scan(&k.ID, &k.Alg, &k.Generation, &k.PrivateKey, &created, &active); err != nil {
			return nil, translate("list signing keys", err)
		}
		k.CreatedAt, k.ActiveAt = fromMillis(created), fromMillis(active)
		out = append(out, &k)
	}
	return out, translate("list signing keys", rows.Err())
}

func (r *signingKeys) Delete(ctx context.Context, id string) error {
	res, err := r.db.exec(ctx, `DELETE FROM signing_keys WHERE id = ?`, id)
	if err == nil {
		err = rowsAffected(res)
	}
	return translate("delete signing key", err)
}
